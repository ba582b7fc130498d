from django.apps import AppConfig


class EngineConfig(AppConfig):
    """What a run does: runs, steps, events, the planner, step types, triggers."""

    name = "engine"
