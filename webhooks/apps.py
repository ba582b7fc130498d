from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """The webhook trigger: secret URLs per workflow, and the endpoint that starts runs."""

    name = "webhooks"

    def ready(self) -> None:
        from designer.signals import version_saved
        from webhooks import services

        # Sent inside the save's transaction: the token is issued exactly when the version is.
        version_saved.connect(services.on_version_saved, dispatch_uid="webhooks.version_saved")
