from django.apps import AppConfig


class EngineConfig(AppConfig):
    """What a run does: runs, steps, events, the planner, step types, triggers."""

    name = "engine"

    def ready(self) -> None:
        # The engine fills the designer's catalog (the designer never imports the engine).
        from designer.catalog import catalog
        from engine.steps import register_all

        register_all(catalog)

        from django.db.models.signals import post_migrate

        from engine.functions import load_function_modules

        load_function_modules()
        post_migrate.connect(_ensure_sweep_schedule, sender=self)

        # Saving a version re-plans the workflow's schedule; archiving stops it.
        from designer.signals import archived_changed, version_saved
        from engine import schedules

        version_saved.connect(schedules.on_version_saved, dispatch_uid="engine.schedules")
        archived_changed.connect(schedules.on_archived_changed, dispatch_uid="engine.schedules")
        # ... and tells the designers that have the workflow open (after the commit).
        from engine.consumers import on_version_saved

        version_saved.connect(on_version_saved, dispatch_uid="engine.consumers")


def _ensure_sweep_schedule(**kwargs) -> None:
    """The django-q2 schedule that sweeps every minute, a backstop for the workers' sweeper."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name="flowdeck.sweep",
        defaults={
            "func": "engine.tasks.sweep",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
