"""django-q2 entry points: run a step attempt, cancel child runs, sweep.

A task carries only ids (never pickled user data); the rows are the truth. A task delivered
twice is harmless: the claim is a compare-and-set on the step's status and attempt.
"""

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connection

from connectors.credentials import scrub
from engine import transitions
from engine.expressions import ExpressionError, referenced_steps, render
from engine.models import Run, StepRun
from engine.steps.base import StepContext, StepError, StepResult, Wait

log = logging.getLogger("flowdeck.engine")

OWNER = f"{socket.gethostname()}:{os.getpid()}"

T = TypeVar("T")

# How long a worker holding an attempt's outcome keeps trying to record it while the database
# cannot be reached (a restart, a fail-over) before it gives up and leaves the attempt to the
# sweeper (lost after its lease, then retried under the node's policy).
DB_OUTAGE_S = 60.0
# Errors of the connection rather than of the statement: the transaction did not happen.
CONNECTION_ERRORS = (OperationalError, InterfaceError)


def run_attempt(step_id: int, attempt: int) -> None:
    """Claim and execute one attempt; then, for a while, the next step it made ready, in this
    same worker (a durable ``queued`` row either way, so a crash loses nothing)."""
    run_attempts([(step_id, attempt)])


def run_attempts(pairs: list[tuple[int, int]]) -> None:
    """Execute attempts one after the other (a batch of quick steps shares one task), each
    followed by what it made ready, within the inline budget; the rest goes back to the queue."""
    if len(pairs) > 1:
        owner = f"{OWNER}:{threading.get_ident()}"

        def execute(step: StepRun) -> transitions.Outcome:
            return outcome_of(step, transitions.step_type_of(step.type), owner)

        transitions.do_execute_quick_batch([tuple(p) for p in pairs], owner, execute)
        return
    budget_end = time.monotonic() + settings.FLOWDECK_INLINE_BUDGET_S
    pending = [tuple(p) for p in reversed(pairs)]
    keep: transitions.Keep = []
    first = True
    while pending or keep:
        current = keep.pop() if keep else pending.pop()
        if not first and time.monotonic() > budget_end:
            # Out of budget: hand the rest to the queue so this worker serves others too, each
            # at its run's priority.
            rest = [current, *keep, *reversed(pending)]
            priorities = dict(
                StepRun.objects.filter(pk__in=[pk for pk, _ in rest]).values_list(
                    "pk", "run__priority"
                )
            )
            for pk, attempt in rest:
                transitions.enqueue_attempt(pk, attempt, priority=priorities.get(pk, "normal"))
            return
        first = False
        execute_attempt(*current, keep=keep)


def execute_attempt(step_id: int, attempt: int, keep: transitions.Keep | None = None) -> bool:
    """One attempt, start to end. False if another worker had it, or it was stale.

    A quick step (not ``blocking``: templates, conditions, flow control) is claimed, executed
    and recorded in one transaction. A blocking one (user code, I/O) is claimed with a lease,
    runs outside any transaction, and its result is recorded after.
    """
    owner = f"{OWNER}:{threading.get_ident()}"
    step = transitions.find_queued(step_id, attempt)
    if step is None:
        return False
    step_type = transitions.step_type_of(step.type)
    if not step_type.blocking:
        return transitions.do_execute_quick(
            step, owner, lambda: outcome_of(step, step_type, owner), keep=keep
        )
    if not transitions.do_claim(step, owner):
        return False
    _record(step, outcome_of(step, step_type, owner), keep)
    return True


def _record(step: StepRun, outcome: transitions.Outcome, keep: transitions.Keep | None) -> bool:
    """Record a blocking attempt's outcome, through a database outage: the work is done (an
    HTTP call made, a payment sent), and losing its result would run it again or fail the
    step. Each try is a whole transaction; a try that failed changed nothing, but it may have
    changed the claimed step in memory and added to ``keep``, so the next one reads the step
    again and drops what the failed one kept. Fencing still holds: if the sweeper took the
    attempt over meanwhile (the lease ran out), the outcome is refused."""
    kept = len(keep) if keep is not None else 0
    tries = 0

    def record() -> bool:
        nonlocal tries
        tries += 1
        claimed = step
        if tries > 1:
            claimed = StepRun.objects.select_related("run__workflow").get(pk=step.pk)
            if keep is not None:
                del keep[kept:]
        return transitions.do_record(claimed, outcome, keep=keep)

    return through_outage(record, f"recording {step} attempt {step.attempt}")


