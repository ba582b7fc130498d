"""Evaluating alert rules and delivering alerts (one-iteration functions, STYLE 6).

``evaluate_if_due(now)`` is the sweeper's hook (engine/recovery.sweep_once): at most every
``FLOWDECK_ALERTS_INTERVAL_S`` per process it asks each enabled rule which incidents hold now
(database aggregates), opens the new ones, re-sends the persisting ones once per cool-down,
clears the ones that went away, and hands due deliveries to the queue.

Deliveries run as django-q2 tasks (``deliver``), never in the sweeper's thread: a dead webhook
endpoint holds one worker for its timeout, not the sweep that recovers runs. Each channel
pending delivery carries a lease (``email_next_at``, ``webhook_next_at``): set when the send is
requested, pushed forward when a sweeper re-enqueues it, cleared when the send is recorded. A
delivery whose task was lost (a broker that forgot it, a worker killed mid-send) is therefore
enqueued again once its lease runs out: at least once, with ``X-Flowdeck-Delivery`` for the
receiver to drop a duplicate.

Several sweepers (one per worker process, on any number of machines) may evaluate at once; they
agree through the database, never through memory:
- a new incident is an insert under the unique constraint ``alert_one_live_incident``: the one
  sweeper whose insert wins sends; the others see an IntegrityError and send nothing;
- a re-send is a compare-and-set of ``last_sent_at`` (older than the cool-down), so exactly one
  sweeper's UPDATE matches the row;
- a (re-)delivery is a compare-and-set of the channel's lease (and ``webhook_attempts``).
Deliveries leave after commit (STYLE 5), so a rolled-back evaluation tells nobody.
"""

import hashlib
import hmac
import json
import logging
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from alerts.models import Alert, AlertKind, AlertRule, Delivery
from connectors.netguard import AddressRefused, guarded_client
from engine.models import BreakerState, CircuitBreaker, HumanTask, Run, RunEvent, StepRun
from engine.states import RunStatus, StepStatus, TaskStatus

log = logging.getLogger("flowdeck.alerts")

SIGNATURE_HEADER = "X-Flowdeck-Signature"
# key -> (workflow id, summary)
Found = dict[str, tuple[int | None, str]]

_next_evaluation: datetime | None = None


def evaluate_if_due(now: datetime) -> int:
    """The sweeper's hook: evaluate at most every FLOWDECK_ALERTS_INTERVAL_S in this process.
    Errors are logged, never raised: alerts must not stop the sweep that recovers runs."""
    global _next_evaluation
    interval = timedelta(seconds=settings.FLOWDECK_ALERTS_INTERVAL_S)
    # Not yet due; a clock that went back (more than an interval) does not stall the alerts.
    if _next_evaluation is not None and _next_evaluation - interval <= now < _next_evaluation:
        return 0
    _next_evaluation = now + interval
    try:
        return evaluate(now) + redeliver(now)
    except Exception:
        log.exception("alert evaluation failed; the next sweep tries again")
        return 0


def evaluate(now: datetime) -> int:
    """Evaluate every enabled rule once; returns how many alerts were sent (or re-sent)."""
    sent = 0
    for rule in AlertRule.objects.filter(enabled=True).order_by("id"):
        sent += evaluate_rule(rule, now)
    # A disabled rule watches nothing: its live incidents end.
    Alert.objects.filter(rule__enabled=False, cleared_at__isnull=True).update(
        cleared_at=now, resolved_at=Coalesce("resolved_at", Value(now)), last_seen_at=now
    )
    return sent


def evaluate_rule(rule: AlertRule, now: datetime) -> int:
    found = FINDERS[rule.kind](rule, now)
    sent = 0
    for key, (workflow_id, summary) in found.items():
        sent += _hold(rule, key, workflow_id, summary, now)
    # Incidents whose condition went away: cleared (and resolved, if nobody acknowledged them).
    for alert in Alert.objects.filter(rule=rule, cleared_at__isnull=True).exclude(
        key__in=list(found)
    ):
        Alert.objects.filter(pk=alert.pk, cleared_at__isnull=True).update(
            cleared_at=now, resolved_at=alert.resolved_at or now, last_seen_at=now
        )
    return sent


