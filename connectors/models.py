"""Credentials: named secrets that steps reference by name, owned and shared like workflows.

Rows change only through ``connectors/credentials.py`` (STYLE 1). The secret part is sealed
with Fernet (``connectors/crypto.py``) and only opened inside a worker, for the step that uses it.
"""

from django.conf import settings
from django.db import models

from connectors.kinds import CredentialKind
from designer.models import RoleGrant, grant_rules


class Credential(models.Model):
    """A named secret. ``public`` holds the fields shown back (a user name, an SMTP host);
    ``sealed`` the encrypted JSON of the secret ones (a password, a token)."""

    # Unique across the installation, like Airflow's connection ids: a graph names it, and the
    # name must mean one thing whoever runs the workflow.
    name = models.CharField(max_length=128, unique=True)
    kind = models.CharField(max_length=20, choices=CredentialKind.choices)
    description = models.TextField(blank=True, default="", max_length=2000)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="credentials"
    )
    public = models.JSONField(default=dict, blank=True)
    sealed = models.TextField()
    # Which secret fields are set, so the API can say so without opening the seal.
    secret_fields = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"credential {self.name} ({self.kind})"


class CredentialGrant(RoleGrant):
    """A role on one credential for a user or a group. runner: may use it in workflows;
    editor: may replace its data; owner: may delete and share it; viewer: sees that it exists."""

    credential = models.ForeignKey(Credential, on_delete=models.CASCADE, related_name="grants")

    class Meta:
        constraints = grant_rules(
            "credential",
            "credgrant_user_or_group",
            "credgrant_one_per_user",
            "credgrant_one_per_group",
        )

    def __str__(self) -> str:
        return f"{self.user or self.group} is {self.role} of {self.credential}"
