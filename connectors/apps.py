from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    """What steps need to reach other systems safely: named, encrypted credentials and the
    outbound-address guard. An app of its own because the engine's steps, the webhook trigger
    and alerts all use it, and none of them owns it."""

    name = "connectors"
    verbose_name = "Connectors"
