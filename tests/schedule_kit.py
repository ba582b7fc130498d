"""Workflows on a schedule, for the tests of engine/schedules.py and its API."""

from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.models import User

from designer.models import Workflow
from designer.services import do_save_version
from engine.models import Run, Trigger, WorkflowSchedule
from tests.engine_kit import build, noop, workflow

# A Monday, half an hour before an hourly slot.
T0 = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)


def at(hour: int, minute: int = 0, second: int = 0, day: int = 2, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


def scheduled_graph(cron: str = "0 * * * *", work: Any = None, **config: Any) -> dict[str, Any]:
    """``start`` (a trigger.schedule on ``cron``) > ``work``; an ``input_schema`` keyword goes
    to the graph, the rest to the trigger's config."""
    extra = {"input_schema": config.pop("input_schema")} if "input_schema" in config else {}
    return build(
        {"start": ("trigger.schedule", {"cron": cron, **config}), "work": work or noop()},
        ["start>work"],
        **extra,
    )


def scheduled(owner: User, cron: str = "0 * * * *", **config: Any) -> Workflow:
    return workflow(owner, scheduled_graph(cron, **config), name="nightly")


def save(wf: Workflow, graph: dict[str, Any], actor: User) -> None:
    do_save_version(actor=actor, workflow=wf, graph=graph, base_version=None)


def schedule_of(wf: Workflow) -> WorkflowSchedule:
    return WorkflowSchedule.objects.get(workflow=wf)


def scheduled_runs(wf: Workflow) -> list[Run]:
    return list(Run.objects.filter(workflow=wf, trigger=Trigger.SCHEDULE).order_by("id"))


def slots(wf: Workflow) -> list[str]:
    """The slots that started runs, oldest run first (``schedule:`` taken off the keys)."""
    return [run.idempotency_key.removeprefix("schedule:") for run in scheduled_runs(wf)]
