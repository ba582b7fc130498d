"""One constructor per event type: the only code that creates ``RunEvent`` rows (STYLE 4).

Each is called inside the transaction of the change it records (CONTRACT §4), by
``engine/transitions.py`` only. Events stay small: big payloads (inputs, outputs) live on the
step row, and the event says where to look.

Every row written here is handed to ``live.publish_on_commit``, which tells the websockets after
the transaction commits (one notice per commit, not per event). Code that writes ``RunEvent``
rows anywhere else must do the same.
"""

from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from engine import live
from engine.models import HumanTask, Run, RunEvent, StepRun, TaskAttachment, TaskComment

Actor = AbstractBaseUser | None


def _run_event(
    run: Run, type: str, old: str, new: str, actor: Actor, data: dict[str, Any] | None = None
) -> RunEvent:
    event = RunEvent.objects.create(
        run=run,
        type=type,
        old_status=old,
        new_status=new,
        actor=actor if actor is not None and actor.is_authenticated else None,
        data=data or {},
    )
    live.publish_on_commit([event])
    return event


def _step_event(
    step: StepRun, type: str, old: str, new: str, actor: Actor, data: dict[str, Any] | None = None
) -> RunEvent:
    event = RunEvent.objects.create(
        run_id=step.run_id,
        node_id=step.node_id,
        type=type,
        old_status=old,
        new_status=new,
        attempt=step.attempt or None,
        actor=actor if actor is not None and actor.is_authenticated else None,
        data=data or {},
    )
    live.publish_on_commit([event])
    return event


# --- runs ---------------------------------------------------------------------------------------


def record_run_created(run: Run, actor: Actor) -> RunEvent:
    data = {"trigger": run.trigger, "version": run.version.number}
    if run.test:
        data["test"] = True
    if run.replay_of_id:
        data["replay_of"] = run.replay_of_id
    if run.parent_run_id:
        data |= {"parent_run": run.parent_run_id, "parent_node": run.parent_node}
    return _run_event(run, "run.created", "", run.status, actor, data)


def record_run_replayed(run: Run, replay: Run, actor: Actor, reason: str) -> RunEvent:
    """On the run that was replayed: who replayed it, why, on which version, as which run
    (its state does not change)."""
    data = {"replay": replay.pk, "version": replay.version.number, "reason": reason}
    return _run_event(run, "run.replayed", run.status, run.status, actor, data)


def record_run_status(run: Run, old: str, actor: Actor, reason: str = "") -> RunEvent:
    """run.running, run.waiting, run.succeeded, run.failed or run.cancelled."""
    return _run_event(
        run, f"run.{run.status}", old, run.status, actor, {"reason": reason} if reason else None
    )


def record_run_compensating(
    run: Run, old: str, actor: Actor, *, reason: str, steps: list[dict[str, str]]
) -> RunEvent:
    """The run failed and compensates: ``steps`` lists {node, compensation} to undo."""
    data = {"reason": reason, "steps": steps}
    return _run_event(run, "run.compensating", old, run.status, actor, data)


def record_compensation(run: Run, type: str, node: str, undone: str, **data: Any) -> RunEvent:
    """compensation.started, .succeeded or .failed: ``node`` is the compensation, ``undone``
    the step it undoes (no status change of the run; the step's own events say that)."""
    event = RunEvent.objects.create(
        run=run, node_id=node, type=type, data={"compensates": undone, **data}
    )
    live.publish_on_commit([event])
    return event


def record_run_compensated(run: Run, actor: Actor, compensations: dict[str, str]) -> RunEvent:
    """Every compensation is done: ``compensations`` maps each undone step to how its
    compensation ended (succeeded, or skipped by an operator). run.failed follows."""
    return _run_event(run, "run.compensated", "", "", actor, {"compensations": compensations})


# --- steps --------------------------------------------------------------------------------------


def record_step_queued(step: StepRun, old: str, actor: Actor = None) -> RunEvent:
    return _step_event(step, "step.queued", old, step.status, actor)


def record_step_started(step: StepRun, old: str) -> RunEvent:
    return _step_event(step, "step.started", old, step.status, None, {"worker": step.lease_owner})


def record_step_succeeded(step: StepRun, old: str, actor: Actor = None) -> RunEvent:
    return _step_event(step, "step.succeeded", old, step.status, actor, {"handle": step.handle})


def record_steps_queued(steps: list[StepRun]) -> list[RunEvent]:
    """step.queued of the steps a plan started together (one INSERT)."""
    rows = RunEvent.objects.bulk_create(
        RunEvent(
            run_id=step.run_id,
            node_id=step.node_id,
            type="step.queued",
            old_status="pending",
            new_status=step.status,
            attempt=step.attempt,
        )
        for step in steps
    )
    live.publish_on_commit(rows)
    return rows


