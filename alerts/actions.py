"""Operator actions on alerts and dead letters (STYLE 1: views call these, never save)."""

from typing import Any

from django.utils import timezone

from alerts.models import Alert
from designer.models import ROLE_RANK, Role
from designer.permissions import role_of
from engine import transitions
from engine.models import Run, StepRun
from engine.states import RunStatus, StepStatus


def do_resolve_alert(alert_id: int, *, actor: Any) -> bool:
    """Acknowledge an incident: resolved, no more reminders (it keeps its key until the
    condition clears, so it does not reopen). False if it was already resolved."""
    # Compare-and-set: of two operators (or an operator and a sweeper clearing it), one wins.
    return bool(
        Alert.objects.filter(pk=alert_id, resolved_at__isnull=True).update(
            resolved_at=timezone.now(), resolved_by=actor
        )
    )


def do_retry_dead_letter(run_id: int, *, actor: Any, reason: str) -> dict[str, Any]:
    """Retry every failed step of a failed run (runner role) with the engine's operator retry,
    each in its own transaction; the result says what happened to the run."""

    def result(state: str, message: str, steps: list[str] | None = None) -> dict[str, Any]:
        return {"run": run_id, "status": state, "steps": steps or [], "message": message}

    run = Run.objects.select_related("workflow").filter(pk=run_id).first()
    role = role_of(actor, run.workflow) if run is not None else None
    if run is None or role is None:
        return result("not_found", "no such run")
    if ROLE_RANK[role] < ROLE_RANK[Role.RUNNER]:
        return result("forbidden", f"this needs the runner role on the workflow; you are {role}")
    if run.status != RunStatus.FAILED:
        return result("conflict", f"the run is {run.status}, not failed")
    nodes = list(
        StepRun.objects.filter(run=run, status=StepStatus.FAILED)
        .order_by("id")
        .values_list("node_id", flat=True)
    )
    retried = []
    for node in nodes:
        try:
            transitions.do_retry_step(run.pk, node, actor=actor, reason=reason)
            retried.append(node)
        except (transitions.Conflict, LookupError):
            # Another operator (or this loop's earlier retry) moved it: not an error.
            continue
    if not retried:
        return result("conflict", "no failed step could be retried")
    return result("retried", f"retried {len(retried)} step(s)", retried)
