"""The only code that changes a run's or a step's status (STYLE 1-5, ARCHITECTURE "How a run
moves").

Every ``do_*`` is one transaction. It locks the run row (``select_for_update``) so that two steps
finishing together are planned one after the other, compare-and-sets the step row on its status
and attempt, writes the matching ``RunEvent``, and asks the planner what comes next. Work for the
workers leaves only after commit.

Lock order, to stay free of deadlocks: a child run before its parent run (a child's end
advances its parent in the same transaction), and a run before its workflow row (the
concurrency limit). Cancelling a parent therefore does not lock its children: it enqueues their
cancellation after commit, and the sweeper repeats it if that task is lost.
"""

import copy
import json
import logging
import os
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import jsonschema
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from designer.catalog import catalog
from designer.models import Workflow, WorkflowVersion
from designer.permissions import role_of
from engine import events, tasklinks
from engine.expressions import ExpressionError, render
from engine.models import (
    Decision,
    HumanTask,
    Run,
    StepLog,
    StepRun,
    TaskDecision,
    TaskDelegation,
    TaskKind,
    TaskLink,
    Trigger,
    Via,
    tasks_involving,
)
from engine.planner import (
    Plan,
    PlanGraph,
    StepState,
    plan,
    plan_after,
    plan_compensation,
    walk,
)
from engine.states import (
    RUN_TERMINAL,
    STEP_ACTIVE,
    STEP_TERMINAL,
    Priority,
    RunStatus,
    StepStatus,
    TaskStatus,
    check_run_move,
    check_step_move,
    check_task_move,
)
from engine.steplogs import KEEP_ATTEMPTS, AttemptLog
from engine.steps.base import (
    ChildOutcome,
    ChildRun,
    StepError,
    StepResult,
    StepType,
    TaskRequest,
    Wait,
)
from engine.steps.human import approval_outcome, next_reminder, timeout_rule
from flowdeck.nul import has_nul
from people import absences

log = logging.getLogger("flowdeck.engine")

Actor = AbstractBaseUser | None
# (step id, attempt) pairs a worker may run itself instead of enqueuing (see tasks.run_attempt).
Keep = list[tuple[int, int]]

DEFAULT_RETRY = {"max_attempts": 1, "backoff_s": 1, "backoff_factor": 2, "max_backoff_s": 300}
MAX_RETRY_AFTER_S = 3600.0


class Conflict(Exception):
    """The operation does not fit the current state (CONTRACT §5: 409)."""

    def __init__(self, message: str, code: str = "conflict", node: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.node = node


class Forbidden(Exception):
    """The caller sees the thing but may not do this to it (CONTRACT §5: 403)."""

    def __init__(self, message: str, code: str = "forbidden") -> None:
        super().__init__(message)
        self.code = code


class InputInvalid(Exception):
    """A run's input does not match the workflow's input_schema. ``status``: the API's answer."""

    status = 400

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors[0]["message"] if errors else "invalid input")
        self.errors = errors


class InputTooLarge(InputInvalid):
    """A run's input over FLOWDECK_MAX_OUTPUT_BYTES: it becomes its trigger's output, which
    would fail the run at once; the start is refused instead (413, as a body over a limit)."""

    status = 413

    def __init__(self, size: int, limit: int) -> None:
        message = (
            f"the input is {size} bytes as JSON, over the limit of {limit} "
            "(FLOWDECK_MAX_OUTPUT_BYTES): a run's input is its trigger's output"
        )
        super().__init__([{"field": "input", "code": "too_large", "message": message}])


# --- The pinned graph ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    """A workflow version as the engine reads it; versions are immutable, so it is cached."""

    id: int
    graph: Mapping[str, Any]
    plan_graph: PlanGraph
    nodes: Mapping[str, Mapping[str, Any]]
    author_id: int | None = None


@lru_cache(maxsize=512)
def load_version(version_id: int) -> Version:
    graph, author_id = WorkflowVersion.objects.values_list("graph", "author_id").get(pk=version_id)
    return Version(
        id=version_id,
        graph=graph,
        plan_graph=PlanGraph.from_graph(graph),
        nodes={node["id"]: node for node in graph["nodes"]},
        author_id=author_id,
    )


def _default_priority(loaded: Version, trigger: str) -> str:
    """A run's priority when its start named none: its trigger node's (a webhook or a
    schedule may set one), else the workflow's."""
    if trigger in (Trigger.WEBHOOK, Trigger.SCHEDULE):
        for node in loaded.nodes.values():
            if node["type"].startswith("trigger.") and node.get("config", {}).get("priority"):
                return node["config"]["priority"]
    return loaded.graph.get("priority") or Priority.NORMAL


def step_type_of(type_name: str) -> StepType:
    return catalog.get(type_name)()


# --- Side effects after commit (STYLE 5) --------------------------------------------------------


def hand_over_on_commit(hand_over: Callable[[], None], what: str) -> None:
    """Give work to the queue once the transaction commits (a worker must find the committed
    rows; a rollback must enqueue nothing). A broker that fails then (Redis restarting) is
    logged, not raised: the change is committed, and raising would turn it into a 500 for a
    request that succeeded (whose client might do it again) or abort the commit's other hooks.
    The rows say what was due, and the sweeper repeats a lost hand-over: ``requeue_stale``
    for queued steps, ``cancel_orphans`` for the children of a run that ended."""

    def attempt() -> None:
        try:
            hand_over()
        except Exception:
            log.exception("could not give %s to the queue; the sweeper will enqueue it again", what)

    transaction.on_commit(attempt)


def enqueue_attempt_on_commit(step_id: int, attempt: int, priority: str) -> None:
    hand_over_on_commit(
        lambda: enqueue_attempt(step_id, attempt, priority=priority), f"step {step_id}/{attempt}"
    )


_brokers: dict[tuple[int, str, str], Any] = {}


def broker_for(priority: str) -> Any:
    """This process's broker for tasks of ``priority`` (engine/priority.py). Without one,
    async_task makes one per call: for Redis a new client, TCP connection and handshake for
    every task, several ms each (bench/README.md, "load.py"). One per process and priority
    (a forked worker gets its own; redis-py's pool reconnects after a restart)."""
    from django_q.conf import Conf

    from engine.priority import PriorityORM, PriorityRedis

    key = (os.getpid(), Conf.CLUSTER_NAME, priority)
    broker = _brokers.get(key)
    if broker is None:
        kind = PriorityRedis if Conf.REDIS else PriorityORM
        broker = _brokers[key] = kind(priority=priority)
    return broker


def enqueue(func: str, *args: Any, priority: str = Priority.NORMAL) -> None:
    """Put one task on the queue, in its run's priority's list. save=False: the engine's own
    rows are the record; django-q2 keeps only failures."""
    from django_q.tasks import async_task

    async_task(func, *args, save=False, broker=broker_for(priority))


def enqueue_attempt(step_id: int, attempt: int, *, priority: str = Priority.NORMAL) -> None:
    enqueue("engine.tasks.run_attempt", step_id, attempt, priority=priority)


QUICK_BATCH = 25


def enqueue_batch(items: list[tuple[int, int, str]], priority: str) -> None:
    """Enqueue steps a plan started together: quick steps (no I/O) share tasks, up to
    QUICK_BATCH per task, which saves the broker's per-task cost on wide fan-outs; each
    blocking step gets its own task, so none waits behind another's I/O."""
    quick = [(pk, attempt) for pk, attempt, type_ in items if not step_type_of(type_).blocking]
    for pk, attempt, type_ in items:
        if step_type_of(type_).blocking:
            enqueue_attempt(pk, attempt, priority=priority)
    for start in range(0, len(quick), QUICK_BATCH):
        batch = quick[start : start + QUICK_BATCH]
        enqueue("engine.tasks.run_attempts", batch, priority=priority)


def cancel_children_on_commit(run_id: int, node_id: str | None = None) -> None:
    hand_over_on_commit(
        lambda: enqueue("engine.tasks.cancel_children", run_id, node_id),
        f"the cancellation of run {run_id}'s children",
    )


# --- Checks -------------------------------------------------------------------------------------


def check_start_input(graph: Mapping[str, Any], data: Any) -> None:
    """Raise InputInvalid unless ``data`` fits the graph's input_schema, InputTooLarge unless
    it fits a step's output (the trigger's output is the input)."""
    if not isinstance(data, dict):
        raise InputInvalid(
            [{"field": "input", "code": "type", "message": "the input must be an object"}]
        )
    # Before the schema: a huge input costs no validation. Measured as _check_output does.
    try:
        size = output_size(data)
    except (TypeError, ValueError) as exc:  # NaN from an expression, say
        raise InputInvalid(
            [{"field": "input", "code": "invalid", "message": f"the input is not JSON: {exc}"}]
        ) from None
    if size > settings.FLOWDECK_MAX_OUTPUT_BYTES:
        raise InputTooLarge(size, settings.FLOWDECK_MAX_OUTPUT_BYTES)
    schema = graph.get("input_schema")
    if not schema:
        return
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        raise InputInvalid(
            [
                {
                    "field": ".".join(["input", *map(str, e.absolute_path)]),
                    "code": str(e.validator),
                    "message": e.message,
                }
                for e in errors
            ]
        )


class UnknownVersion(LookupError):
    pass


def start_input(graph: Mapping[str, Any], given: Any) -> Any:
    """The input of a run started by hand (UI, API, CLI): what the caller gave; when they gave
    none (``None``, not ``{}``), what the workflow's schedule would give it, so that running a
    scheduled workflow by hand does what its next firing will; else ``{}``."""
    if given is not None:
        return given
    for node in graph.get("nodes", []):
        if node.get("type") == "trigger.schedule":
            return copy.deepcopy((node.get("config") or {}).get("input", {}))
    return {}


def check_start(
    workflow: Workflow, number: int | None, data: Any
) -> tuple[WorkflowVersion, dict[str, Any]]:
    """The version a new run of ``workflow`` pins (the newest unless ``number``) and the run's
    input (``start_input``: ``data``, or the schedule's when ``data`` is None), after the
    checks every way of starting a run makes: Conflict for an archived workflow,
    UnknownVersion, InputInvalid for input against the version's input_schema."""
    if workflow.archived:
        raise Conflict("the workflow is archived; restore it to run it")
    number = number or workflow.latest_version
    version = WorkflowVersion.objects.filter(workflow=workflow, number=number).first()
    if version is None:
        raise UnknownVersion(f"workflow {workflow.pk} has no version {number}")
    data = start_input(version.graph, data)
    check_start_input(version.graph, data)
    return version, data


def retry_delay(policy: Mapping[str, Any], attempt: int, rng: random.Random | None = None) -> float:
    """Seconds before attempt ``attempt + 1``: exponential, capped, with full jitter."""
    policy = {**DEFAULT_RETRY, **policy}
    base = policy["backoff_s"] * policy["backoff_factor"] ** (attempt - 1)
    base = min(base, policy["max_backoff_s"])
    if policy.get("jitter", True):
        return (rng or random).uniform(0, base)
    return float(base)


