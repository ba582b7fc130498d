"""The statuses of runs, steps and human tasks (CONTRACT §4) and the tables of moves allowed
between them.

Every change of status goes through ``check_run_move`` / ``check_step_move``; a move outside
these tables is a bug and raises ``TransitionNotAllowed`` (STYLE 2-3).
"""

from django.db import models


class RunStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    WAITING = "waiting"
    # The run failed and the compensations of its succeeded steps run (issue 20): not ended.
    COMPENSATING = "compensating"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class StepStatus(models.TextChoices):
    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    RETRYING = "retrying"  # failed an attempt; a durable timer re-queues it after the backoff
    WAITING = "waiting"  # approval, form, delay or child run: no worker held
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class Priority(models.TextChoices):
    """A run's priority: its steps are taken from the queue before lower ones waiting there,
    with a share that keeps the lower ones moving (engine/priority.py)."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class TaskStatus(models.TextChoices):
    """A human task (approval or form): open until someone decides, its due time passes, or its
    step ends otherwise."""

    OPEN = "open"
    APPROVED = "approved"  # by enough approvers, or by the timeout rule approve
    REJECTED = "rejected"  # by a rejection, or by the timeout rule reject
    SUBMITTED = "submitted"  # a form was filled in
    TIMED_OUT = "timed_out"  # overdue (and past any escalation): the step failed
    CANCELLED = "cancelled"  # the run was cancelled, or the step skipped, failed or cancelled


RUN_TERMINAL = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED})
STEP_TERMINAL = frozenset(
    {StepStatus.SUCCEEDED, StepStatus.FAILED, StepStatus.SKIPPED, StepStatus.CANCELLED}
)
# Started and not finished: the planner waits for these.
STEP_ACTIVE = frozenset(
    {StepStatus.QUEUED, StepStatus.RUNNING, StepStatus.RETRYING, StepStatus.WAITING}
)

RUN_ALLOWED: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.QUEUED: frozenset({RunStatus.RUNNING, RunStatus.FAILED, RunStatus.CANCELLED}),
    RunStatus.RUNNING: frozenset(
        {
            RunStatus.WAITING,
            RunStatus.COMPENSATING,
            RunStatus.SUCCEEDED,
            RunStatus.FAILED,
            RunStatus.CANCELLED,
        }
    ),
    RunStatus.WAITING: frozenset(
        {
            RunStatus.RUNNING,
            RunStatus.COMPENSATING,
            RunStatus.SUCCEEDED,
            RunStatus.FAILED,
            RunStatus.CANCELLED,
        }
    ),
    # Every compensation done (succeeded or skipped): failed; a cancel stops compensating.
    RunStatus.COMPENSATING: frozenset({RunStatus.FAILED, RunStatus.CANCELLED}),
    RunStatus.SUCCEEDED: frozenset(),
    # An operator's retry or skip of a step reopens a failed run.
    RunStatus.FAILED: frozenset({RunStatus.RUNNING}),
    RunStatus.CANCELLED: frozenset(),
}

STEP_ALLOWED: dict[StepStatus, frozenset[StepStatus]] = {
    StepStatus.PENDING: frozenset({StepStatus.QUEUED, StepStatus.SKIPPED, StepStatus.CANCELLED}),
    StepStatus.QUEUED: frozenset({StepStatus.RUNNING, StepStatus.CANCELLED}),
    StepStatus.RUNNING: frozenset(
        {
            StepStatus.SUCCEEDED,
            StepStatus.FAILED,
            StepStatus.RETRYING,
            StepStatus.WAITING,
            StepStatus.CANCELLED,
        }
    ),
    StepStatus.RETRYING: frozenset({StepStatus.QUEUED, StepStatus.SKIPPED, StepStatus.CANCELLED}),
    # A wait ends in the step's result (decision, timer, child's end), or an operator's skip.
    StepStatus.WAITING: frozenset(
        {
            StepStatus.SUCCEEDED,
            StepStatus.FAILED,
            StepStatus.RETRYING,
            StepStatus.SKIPPED,
            StepStatus.CANCELLED,
        }
    ),
    # An operator may retry (back to queued) or skip a failed step.
    StepStatus.FAILED: frozenset({StepStatus.QUEUED, StepStatus.SKIPPED}),
    StepStatus.SUCCEEDED: frozenset(),
    # Reset to pending when an operator retries or skips a step upstream of them (reopen).
    StepStatus.SKIPPED: frozenset({StepStatus.PENDING}),
    StepStatus.CANCELLED: frozenset({StepStatus.PENDING}),
}


# A task closes once, whichever way; nothing reopens it (a retried step asks again, in a new task).
TASK_ALLOWED: dict[TaskStatus, frozenset[TaskStatus]] = {
    TaskStatus.OPEN: frozenset(set(TaskStatus) - {TaskStatus.OPEN}),
    **{status: frozenset() for status in TaskStatus if status != TaskStatus.OPEN},
}


class TransitionNotAllowed(Exception):
    """A status change that the tables above forbid: a bug, not a lost race."""


def check_run_move(old: str, new: str) -> None:
    if RunStatus(new) not in RUN_ALLOWED[RunStatus(old)]:
        raise TransitionNotAllowed(f"a run cannot go from {old} to {new}")


def check_step_move(old: str, new: str) -> None:
    if StepStatus(new) not in STEP_ALLOWED[StepStatus(old)]:
        raise TransitionNotAllowed(f"a step cannot go from {old} to {new}")


def check_task_move(old: str, new: str) -> None:
    if TaskStatus(new) not in TASK_ALLOWED[TaskStatus(old)]:
        raise TransitionNotAllowed(f"a task cannot go from {old} to {new}")
