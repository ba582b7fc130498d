"""Finding what a crash left behind (ARCHITECTURE "How a run moves", 4).

One-iteration functions (STYLE 6) that tests call directly with a ``now``; ``sweep_forever``
repeats them in every worker process (``manage.py flowdeck_worker``), and a django-q2 schedule
runs ``sweep_once`` every minute as a backstop. Every fix is a compare-and-set transition, so
any number of sweepers on any number of machines agree.
"""

import logging
import threading
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections
from django.db.models import Q
from django.utils import timezone

from alerts.evaluate import evaluate_if_due as evaluate_alerts_if_due
from designer import presence
from engine import transitions
from engine.models import Run, StepRun
from engine.schedules import fire_due_schedules
from engine.states import RUN_TERMINAL, StepStatus
from engine.testruns import delete_expired_test_runs

log = logging.getLogger("flowdeck.recovery")

BATCH = 200


def fire_due_timers(now: datetime) -> int:
    """Retry backoffs and delays whose time has come: queue the retry, end the delay."""
    due = StepRun.objects.filter(
        wake_at__lte=now, status__in=[StepStatus.RETRYING, StepStatus.WAITING]
    ).values_list("pk", flat=True)[:BATCH]
    return sum(transitions.do_fire_timer(pk, now) for pk in due)


def fail_expired_attempts(now: datetime) -> int:
    """Running attempts past their timeout, or whose worker stopped renewing the lease (it
    died): they fail as ``timeout`` or ``lost``, and are retried under the node's policy."""
    count = 0
    expired = StepRun.objects.filter(status=StepStatus.RUNNING).filter(
        Q(lease_expires_at__lt=now) | Q(deadline_at__lt=now)
    )
    for step in expired.only("pk", "attempt", "lease_owner", "deadline_at", "lease_expires_at")[
        :BATCH
    ]:
        if step.deadline_at is not None and step.deadline_at < now:
            error = {
                "message": "the attempt ran over its timeout",
                "code": "timeout",
                "retryable": True,
            }
        else:
            error = {
                "message": f"the worker {step.lease_owner} stopped renewing its lease (lost)",
                "code": "lost",
                "retryable": True,
            }
        if transitions.do_fail_attempt(step.pk, step.attempt, error):
            log.warning("attempt %s of step %s: %s", step.attempt, step.pk, error["message"])
            count += 1
    return count


def requeue_stale(now: datetime) -> int:
    """Steps queued long ago and still not claimed: their task was lost (a Redis broker
    loses what a killed worker had taken). Enqueue them again; a duplicate is harmless."""
    cutoff = now - timedelta(seconds=settings.FLOWDECK_REQUEUE_AFTER_S)
    count = 0
    for pk, attempt, priority in StepRun.objects.filter(
        status=StepStatus.QUEUED, queued_at__lt=cutoff
    ).values_list("pk", "attempt", "run__priority")[:BATCH]:
        # Compare-and-set queued_at so that several sweepers enqueue it once per period.
        if StepRun.objects.filter(
            pk=pk, status=StepStatus.QUEUED, attempt=attempt, queued_at__lt=cutoff
        ).update(queued_at=now):
            transitions.enqueue_attempt(pk, attempt, priority=priority)
            count += 1
    return count


def cancel_orphans(now: datetime) -> int:
    """Child runs still going although their parent run ended (its cancel task was lost)."""
    count = 0
    orphans = (
        Run.objects.filter(parent_run__isnull=False, parent_run__status__in=RUN_TERMINAL)
        .exclude(status__in=RUN_TERMINAL)
        .values_list("pk", flat=True)[:BATCH]
    )
    for pk in orphans:
        count += transitions.do_cancel_run(pk, actor=None, reason="the parent run ended")
    return count


# Seconds between two clean-ups of what expired, in one process (the sweeper runs each second;
# nothing here is urgent).
EXPIRED_EVERY_S = 60.0
_next_clean_up = 0.0


def expired_if_due(now: datetime) -> int:
    """Delete what expired (test runs, designer presence) at most once a minute per process."""
    global _next_clean_up
    if time.monotonic() < _next_clean_up:
        return 0
    _next_clean_up = time.monotonic() + EXPIRED_EVERY_S
    return delete_expired_test_runs(now) + presence.drop_expired(now)


def sweep_once(now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    return {
        "timers": fire_due_timers(now),
        "expired": fail_expired_attempts(now),
        "requeued": requeue_stale(now),
        "orphans": cancel_orphans(now),
        # Test runs past FLOWDECK_TEST_RUN_DAYS, presence of designers closed long ago.
        "deleted": expired_if_due(now),
        # trigger.schedule (engine/schedules.py): due slots and queued ones; never raises.
        "schedules": fire_due_schedules(now),
        # Alert rules (alerts/evaluate.py): throttled per process, never raises.
        "alerts": evaluate_alerts_if_due(now),
    }


def sweep_forever(stop: threading.Event, interval: float | None = None) -> None:
    """Sweep until ``stop`` is set. Errors are logged, never fatal: the next sweep retries."""
    interval = interval or settings.FLOWDECK_SWEEP_INTERVAL_S
    while not stop.is_set():
        try:
            close_old_connections()
            found = sweep_once()
            if any(found.values()):
                log.info("sweep: %s", found)
        except Exception:
            log.exception("sweep failed; retrying in %s s", interval)
        stop.wait(interval)
