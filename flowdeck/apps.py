from django.apps import AppConfig


class FlowdeckConfig(AppConfig):
    name = "flowdeck"
    verbose_name = "Flowdeck"

    def ready(self) -> None:
        from flowdeck import checks  # noqa: F401  (registers the system checks)
