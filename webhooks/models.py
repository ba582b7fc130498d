"""The secret URL of a workflow's webhook trigger (``POST /api/hooks/<token>/``).

Rows change only through ``webhooks/services.py`` (STYLE 1).
"""

from django.db import models


class WebhookEndpoint(models.Model):
    """One per workflow whose graph has (or had) a ``trigger.webhook`` node: the token that
    admits requests to start its runs.

    The token itself is not stored in the clear: ``token_hash`` (sha256, hex) finds the row of
    an incoming request through its unique index, and ``sealed_token`` (Fernet, as credentials
    are sealed) lets the API show the URL again to the workflow's editors. A database dump
    therefore yields no usable URL without the credentials key.
    """

    workflow = models.OneToOneField(
        "designer.Workflow", on_delete=models.CASCADE, related_name="webhook"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    sealed_token = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    # The last rotation; None until the first.
    rotated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"webhook of workflow {self.workflow_id}"
