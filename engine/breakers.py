"""Circuit breakers for http.request and code.function (issue 20, section 2).

A step whose config has ``circuit_breaker: {failures, window_s, open_s}`` asks its breaker
before it calls out (``guard``) and tells it how the call went (``report``). The breaker is one
``CircuitBreaker`` row per service, keyed per credential, per host (an http.request without a
credential) or per function, so every worker process, in both deployment modes, sees the same
state, and it survives restarts. No lock is held across a call: each change is a
compare-and-set on the row's ``version``; a worker that loses the race reads the row again and
decides again (STYLE 3).

- closed: calls go through. ``failures`` counted failures within ``window_s`` (a sliding
  window: the failures' times are kept) open it.
- open: calls fail at once with ``circuit_open`` (retryable, with ``retry_after_s`` up to
  ``retry_at``, so the engine's retry waits for the half-open time) until ``retry_at``.
- half-open: the first call after ``retry_at`` wins the compare-and-set and is the one probe;
  the others fail at once. The probe's success closes the breaker, its failure re-opens it for
  ``open_s``. A probe that never reports (its worker died) is lost after ``open_s``: then
  another call may probe.

The thresholds of the step reporting a failure apply (steps sharing a breaker should agree).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from engine.models import BreakerScope, BreakerState, CircuitBreaker
from engine.steps.base import StepError

DEFAULTS = {"failures": 5, "window_s": 60, "open_s": 30}
# The config schema's piece, shared by http.request and code.function.
CONFIG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Circuit breaker",
    "description": (
        "Stop calling a failing service: after `failures` counted failures within `window_s` "
        "seconds, attempts fail at once (circuit_open) for `open_s` seconds; then one probe "
        "decides. Absent or empty: no breaker."
    ),
    "properties": {
        "failures": {
            "type": "integer",
            "title": "Failures to open",
            "description": "Failures (timeouts, 5xx, network errors) that open it; 5 if unset.",
            "minimum": 1,
            "maximum": 100,
        },
        "window_s": {
            "type": "integer",
            "title": "Window (seconds)",
            "description": "Only failures within this many seconds count (sliding); 60 if unset.",
            "minimum": 1,
            "maximum": 86_400,
        },
        "open_s": {
            "type": "integer",
            "title": "Open for (seconds)",
            "description": "How long attempts fail at once before one probe may go; 30 if unset.",
            "minimum": 1,
            # The engine waits at most MAX_RETRY_AFTER_S for a retry-after hint.
            "maximum": 3600,
        },
    },
    "additionalProperties": False,
    # No "default"s inside: the designer's form fills in stated defaults, which would turn a
    # breaker on in every step whose form is touched. The defaults are DEFAULTS, applied here.
}
# A compare-and-set lost this many times in a row means something is wrong, not busy.
MAX_TRIES = 50
KEY_CHARS = 280


@dataclass(frozen=True)
class Thresholds:
    failures: int
    window_s: int
    open_s: int

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> "Thresholds | None":
        """The step's breaker settings, or None when it has none (no breaker)."""
        raw = config.get("circuit_breaker")
        if not isinstance(raw, Mapping) or not raw:
            return None  # absent or {} (a form whose fields were all cleared): no breaker
        return cls(**{name: int(raw.get(name, default)) for name, default in DEFAULTS.items()})

    def as_dict(self) -> dict[str, int]:
        return {"failures": self.failures, "window_s": self.window_s, "open_s": self.open_s}


@dataclass(frozen=True)
class Permit:
    """Leave to make one call; ``probe`` when it is the half-open breaker's one probe."""

    key: str
    scope: str
    target: str
    thresholds: Thresholds
    probe: bool = False
    version: int = 0


def key_of(scope: BreakerScope | str, target: str) -> str:
    return f"{scope}:{target[:KEY_CHARS]}"


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


def _open_error(row: CircuitBreaker, now: datetime) -> StepError:
    wait = max(0.0, (row.retry_at - now).total_seconds()) if row.retry_at else 0.0
    probing = row.state == BreakerState.HALF_OPEN
    return StepError(
        f"the circuit breaker {row.key} is {'half-open (a probe is out)' if probing else 'open'}"
        f"; the next call may go in {wait:.0f} s",
        code="circuit_open",
        retryable=True,
        # Never 0: the retry must come after retry_at, not before it.
        retry_after_s=max(wait, 0.001),
        details={"breaker": row.pk, "breaker_key": row.key},
    )


def _cas(row: CircuitBreaker, **fields: Any) -> int:
    """Compare-and-set: update the row only if nobody changed it since we read it."""
    # 0 rows: another worker (or an operator) changed it first; the caller reads it again.
    return CircuitBreaker.objects.filter(pk=row.pk, version=row.version).update(
        version=F("version") + 1, **fields
    )


def _row(key: str, scope: str, target: str) -> CircuitBreaker:
    row = CircuitBreaker.objects.filter(key=key).first()
    if row is not None:
        return row
    try:
        # A savepoint: the insert race's loser must not spoil a caller's transaction.
        with transaction.atomic():
            return CircuitBreaker.objects.create(key=key, scope=scope, target=target[:KEY_CHARS])
    except IntegrityError:
        return CircuitBreaker.objects.get(key=key)  # another worker created it first


