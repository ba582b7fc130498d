from django.apps import AppConfig


class EngineConfig(AppConfig):
    """What a run does: runs, steps, events, the planner, step types, triggers."""

    name = "engine"

    def ready(self) -> None:
        # The engine fills the designer's catalog (the designer never imports the engine).
        from designer.catalog import catalog
        from engine.steps import register_all

        register_all(catalog)