def _hold(rule: AlertRule, key: str, workflow_id: int | None, summary: str, now: datetime) -> int:
    """The condition ``key`` holds now: open its incident, or re-send it after the cool-down."""
    live = Alert.objects.filter(rule=rule, key=key, cleared_at__isnull=True).first()
    if live is None:
        try:
            # A savepoint: losing the insert race must not spoil the caller's transaction.
            with transaction.atomic():
                alert = Alert.objects.create(
                    rule=rule,
                    key=key,
                    workflow_id=workflow_id,
                    summary=summary[:1000],
                    opened_at=now,
                    last_seen_at=now,
                    last_sent_at=now,
                    sends=1,
                    **_pending(rule, now),
                )
                _deliver_on_commit(alert.pk)
        except IntegrityError:
            # Another sweeper opened this incident first; it sends, not us.
            return 0
        log.warning("alert %s opened: rule %s, %s", alert.pk, rule.pk, key)
        return 1
    with transaction.atomic():
        Alert.objects.filter(pk=live.pk).update(last_seen_at=now, summary=summary[:1000])
        if live.resolved_at is not None:
            return 0  # acknowledged: no reminders until it clears
        # Compare-and-set: only the sweeper whose UPDATE still sees the old last_sent_at sends
        # the reminder (on PostgreSQL the second UPDATE waits for the first and re-checks).
        cutoff = now - timedelta(seconds=rule.cooldown_s)
        claimed = (
            Alert.objects.filter(pk=live.pk, resolved_at__isnull=True, last_sent_at__lte=cutoff)
            .filter(last_sent_at=live.last_sent_at)
            .update(last_sent_at=now, sends=F("sends") + 1, **_pending(rule, now))
        )
        if not claimed:
            return 0
        _deliver_on_commit(live.pk)
    return 1


def delivery_lease() -> timedelta:
    """How long a requested delivery may take before a sweeper enqueues it again."""
    return timedelta(seconds=settings.FLOWDECK_ALERT_WEBHOOK_TIMEOUT_S + 30)


def _pending(rule: AlertRule, now: datetime) -> dict[str, Any]:
    lease = now + delivery_lease()
    return {
        "email_status": Delivery.PENDING if rule.emails else Delivery.NONE,
        "email_error": "",
        "email_next_at": lease if rule.emails else None,
        "webhook_status": Delivery.PENDING if rule.webhook_url else Delivery.NONE,
        "webhook_attempts": 0,
        "webhook_next_at": lease if rule.webhook_url else None,
        "webhook_error": "",
        "webhook_response": None,
    }


# --- What holds now, per kind ------------------------------------------------------------------


def _scope(rule: AlertRule, field: str = "workflow_id") -> Q:
    return Q(**{field: rule.workflow_id}) if rule.workflow_id else Q()


def find_failed_runs(rule: AlertRule, now: datetime) -> Found:
    """Top-level runs that failed in the window (after the rule existed), and the runs of live
    incidents that are still failed (an operator's retry clears them)."""
    since = max(rule.created_at, now - timedelta(seconds=rule.window_s))
    failed = Run.objects.filter(
        _scope(rule), test=False, status=RunStatus.FAILED, parent_run__isnull=True
    )
    live_ids = [
        int(key.split(":")[1])
        for key in Alert.objects.filter(rule=rule, cleared_at__isnull=True).values_list(
            "key", flat=True
        )
    ]
    runs = failed.filter(Q(finished_at__gte=since) | Q(pk__in=live_ids)).select_related("workflow")
    return {
        f"run:{run.pk}": (
            run.workflow_id,
            f"run {run.pk} of {run.workflow.name} failed: "
            f"{(run.error or {}).get('message', 'no message')}",
        )
        for run in runs[:500]
    }