def retry_after(error: Mapping[str, Any]) -> float:
    """How long the failed call's service asked us to wait (``retry_after_s``, from an HTTP
    Retry-After), capped: a far-off date must not park a step for days."""
    value = error.get("retry_after_s")
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return 0.0
    return min(max(float(value), 0.0), MAX_RETRY_AFTER_S)


# --- Starting runs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reused:
    """A result a new run is given for a step instead of running it."""

    status: StepStatus  # succeeded, or skipped (a step a test run does not need)
    output: Any = None
    handle: str = ""
    source: Mapping[str, Any] = field(default_factory=dict)  # for the step.reused event


@transaction.atomic
def do_start_run(
    *,
    version: WorkflowVersion,
    input: dict[str, Any],
    trigger: str,
    actor: Actor,
    idempotency_key: str | None = None,
    parent: StepRun | None = None,
    parent_index: int | None = None,
    keep: Keep | None = None,
    reused: Mapping[str, "Reused"] | None = None,
    test: bool = False,
    capture_email: bool = False,
    replay_of: Run | None = None,
    priority: str | None = None,
) -> tuple[Run, bool]:
    """Create a run of ``version`` with one pending step per node and start it, unless the
    workflow is at its concurrency limit (then it waits ``queued``). With an idempotency key
    already used, return that run instead. Returns (run, created).

    ``reused`` gives some steps their result instead of running them (a test run's pins, a
    replay's finished steps): they start succeeded or skipped, with a step.reused event each,
    and the planner goes on from them. ``test`` marks a test run (engine/testruns.py).

    ``priority``: the start's (the API's; a child run's parent's); else the webhook's or
    schedule's trigger's, else the workflow's (the graph's ``priority``; normal when unset)."""
    workflow = version.workflow
    loaded = load_version(version.pk)
    if idempotency_key:
        existing = Run.objects.filter(workflow=workflow, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing, False
    fields = {
        "workflow": workflow,
        "version": version,
        "input": input,
        "trigger": trigger,
        "actor": actor if actor is not None and actor.is_authenticated else None,
        "idempotency_key": idempotency_key or None,
        "test": test,
        "capture_email": capture_email,
        "replay_of": replay_of,
        "priority": priority or _default_priority(loaded, trigger),
    }
    if parent is not None:
        fields |= {
            "parent_run_id": parent.run_id,
            "parent_node": parent.node_id,
            "parent_index": parent_index,
            "parent_attempt": parent.attempt,
        }
    try:
        # A savepoint: two requests with one idempotency key race on the unique constraint;
        # the loser (PostgreSQL waits for the winner's commit) returns the winner's run.
        with transaction.atomic():
            run = Run.objects.create(**fields)
    except IntegrityError:
        if not idempotency_key:
            raise
        return Run.objects.get(workflow=workflow, idempotency_key=idempotency_key), False
    reused = reused or {}
    now = timezone.now()
    steps = StepRun.objects.bulk_create(
        StepRun(run=run, node_id=node_id, type=node["type"])
        if node_id not in reused
        else StepRun(
            run=run,
            node_id=node_id,
            type=node["type"],
            status=reused[node_id].status,
            handle=reused[node_id].handle,
            output=reused[node_id].output,
            finished_at=now,
        )
        for node_id, node in loaded.nodes.items()
    )
    events.record_run_created(run, actor)
    if reused:
        events.record_steps_reused(
            [step for step in steps if step.node_id in reused],
            {node: given.source for node, given in reused.items()},
        )
    if _has_capacity(workflow):
        _begin(run, actor, keep)
    return run, True


def _has_capacity(workflow: Workflow) -> bool:
    if workflow.max_concurrent_runs is None:
        return True
    # Lock the workflow row: two starts must not both take the last slot.
    Workflow.objects.select_for_update().filter(pk=workflow.pk).exists()
    active = Run.objects.filter(
        workflow=workflow, status__in=[RunStatus.RUNNING, RunStatus.WAITING, RunStatus.COMPENSATING]
    ).count()
    return active < workflow.max_concurrent_runs


def _begin(run: Run, actor: Actor, keep: Keep | None = None) -> None:
    old = run.status
    check_run_move(old, RunStatus.RUNNING)
    now = timezone.now()
    # 0 rows: someone cancelled the queued run meanwhile.
    if not Run.objects.filter(pk=run.pk, status=old).update(
        status=RunStatus.RUNNING, started_at=now
    ):
        return
    run.status, run.started_at = RunStatus.RUNNING, now
    events.record_run_status(run, old, actor)
    _advance(run, actor, keep)


def _promote_queued(workflow_id: int) -> None:
    """Start runs that waited for the workflow's concurrency limit, oldest first."""
    workflow = Workflow.objects.select_for_update().get(pk=workflow_id)
    if workflow.max_concurrent_runs is None:
        return
    active = Run.objects.filter(
        workflow_id=workflow_id,
        status__in=[RunStatus.RUNNING, RunStatus.WAITING, RunStatus.COMPENSATING],
    ).count()
    free = workflow.max_concurrent_runs - active
    if free <= 0:
        return
    for run in Run.objects.filter(workflow_id=workflow_id, status=RunStatus.QUEUED).order_by("id")[
        :free
    ]:
        _begin(run, None)


# --- Planning -----------------------------------------------------------------------------------


def _lock_run(run_id: int) -> Run:
    # The run row is the mutex of its planning: whoever holds it sees every step's latest state.
    return Run.objects.select_for_update().get(pk=run_id)


def _move(step: StepRun, new: StepStatus, **fields: Any) -> bool:
    """Compare-and-set ``step`` from its current status and attempt to ``new``."""
    check_step_move(step.status, new)
    updated = StepRun.objects.filter(pk=step.pk, status=step.status, attempt=step.attempt).update(
        status=new, **fields
    )
    if not updated:
        # 0 rows: another worker or the sweeper changed this step first; not an error.
        return False
    step.status = new
    for name, value in fields.items():
        setattr(step, name, value)
    return True


def _queue(run: Run, step: StepRun, keep: Keep | None, actor: Actor = None, **fields: Any) -> bool:
    old = step.status
    attempt = fields.pop("attempt", step.attempt + 1)
    check_step_move(old, StepStatus.QUEUED)
    updated = StepRun.objects.filter(pk=step.pk, status=old, attempt=step.attempt).update(
        status=StepStatus.QUEUED, attempt=attempt, queued_at=timezone.now(), wake_at=None, **fields
    )
    if not updated:
        return False
    step.status, step.attempt = StepStatus.QUEUED, attempt
    if old == StepStatus.FAILED:
        pass  # the operator's event (step.retried) is written by do_retry_step
    else:
        events.record_step_queued(step, old, actor)
    if keep is not None and not keep:
        keep.append((step.pk, attempt))  # this worker runs it next, without the broker
    else:
        enqueue_attempt_on_commit(step.pk, attempt, run.priority)
    return True


def _advance(
    run: Run, actor: Actor = None, keep: Keep | None = None, changed: list[StepRun] | None = None
) -> None:
    """Apply the planner's decision for ``run`` (locked by the caller). After one step
    finished (``changed``), only the steps near it are read (``plan_after``); the whole
    graph is planned when nothing is left running, to finish the run."""
    if run.status in RUN_TERMINAL:
        return
    version = load_version(run.version_id)
    if run.status == RunStatus.COMPENSATING:
        _advance_compensation(run, version, actor, keep)
        return
    if changed:
        # The finished steps' states are known here; only the others are read.
        known = {step.node_id: StepState(step.status, step.handle) for step in changed}

        def lookup(nodes: Iterable[str]) -> dict[str, StepState]:
            nodes = list(nodes)
            return {
                **_states(run, [n for n in nodes if n not in known]),
                **{n: known[n] for n in nodes if n in known},
            }

        near = plan_after(version.plan_graph, list(known), lookup, lambda n: _any_open(run, n))
        if near is not None:
            if near.start or near.skip:
                _apply(run, near, actor, keep)
            statuses = _statuses(run)
            if statuses & STEP_ACTIVE:
                _sync_activity(run, statuses, actor)
                return
    # Plain tuples from one raw query: model instances would cost far more than the query.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT node_id, status, handle FROM engine_steprun WHERE run_id = %s", [run.pk]
        )
        rows = cursor.fetchall()
    decision = plan(
        version.plan_graph, {node: StepState(status, handle) for node, status, handle in rows}
    )
    if decision.skip or decision.cancel or decision.start:
        _apply(run, decision, actor, keep)
    if decision.finish == RunStatus.COMPENSATING:
        _start_compensating(run, decision, version, actor, keep)
        return
    if decision.finish is not None:
        _finish_run(run, decision.finish, version, actor)
        return
    changes = {n: StepStatus.SKIPPED for n in decision.skip}
    changes |= {n: StepStatus.CANCELLED for n in decision.cancel}
    changes |= {n: StepStatus.QUEUED for n in decision.start}
    _sync_activity(run, [changes.get(node, status) for node, status, _ in rows], actor)


def _all_states(run: Run) -> dict[str, StepState]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT node_id, status, handle FROM engine_steprun WHERE run_id = %s", [run.pk]
        )
        return {node: StepState(status, handle) for node, status, handle in cursor.fetchall()}


def _start_compensating(
    run: Run, decision: Plan, version: Version, actor: Actor, keep: Keep | None
) -> None:
    """The run failed and some succeeded steps have compensations: running/waiting ->
    compensating, keeping the failure that caused it, then plan the first compensations.
    One transaction with the plan that failed the run, so the compensation rows the planner
    starts are queued (and recovered by the sweeper) like any step."""
    old = run.status
    check_run_move(old, RunStatus.COMPENSATING)
    error = _run_error(run, version)
    if not Run.objects.filter(pk=run.pk, status=old).update(
        status=RunStatus.COMPENSATING, error=error
    ):
        return
    run.status, run.error = RunStatus.COMPENSATING, error
    pg = version.plan_graph
    events.record_run_compensating(
        run,
        old,
        actor,
        reason=error.get("message", ""),
        steps=[{"node": n, "compensation": pg.compensation[n]} for n in decision.compensate],
    )
    _advance_compensation(run, version, actor, keep)


def _advance_compensation(run: Run, version: Version, actor: Actor, keep: Keep | None) -> None:
    """Plan a compensating run from all its rows (compensations are few)."""
    decision = plan_compensation(version.plan_graph, _all_states(run))
    if decision.skip or decision.start:
        _apply(run, decision, actor, keep)
        pg = version.plan_graph
        for node in decision.start:
            if node in pg.compensates:
                events.record_compensation(run, "compensation.started", node, pg.compensates[node])
    if decision.finish is not None:
        _finish_run(run, decision.finish, version, actor)


