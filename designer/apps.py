from django.apps import AppConfig


class DesignerConfig(AppConfig):
    """What a workflow is: definitions, versions, validation, the step catalog."""

    name = "designer"