def through_outage(action: Callable[[], T], what: str, limit: float | None = None) -> T:
    """``action()``, tried again while the database cannot be reached, for up to ``limit``
    seconds (DB_OUTAGE_S); between tries the broken connection is dropped, so that the next
    try connects afresh."""
    deadline = time.monotonic() + (DB_OUTAGE_S if limit is None else limit)
    pause = 0.1
    while True:
        try:
            return action()
        except CONNECTION_ERRORS as exc:
            if time.monotonic() + pause > deadline:
                raise
            log.warning("database unreachable while %s (%s); trying again", what, exc)
            time.sleep(pause)  # a worker's backoff: nothing else for this thread to do
            pause = min(pause * 2, 2.0)
            _drop_broken_connection()


def _drop_broken_connection() -> None:
    """Close this thread's connection if it broke, so that the next query opens a new one:
    with CONN_MAX_AGE None nothing else would, in a worker. Never inside a transaction (there
    is none around a worker's task; a test's own may be)."""
    if not connection.in_atomic_block:
        close_old_connections()


def outcome_of(step: StepRun, step_type: Any, owner: str) -> transitions.Outcome:
    """Execute the step type for ``step``; every way it can end becomes an Outcome, with what
    the attempt logged through ``ctx.log``. Secret values the attempt opened (credentials) are
    scrubbed from what is recorded."""
    try:
        ctx, config = _context(step.run, step, step_type)
    except StepError as exc:
        return transitions.Outcome(error=exc.as_dict())
    except ExpressionError as exc:
        return transitions.Outcome(error=_expression_error(step, exc))
    except Exception as exc:  # a bug: retryable by policy
        return _crashed(step, None, exc, None)
    outcome = _execute(step, step_type, owner, ctx, config)
    # Taken now: what an abandoned thread logs after this is not recorded.
    return replace(outcome, log=ctx.logs.snapshot(ctx.secrets))


def _execute(
    step: StepRun, step_type: Any, owner: str, ctx: StepContext, config: Any
) -> transitions.Outcome:
    try:
        if step_type.blocking:
            result = _run_watched(step, step_type, ctx, owner)
        else:
            result = step_type.run(ctx)
        if not isinstance(result, StepResult | Wait):
            raise TypeError(f"{step.type}.run returned {type(result).__name__}")
        if isinstance(result, StepResult) and ctx.secrets:
            result = replace(result, output=scrub(result.output, ctx.secrets))
        return transitions.Outcome(result=result, input=config)
    except StepError as exc:
        return _failed(ctx, exc.as_dict(), config)
    except ExpressionError as exc:
        return transitions.Outcome(error=_expression_error(step, exc), input=config)
    except _Abandoned as exc:
        return transitions.Outcome(error=exc.error, input=config, abandoned=exc.error is None)
    except Exception as exc:  # a bug in a step type or a user function: retryable by policy
        return _crashed(step, ctx, exc, config)


def _crashed(
    step: StepRun, ctx: StepContext | None, exc: Exception, config: Any
) -> transitions.Outcome:
    error = {"message": f"{type(exc).__name__}: {exc}", "code": "exception", "retryable": True}
    if ctx is not None and ctx.secrets:
        # No traceback: its frames and messages may hold the secret; the scrubbed message
        # is what is kept.
        log.error("step %s attempt %s raised %s", step, step.attempt, scrub(error, ctx.secrets))
    else:
        log.exception("step %s attempt %s raised", step, step.attempt)
    return _failed(ctx, error, config)


def _failed(ctx: StepContext | None, error: dict[str, Any], config: Any) -> transitions.Outcome:
    if ctx is not None and ctx.secrets:
        error = scrub(error, ctx.secrets)
    return transitions.Outcome(error=error, input=config)


def _expression_error(step: StepRun, exc: ExpressionError) -> dict[str, Any]:
    return {
        "message": f"node {step.node_id}: {exc}",
        "code": exc.code,  # expression_error, or expression_limit past a sandbox limit
        "retryable": False,
        "field": exc.field,
    }