def record_steps_reused(steps: list[StepRun], sources: dict[str, dict[str, Any]]) -> list[RunEvent]:
    """step.reused of the steps a run was given a result for instead of running them (a test
    run's pinned, typed or earlier runs' outputs; a replay's finished steps), one INSERT.
    ``sources`` says where each result came from: {"source": "pin"|"typed"|"run"|"unneeded",
    "run": id}."""
    rows = RunEvent.objects.bulk_create(
        RunEvent(
            run_id=step.run_id,
            node_id=step.node_id,
            type="step.reused",
            old_status="pending",
            new_status=step.status,
            data={**sources.get(step.node_id, {}), "handle": step.handle},
        )
        for step in steps
    )
    live.publish_on_commit(rows)
    return rows


def record_steps_done_quickly(steps: list[StepRun]) -> list[RunEvent]:
    """step.started and step.succeeded of quick steps recorded together (one INSERT)."""
    rows = []
    for step in steps:
        common = {"run_id": step.run_id, "node_id": step.node_id, "attempt": step.attempt}
        rows.append(
            RunEvent(
                **common,
                type="step.started",
                old_status="queued",
                new_status="running",
                data={"worker": step.lease_owner},
            )
        )
        rows.append(
            RunEvent(
                **common,
                type="step.succeeded",
                old_status="running",
                new_status=step.status,
                data={"handle": step.handle},
            )
        )
    rows = RunEvent.objects.bulk_create(rows)
    live.publish_on_commit(rows)
    return rows


def record_step_waiting(step: StepRun, old: str, reason: str) -> RunEvent:
    data: dict[str, Any] = {"reason": reason}
    if step.wake_at:
        data["wake_at"] = step.wake_at.isoformat()
    return _step_event(step, "step.waiting", old, step.status, None, data)


def record_step_failed(step: StepRun, old: str, error: dict[str, Any]) -> RunEvent:
    return _step_event(step, "step.failed", old, step.status, None, {"error": error})


def record_step_retrying(step: StepRun, old: str, error: dict[str, Any]) -> RunEvent:
    data = {"error": error, "wake_at": step.wake_at.isoformat() if step.wake_at else None}
    return _step_event(step, "step.retrying", old, step.status, None, data)


def record_step_skipped(step: StepRun, old: str, actor: Actor = None, reason: str = "") -> RunEvent:
    return _step_event(
        step, "step.skipped", old, step.status, actor, {"reason": reason} if reason else None
    )


def record_step_cancelled(step: StepRun, old: str, actor: Actor = None) -> RunEvent:
    return _step_event(step, "step.cancelled", old, step.status, actor)


def record_step_retried(
    step: StepRun, old: str, actor: Actor, reason: str, edited_input: Any = None
) -> RunEvent:
    """An operator re-queued a failed or waiting step, perhaps with an edited input."""
    data: dict[str, Any] = {"reason": reason}
    if edited_input is not None:
        data["edited_input"] = edited_input
    return _step_event(step, "step.retried", old, step.status, actor, data)


def record_step_child_started(step: StepRun, child: Run) -> RunEvent:
    """A flow.subworkflow or flow.map step started a child run (no status change)."""
    data = {"child_run": child.pk, "index": child.parent_index}
    return _step_event(step, "step.child_started", step.status, step.status, None, data)


def record_step_reset(step: StepRun, old: str, actor: Actor) -> RunEvent:
    """A step skipped or cancelled below an operator's retry or skip is pending again."""
    return _step_event(step, "step.reset", old, step.status, actor)


# --- human tasks --------------------------------------------------------------------------------
# No status of the step changes (old and new status are empty); ``data.task`` is the task's id,
# so that an inbox can route each event, and ``data.status`` the task's status after it.


def _task_event(
    task: HumanTask, type: str, actor: Actor, data: dict[str, Any] | None = None
) -> RunEvent:
    event = RunEvent.objects.create(
        run_id=task.run_id,
        node_id=task.step.node_id,
        type=type,
        attempt=task.attempt,
        actor=actor if actor is not None and actor.is_authenticated else None,
        data={"task": task.pk, "kind": task.kind, "status": task.status, **(data or {})},
    )
    live.publish_on_commit([event])
    return event