def find_failure_rates(rule: AlertRule, now: datetime) -> Found:
    """Workflows whose top-level runs finished in the window failed more than rate_pct %."""
    since = now - timedelta(seconds=rule.window_s)
    rows = (
        Run.objects.filter(
            _scope(rule),
            test=False,
            parent_run__isnull=True,
            finished_at__gte=since,
            status__in=[RunStatus.SUCCEEDED, RunStatus.FAILED],
        )
        .values("workflow_id", "workflow__name")
        .annotate(total=Count("id"), failed=Count("id", filter=Q(status=RunStatus.FAILED)))
        .filter(total__gte=max(rule.min_runs, 1))
    )
    threshold = rule.rate_pct if rule.rate_pct is not None else 50.0
    found: Found = {}
    for row in rows:
        rate = 100.0 * row["failed"] / row["total"]
        if rate > threshold:
            found[f"workflow:{row['workflow_id']}"] = (
                row["workflow_id"],
                f"{row['workflow__name']}: {row['failed']} of {row['total']} runs failed "
                f"({rate:.0f} %) in the last {rule.window_s} s",
            )
    return found


def find_long_queued_steps(rule: AlertRule, now: datetime) -> Found:
    """Steps queued for longer than queued_s. ``queued_at`` moves when the sweeper re-enqueues
    a step, so the time comes from the step's latest queued event instead."""
    cutoff = now - timedelta(seconds=rule.queued_s)
    queued_since = (
        RunEvent.objects.filter(
            run_id=OuterRef("run_id"), node_id=OuterRef("node_id"), new_status=StepStatus.QUEUED
        )
        .order_by("-id")
        .values("created_at")[:1]
    )
    steps = (
        StepRun.objects.filter(
            _scope(rule, "run__workflow_id"), run__test=False, status=StepStatus.QUEUED
        )
        .annotate(since=Subquery(queued_since))
        .filter(since__lt=cutoff)
        .select_related("run__workflow")
    )
    return {
        f"step:{step.pk}": (
            step.run.workflow_id,
            f"step {step.node_id} of run {step.run_id} ({step.run.workflow.name}) has been "
            f"queued for {int((now - step.since).total_seconds())} s",
        )
        for step in steps[:500]
    }


def find_overdue_tasks(rule: AlertRule, now: datetime) -> Found:
    tasks = HumanTask.objects.filter(
        _scope(rule, "run__workflow_id"), run__test=False, status=TaskStatus.OPEN, due_at__lt=now
    ).select_related("run__workflow")
    return {
        f"task:{task.pk}": (
            task.run.workflow_id,
            f"{task.kind} task {task.pk} '{task.title[:200]}' of run {task.run_id} "
            f"({task.run.workflow.name}) is overdue since {task.due_at:%Y-%m-%d %H:%M:%S} UTC",
        )
        for task in tasks[:500]
    }


def find_open_breakers(rule: AlertRule, now: datetime) -> Found:
    """Circuit breakers not closed (open, or half-open with a probe out): one incident per
    breaker while it stays so, cleared when it closes. Breakers belong to no workflow."""
    rows = CircuitBreaker.objects.exclude(state=BreakerState.CLOSED).order_by("key")[:500]
    found: Found = {}
    for row in rows:
        since = f" since {row.opened_at:%Y-%m-%d %H:%M:%S} UTC" if row.opened_at else ""
        error = (row.last_error or {}).get("message", "")
        found[f"breaker:{row.pk}"] = (
            None,
            f"circuit breaker {row.key} is {row.state}{since} after {row.failures} failures"
            + (f": {error[:300]}" if error else ""),
        )
    return found