def _context(run: Run, step: StepRun, step_type: Any) -> tuple[StepContext, Any]:
    version = transitions.load_version(run.version_id)
    node = version.nodes[step.node_id]
    if not step_type.runnable:
        raise StepError(
            f"the step type {step.type} cannot run yet", retryable=False, code="not_runnable"
        )
    raw = node.get("config", {})
    needed = referenced_steps(raw, step_type.expression_fields)
    scope = transitions.expression_scope(run, needed)
    compensating = transitions.compensating_scope(run, step.node_id)
    if compensating is not None:
        scope["compensating"] = compensating  # the step this compensation undoes
    if "input_override" in step.state:
        config = step.state["input_override"]  # an operator's edited input
    else:
        rendered = {k: v for k, v in raw.items() if k not in step_type.item_fields}
        config = render(rendered, scope, "config")
        config |= {k: raw[k] for k in step_type.item_fields if k in raw}
    ctx = StepContext(
        run_id=run.pk,
        node_id=step.node_id,
        attempt=step.attempt,
        config=config,
        scope=scope,
        workflow_owner_id=run.workflow.owner_id,
        credential_user_id=version.author_id or run.workflow.owner_id,
        deadline_at=step.deadline_at,
        capture_email=run.capture_email,
    )
    return ctx, config


class _Abandoned(Exception):
    """The worker stopped waiting for a blocking attempt (timeout, cancel, lost lease)."""

    def __init__(self, error: dict[str, Any] | None) -> None:
        super().__init__(error)
        self.error = error


def _run_watched(step: StepRun, step_type: Any, ctx: StepContext, owner: str) -> Any:
    """Run a blocking step in a thread; meanwhile renew the lease and watch the timeout. Python
    cannot kill a thread: at the timeout the attempt fails and the thread is abandoned (it is
    told through ``ctx.cancelled``), and its late result is refused by attempt number."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = step_type.run(ctx)
        except BaseException as exc:  # handed to the waiting worker
            box["error"] = exc
        finally:
            connection.close()  # this thread's own connection, if the step used the ORM

    thread = threading.Thread(target=target, name=f"step-{step.pk}", daemon=True)
    thread.start()
    beat = settings.FLOWDECK_LEASE_S / 3
    deadline = step.deadline_at.timestamp() if step.deadline_at else None
    while True:
        wait = beat if deadline is None else max(0.0, min(beat, deadline - time.time()))
        thread.join(wait)
        if not thread.is_alive():
            break
        if deadline is not None and time.time() >= deadline:
            ctx.logs.close()  # before the thread is told: what it logs from now on is late
            ctx.cancelled.set()
            timeout = transitions.load_version(step.run.version_id).nodes[step.node_id]["timeout_s"]
            raise _Abandoned(
                {
                    "message": f"the attempt ran over its timeout of {timeout} s",
                    "code": "timeout",
                    "retryable": True,
                }
            )
        try:
            ours = transitions.do_heartbeat(step.pk, step.attempt, owner)
        except CONNECTION_ERRORS as exc:
            # The database is away (a restart): keep working and beat again later. Should the
            # lease run out meanwhile, the sweeper takes the attempt over and a later beat
            # (or the recording) learns it.
            log.warning("could not renew the lease of %s (%s); trying again", step, exc)
            _drop_broken_connection()
            continue
        if not ours:
            # Cancelled, or the sweeper declared it lost: stop waiting, record nothing.
            ctx.logs.close()
            ctx.cancelled.set()
            raise _Abandoned(None)
    if "error" in box:
        raise box["error"]
    return box["result"]


def cancel_children(run_id: int, node_id: str | None = None) -> int:
    """Cancel the live child runs of ``run_id`` (of one node's step if given)."""
    count = 0
    for child_id in transitions.children_to_cancel(run_id, node_id):
        if transitions.do_cancel_run(child_id, actor=None, reason="the parent step ended"):
            count += 1
    return count


def sweep() -> dict[str, int]:
    """The django-q2 schedule's entry point (a backstop for the workers' own sweeper loop)."""
    from engine.recovery import sweep_once

    close_old_connections()
    return sweep_once()