def record_task_created(task: HumanTask, assignees: dict[str, list[str]]) -> RunEvent:
    data = {
        "title": task.title,
        "assignees": assignees,
        "requester": task.requester.get_username() if task.requester else None,
        "due_at": task.due_at.isoformat() if task.due_at else None,
    }
    return _task_event(task, "task.created", None, data)


def record_task_decided(
    task: HumanTask,
    actor: Actor,
    decision: str,
    comment: str,
    approvals: int | None,
    *,
    via: str = "api",
    by: str | None = None,
) -> RunEvent:
    """Someone decided (approve, reject, submit); the task may stay open (N approvals).
    ``via``: api, or email_link (a signed link of an email); ``by``: who, as people read it
    (an email-only assignee has no user to be the event's actor, only an address)."""
    data: dict[str, Any] = {"decision": decision, "comment": comment, "via": via, "by": by}
    if approvals is not None:
        data["approvals"] = approvals
        data["required_approvals"] = task.policy.get("required_approvals", 1)
    return _task_event(task, "task.decided", actor, data)


def record_task_delegated(
    task: HumanTask,
    actor: Actor,
    to: str,
    comment: str,
    assignees: dict[str, list[str]],
    *,
    absent: AbstractBaseUser | None = None,
) -> RunEvent:
    """A person handed the task on (``actor``), or the engine did for the ``absent`` assignee
    (no actor; ``out_of_office`` in the data)."""
    giver = absent or actor
    data: dict[str, Any] = {
        "from": giver.get_username() if giver else None,
        "to": to,
        "comment": comment,
        "assignees": assignees,
    }
    if absent is not None:
        data["out_of_office"] = True
    return _task_event(task, "task.delegated", actor, data)


def record_task_kept(task: HumanTask, user: AbstractBaseUser, until: str, why: str) -> RunEvent:
    """An assignee is out of office, yet the task stays theirs (why: no deputy could take it,
    e.g. a loop of absent deputies, or a deputy who started the run under four eyes)."""
    data = {"user": user.get_username(), "until": until, "why": why, "out_of_office": True}
    return _task_event(task, "task.kept", None, data)


def record_task_reminded(task: HumanTask, usernames: list[str]) -> RunEvent:
    """A reminder went out (by email after commit) to those who have not acted yet."""
    data = {"recipients": len(usernames), "users": usernames[:100], "number": task.reminders_sent}
    return _task_event(task, "task.reminded", None, data)


def record_task_overdue(task: HumanTask, rule: str, now: datetime) -> RunEvent:
    """The task passed its due time (its SLA is breached); ``on_timeout`` is the rule that
    applies now (escalate, approve, reject or fail), whose own events follow."""
    due_at = task.due_at
    data = {
        "due_at": due_at.isoformat() if due_at else None,
        "level": task.escalation_level,
        "on_timeout": rule,
        "late_s": max(0, round((now - due_at).total_seconds())) if due_at else 0,
    }
    return _task_event(task, "task.overdue", None, data)


def record_task_escalated(
    task: HumanTask, groups: list[str], assignees: dict[str, list[str]]
) -> RunEvent:
    data = {
        "level": task.escalation_level,
        "groups": groups,
        "assignees": assignees,
        "due_at": task.due_at.isoformat() if task.due_at else None,
        "due_from": task.due_from.isoformat() if task.due_from else None,
    }
    return _task_event(task, "task.escalated", None, data)


def record_task_closed(task: HumanTask, actor: Actor, reason: str) -> RunEvent:
    """The task closed (its status says how): ``reason`` is decided, timeout, or why its step
    ended otherwise (cancelled, skipped, failed). The result itself is the step's output."""
    result = task.result or {}
    by = result.get("decided_by", result.get("submitted_by"))
    return _task_event(task, "task.closed", actor, {"reason": reason, "decided_by": by})


def record_task_commented(task: HumanTask, comment: TaskComment, mentions: list[str]) -> RunEvent:
    """Someone commented (the task's status does not change). The body stays on the comment
    row: it may be 10,000 characters, and every listener of the run and of the inbox gets this
    event; the event says who, where in the thread, how long, and whom it mentioned."""
    data = {
        "comment": comment.pk,
        "parent": comment.parent_id,
        "length": len(comment.body),
        "mentions": mentions,
    }
    return _task_event(task, "task.commented", comment.author, data)


def record_task_attachment_added(task: HumanTask, attachment: TaskAttachment) -> RunEvent:
    """A file was attached: its name, detected type, size and digest (the bytes are in the
    storage, served by the approvals API)."""
    data = {
        "attachment": attachment.pk,
        "name": attachment.name,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
    }
    return _task_event(task, "task.attachment_added", attachment.uploader, data)