def find_failed_compensations(rule: AlertRule, now: datetime) -> Found:
    """Runs left compensating by a compensation that failed for good: one incident per run
    while it stays so, cleared once an operator retries or skips it (or cancels the run)."""
    runs = Run.objects.filter(_scope(rule), test=False, status=RunStatus.COMPENSATING)
    found: Found = {}
    for run in runs.select_related("workflow").order_by("id")[:500]:
        failed = [
            step
            for step in StepRun.objects.filter(run=run, status=StepStatus.FAILED)
            if step.node_id in _compensation_nodes(run.version_id)
        ]
        if not failed:
            continue
        step = failed[0]
        message = (step.error or {}).get("message", "no message")
        found[f"run:{run.pk}"] = (
            run.workflow_id,
            f"run {run.pk} of {run.workflow.name} cannot finish compensating: "
            f"compensation {step.node_id} failed: {message[:300]}",
        )
    return found


def _compensation_nodes(version_id: int) -> frozenset[str]:
    from engine.transitions import load_version

    return frozenset(load_version(version_id).plan_graph.compensates)


FINDERS = {
    AlertKind.RUN_FAILED: find_failed_runs,
    AlertKind.FAILURE_RATE: find_failure_rates,
    AlertKind.STEP_QUEUED_TOO_LONG: find_long_queued_steps,
    AlertKind.TASK_OVERDUE: find_overdue_tasks,
    AlertKind.BREAKER_OPEN: find_open_breakers,
    AlertKind.COMPENSATION_FAILED: find_failed_compensations,
}


# --- Delivery ------------------------------------------------------------------------------------


def _deliver_on_commit(alert_id: int) -> None:
    # After commit: the incident row exists for everyone before anybody hears of it, and a
    # rolled-back evaluation sends nothing.
    transaction.on_commit(lambda: enqueue_delivery(alert_id))


def enqueue_delivery(alert_id: int) -> None:
    from django_q.tasks import async_task

    # save=False: the alert row records the outcome; the broker keeps nothing.
    async_task("alerts.evaluate.deliver", alert_id, save=False)


def payload(alert: Alert) -> dict[str, Any]:
    rule = alert.rule
    return {
        "alert": alert.pk,
        "rule": {"id": rule.pk, "name": rule.name, "kind": rule.kind},
        "key": alert.key,
        "workflow": alert.workflow_id,
        "summary": alert.summary,
        "opened_at": alert.opened_at.isoformat(),
        "sent_at": alert.last_sent_at.isoformat() if alert.last_sent_at else None,
        "reminder": alert.sends > 1,
    }


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(alert_id: int, now: datetime | None = None) -> None:
    """The queue's task: send what is pending of one alert (the email, the next webhook try).
    A task for an alert that is gone or sent already does nothing."""
    now = now or timezone.now()
    alert = Alert.objects.select_related("rule").filter(pk=alert_id).first()
    if alert is None:
        return
    if alert.email_status == Delivery.PENDING:
        _send_email(alert)
    if alert.webhook_status == Delivery.PENDING:
        _post_webhook(alert, alert.webhook_attempts, now)


def _send_email(alert: Alert) -> None:
    rule = alert.rule
    prefix = "Reminder: " if alert.sends > 1 else ""
    subject = f"[Flowdeck] {prefix}{rule.name}: {alert.summary}"[:200]
    body = (
        f"{alert.summary}\n\nRule: {rule.name} ({rule.kind})\n"
        f"Open since: {alert.opened_at:%Y-%m-%d %H:%M:%S} UTC\n"
        f"Alert {alert.pk}; reminders at most every {rule.cooldown_s} s while it lasts.\n"
    )
    try:
        send_mail(subject, body, None, list(rule.emails), fail_silently=False)
        status, error = Delivery.SENT, ""
    except Exception as exc:
        log.exception("alert %s: the email could not be sent", alert.pk)
        status, error = Delivery.FAILED, str(exc)[:500]
    Alert.objects.filter(pk=alert.pk, email_status=Delivery.PENDING).update(
        email_status=status, email_error=error, email_next_at=None
    )


