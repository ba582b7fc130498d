"""django-q2 entry points: run a step attempt, cancel child runs, sweep.

A task carries only ids (never pickled user data); the rows are the truth. A task delivered
twice is harmless: the claim is a compare-and-set on the step's status and attempt.
"""

import logging
import os
import socket
import threading
import time
from dataclasses import replace
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection

from connectors.credentials import scrub
from engine import transitions
from engine.expressions import ExpressionError, referenced_steps, render
from engine.models import Run, StepRun
from engine.steps.base import StepContext, StepError, StepResult, Wait

log = logging.getLogger("flowdeck.engine")

OWNER = f"{socket.gethostname()}:{os.getpid()}"


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
            # Out of budget: hand the rest to the queue so this worker serves others too.
            for pk, attempt in [current, *keep, *reversed(pending)]:
                transitions.enqueue_attempt(pk, attempt)
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
    transitions.do_record(step, outcome_of(step, step_type, owner), keep=keep)
    return True


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
        if not transitions.do_heartbeat(step.pk, step.attempt, owner):
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
