"""Runs and steps with fixed times, for the figures of /api/stats/ and /metrics."""

from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import Group

from engine.models import HumanTask, Run, StepRun, TaskDecision, TaskKind
from engine.states import RunStatus, StepStatus, TaskStatus
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


# --- Human tasks with fixed times (the ``human`` section of /api/stats/, the task metrics) ------

IBAN = {"type": "object", "properties": {"iban": {"type": "string"}}}
HUMAN_GRAPH = kit.build(
    {
        "start": ("trigger.manual",),
        "approve": ("human.approval", {"title": "Pay", "assignees": kit.FINANCE}),
        "form": ("human.form", {"title": "IBAN", "assignees": kit.FINANCE, "form_schema": IBAN}),
    },
    ["start>approve", "approve.approved>form"],
)


def make_task(run, node, status, created, closed=None, due=None, *, level=0, groups=(),
              users=(), decisions=()) -> HumanTask:  # fmt: skip
    """A task of ``run``'s step ``node`` with fixed times, assigned to ``groups`` and
    ``users``, with its ``decisions``: each ``(user, decision, at)``."""
    step, _ = StepRun.objects.get_or_create(
        run=run, node_id=node, defaults={"type": "human.approval", "status": StepStatus.WAITING}
    )
    kind = TaskKind.FORM if node == "form" else TaskKind.APPROVAL
    attempt = HumanTask.objects.filter(step=step).count() + 1  # one task per attempt
    task = HumanTask.objects.create(
        run=run, step=step, attempt=attempt, kind=kind, status=status, title="t", due_at=due,
        escalation_level=level,
    )  # fmt: skip
    # created_at is auto_now_add: overwritten by an update, as the runs' times above.
    HumanTask.objects.filter(pk=task.pk).update(created_at=created, closed_at=closed)
    task.assigned_groups.set(Group.objects.filter(name__in=groups))
    task.assigned_users.set(users)
    for user, decision, at_ in decisions:
        row = TaskDecision.objects.create(task=task, user=user, decision=decision)
        TaskDecision.objects.filter(pk=row.pk).update(created_at=at_)
    return task


def make_human_history(alice, bob, dave):
    """Alice's workflow "payments": an approval step with eight tasks (one closed two days
    ago) and a form with one; bob's workflow: one approval; a test run's task, never counted.
    The figures each test expects are written out beside the assertions."""
    managers, _ = Group.objects.get_or_create(name="managers")
    wf = kit.workflow(alice, HUMAN_GRAPH, name="payments")
    other = kit.workflow(bob, HUMAN_GRAPH, name="bobs")
    run = make_run(wf, RunStatus.WAITING, at(6, day=8), at(6, day=8))
    T = TaskStatus
    fin = ("finance",)
    make_task(run, "approve", T.APPROVED, at(10), at(10, 10), at(11), groups=fin,
              decisions=[(bob, "approve", at(10, 10))])  # fmt: skip
    make_task(run, "approve", T.REJECTED, at(9), at(11), at(10), groups=fin,
              decisions=[(dave, "reject", at(11))])  # fmt: skip
    make_task(run, "approve", T.TIMED_OUT, at(8), at(12), at(12), level=1,
              groups=("finance", "managers"), decisions=[(bob, "approve", at(9))])  # fmt: skip
    make_task(run, "approve", T.APPROVED, at(6, day=9), at(10), groups=fin,
              decisions=[(bob, "approve", at(10))])  # fmt: skip
    make_task(run, "approve", T.OPEN, at(12), due=at(12, 15), groups=fin)
    make_task(run, "approve", T.OPEN, at(11, 30), users=[bob])
    make_task(run, "approve", T.CANCELLED, at(11), at(11, 5), at(13), groups=fin)
    make_task(run, "approve", T.APPROVED, at(6, day=8), at(7, day=8), at(8, day=8), groups=fin,
              decisions=[(dave, "approve", at(7, day=8))])  # fmt: skip
    make_task(run, "form", T.SUBMITTED, at(11), at(11, 20), users=[bob],
              decisions=[(bob, "submit", at(11, 20))])  # fmt: skip
    bobs = make_run(other, RunStatus.WAITING, at(9), at(9))
    make_task(bobs, "approve", T.APPROVED, at(9), at(11), groups=fin,
              decisions=[(bob, "approve", at(11))])  # fmt: skip
    test_run = make_run(wf, RunStatus.WAITING, at(9), at(9))
    Run.objects.filter(pk=test_run.pk).update(test=True)
    make_task(test_run, "approve", T.APPROVED, at(9), at(10), groups=fin,
              decisions=[(bob, "approve", at(10))])  # fmt: skip
    assert managers.human_tasks.count() == 1
    return wf, other