def _states(run: Run, nodes: Iterable[str]) -> dict[str, StepState]:
    nodes = list(nodes)
    if not nodes:
        return {}  # no query
    sql = (
        "SELECT node_id, status, handle FROM engine_steprun "  # noqa: S608 (placeholders only)
        f"WHERE run_id = %s AND node_id {_in(nodes)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [run.pk, *_in_params(nodes)])
        return {node: StepState(status, handle) for node, status, handle in cursor.fetchall()}


def _any_open(run: Run, nodes: Iterable[str]) -> bool:
    """Has one of ``nodes`` not finished? Raw SQL: Django's IN lookup prepares each of a
    fan-in's thousand ids in Python, which costs more than the query."""
    nodes = list(nodes)
    if not nodes:
        return False
    terminal = sorted(STEP_TERMINAL)
    sql = (
        "SELECT 1 FROM engine_steprun WHERE run_id = %s "  # noqa: S608 (placeholders only)
        f"AND status NOT IN (%s, %s, %s, %s) AND node_id {_in(nodes)} LIMIT 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [run.pk, *terminal, *_in_params(nodes)])
        return cursor.fetchone() is not None


def _in(values: list[str]) -> str:
    """``IN (%s, ...)``, or on PostgreSQL ``= ANY(%s)``: one array parameter, where a
    thousand separate ones cost milliseconds to bind."""
    if connection.vendor == "postgresql":
        return "= ANY(%s)"
    return "IN (" + ", ".join(["%s"] * len(values)) + ")"


def _in_params(values: list[str]) -> list[Any]:
    return [values] if connection.vendor == "postgresql" else values


def _apply(run: Run, decision: Plan, actor: Actor, keep: Keep | None) -> None:
    nodes = [*decision.skip, *decision.cancel, *decision.start]
    steps = {
        s.node_id: s
        for s in StepRun.objects.filter(run=run, node_id__in=nodes).only(
            "id", "run_id", "node_id", "type", "status", "attempt"
        )
    }
    now = timezone.now()
    for node in decision.skip:
        step = steps[node]
        old = step.status
        if _move(step, StepStatus.SKIPPED, finished_at=now):
            events.record_step_skipped(step, old)
    for node in decision.cancel:
        _cancel_step(steps[node], actor, now)
    if len(decision.start) == 1:
        _queue(run, steps[decision.start[0]], keep, attempt=1)
    elif decision.start:
        _queue_many(run, [steps[node] for node in decision.start], keep, now)


def _queue_many(run: Run, starting: list[StepRun], keep: Keep | None, now: datetime) -> None:
    """pending -> queued for the steps a plan starts together (a fan-out): one UPDATE, one
    INSERT of their events, their tasks enqueued in batches after commit."""
    check_step_move(StepStatus.PENDING, StepStatus.QUEUED)
    updated = StepRun.objects.filter(
        pk__in=[s.pk for s in starting], status=StepStatus.PENDING
    ).update(status=StepStatus.QUEUED, attempt=1, queued_at=now, wake_at=None)
    if updated != len(starting):
        # Pending steps move only under the run lock, which the caller holds.
        raise RuntimeError(f"{len(starting) - updated} pending steps moved under the run lock")
    for step in starting:
        step.status, step.attempt = StepStatus.QUEUED, 1
    events.record_steps_queued(starting)
    if keep is not None and not keep:
        keep.append((starting[0].pk, 1))  # this worker runs the first itself
        starting = starting[1:]
    batch = [(s.pk, 1, s.type) for s in starting]
    priority = run.priority
    hand_over_on_commit(
        lambda: enqueue_batch(batch, priority), f"{len(batch)} steps of run {run.pk}"
    )


def _statuses(run: Run) -> set[str]:
    """The distinct statuses of the run's steps (a handful of rows, not one per step)."""
    return set(
        StepRun.objects.filter(run=run)
        .order_by()  # no ORDER BY, or DISTINCT would include the id
        .values_list("status", flat=True)
        .distinct()
    )


def _cancel_step(step: StepRun, actor: Actor, now: datetime) -> None:
    old = step.status
    if _move(step, StepStatus.CANCELLED, finished_at=now, wake_at=None, lease_expires_at=None):
        events.record_step_cancelled(step, old, actor)
        if old == StepStatus.WAITING:
            _stopped_waiting(step, actor, "cancelled")


def _sync_activity(run: Run, step_statuses: Iterable[str], actor: Actor) -> None:
    """running while a step is queued or running; waiting when every active step waits."""
    statuses = set(step_statuses)
    busy = bool(statuses & {StepStatus.QUEUED, StepStatus.RUNNING})
    idle = bool(statuses & {StepStatus.WAITING, StepStatus.RETRYING})
    new = None
    if run.status == RunStatus.RUNNING and idle and not busy:
        new = RunStatus.WAITING
    elif run.status == RunStatus.WAITING and busy:
        new = RunStatus.RUNNING
    if new is None:
        return
    old = run.status
    check_run_move(old, new)
    if Run.objects.filter(pk=run.pk, status=old).update(status=new):
        run.status = new
        events.record_run_status(run, old, actor)


def expression_scope(run: Run, nodes: Iterable[str] | None = None) -> dict[str, Any]:
    """What expressions may name: input, steps.<id>.{output,status,error}, run."""
    rows = StepRun.objects.filter(run=run)
    if nodes is not None:
        nodes = list(nodes)
        rows = rows.filter(node_id__in=nodes)
    steps = {
        row["node_id"]: {"output": row["output"], "status": row["status"], "error": row["error"]}
        for row in (rows.values("node_id", "output", "status", "error") if nodes != [] else [])
    }
    return {
        "input": run.input,
        "steps": steps,
        "run": {"id": run.pk, "workflow": run.workflow_id, "trigger": run.trigger},
    }


def compensating_scope(run: Run, node: str) -> dict[str, Any] | None:
    """``compensating`` for a compensation node's expressions: the step it undoes, with the
    input its succeeded attempt recorded and its output; None for other nodes."""
    undone = load_version(run.version_id).plan_graph.compensates.get(node)
    if undone is None:
        return None
    row = StepRun.objects.filter(run=run, node_id=undone).values("input", "output").first() or {}
    return {"node": undone, "input": row.get("input"), "output": row.get("output")}


def _finish_run(run: Run, status: RunStatus, version: Version, actor: Actor) -> None:
    output, error = None, None
    if status == RunStatus.SUCCEEDED and version.graph.get("output") is not None:
        try:
            output = render(version.graph["output"], expression_scope(run), "output")
            _check_output(output)
        except (ExpressionError, StepError) as exc:
            status = RunStatus.FAILED
            error = {"message": f"the run's output: {exc}", "code": "output_error", "node": None}
    compensated = run.status == RunStatus.COMPENSATING
    if status == RunStatus.FAILED and error is None:
        # After compensating, the failure that started it (kept on the run) stays the error.
        error = run.error if compensated and run.error else _run_error(run, version)
    old = run.status
    check_run_move(old, status)
    now = timezone.now()
    if not Run.objects.filter(pk=run.pk, status=old).update(
        status=status, output=output, error=error, finished_at=now
    ):
        return
    run.status, run.output, run.error, run.finished_at = status, output, error, now
    if compensated:
        done = dict(
            StepRun.objects.filter(
                run=run, node_id__in=list(version.plan_graph.compensates)
            ).values_list("node_id", "status")
        )
        events.record_run_compensated(
            run,
            actor,
            {n: done.get(c) for c, n in version.plan_graph.compensates.items() if c in done},
        )
    events.record_run_status(run, old, actor, reason=(error or {}).get("message", ""))
    _after_run_ended(run)


def _run_error(run: Run, version: Version) -> dict[str, Any]:
    """The failure that ended the run: a flow.fail, else the first unhandled failed step."""
    pg = version.plan_graph
    errors = dict(
        StepRun.objects.filter(run=run, status=StepStatus.FAILED).values_list("node_id", "error")
    )
    failed = [
        n for n in pg.order if n in errors and (n in pg.ends_run or n not in pg.handles_failure)
    ]
    failed.sort(key=lambda n: n not in pg.ends_run)
    if not failed:
        return {"message": "the run failed", "code": "failed", "node": None}
    node = failed[0]
    step_error = errors[node] or {}
    return {
        "message": step_error.get("message", f"step {node} failed"),
        "code": step_error.get("code", "step_failed"),
        "node": node,
    }


def _after_run_ended(run: Run) -> None:
    if run.parent_run_id:
        _child_ended(run)
    if run.workflow.max_concurrent_runs is not None:
        _promote_queued(run.workflow_id)


# --- Attempts -----------------------------------------------------------------------------------


def lease_seconds() -> float:
    return settings.FLOWDECK_LEASE_S


def find_queued(step_id: int, attempt: int) -> StepRun | None:
    """The step if this attempt is queued, read outside any transaction (a stale or duplicate
    delivery then costs no write lock; SQLite has one)."""
    step = StepRun.objects.filter(pk=step_id).select_related("run__workflow").first()
    if step is None or step.status != StepStatus.QUEUED or step.attempt != attempt:
        return None
    return step


def _claim(step: StepRun, owner: str) -> bool:
    node = load_version(step.run.version_id).nodes[step.node_id]
    now = timezone.now()
    timeout = node.get("timeout_s")
    old = step.status
    claimed = _move(
        step,
        StepStatus.RUNNING,
        lease_owner=owner,
        lease_expires_at=now + timedelta(seconds=lease_seconds()),
        deadline_at=now + timedelta(seconds=timeout) if timeout else None,
        started_at=now,
    )
    if claimed:
        events.record_step_started(step, old)
    return claimed


@transaction.atomic
def do_claim(step: StepRun, owner: str) -> bool:
    """queued -> running with a lease for the worker ``owner``; False if another worker
    claimed this delivery first (0 rows; not an error). Under the run's lock like every other
    write of the run: then a run's events commit in id order (PostgreSQL hands ids out at
    insert), and a websocket resuming after an id misses none below it."""
    _lock_run(step.run_id)
    return _claim(step, owner)


def do_claim_attempt(step_id: int, attempt: int, owner: str) -> StepRun | None:
    """find_queued + do_claim: the claimed step, or None."""
    step = find_queued(step_id, attempt)
    return step if step is not None and do_claim(step, owner) else None


@dataclass(frozen=True)
class Outcome:
    """How an attempt ended: a result (or a wait), or an error; ``input`` is its rendered
    config. ``abandoned``: the worker stopped waiting because the attempt is no longer its own
    (cancelled or taken over); nothing is recorded. ``log``: what it wrote through ctx.log."""

    result: StepResult | Wait | None = None
    error: dict[str, Any] | None = None
    input: Any = None
    abandoned: bool = False
    log: AttemptLog | None = None


def do_record(step: StepRun, outcome: Outcome, *, keep: Keep | None = None) -> bool:
    """Record a claimed attempt's outcome (its own transaction)."""
    if outcome.abandoned:
        return False
    if outcome.error is not None:
        return do_fail_attempt(
            step.pk,
            step.attempt,
            outcome.error,
            input=outcome.input,
            keep=keep,
            claimed=step,
            log=outcome.log,
        )
    assert outcome.result is not None
    return do_complete_attempt(
        step.pk,
        step.attempt,
        outcome.result,
        input=outcome.input,
        keep=keep,
        claimed=step,
        log=outcome.log,
    )


def _keep_log(step: StepRun, attempt: int, log: AttemptLog | None) -> None:
    """Store what the attempt logged, in the transaction recording its outcome; only once the
    outcome was recorded (the step left ``running``), so a refused late result logs nothing."""
    if log is None or step.status == StepStatus.RUNNING:
        return
    _log_row(step, attempt, log).save()
    _forget_old_logs([(step.pk, attempt)])


def _log_row(step: StepRun, attempt: int, log: AttemptLog) -> StepLog:
    return StepLog(
        step=step, attempt=attempt, lines=log.lines, dropped=log.dropped, dropped_at=log.dropped_at
    )


def _forget_old_logs(attempts: list[tuple[int, int]]) -> None:
    """A step keeps the logs of its last KEEP_ATTEMPTS attempts (one DELETE, only for steps
    past that many attempts)."""
    old = Q()
    for step_id, attempt in attempts:
        if attempt > KEEP_ATTEMPTS:
            old |= Q(step_id=step_id, attempt__lte=attempt - KEEP_ATTEMPTS)
    if old:
        StepLog.objects.filter(old).delete()


@transaction.atomic
def do_execute_quick(
    step: StepRun, owner: str, execute: Callable[[], Outcome], *, keep: Keep | None = None
) -> bool:
    """Claim, execute and record a quick step in one transaction: one write instead of two,
    and no lease to lose. Only for step types that do no I/O (``blocking`` False)."""
    run = _lock_run(step.run_id)
    if not _claim(step, owner):
        return False
    run.workflow = step.run.workflow  # read with the step; saves a query
    step.run = run
    outcome = execute()
    attempt = step.attempt
    if outcome.error is not None:
        _fail(run, step, outcome.error, input=outcome.input, keep=keep)
    elif isinstance(outcome.result, Wait):
        _wait(run, step, outcome.result, outcome.input, keep)
    else:
        assert outcome.result is not None
        _complete(run, step, outcome.result, input=outcome.input, keep=keep)
    _keep_log(step, attempt, outcome.log)
    return True


@transaction.atomic
def do_execute_quick_batch(
    pairs: list[tuple[int, int]], owner: str, execute: Callable[[StepRun], Outcome]
) -> int:
    """Quick steps a plan started together (``enqueue_batch``), in one transaction per run:
    the run is locked once, the steps that succeed are recorded with one UPDATE and one
    INSERT of their events, and the run is planned once for all of them. A step that fails
    or waits takes the one-step path. Returns how many steps ran."""
    wanted = dict(pairs)
    steps = list(StepRun.objects.filter(pk__in=wanted).select_related("run__workflow"))
    ran = 0
    for run_id in dict.fromkeys(s.run_id for s in steps):
        group = [s for s in steps if s.run_id == run_id]
        run = _lock_run(run_id)
        run.workflow = group[0].run.workflow
        # Read again under the lock: a cancel or an operator may have moved some meanwhile.
        # While the lock is held nothing else moves a quick step (all their paths lock it).
        now_current = dict(
            StepRun.objects.filter(pk__in=[s.pk for s in group])
            .values_list("pk", "attempt")
            .filter(status=StepStatus.QUEUED)
        )
        ready = [s for s in group if now_current.get(s.pk) == wanted[s.pk]]
        succeeded: list[tuple[StepRun, Outcome]] = []
        began = run.status

        def ended(run: Run = run, began: str = began) -> bool:
            # A step of this batch ended the run, or failed it into compensating: the plan
            # that did cancelled the rest of the batch.
            return run.status in RUN_TERMINAL or (
                run.status == RunStatus.COMPENSATING and began != RunStatus.COMPENSATING
            )

        for step in ready:
            if ended():
                break
            step.run = run
            outcome = execute(step)
            result = outcome.result
            if outcome.error is None and isinstance(result, StepResult) and _output_fits(result):
                succeeded.append((step, outcome))
            elif _claim(step, owner):
                attempt = step.attempt
                if outcome.error is not None:
                    _fail(run, step, outcome.error, input=outcome.input)
                elif isinstance(result, Wait):
                    _wait(run, step, result, outcome.input, None)
                else:
                    assert result is not None
                    _complete(run, step, result, input=outcome.input, keep=None)
                _keep_log(step, attempt, outcome.log)
        if ended():
            # A flow.fail of this batch ended the run, and the plan that ended it cancelled
            # every step still queued, those that succeeded above included (their success is
            # only in memory until _succeed_quickly). Recording them would find them moved and
            # roll the whole batch back, the run's end with it, until the sweeper re-enqueued
            # each step alone (FLOWDECK_REQUEUE_AFTER_S later).
            succeeded = []
        if succeeded:
            _succeed_quickly(run, succeeded, owner)
        ran += len(ready)
    return ran


def _output_fits(result: StepResult) -> bool:
    try:
        _check_output(result.output)
    except StepError:
        return False
    return True


def _succeed_quickly(run: Run, items: list[tuple[StepRun, Outcome]], owner: str) -> None:
    """queued -> running -> succeeded for quick steps executed under the run lock: one
    UPDATE for all, their started and succeeded events in one INSERT, one plan."""
    check_step_move(StepStatus.QUEUED, StepStatus.RUNNING)
    check_step_move(StepStatus.RUNNING, StepStatus.SUCCEEDED)
    now = timezone.now()
    steps = []
    for step, outcome in items:
        assert isinstance(outcome.result, StepResult)
        step.status = StepStatus.SUCCEEDED
        step.output, step.handle = outcome.result.output, outcome.result.handle
        step.input = outcome.input
        step.started_at = step.finished_at = now
        step.lease_owner = owner
        steps.append(step)
    fields = ["status", "output", "handle", "input", "started_at", "finished_at", "lease_owner"]
    updated = StepRun.objects.filter(status=StepStatus.QUEUED).bulk_update(steps, fields)
    if updated != len(steps):
        # Cannot happen under the run lock (a batch whose run ended records none); roll back
        # and let the sweeper re-enqueue them.
        raise RuntimeError(f"{len(steps) - updated} quick steps moved while their run was locked")
    events.record_steps_done_quickly(steps)
    for step in steps:
        _compensation_event(run, step, "compensation.succeeded")
    logged = [(step, o.log) for step, o in items if o.log is not None]
    if logged:
        StepLog.objects.bulk_create([_log_row(step, step.attempt, log) for step, log in logged])
        _forget_old_logs([(step.pk, step.attempt) for step, _ in logged])
    _advance(run, None, None, changed=steps)


def do_heartbeat(step_id: int, attempt: int, owner: str) -> bool:
    """Extend a running attempt's lease; False once it is no longer ours (cancelled, timed out,
    taken over), which tells the worker to stop."""
    until = timezone.now() + timedelta(seconds=lease_seconds())
    return bool(
        StepRun.objects.filter(
            pk=step_id, status=StepStatus.RUNNING, attempt=attempt, lease_owner=owner
        ).update(lease_expires_at=until)
    )


def output_size(value: Any) -> int:
    """The size that FLOWDECK_MAX_OUTPUT_BYTES limits: the value as JSON (ASCII, escaped);
    ValueError or TypeError for a value that is not JSON."""
    return len(json.dumps(value, allow_nan=False))


def _check_output(output: Any) -> None:
    try:
        size = output_size(output)
    except (TypeError, ValueError) as exc:
        raise StepError(
            f"the output is not JSON: {exc}", retryable=False, code="bad_output"
        ) from exc
    if has_nul(output):
        # PostgreSQL's jsonb cannot keep it: the save would fail (SQLite would keep it).
        raise StepError(
            "the output holds the character U+0000, which cannot be stored",
            retryable=False,
            code="bad_output",
        )
    limit = settings.FLOWDECK_MAX_OUTPUT_BYTES
    if size > limit:
        raise StepError(
            f"the output is {size} bytes, over the limit of {limit} "
            "(FLOWDECK_MAX_OUTPUT_BYTES); store big data elsewhere and pass a reference",
            retryable=False,
            code="output_too_large",
        )


def _locked_step(step_id: int, claimed: StepRun | None = None) -> tuple[Run, StepRun] | None:
    """The run (locked) and the step. A worker passes the step it claimed, which saves reading
    it again: every change below is a compare-and-set on its status and attempt anyway."""
    if claimed is not None and claimed.pk == step_id:
        return _lock_run(claimed.run_id), claimed
    run_id = StepRun.objects.filter(pk=step_id).values_list("run_id", flat=True).first()
    if run_id is None:
        return None
    run = _lock_run(run_id)
    return run, StepRun.objects.get(pk=step_id)


def _locked_running(
    step_id: int, attempt: int, claimed: StepRun | None
) -> tuple[Run, StepRun] | None:
    """The locked run and the step if ``attempt`` is still the one running; None refuses an
    outcome that comes too late (cancelled, timed out, taken over: fencing by attempt)."""
    locked = _locked_step(step_id, claimed)
    if locked is None:
        return None
    if locked[1].status != StepStatus.RUNNING or locked[1].attempt != attempt:
        log.info("refused the late outcome of %s attempt %s", locked[1], attempt)
        return None
    return locked


@transaction.atomic
def do_complete_attempt(
    step_id: int,
    attempt: int,
    outcome: StepResult | Wait,
    *,
    input: Any = None,
    keep: Keep | None = None,
    claimed: StepRun | None = None,
    log: AttemptLog | None = None,
) -> bool:
    """Record what a running attempt produced: succeeded (and plan what is next) or waiting,
    with what it logged. False when the attempt is no longer current: its late result is
    refused (fencing)."""
    locked = _locked_running(step_id, attempt, claimed)
    if locked is None:
        return False
    run, step = locked
    if isinstance(outcome, Wait):
        _wait(run, step, outcome, input, keep)
    else:
        _complete(run, step, outcome, input=input, keep=keep)
    _keep_log(step, attempt, log)
    return True


def _complete(
    run: Run, step: StepRun, result: StepResult, *, input: Any, keep: Keep | None
) -> None:
    try:
        _check_output(result.output)
    except StepError as exc:
        _fail(run, step, exc.as_dict(), input=input, keep=keep)
        return
    _succeed(run, step, result, input=input, keep=keep)


def _succeed(
    run: Run, step: StepRun, result: StepResult, *, input: Any = None, keep: Keep | None = None
) -> None:
    old = step.status
    fields: dict[str, Any] = {
        "output": result.output,
        "handle": result.handle,
        "finished_at": timezone.now(),
        "lease_owner": "",
        "lease_expires_at": None,
        "wake_at": None,
    }
    if input is not None:
        fields["input"] = input
    if _move(step, StepStatus.SUCCEEDED, **fields):
        events.record_step_succeeded(step, old)
        _compensation_event(run, step, "compensation.succeeded")
        _advance(run, None, keep, changed=[step])


def _compensation_event(run: Run, step: StepRun, type: str, **data: Any) -> None:
    if run.status != RunStatus.COMPENSATING:
        return
    undone = load_version(run.version_id).plan_graph.compensates.get(step.node_id)
    if undone is not None:
        events.record_compensation(run, type, step.node_id, undone, **data)


def _wait(run: Run, step: StepRun, wait: Wait, input: Any, keep: Keep | None) -> None:
    old = step.status
    if not _move(
        step,
        StepStatus.WAITING,
        input=input,
        wake_at=wait.wake_at,
        state=dict(wait.state),
        lease_owner="",
        lease_expires_at=None,
    ):
        return
    events.record_step_waiting(step, old, wait.reason)
    if wait.task is not None:
        _create_task(run, step, wait.task)
    if wait.children:
        try:
            ids = _start_children(run, step, wait.children)
        except StepError as exc:
            _fail(run, step, exc.as_dict(), keep=keep)
            return
        result = step_type_of(step.type).children_started(step.state, ids)
        if result is not None:
            _succeed(run, step, result, keep=keep)
            return
    _sync_activity(run, _statuses(run), None)


@transaction.atomic
def do_fail_attempt(
    step_id: int,
    attempt: int,
    error: dict[str, Any],
    *,
    input: Any = None,
    keep: Keep | None = None,
    claimed: StepRun | None = None,
    log: AttemptLog | None = None,
) -> bool:
    """A running attempt failed (an error, a timeout, a lost worker): retry it after a backoff
    if the error is retryable and attempts remain, else fail the step and plan what is next.
    What the attempt logged is stored with it."""
    locked = _locked_running(step_id, attempt, claimed)
    if locked is None:
        return False
    run, step = locked
    _fail(run, step, error, input=input, keep=keep)
    _keep_log(step, attempt, log)
    return True


def _fail(
    run: Run, step: StepRun, error: dict[str, Any], *, input: Any = None, keep: Keep | None = None
) -> None:
    node = load_version(run.version_id).nodes[step.node_id]
    policy = {**DEFAULT_RETRY, **node.get("retry", {})}
    old = step.status
    common: dict[str, Any] = {"error": error, "lease_owner": "", "lease_expires_at": None}
    if input is not None:
        common["input"] = input
    if error.get("retryable", True) and step.attempt < policy["max_attempts"]:
        delay = max(retry_delay(policy, step.attempt), retry_after(error))
        wake_at = timezone.now() + timedelta(seconds=delay)
        if _move(step, StepStatus.RETRYING, wake_at=wake_at, **common):
            events.record_step_retrying(step, old, error)
            _sync_activity(run, _statuses(run), None)
        return
    if _move(step, StepStatus.FAILED, finished_at=timezone.now(), wake_at=None, **common):
        events.record_step_failed(step, old, error)
        if step.node_id not in load_version(run.version_id).plan_graph.handles_failure:
            # For good: the run stays compensating until an operator retries or skips it
            # (an alert rule of kind compensation_failed tells people).
            _compensation_event(run, step, "compensation.failed", error=error)
        if old == StepStatus.WAITING:
            _stopped_waiting(step, None, "failed")
        _advance(run, None, keep, changed=[step])


# --- Timers -------------------------------------------------------------------------------------


@transaction.atomic
def do_fire_timer(step_id: int, now: datetime, keep: Keep | None = None) -> bool:
    """A durable timer is due: a retrying step is queued for its next attempt, a delay ends,
    a human task is overdue or due for a reminder."""
    locked = _locked_step(step_id)
    if locked is None:
        return False
    run, step = locked
    if step.wake_at is None or step.wake_at > now:
        return False  # fired already, or moved meanwhile
    if step.status == StepStatus.RETRYING:
        if _queue(run, step, keep):
            _sync_activity(run, _statuses(run), None)
        return True
    if step.status == StepStatus.WAITING:
        step_type = step_type_of(step.type)
        if step_type.asks_people:
            return _task_timer(run, step, now)
        _succeed(run, step, step_type.wake(step.state), keep=keep)
        return True
    return False


# --- Child runs ---------------------------------------------------------------------------------


def _depth(run: Run) -> int:
    depth, parent_id = 0, run.parent_run_id
    while parent_id is not None:
        depth += 1
        parent_id = Run.objects.filter(pk=parent_id).values_list("parent_run_id", flat=True).first()
    return depth


def _start_children(run: Run, step: StepRun, children: Iterable[ChildRun]) -> list[int]:
    limit = settings.FLOWDECK_MAX_CHILD_DEPTH
    if _depth(run) + 1 > limit:
        raise StepError(
            f"child runs nest deeper than {limit} (FLOWDECK_MAX_CHILD_DEPTH); "
            "does the workflow call itself?",
            retryable=False,
            code="too_deep",
        )
    ids = []
    for child in children:
        version = WorkflowVersion.objects.select_related("workflow").get(pk=child.version_id)
        try:
            check_start_input(version.graph, child.input)
        except InputInvalid as exc:
            where = "" if child.index is None else f" (item {child.index})"
            raise StepError(
                f"the child run's input{where} is invalid: {exc.errors[0]['field']}: {exc}",
                retryable=False,
                code="bad_child_input",
            ) from exc
        child_run, _ = do_start_run(
            version=version,
            input=child.input,
            trigger=Trigger.PARENT,
            actor=run.actor,
            parent=step,
            parent_index=child.index,
            priority=run.priority,
            # A test run's children are test runs too: out of the lists, and email captured.
            test=run.test,
            capture_email=run.capture_email,
        )
        events.record_step_child_started(step, child_run)
        ids.append(child_run.pk)
    return ids


def _child_ended(child: Run) -> None:
    """A child run ended (inside its transaction): tell its parent step, which may end too."""
    parent = _lock_run(child.parent_run_id)
    step = StepRun.objects.filter(run=parent, node_id=child.parent_node).first()
    if step is None or step.status != StepStatus.WAITING or step.attempt != child.parent_attempt:
        return  # the parent step moved on (cancelled, skipped, retried): nothing to tell
    step_type = step_type_of(step.type)
    outcome = ChildOutcome(
        status=child.status, output=child.output, error=child.error, run_id=child.pk
    )
    progress = step_type.child_finished(dict(step.state), child.parent_index, outcome)
    StepRun.objects.filter(pk=step.pk, status=StepStatus.WAITING, attempt=step.attempt).update(
        state=progress.state
    )
    step.state = progress.state
    if progress.cancel_children:
        cancel_children_on_commit(parent.pk, step.node_id)
    if progress.start:
        try:
            _start_children(parent, step, progress.start)
        except StepError as exc:
            _fail(parent, step, exc.as_dict())
            return
    if progress.result is not None:
        _succeed(parent, step, progress.result)
    elif progress.error is not None:
        _fail(parent, step, progress.error.as_dict())


# --- Operators ----------------------------------------------------------------------------------


@transaction.atomic
def do_cancel_run(run_id: int, *, actor: Actor, reason: str = "cancelled") -> bool:
    """Cancel a run: running attempts are told (their heartbeat fails), waiting steps stop,
    child runs are cancelled after commit. False if the run had already ended."""
    run = _lock_run(run_id)
    if run.status in RUN_TERMINAL:
        return False
    now = timezone.now()
    for step in StepRun.objects.filter(run=run, status__in=[*STEP_ACTIVE, StepStatus.PENDING]).only(
        "id", "run_id", "node_id", "type", "status", "attempt"
    ):
        _cancel_step(step, actor, now)
    old = run.status
    check_run_move(old, RunStatus.CANCELLED)
    error = {"message": reason, "code": "cancelled", "node": None}
    Run.objects.filter(pk=run.pk, status=old).update(
        status=RunStatus.CANCELLED, finished_at=now, error=error
    )
    run.status, run.finished_at, run.error = RunStatus.CANCELLED, now, error
    events.record_run_status(run, old, actor, reason=reason)
    cancel_children_on_commit(run.pk)
    _after_run_ended(run)
    return True


def _reopen(run: Run, node: str, actor: Actor) -> None:
    """An operator acted on a step of an ended run: the run runs again, and the steps below the
    node that were skipped or cancelled because of it are pending again."""
    version = load_version(run.version_id)
    below = walk(version.graph, node)
    for step in StepRun.objects.filter(
        run=run, node_id__in=below, status__in=[StepStatus.SKIPPED, StepStatus.CANCELLED]
    ):
        old = step.status
        if _move(step, StepStatus.PENDING, finished_at=None):
            events.record_step_reset(step, old, actor)
    if run.status == RunStatus.FAILED:
        old = run.status
        check_run_move(old, RunStatus.RUNNING)
        Run.objects.filter(pk=run.pk, status=old).update(
            status=RunStatus.RUNNING, finished_at=None, error=None, output=None
        )
        run.status, run.finished_at, run.error = RunStatus.RUNNING, None, None
        events.record_run_status(run, old, actor, reason=f"reopened by an operator at {node}")


def _operable_step(run: Run, node: str) -> StepRun:
    step = StepRun.objects.filter(run=run, node_id=node).first()
    if step is None:
        raise LookupError(node)
    if run.status == RunStatus.CANCELLED:
        raise Conflict("the run was cancelled")
    pg = load_version(run.version_id).plan_graph
    if node not in pg.region and (
        run.status == RunStatus.COMPENSATING
        or (
            run.status == RunStatus.FAILED
            and StepRun.objects.filter(run=run, node_id__in=list(pg.region), attempt__gt=0).exists()
        )
    ):
        raise Conflict(
            f"run {run.pk} is {run.status} after compensating; "
            "only its compensation steps can be retried or skipped",
            code="run_compensated",
            node=node,
        )
    if node in pg.region and run.status != RunStatus.COMPENSATING:
        raise Conflict(
            f"step {node} is a compensation; it is retried or skipped only while the run "
            "is compensating",
            code="run_compensated",
            node=node,
        )
    return step


@transaction.atomic
def do_retry_step(
    run_id: int, node: str, *, actor: Actor, input: Any = None, reason: str = ""
) -> StepRun:
    """An operator runs a failed step again (a new attempt), optionally with an edited input
    that replaces its rendered config; the edit and the reason go into the event log."""
    run = _lock_run(run_id)
    step = _operable_step(run, node)
    if step.status != StepStatus.FAILED:
        raise Conflict(f"step {node} is {step.status}; only a failed step can be retried")
    _reopen(run, node, actor)
    state = dict(step.state)
    if input is not None:
        state["input_override"] = input
    else:
        state.pop("input_override", None)
    old = step.status
    _queue(run, step, None, actor, state=state, error=None, finished_at=None)
    events.record_step_retried(step, old, actor, reason, input)
    _sync_activity(run, _statuses(run), actor)
    return step


def replay_plan(
    run: Run, steps: Iterable[StepRun], graph: Mapping[str, Any], start: Iterable[str]
) -> dict[str, Reused]:
    """What a replay of ``run`` on ``graph`` is given: the results of the steps that
    succeeded or were skipped, except ``start`` and every step below it in ``graph``, which
    run again (as do steps new in ``graph``). Conflict when a step that finished, and is
    not run again, is not in ``graph`` with the same id and type."""
    nodes = {node["id"]: node for node in graph["nodes"]}
    steps = list(steps)
    start = list(start)
    # A step that was undone (its compensation ran) runs again, and a compensation is never
    # carried over: it runs only if the replay fails in its turn.
    undone = load_version(run.version_id).plan_graph.compensates
    start += [undone[s.node_id] for s in steps if s.node_id in undone and s.attempt > 0]
    again = set(start) | set(PlanGraph.from_graph(graph).region)
    for node in start:
        again |= set(walk(graph, node))
    given: dict[str, Reused] = {}
    for step in steps:
        if step.node_id in again or step.status not in (StepStatus.SUCCEEDED, StepStatus.SKIPPED):
            continue
        node = nodes.get(step.node_id)
        if node is None or node["type"] != step.type:
            what = "is not in" if node is None else f"is a {node['type']} in"
            raise Conflict(
                f"step {step.node_id!r} finished in run {run.pk} but {what} the version to "
                "replay on: its result cannot be carried over",
                code="finished_step_missing",
                node=step.node_id,
            )
        source = {"source": "run", "run": run.pk}
        given[step.node_id] = Reused(step.status, step.output, step.handle, source)
    return given


@transaction.atomic
def do_replay_run(
    run_id: int,
    *,
    actor: Actor,
    version: WorkflowVersion,
    reason: str,
    start: Iterable[str] | None = None,
    trigger: str = Trigger.MANUAL,
) -> Run:
    """Replay an ended run on ``version`` (a fixed one): a new run with the same input, given
    the results of the steps that finished (``replay_plan``); ``start`` (default: the steps
    that failed or were cancelled) and what is below them run again. Both runs record it:
    run.replayed on the old one (who, why, which version), replay_of on the new one."""
    run = _lock_run(run_id)
    if run.status not in RUN_TERMINAL:
        raise Conflict(
            f"run {run.pk} is {run.status}; only an ended run can be replayed", "run_not_ended"
        )
    if run.test or version.number is None:
        raise Conflict("a test run is not replayed; test the step again", "test_run")
    if version.workflow_id != run.workflow_id:
        raise UnknownVersion(f"version {version.pk} is not a version of this run's workflow")
    steps = list(StepRun.objects.filter(run=run))
    if start is None:
        start = [s.node_id for s in steps if s.status in (StepStatus.FAILED, StepStatus.CANCELLED)]
    start = list(start)
    graph = load_version(version.pk).graph
    missing = [node for node in start if node not in load_version(version.pk).nodes]
    if missing:
        raise UnknownVersion(f"step {missing[0]!r} is not in version {version.number}")
    given = replay_plan(run, steps, graph, start)
    replay, _ = do_start_run(
        version=version,
        input=run.input,
        trigger=trigger,
        actor=actor,
        reused=given,
        replay_of=run,
        priority=run.priority,
    )
    events.record_run_replayed(run, replay, actor, reason)
    return replay


@transaction.atomic
def do_skip_step(run_id: int, node: str, *, actor: Actor, reason: str = "") -> StepRun:
    """An operator skips a failed, retrying or waiting step; its outgoing edges are dead."""
    run = _lock_run(run_id)
    step = _operable_step(run, node)
    skippable = {StepStatus.FAILED, StepStatus.WAITING, StepStatus.RETRYING}
    if step.status not in skippable:
        raise Conflict(
            f"step {node} is {step.status}; only a failed or waiting step can be skipped"
        )
    _reopen(run, node, actor)
    old = step.status
    _move(step, StepStatus.SKIPPED, finished_at=timezone.now(), wake_at=None)
    events.record_step_skipped(step, old, actor, reason or "skipped by an operator")
    if old == StepStatus.WAITING:
        _stopped_waiting(step, actor, "skipped")
    _advance(run, actor)
    return step


def children_to_cancel(run_id: int, node_id: str | None) -> list[int]:
    q = Q(parent_run_id=run_id) & ~Q(status__in=RUN_TERMINAL)
    if node_id:
        q &= Q(parent_node=node_id)
    return list(Run.objects.filter(q).values_list("pk", flat=True))


# --- Human tasks --------------------------------------------------------------------------------
# Every change of a task happens under its run's lock, like every change of its step: a decision,
# a delegation, a timer and a cancel are planned one after the other, and a decision that ends
# the task completes the step and plans what is next in the same transaction.


def _create_task(run: Run, step: StepRun, request: TaskRequest) -> HumanTask:
    if run.test:
        # A test run's task is the tester's alone to decide (issue 18): nobody else is asked,
        # reminded or escalated to, and no policy (four eyes, N of M) keeps the tester out.
        request = replace(
            request,
            title=f"[test] {request.title}"[:1000],
            user_ids=(run.actor_id,) if run.actor_id else (),
            group_ids=(),
            emails=(),
            policy={},
            due_at=None,
            remind_at=None,
        )
    task = HumanTask.objects.create(
        run=run,
        step=step,
        attempt=step.attempt,
        kind=request.kind,
        title=request.title,
        description=request.description,
        requester_id=run.actor_id,
        form_schema=request.form_schema,
        policy=dict(request.policy),
        due_at=request.due_at,
        due_from=timezone.now() if request.due_at else None,
        remind_at=request.remind_at,
        assigned_emails=list(request.emails),
    )
    task.assigned_users.set(request.user_ids)
    task.assigned_groups.set(request.group_ids)
    task.step = step
    events.record_task_created(task, task.assignee_names())
    _apply_absences(task)  # first: the deputy, not the absent, gets the email
    _mail_assignment_on_commit(task)
    return task


def _apply_absences(task: HumanTask) -> None:
    """Out of office (people.Absence): each user assigned by name who is away now hands the
    task to their deputy (following deputies who are away too), recorded as a delegation with
    reason "absence" and a ``task.delegated`` event marked ``out_of_office``. Group assignments
    stay: the group's other members can act. The task stays with the absent user, with a
    ``task.kept`` event saying why, when no deputy can take it: a loop of absent deputies, a
    deactivated deputy, a deputy who started the run under four eyes, or one already assigned
    (handing over would leave fewer people for N approvals)."""
    if task.run.test:
        return  # the tester is here: they are testing
    now = timezone.now()
    for user in list(task.assigned_users.all()):
        found = absences.stand_in(user, now)
        if found is None:
            continue
        until = absences.day(found.absence.ends_at)
        deputy, why = found.deputy, found.kept
        if deputy is not None and task.is_requester_blocked(deputy):
            why = f"the deputy {deputy} started this run, and four eyes forbid them to decide it"
        elif deputy is not None and task.assigned_users.filter(pk=deputy.pk).exists():
            why = f"the deputy {deputy} is already an assignee"
        if deputy is None or why:
            events.record_task_kept(task, user, until, why)
            continue
        task.assigned_users.remove(user)
        task.assigned_users.add(deputy)
        comment = f"out of office until {until}"
        TaskDelegation.objects.create(
            task=task, from_user=user, to_user=deputy, comment=comment, reason="absence"
        )
        events.record_task_delegated(
            task, None, deputy.get_username(), comment, task.assignee_names(), absent=user
        )


def _close_task(
    task: HumanTask, status: TaskStatus, actor: Actor, reason: str, result: Any = None
) -> bool:
    check_task_move(task.status, status)
    now = timezone.now()
    # Compare-and-set on open: a backstop, since the caller holds the run lock.
    if not HumanTask.objects.filter(pk=task.pk, status=TaskStatus.OPEN).update(
        status=status, closed_at=now, result=result, remind_at=None
    ):
        return False
    task.status, task.closed_at, task.result, task.remind_at = status, now, result, None
    events.record_task_closed(task, actor, reason)
    return True


def _stopped_waiting(step: StepRun, actor: Actor, reason: str) -> None:
    """A waiting step ended otherwise than by what it waited for (a cancel, an operator's
    skip, a failure): its open task closes as cancelled, or its child runs are cancelled
    after commit (a human step has no children: no task for the broker)."""
    if step_type_of(step.type).asks_people:
        _cancel_tasks(step, actor, reason)
    else:
        cancel_children_on_commit(step.run_id, step.node_id)


def _cancel_tasks(step: StepRun, actor: Actor, reason: str) -> None:
    for task in HumanTask.objects.filter(step_id=step.pk, status=TaskStatus.OPEN):
        task.step = step
        _close_task(task, TaskStatus.CANCELLED, actor, reason)


def _lock_task(task_id: int) -> tuple[Run, HumanTask]:
    run_id = HumanTask.objects.filter(pk=task_id).values_list("run_id", flat=True).first()
    if run_id is None:
        raise LookupError(task_id)
    run = _lock_run(run_id)
    # Read under the run lock: what a concurrent decider committed is visible now.
    return run, HumanTask.objects.select_related("step", "run__workflow").get(pk=task_id)


def _resolve(
    run: Run, task: HumanTask, status: TaskStatus, result: StepResult, actor: Actor, reason: str
) -> None:
    """Close the task and complete its waiting step with ``result``, planning what is next."""
    step = StepRun.objects.get(pk=task.step_id)
    if step.status != StepStatus.WAITING or step.attempt != task.attempt:
        # An open task always has a waiting step (both change under the run lock).
        raise Conflict(f"the step {step.node_id} is {step.status}, not waiting for this task")
    task.step = step
    _close_task(task, status, actor, reason, result.output)
    _succeed(run, step, result)


def _decision_rows(task: HumanTask) -> list[dict[str, Any]]:
    return [
        {
            "user": d.by,
            "decision": d.decision,
            "comment": d.comment,
            "at": d.created_at.isoformat(),
            "via": d.via,
        }
        for d in task.decisions.select_related("user").order_by("id")
    ]


def _label(who: "Actor | str") -> str | None:
    """A decider as people read them: a username, or an email-only assignee's address."""
    if isinstance(who, str):
        return who or None
    return who.get_username() if who is not None else None


def approval_result(
    task: HumanTask,
    outcome: str,
    decided_by: "Actor | str",
    comment: str,
    *,
    timed_out: bool = False,
) -> StepResult:
    """The output of an approval step; it leaves by the handle ``approved`` or ``rejected``.
    ``decided_by`` is a user, an email-only assignee's address, or None (a timeout)."""
    output = {
        "decision": outcome,
        "decided_by": _label(decided_by),
        "comment": comment,
        "decisions": _decision_rows(task),
        "task": task.pk,
        "timed_out": timed_out,
    }
    return StepResult(output=output, handle=outcome)


# --- Checks of people's actions (the API calls them before the do_*; the do_* again, locked) ---


def visible_task(user: AbstractBaseUser, task_id: Any) -> HumanTask:
    """The task if ``user`` may see it: their business (tasks_involving), or a run of a
    workflow they have a role on. LookupError (404) otherwise: not even its existence leaks."""
    try:
        pk = int(task_id)
    except (TypeError, ValueError):
        raise LookupError(task_id) from None
    task = HumanTask.objects.select_related("step", "run__workflow", "requester").filter(pk=pk)
    found = task.first()
    if found is None or not user.is_authenticated:
        raise LookupError(task_id)
    if task.filter(tasks_involving(user)).exists() or role_of(user, found.run.workflow):
        return found
    raise LookupError(task_id)


def _check_actor(task: HumanTask, user: AbstractBaseUser, doing: str) -> None:
    """409 for a closed task, 403 for someone who may not act on it, 409 once they decided."""
    if task.status != TaskStatus.OPEN:
        raise Conflict(f"the task is already {task.status}", "task_closed")
    if not task.may_act(user):
        raise Forbidden(
            f"you are not an assignee of this task, so you may not {doing} it", "not_assignee"
        )
    if task.is_requester_blocked(user):
        raise Forbidden(
            f"four eyes: you started this run, so someone else must {doing} this task",
            "four_eyes",
        )
    if task.decisions.filter(user_id=user.pk).exists():
        raise Conflict("you have already decided on this task", "already_decided")


def _check_email_actor(task: HumanTask, email: str) -> None:
    """_check_actor for an email-only assignee (a signed link's recipient)."""
    if task.status != TaskStatus.OPEN:
        raise Conflict(f"the task is already {task.status}", "task_closed")
    if not task.may_act_by_email(email):
        raise Forbidden(
            f"{email} is no longer an assignee of this task, so it may not decide it",
            "not_assignee",
        )
    if task.decisions.filter(email=email).exists():
        raise Conflict(f"{email} has already decided on this task", "already_decided")


def _check_who(task: HumanTask, actor: Actor, email: str, doing: str) -> None:
    if actor is None:
        _check_email_actor(task, email)
    else:
        _check_actor(task, actor, doing)


def _invalid(field: str, code: str, message: str) -> InputInvalid:
    return InputInvalid([{"field": field, "code": code, "message": message}])


def _check_decision(task: HumanTask, decision: str | None, data: Any, comment: str = "") -> None:
    if task.kind == TaskKind.APPROVAL:
        if decision not in (Decision.APPROVE, Decision.REJECT):
            raise _invalid("decision", "required", 'an approval needs "approve" or "reject"')
        if data is not None:
            raise _invalid("data", "invalid", "an approval takes a decision, not data")
        if (
            decision == Decision.REJECT
            and task.policy.get("require_comment_on_reject")
            and not comment.strip()
        ):
            raise _invalid("comment", "required", "this approval needs a comment to reject it")
        return
    if decision not in (None, Decision.SUBMIT):
        raise _invalid("decision", "invalid", 'a form takes its data, not "approve" or "reject"')
    if not isinstance(data, dict):
        raise _invalid("data", "required", "a form needs its data, an object")
    validator = jsonschema.Draft202012Validator(
        task.form_schema or {}, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        raise InputInvalid(
            [
                {
                    "field": ".".join(["data", *map(str, e.absolute_path)]),
                    "code": str(e.validator),
                    "message": e.message,
                }
                for e in errors
            ]
        )


def _replayed(
    task: HumanTask,
    actor: Actor,
    idempotency_key: str,
    decision: str | None,
    comment: str,
    data: Any,
    email: str = "",
) -> bool:
    """True when ``actor`` already decided ``task`` under this Idempotency-Key with this very
    body: the request is a client's retry whose first answer was lost (a dropped connection, a
    web process killed after the commit), and it gets the answer the first would have had. The
    same key with another body is a client's mistake, not a retry: Conflict."""
    if not idempotency_key:
        return False
    who = {"user_id": actor.pk} if actor is not None else {"email": email}
    earlier = task.decisions.filter(**who, idempotency_key=idempotency_key).first()
    if earlier is None:
        return False
    # A form's decision is recorded as "submit" whether or not the body said so.
    if task.kind == TaskKind.FORM and decision is None:
        decision = Decision.SUBMIT
    if (earlier.decision, earlier.comment, earlier.data) != (decision, comment, data):
        raise Conflict(
            "this Idempotency-Key was used for another decision on this task",
            "idempotency_key_reused",
        )
    return True


def check_decide(
    user: AbstractBaseUser,
    task_id: Any,
    *,
    decision: str | None,
    data: Any,
    comment: str = "",
    idempotency_key: str = "",
) -> HumanTask:
    """Raise LookupError (404), Conflict (409), Forbidden (403) or InputInvalid (400) unless
    ``user`` may decide the task now with this body, or is retrying the request that did."""
    task = visible_task(user, task_id)
    if _replayed(task, user, idempotency_key, decision, comment, data):
        return task
    _check_actor(task, user, "decide")
    _check_decision(task, decision, data, comment)
    return task


def link_decision(link: TaskLink) -> str | None:
    """The decision a link makes: approve or reject; None for a form (its data decides)."""
    return None if link.action == "form" else link.action


def check_link_decide(link: TaskLink, *, submit: bool, data: Any = None, comment: str = "") -> bool:
    """May ``link``'s recipient decide its task through it now? LinkRefused (410) for a used,
    expired or closed link; Conflict, Forbidden as check_decide. With ``submit`` (a POST):
    InputInvalid for a form's bad data, and True when this repeats the very decision the link
    made (a double submit, answered as the first was). Who is at the browser is
    ``tasklinks.viewer_problem``'s question, asked before."""
    task = link.task
    actor, email = tasklinks.recipient_user(link), link.email
    decision = link_decision(link)
    if submit:
        key = tasklinks.idempotency_key(link)
        try:
            if _replayed(task, actor, key, decision, comment, data, email):
                return True
        except Conflict:
            pass  # another decision under this link: it is used, as check_usable says
    tasklinks.check_usable(link, task, timezone.now())
    _check_who(task, actor, email, "decide")
    if submit:
        _check_decision(task, decision, data, comment)
    return False


def _check_delegate_to(task: HumanTask, user: AbstractBaseUser, to: str) -> AbstractBaseUser:
    if not task.policy.get("allow_delegation", True):
        raise Forbidden("this task may not be delegated (allow_delegation is off)", "no_delegation")
    target = get_user_model().objects.filter(username=to, is_active=True).first()
    if target is None:
        raise _invalid("to", "unknown_user", f"no active user named {to!r}")
    if target.pk == user.pk:
        raise _invalid("to", "invalid", "you cannot delegate a task to yourself")
    if task.is_requester_blocked(target):
        raise _invalid("to", "four_eyes", f"{to} started this run and may not decide it")
    if task.may_act(target):
        raise _invalid("to", "already_assignee", f"{to} is already an assignee of this task")
    if task.decisions.filter(user_id=target.pk).exists():
        raise _invalid("to", "already_decided", f"{to} has already decided on this task")
    away = absences.current_absence(target.pk)
    if away is not None:
        # Refused rather than passed on silently: the delegator chooses whom to trust.
        raise _invalid(
            "to",
            "out_of_office",
            f"{to} is out of office until {absences.day(away.ends_at)}; "
            f"their deputy is {away.deputy.get_username()}",
        )
    return target


def check_delegate(user: AbstractBaseUser, task_id: Any, *, to: str) -> HumanTask:
    """As check_decide, for handing the task to the user named ``to``."""
    task = visible_task(user, task_id)
    _check_actor(task, user, "delegate")
    _check_delegate_to(task, user, to)
    return task


# --- People's actions ---------------------------------------------------------------------------


@transaction.atomic
def do_decide(
    task_id: int,
    *,
    actor: Actor,
    decision: str | None,
    comment: str = "",
    data: Any = None,
    idempotency_key: str = "",
    email: str = "",
    link: TaskLink | None = None,
) -> HumanTask:
    """Record ``actor``'s decision on an open task. When it settles the task (enough
    approvals, a rejection, a form's data) the task closes and its step succeeds in this same
    transaction, with the next steps queued: a crash at any moment keeps all of it or none.
    Two deciders racing are serialized by the run lock; the second sees a closed task
    (Conflict) or, with N approvals, adds its own. With an ``idempotency_key``, a retry of
    the same decision (same key and body) changes nothing and returns the task.

    Through an email's signed ``link`` (engine/tasklinks.py): ``actor`` is the link's user,
    or None with ``email``, an email-only assignee's address; the link and its recipient's
    other links of the task are used up in this transaction, and the decision says so
    (``via``: email_link)."""
    run, task = _lock_task(task_id)
    # Under the lock too: a retry may race its own first request, which has committed by now.
    if _replayed(task, actor, idempotency_key, decision, comment, data, email):
        return task
    now = timezone.now()
    if link is not None:
        # Under the lock: a use of this link (or its twin) by a racing request is visible now.
        link.used_at = TaskLink.objects.values_list("used_at", flat=True).get(pk=link.pk)
        tasklinks.check_usable(link, task, now)
    # Again under the lock: the task may have closed, or been delegated, meanwhile.
    _check_who(task, actor, email, "decide")
    _check_decision(task, decision, data, comment)
    by = _label(actor if actor is not None else email)
    via = Via.EMAIL_LINK if link is not None else Via.API
    if task.kind == TaskKind.FORM:
        decision = Decision.SUBMIT
        output = {
            "data": data,
            "submitted_by": by,
            "submitted_at": timezone.now().isoformat(),
            "comment": comment,
            "task": task.pk,
        }
        try:
            _check_output(output)  # it becomes the step's output, which has a size limit
        except StepError as exc:
            raise _invalid("data", exc.code, exc.message) from exc
    try:
        # A savepoint: the unique (task, user) and (task, email) constraints back the check.
        with transaction.atomic():
            TaskDecision.objects.create(
                task=task,
                user=actor,
                email=email if actor is None else "",
                via=via,
                decision=decision,
                comment=comment,
                data=data,
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        raise Conflict("you have already decided on this task", "already_decided") from None
    if link is not None and not tasklinks.use(link, now):
        raise Conflict("this link was used meanwhile", "link_used")  # cannot: we hold the lock
    if task.kind == TaskKind.FORM:
        events.record_task_decided(task, actor, decision, comment, None, via=via, by=by)
        _resolve(run, task, TaskStatus.SUBMITTED, StepResult(output=output), actor, "decided")
        return task
    votes = list(task.decisions.values_list("user_id", "email", "decision"))
    approvals = sum(1 for _, _, d in votes if d == Decision.APPROVE)
    events.record_task_decided(task, actor, decision, comment, approvals, via=via, by=by)
    # Who may still approve: the assignees (users and addresses) who have not decided, without
    # a requester under four eyes.
    undecided = task.undecided_count(
        {user_id for user_id, _, _ in votes if user_id is not None},
        {address for _, address, _ in votes if address},
    )
    outcome = approval_outcome(
        approvals=approvals,
        rejections=len(votes) - approvals,
        undecided=undecided,
        required=task.policy.get("required_approvals", 1),
        reject_on_first_rejection=task.policy.get("reject_on_first_rejection", True),
    )
    if outcome is not None:
        status = TaskStatus.APPROVED if outcome == "approved" else TaskStatus.REJECTED
        result = approval_result(task, outcome, actor if actor is not None else email, comment)
        _resolve(run, task, status, result, actor, "decided")
    return task


@transaction.atomic
def do_delegate(task_id: int, *, actor: AbstractBaseUser, to: str, comment: str = "") -> HumanTask:
    """Hand an open task from ``actor`` to the user named ``to``: the delegate becomes an
    assignee and ``actor`` stops being one by name. Someone who is also in an assigned group
    still may act through it: delegation hands over one's own assignment, not a group's."""
    _, task = _lock_task(task_id)
    _check_actor(task, actor, "delegate")
    target = _check_delegate_to(task, actor, to)
    task.assigned_users.remove(actor)
    task.assigned_users.add(target)
    TaskDelegation.objects.create(task=task, from_user=actor, to_user=target, comment=comment)
    events.record_task_delegated(task, actor, target.get_username(), comment, task.assignee_names())
    # The delegate is newly assigned: told as the first assignees were, with links of their own
    # (the delegator's stop working: they may no longer act).
    said = f": “{comment}”" if comment else "."
    _mail_task_on_commit(
        task,
        _recipients([target.pk], [], task),
        f"Handed to you: {task.title}",
        f"{actor.get_username()} handed this task to you{said}",
        timezone.now(),
    )
    return task


# --- Task timers (the step's wake_at: the earlier of the due time and the next reminder) -------


def _set_wake(step: StepRun, when: datetime | None) -> None:
    StepRun.objects.filter(pk=step.pk, status=StepStatus.WAITING, attempt=step.attempt).update(
        wake_at=when
    )
    step.wake_at = when


def _task_timer(run: Run, step: StepRun, now: datetime) -> bool:
    task = (
        HumanTask.objects.filter(step=step, attempt=step.attempt, status=TaskStatus.OPEN)
        .select_related("requester")
        .first()
    )
    if task is None:
        _set_wake(step, None)  # cannot happen: a waiting human step has its open task
        return False
    task.step = step
    if task.due_at is not None and task.due_at <= now and _overdue(run, step, task, now):
        return True  # the step is no longer waiting
    if task.remind_at is not None and task.remind_at <= now:
        _remind(task, now)
    _set_wake(step, task.next_wake)
    return True


def _overdue(run: Run, step: StepRun, task: HumanTask, now: datetime) -> bool:
    """Record the breach of the task's SLA, then apply the timeout rule; True when it ended
    the step. The breach comes first in the log (before the escalation or the close), in the
    same transaction: a rolled-back timer leaves neither."""
    rule = timeout_rule(task.policy, task.escalation_level)
    task.breached_at = now
    HumanTask.objects.filter(pk=task.pk, status=TaskStatus.OPEN).update(breached_at=now)
    events.record_task_overdue(task, rule, now)
    if rule == "escalate":
        _escalate(task, now)
        return False
    if rule in ("approve", "reject"):
        outcome = "approved" if rule == "approve" else "rejected"
        status = TaskStatus.APPROVED if rule == "approve" else TaskStatus.REJECTED
        result = approval_result(task, outcome, None, "", timed_out=True)
        _close_task(task, status, None, "timeout", result.output)
        _succeed(run, step, result)
        return True
    _close_task(task, TaskStatus.TIMED_OUT, None, "timeout")
    after = " after its escalation" if task.escalation_level else ""
    error = {
        "message": f"nobody acted on task {task.pk} before it was due{after}",
        "code": "task_timed_out",
        "retryable": False,
    }
    _fail(run, step, error)
    return True


def _escalate(task: HumanTask, now: datetime) -> None:
    """Add the escalation groups as assignees, with their own due time (none if not set)."""
    rule = task.policy["escalate_to"]
    # The groups were checked when the task was created; one deleted since is left out.
    group_ids = list(Group.objects.filter(pk__in=rule["group_ids"]).values_list("pk", flat=True))
    task.assigned_groups.add(*group_ids)
    due_in = rule.get("due_in_s")
    every = task.policy.get("reminder_every_s")
    task.escalation_level += 1
    task.due_at = now + timedelta(seconds=due_in) if due_in else None
    # The escalation groups' own SLA window starts now.
    task.due_from = now if due_in else None
    task.remind_at = now + timedelta(seconds=every) if every else None
    HumanTask.objects.filter(pk=task.pk, status=TaskStatus.OPEN).update(
        escalation_level=task.escalation_level,
        due_at=task.due_at,
        due_from=task.due_from,
        remind_at=task.remind_at,
    )
    events.record_task_escalated(task, rule["groups"], task.assignee_names())
    members = get_user_model().objects.filter(groups__in=group_ids, is_active=True)
    _mail_task_on_commit(
        task,
        _recipients(set(members.values_list("pk", flat=True)), (), task),
        f"Escalated to you: {task.title}",
        "Nobody acted on this task in time; it is now yours too.",
        now,
    )


def _remind(task: HumanTask, now: datetime) -> None:
    """Remind the assignees who have not acted yet, and schedule the next reminder."""
    decided = set(task.decisions.values_list("user_id", flat=True))
    decided_emails = set(task.decisions.exclude(email="").values_list("email", flat=True))
    blocked = {task.requester_id} if task.policy.get("forbid_requester") else set()
    recipients = task.assignee_ids() - decided - blocked
    emails = [e for e in task.assigned_emails if e not in decided_emails]
    task.reminders_sent += 1
    task.remind_at = next_reminder(task.remind_at, task.policy["reminder_every_s"], now)
    HumanTask.objects.filter(pk=task.pk, status=TaskStatus.OPEN).update(
        reminders_sent=task.reminders_sent, remind_at=task.remind_at
    )
    names = sorted(
        get_user_model().objects.filter(pk__in=recipients).values_list("username", flat=True)
    )
    events.record_task_reminded(task, names + emails)
    _mail_task_on_commit(
        task,
        _recipients(recipients, emails, task),
        f"Reminder: {task.title}",
        "This task still waits for you.",
        now,
    )


def _mail_assignment_on_commit(task: HumanTask) -> None:
    """Tell the assignees (users with an address, email-only ones) that a task waits for
    them, with their links. A test run's task is the tester's, who is at the designer."""
    if task.run.test:
        return
    users = task.assignee_ids()
    if task.policy.get("forbid_requester"):
        users.discard(task.requester_id)  # four eyes: they may not decide it
    verb = "fill in" if task.kind == TaskKind.FORM else "decide"
    _mail_task_on_commit(
        task,
        _recipients(users, task.assigned_emails, task),
        f"For you to {verb}: {task.title}",
        "A workflow asks you to act on this task.",
        timezone.now(),
    )


def _recipients(
    user_ids: Iterable[int], emails: Iterable[str], task: HumanTask
) -> list[tasklinks.Recipient]:
    """Users with an address, then email-only assignees: each gets an email of their own."""
    users = (
        get_user_model()
        .objects.filter(pk__in=list(user_ids), is_active=True)
        .exclude(email="")
        .order_by("pk")
        .values_list("pk", "email")
    )
    found = [tasklinks.Recipient(address=address, user_id=pk) for pk, address in users]
    return found + [tasklinks.Recipient(address=e, email=e) for e in emails]


ACTION_LABELS = {"approve": "Approve", "reject": "Reject", "form": "Fill in the form"}


def _task_mail(task: HumanTask, lead: str, urls: Mapping[str, str]) -> tuple[str, str]:
    """The plain text and the HTML of one recipient's email, with that recipient's links."""
    facts = [task.title]
    if task.description:
        facts += ["", task.description]
    if task.due_at:
        facts += ["", f"Due: {task.due_at:%Y-%m-%d %H:%M} UTC"]
    where = f"task {task.pk}, run {task.run_id}"
    links = [(ACTION_LABELS[action], url) for action, url in urls.items()]
    lines = [lead, "", *facts, ""]
    lines += [f"{label}: {url}" for label, url in links]
    if links:
        lines += ["", "Each link asks you to confirm before anything is decided, and works once."]
    lines += ["", f"Or open your Flowdeck inbox to act on it ({where})."]
    text = "\n".join(lines)
    html = format_html(
        "<p>{}</p><h2>{}</h2>{}{}<p>{}</p>{}<p>Or open your Flowdeck inbox to act on it ({}).</p>",
        lead,
        task.title,
        format_html("<p>{}</p>", task.description) if task.description else "",
        format_html("<p>Due: {} UTC</p>", f"{task.due_at:%Y-%m-%d %H:%M}") if task.due_at else "",
        format_html_join(" · ", '<a href="{}">{}</a>', ((url, label) for label, url in links)),
        format_html("<p>{}</p>", "Each link asks you to confirm first, and works once.")
        if links
        else "",
        where,
    )
    return text, html


def _mail_task_on_commit(
    task: HumanTask,
    recipients: list[tasklinks.Recipient],
    subject: str,
    lead: str,
    now: datetime,
) -> None:
    """One email per recipient, each with links of its own (issued now, in this transaction),
    sent after commit; a rollback sends nothing and issues no link. Mail is best effort: a
    failure is logged (never a body: the links in it are secrets), and a crash between commit
    and sending loses it (the event says it was due)."""
    if not recipients:
        return
    subject = subject.replace("\n", " ")[:200]
    messages: list[EmailMessage] = []
    for recipient in recipients:
        text, html = _task_mail(task, lead, tasklinks.issue_links(task, recipient, now))
        message = EmailMultiAlternatives(subject, text, None, [recipient.address])
        message.attach_alternative(html, "text/html")
        messages.append(message)
    _send_on_commit(messages, subject)


def mail_on_commit(user_ids: Iterable[int], subject: str, body: str) -> None:
    """One plain email per active person with an address (a mention, say), after commit."""
    addresses = (
        get_user_model()
        .objects.filter(pk__in=list(user_ids), is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    subject = subject.replace("\n", " ")[:200]
    _send_on_commit([EmailMessage(subject, body, None, [a]) for a in addresses], subject)


def _send_on_commit(messages: list[EmailMessage], subject: str) -> None:
    """Send after commit: a rollback sends nothing. Mail is best effort: a failure is logged
    (never a body: it may hold links, which are secrets), and a crash between commit and
    sending loses it (the event says it was due)."""
    if not messages:
        return

    def send() -> None:
        try:
            get_connection(fail_silently=False).send_messages(messages)
        except Exception:
            log.exception("could not send %r to %s people", subject, len(messages))

    transaction.on_commit(send)