def _post_webhook(alert: Alert, attempts_before: int, now: datetime) -> None:
    """One POST. Success records the status; a failure schedules the next try with backoff
    (durably, on the row), or gives up after FLOWDECK_ALERT_WEBHOOK_ATTEMPTS."""
    rule = alert.rule
    body = json.dumps(payload(alert), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Flowdeck-Alerts",
        "X-Flowdeck-Delivery": f"{alert.pk}:{alert.sends}",
    }
    if rule.webhook_secret:
        headers[SIGNATURE_HEADER] = sign(rule.webhook_secret, body)
    attempt = attempts_before + 1
    code: int | None = None
    refused = False
    try:
        # Through the outbound-address guard: an editor's URL must not reach the machine, its
        # private network or a cloud's metadata service (FLOWDECK_HTTP_ALLOW_NETWORKS allows).
        with guarded_client(
            timeout=settings.FLOWDECK_ALERT_WEBHOOK_TIMEOUT_S, follow_redirects=False
        ) as client:
            response = client.post(rule.webhook_url, content=body, headers=headers)
        code = response.status_code
        error = "" if 200 <= code < 300 else f"HTTP {code}"
    except AddressRefused as exc:
        error, refused = str(exc)[:500], True  # permanent: retrying cannot change the answer
    except httpx.HTTPError as exc:
        # The exception text names the host at most; the secret is in a header we never log.
        error = f"{type(exc).__name__}: {exc}"[:500]
    # Only the host: the URL's path or query may carry a token.
    host = urlsplit(rule.webhook_url).hostname
    if not error:
        fields: dict[str, Any] = {"webhook_status": Delivery.SENT, "webhook_next_at": None}
    elif refused or attempt >= settings.FLOWDECK_ALERT_WEBHOOK_ATTEMPTS:
        log.warning("alert %s: webhook to %s failed for good (%s)", alert.pk, host, error)
        fields = {"webhook_status": Delivery.FAILED, "webhook_next_at": None}
    else:
        delay = settings.FLOWDECK_ALERT_WEBHOOK_BACKOFF_S * 2 ** (attempt - 1)
        log.info("alert %s: webhook to %s failed (%s); retry in %s s", alert.pk, host, error, delay)
        fields = {
            "webhook_status": Delivery.RETRYING,
            "webhook_next_at": now + timedelta(seconds=delay),
        }
    Alert.objects.filter(pk=alert.pk, webhook_attempts=attempts_before).update(
        webhook_attempts=attempt, webhook_error=error, webhook_response=code, **fields
    )


def redeliver(now: datetime) -> int:
    """Deliveries that are due: webhook retries whose backoff is over, and emails or webhook
    tries whose lease ran out (their task was lost). Each is claimed by a compare-and-set that
    pushes its lease forward, so one sweeper enqueues it."""
    count = 0
    lease = now + delivery_lease()
    due = Alert.objects.filter(
        Q(webhook_status__in=[Delivery.PENDING, Delivery.RETRYING], webhook_next_at__lte=now)
        | Q(email_status=Delivery.PENDING, email_next_at__lte=now)
    )
    for alert in due.only("pk", "webhook_status", "webhook_attempts", "email_status")[:100]:
        claimed = 0
        if alert.webhook_status in (Delivery.PENDING, Delivery.RETRYING):
            # 0 rows: another sweeper claimed this try first, or it was recorded meanwhile.
            claimed += Alert.objects.filter(
                pk=alert.pk,
                webhook_status=alert.webhook_status,
                webhook_attempts=alert.webhook_attempts,
                webhook_next_at__lte=now,
            ).update(webhook_status=Delivery.PENDING, webhook_next_at=lease)
        if alert.email_status == Delivery.PENDING:
            claimed += Alert.objects.filter(
                pk=alert.pk, email_status=Delivery.PENDING, email_next_at__lte=now
            ).update(email_next_at=lease)
        if claimed:
            enqueue_delivery(alert.pk)
            count += 1
    return count


def reset_throttle() -> None:
    """Tests: forget when this process last evaluated."""
    global _next_evaluation
    _next_evaluation = None
