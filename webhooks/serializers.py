from rest_framework import serializers

from engine.states import RunStatus


class WebhookSerializer(serializers.Serializer):
    """A workflow's webhook as its editors see it (GET /api/workflows/{id}/webhook/)."""

    url = serializers.URLField(help_text="POST here to start a run; the URL is the secret.")
    active = serializers.BooleanField(
        help_text="Whether the URL starts runs now: the newest version has a webhook trigger "
        "and the workflow is not archived."
    )
    signing = serializers.BooleanField(help_text="Whether requests must be signed.")
    signature_header = serializers.CharField(allow_null=True)
    timestamp_header = serializers.CharField(allow_null=True)
    tolerance_s = serializers.IntegerField(allow_null=True)
    secret_credential = serializers.CharField(
        allow_null=True, help_text="The name of the credential holding the signing secret."
    )
    max_body_bytes = serializers.IntegerField()
    version = serializers.IntegerField(
        allow_null=True, help_text="The version a request starts (the newest), if active."
    )
    created_at = serializers.DateTimeField()
    rotated_at = serializers.DateTimeField(allow_null=True)


class HookResponseSerializer(serializers.Serializer):
    """What a webhook request gets back."""

    run_id = serializers.IntegerField()
    status = serializers.ChoiceField(
        choices=RunStatus.choices, help_text="The run's status when the response was made."
    )
    url = serializers.URLField(help_text="The run in the API (for people with access).")
    duplicate = serializers.BooleanField(
        help_text="True when the Idempotency-Key had already started this run."
    )
    output = serializers.JSONField(
        required=False, help_text="With ?wait, once the run ended: its output."
    )
    error = serializers.JSONField(
        required=False, help_text="With ?wait, once the run ended: its error, if it failed."
    )
