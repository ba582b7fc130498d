"""Runs and steps with fixed times, for the figures of /api/stats/ and /metrics."""

from datetime import UTC, datetime, timedelta

from engine.models import HumanTask, Run, StepRun, TaskKind
from engine.states import RunStatus, StepStatus
from tests import engine_kit as kit

NOW = datetime(2026, 1, 10, 12, 30, tzinfo=UTC)
S = timedelta(seconds=1)


def at(hh: int, mm: int = 0, ss: int = 0, day: int = 10) -> datetime:
    return datetime(2026, 1, day, hh, mm, ss, tzinfo=UTC)


GRAPH = kit.build(
    {"start": ("trigger.manual",), "a": kit.noop(), "b": kit.noop()}, ["start>a", "a>b"]
)


def make_run(wf, status, created, started=None, finished=None, steps=()) -> Run:
    """A run with fixed times (auto_now_add is overwritten by an update) and its steps, each
    ``(node, status, attempt, queued_at, started_at, finished_at)``."""
    run = Run.objects.create(workflow=wf, version=wf.versions.get(), status=status, input={})
    Run.objects.filter(pk=run.pk).update(
        created_at=created, started_at=started, finished_at=finished
    )
    for node, step_status, attempt, queued, begun, ended in steps:
        StepRun.objects.create(
            run=run,
            node_id=node,
            type="code.function",
            status=step_status,
            attempt=attempt,
            queued_at=queued,
            started_at=begun,
            finished_at=ended,
        )
    return run


def make_history(alice, bob):
    """Alice's workflow: five runs in the last 24 h and one older; Bob's: one failed run."""
    wf = kit.workflow(alice, GRAPH, name="payments")
    other = kit.workflow(bob, GRAPH, name="bobs")
    ok = StepStatus.SUCCEEDED
    make_run(wf, RunStatus.SUCCEEDED, at(10, 30), at(10, 30), at(10, 30, 10),
             [("a", ok, 1, at(10, 30), at(10, 30), at(10, 30, 4))])  # fmt: skip
    make_run(wf, RunStatus.FAILED, at(10, 35), at(10, 35), at(10, 35, 30),
             [("a", StepStatus.FAILED, 3, at(10, 35), at(10, 35), at(10, 35, 10))])  # fmt: skip
    make_run(wf, RunStatus.SUCCEEDED, at(11), at(11), at(11, 0, 20),
             [("a", ok, 1, at(11), at(11), at(11, 0, 2))])  # fmt: skip
    make_run(wf, RunStatus.CANCELLED, at(11, 10), None, at(11, 15))
    waiting = make_run(wf, RunStatus.RUNNING, at(12), at(12), None,
                       [("a", StepStatus.QUEUED, 1, at(12, 20), None, None),
                        ("b", StepStatus.WAITING, 2, at(12), at(12), None)])  # fmt: skip
    make_run(wf, RunStatus.SUCCEEDED, at(6, day=9), at(6, day=9), at(7, day=9),
             [("a", ok, 4, at(6, day=9), at(6, day=9), at(7, day=9))])  # fmt: skip
    make_run(other, RunStatus.FAILED, at(11, 30), at(11, 30), at(11, 31))
    step_b = StepRun.objects.get(run=waiting, node_id="b")
    for attempt, due in ((1, at(12)), (2, at(13))):  # one overdue, one not
        HumanTask.objects.create(
            run=waiting, step=step_b, attempt=attempt, kind=TaskKind.APPROVAL, title="t", due_at=due
        )
    return wf, other