def guard(scope: str, target: str, thresholds: Thresholds | None) -> Permit | None:
    """Before a call: None without a breaker; a Permit when the call may go; raises
    StepError(circuit_open) when the breaker is open, or half-open with its probe out."""
    if thresholds is None:
        return None
    key = key_of(scope, target)
    permit = Permit(key, scope, target, thresholds)
    for _ in range(MAX_TRIES):
        row = CircuitBreaker.objects.filter(key=key).first()
        if row is None or row.state == BreakerState.CLOSED:
            return permit  # no write on the happy path
        now = timezone.now()
        if row.retry_at is not None and now < row.retry_at:
            raise _open_error(row, now)
        # Open and due (or half-open with its probe lost): whoever sets half-open is the probe.
        until = now + timedelta(seconds=thresholds.open_s)
        if _cas(row, state=BreakerState.HALF_OPEN, retry_at=until):
            return Permit(key, scope, target, thresholds, probe=True, version=row.version + 1)
    raise StepError(f"the circuit breaker {key} is too busy to decide", code="circuit_open")


def report(permit: Permit | None, outcome: str, error: Mapping[str, Any] | None = None) -> None:
    """After the call: ``success``, ``failure`` (a kind that counts) or ``neutral`` (the call
    said nothing about the service's health, e.g. refused before it left)."""
    if permit is None:
        return
    for _ in range(MAX_TRIES):
        if _report_once(permit, outcome, error or {}):
            return


def _report_once(permit: Permit, outcome: str, error: Mapping[str, Any]) -> bool:
    """One try; False when a compare-and-set lost and the row must be read again."""
    now = timezone.now()
    if outcome == "success":
        if not permit.probe:
            return True  # failures age out of the window; a success does not wipe them
        # Only our own half-open row: an operator's close or a newer probe changed version.
        CircuitBreaker.objects.filter(
            key=permit.key, version=permit.version, state=BreakerState.HALF_OPEN
        ).update(version=F("version") + 1, state=BreakerState.CLOSED, recent=[], retry_at=None)
        return True
    if outcome == "neutral":
        if permit.probe:
            # The probe proved nothing: the next call may probe at once.
            CircuitBreaker.objects.filter(
                key=permit.key, version=permit.version, state=BreakerState.HALF_OPEN
            ).update(version=F("version") + 1, state=BreakerState.OPEN, retry_at=now)
        return True
    row = _row(permit.key, permit.scope, permit.target)
    t = permit.thresholds
    last_error = {
        "code": str(error.get("code", ""))[:50],
        "message": str(error.get("message", ""))[:300],
    }
    counted = {
        "failures_total": F("failures_total") + 1,
        "last_failure_at": now,
        "last_error": last_error,
        "thresholds": t.as_dict(),
    }
    reopen = {
        "state": BreakerState.OPEN,
        "opened_at": now,
        "retry_at": now + timedelta(seconds=t.open_s),
        "opens_total": F("opens_total") + 1,
    }
    if permit.probe:
        if row.version != permit.version or row.state != BreakerState.HALF_OPEN:
            return True  # closed by hand meanwhile, or our probe was declared lost
        return bool(_cas(row, **counted, **reopen))
    if row.state != BreakerState.CLOSED:
        # A call that left before it opened: counted in the total, the state stays. No
        # version bump (F() adds atomically): a half-open probe's report must still match.
        CircuitBreaker.objects.filter(pk=row.pk).update(**counted)
        return True
    since = _epoch(now) - t.window_s
    # The window slides: only failures newer than window_s count, and only the last N matter.
    recent = [*(moment for moment in row.recent if moment > since), _epoch(now)][-t.failures :]
    if len(recent) >= t.failures:
        return bool(_cas(row, recent=recent, **counted, **reopen))
    return bool(_cas(row, recent=recent, **counted))


# --- Who sees and operates them ----------------------------------------------------------------


def visible_breakers(user: AbstractBaseUser) -> QuerySet[CircuitBreaker]:
    """Staff see every breaker; others the breakers of credentials they have a role on (a
    host or a function names nothing of theirs)."""
    from connectors.credentials import credentials_with
    from designer.models import Role

    everything = CircuitBreaker.objects.select_related("closed_by")
    if not user.is_authenticated or not user.is_active:
        return everything.none()
    if user.is_staff:
        return everything
    names = credentials_with(user, Role.VIEWER).values_list("name", flat=True)
    return everything.filter(Q(scope=BreakerScope.CREDENTIAL, target__in=names))


def may_operate(user: AbstractBaseUser, breaker: CircuitBreaker) -> bool:
    """Staff, or an editor (or owner) of the breaker's credential."""
    from connectors.credentials import credentials_with
    from designer.models import Role

    if user.is_staff:
        return True
    if breaker.scope != BreakerScope.CREDENTIAL:
        return False
    return credentials_with(user, Role.EDITOR).filter(name=breaker.target).exists()


@transaction.atomic
def do_close_breaker(breaker_id: int, *, actor: AbstractBaseUser) -> CircuitBreaker:
    """An operator closes a breaker by hand (its failures forgotten); audited in the admin's
    log (LogEntry), beside every other change made by hand."""
    # The row lock orders this against a worker's compare-and-set (which then loses: version).
    row = CircuitBreaker.objects.select_for_update().get(pk=breaker_id)
    was = row.state
    now = timezone.now()
    _cas(row, state=BreakerState.CLOSED, recent=[], retry_at=None, closed_at=now, closed_by=actor)
    LogEntry.objects.log_actions(
        user_id=actor.pk,
        queryset=[row],
        action_flag=CHANGE,
        change_message=f"Closed the circuit breaker {row.key} by hand (it was {was}).",
        single_object=True,
    )
    row.refresh_from_db()
    return row
