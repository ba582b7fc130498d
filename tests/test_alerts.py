"""Alert rules: each kind opens one incident per condition, reminds at most once per cool-down,
and clears when the condition goes away; concurrent sweepers send once; webhooks are signed and
retried with backoff. Time is moved with ``time_machine``; runs are driven in-process."""

import hashlib
import hmac
import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.utils import timezone

from alerts import evaluate as alerting
from alerts.models import Alert, AlertKind, AlertRule, Delivery
from engine import recovery, transitions
from engine.models import StepRun
from engine.states import RunStatus, StepStatus
from tests.engine_kit import approval_graph, build, drive, fn, noop, start, task_of, workflow

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Broker:
    """Instead of django-q2: the engine's tasks are dropped (the tests drive runs themselves);
    alert deliveries run at once, unless ``lose`` is set (a task the broker forgot)."""

    def __init__(self) -> None:
        self.lose = False
        self.deliveries: list[int] = []

    def async_task(self, name: str, *args, **kwargs) -> None:
        if name != "alerts.evaluate.deliver":
            return
        self.deliveries.append(args[0])
        if not self.lose:
            alerting.deliver(*args)


@pytest.fixture(autouse=True)
def broker(monkeypatch) -> Broker:
    fake = Broker()
    monkeypatch.setattr("django_q.tasks.async_task", fake.async_task)
    alerting.reset_throttle()
    return fake


@pytest.fixture(autouse=True)
def _local_receivers(settings):
    """The test receivers listen on 127.0.0.1, which the outbound guard refuses by default."""
    settings.FLOWDECK_HTTP_ALLOW_NETWORKS = ["127.0.0.1/32"]


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def evaluate(django_capture_on_commit_callbacks):
    """One evaluation at the (travelled) current time, with its deliveries (after commit)."""

    def run() -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return alerting.evaluate(timezone.now())

    return run


def failing_graph():
    return build(
        {"start": ("trigger.manual",), "work": fn("flaky", fail_times=9, retryable=False)},
        ["start>work"],
    )


def mixed_graph():
    """Fails when the input says ``fail`` > 0."""
    return build(
        {
            "start": ("trigger.manual",),
            "work": fn("flaky", fail_times="{{ input.fail }}", retryable=False),
        },
        ["start>work"],
    )


def ok_graph():
    return build({"start": ("trigger.manual",), "work": noop()}, ["start>work"])


def rule(wf, kind, **fields):
    fields.setdefault("emails", ["ops@example.com"])
    return AlertRule.objects.create(name=f"{kind} rule", kind=kind, workflow=wf, **fields)


def test_a_failed_run_alerts_once_reminds_after_the_cooldown_and_clears_on_retry(
    alice, clock, evaluate
):
    wf = workflow(alice, failing_graph())
    rule(wf, AlertKind.RUN_FAILED, cooldown_s=600)
    run = start(wf)
    drive()
    assert run.__class__.objects.get(pk=run.pk).status == RunStatus.FAILED

    assert evaluate() == 1
    assert evaluate() == 0
    clock.shift(599)
    assert evaluate() == 0
    assert len(mail.outbox) == 1
    assert f"run {run.pk}" in mail.outbox[0].subject
    assert mail.outbox[0].to == ["ops@example.com"]

    clock.shift(2)
    assert evaluate() == 1
    assert len(mail.outbox) == 2
    assert mail.outbox[1].subject.startswith("[Flowdeck] Reminder: ")
    alert = Alert.objects.get()
    assert (alert.key, alert.sends, alert.email_status) == (f"run:{run.pk}", 2, Delivery.SENT)

    # An operator's retry with a working function: the run succeeds, the incident clears.
    transitions.do_retry_step(run.pk, "work", actor=alice, input={"function": "examples.noop"})
    drive()
    assert evaluate() == 0
    alert.refresh_from_db()
    assert alert.resolved_at is not None and alert.cleared_at is not None
    assert len(mail.outbox) == 2


def test_a_run_that_failed_before_the_rule_existed_does_not_alert(alice, clock, evaluate):
    wf = workflow(alice, failing_graph())
    start(wf)
    drive()
    clock.shift(10)
    rule(wf, AlertKind.RUN_FAILED)
    assert evaluate() == 0
    assert not mail.outbox


def test_a_global_rule_watches_every_workflow(alice, admin, clock, evaluate):
    one, two = workflow(alice, failing_graph(), "one"), workflow(alice, failing_graph(), "two")
    rule(None, AlertKind.RUN_FAILED)
    start(one), start(two)
    drive()
    assert evaluate() == 2
    assert set(Alert.objects.values_list("workflow_id", flat=True)) == {one.pk, two.pk}


def test_a_failure_rate_over_the_threshold_alerts_once_and_clears_when_it_drops(
    alice, clock, evaluate
):
    bad, good = workflow(alice, failing_graph(), "bad"), workflow(alice, ok_graph(), "good")
    rule(bad, AlertKind.FAILURE_RATE, rate_pct=50, window_s=600, min_runs=3)
    start(bad), start(bad)
    drive()
    assert evaluate() == 0  # two runs: under min_runs

    start(bad)
    drive()
    assert evaluate() == 1  # 3 of 3 failed
    assert "3 of 3 runs failed" in mail.outbox[0].subject
    assert evaluate() == 0

    # The window moves past the failures: the rate is computed on no runs, the incident clears.
    clock.shift(601)
    assert evaluate() == 0
    alert = Alert.objects.get()
    assert alert.key == f"workflow:{bad.pk}" and alert.cleared_at is not None
    assert good.pk not in Alert.objects.values_list("workflow_id", flat=True)


def test_a_rate_at_the_threshold_does_not_alert(alice, clock, evaluate):
    wf = workflow(alice, mixed_graph())
    rule(wf, AlertKind.FAILURE_RATE, rate_pct=50, window_s=600, min_runs=2)
    start(wf, {"fail": 9}), start(wf, {"fail": 0})
    drive()
    assert evaluate() == 0  # 1 of 2 is 50 %: not over 50
    start(wf, {"fail": 9})
    drive()
    assert evaluate() == 1  # 2 of 3


def test_a_step_queued_too_long_alerts_once_even_when_the_sweeper_requeues_it(
    alice, clock, evaluate
):
    wf = workflow(alice, ok_graph())
    rule(wf, AlertKind.STEP_QUEUED_TOO_LONG, queued_s=60, cooldown_s=3600)
    run = start(wf)
    assert StepRun.objects.get(run=run, node_id="start").status == StepStatus.QUEUED

    clock.shift(30)
    assert evaluate() == 0
    clock.shift(31)
    assert evaluate() == 1
    clock.shift(30)
    recovery.requeue_stale(timezone.now())  # moves queued_at; the queued event stays
    assert evaluate() == 0
    assert f"step start of run {run.pk}" in Alert.objects.get().summary
    assert "has been queued for 91 s" in Alert.objects.get().summary

    drive()
    assert evaluate() == 0
    assert Alert.objects.get().cleared_at is not None
    assert len(mail.outbox) == 1


def test_an_overdue_task_alerts_once_and_clears_when_decided(alice, bob, clock, evaluate):
    wf = workflow(alice, approval_graph(due_in_s=3600))
    rule(wf, AlertKind.TASK_OVERDUE, cooldown_s=86400)
    run = start(wf, {"amount": 5})
    drive(timezone.now())
    task = task_of(run)

    clock.shift(3599)
    assert evaluate() == 0
    clock.shift(2)
    assert evaluate() == 1
    assert evaluate() == 0
    assert f"task {task.pk}" in mail.outbox[0].subject

    transitions.check_decide(bob, task.pk, decision="approve", data=None)
    transitions.do_decide(task.pk, actor=bob, decision="approve", comment="")
    assert evaluate() == 0
    assert Alert.objects.get().cleared_at is not None


def test_an_acknowledged_incident_sends_no_reminders_and_does_not_reopen(alice, clock, evaluate):
    wf = workflow(alice, failing_graph())
    rule(wf, AlertKind.RUN_FAILED, cooldown_s=60)
    start(wf)
    drive()
    assert evaluate() == 1
    Alert.objects.update(resolved_at=timezone.now(), resolved_by=alice)
    clock.shift(3600)
    assert evaluate() == 0
    assert Alert.objects.count() == 1 and len(mail.outbox) == 1


def test_a_disabled_rule_sends_nothing_and_ends_its_incidents(alice, clock, evaluate):
    wf = workflow(alice, failing_graph())
    watching = rule(wf, AlertKind.RUN_FAILED)
    quiet = rule(wf, AlertKind.RUN_FAILED, enabled=False)
    start(wf)
    drive()
    assert evaluate() == 1
    assert Alert.objects.get().rule == watching
    assert quiet.alerts.count() == 0
    AlertRule.objects.filter(pk=watching.pk).update(enabled=False)
    assert evaluate() == 0
    alert = Alert.objects.get()
    assert alert.cleared_at is not None and alert.resolved_at is not None


def test_the_sweeper_evaluates_alerts_at_most_every_interval(alice, clock, settings):
    settings.FLOWDECK_ALERTS_INTERVAL_S = 5
    wf = workflow(alice, failing_graph())
    rule(wf, AlertKind.RUN_FAILED, cooldown_s=0)
    start(wf)
    drive()
    calls = []
    original = alerting.evaluate

    def counting(now):
        calls.append(now)
        return original(now)

    alerting.evaluate = counting
    try:
        assert "alerts" in recovery.sweep_once(timezone.now())
        clock.shift(1)
        recovery.sweep_once(timezone.now())
        clock.shift(5)
        recovery.sweep_once(timezone.now())
    finally:
        alerting.evaluate = original
    assert len(calls) == 2


def test_an_evaluation_error_does_not_stop_the_sweep(monkeypatch, db):
    def broken(now):
        raise RuntimeError("boom")

    monkeypatch.setattr(alerting, "evaluate", broken)
    assert recovery.sweep_once()["alerts"] == 0


# --- Several sweepers at once ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_evaluations_send_one_alert_and_one_reminder(alice):
    wf = workflow(alice, failing_graph())
    AlertRule.objects.create(
        name="failed",
        kind=AlertKind.RUN_FAILED,
        workflow=wf,
        emails=["ops@example.com"],
        cooldown_s=60,
        created_at=timezone.now(),
    )
    start(wf)
    drive()

    def race(now: datetime) -> list[int]:
        barrier = threading.Barrier(4)
        sent: list[int] = []

        def sweeper() -> None:
            try:
                barrier.wait()
                sent.append(alerting.evaluate(now))
            finally:
                connection.close()

        threads = [threading.Thread(target=sweeper) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        return sent

    now = timezone.now()
    assert sorted(race(now)) == [0, 0, 0, 1]
    assert len(mail.outbox) == 1
    assert sorted(race(now + timedelta(seconds=61))) == [0, 0, 0, 1]
    assert len(mail.outbox) == 2
    assert Alert.objects.get().sends == 2


# --- Webhooks -------------------------------------------------------------------------------


class Hook:
    """A local HTTP server that records POSTs and answers with the queued status codes."""

    def __init__(self, codes: list[int]) -> None:
        self.codes = codes
        self.requests: list[tuple[dict[str, str], bytes]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.requests.append((dict(self.headers), body))
                self.send_response(hook.codes.pop(0) if hook.codes else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/alerts?token=abc"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook():
    servers: list[Hook] = []

    def make(codes: list[int]) -> Hook:
        servers.append(Hook(codes))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def test_a_webhook_is_signed_and_retried_with_backoff_until_it_succeeds(
    alice, clock, evaluate, hook, settings, caplog
):
    settings.FLOWDECK_ALERT_WEBHOOK_BACKOFF_S = 10
    server = hook([500, 503, 200])
    wf = workflow(alice, failing_graph())
    rule(
        wf,
        AlertKind.RUN_FAILED,
        emails=[],
        webhook_url=server.url,
        webhook_secret="s3cret-value",
    )
    run = start(wf)
    drive()

    assert evaluate() == 1
    alert = Alert.objects.get()
    assert (alert.webhook_status, alert.webhook_attempts) == (Delivery.RETRYING, 1)
    assert alert.webhook_next_at == timezone.now() + timedelta(seconds=10)
    assert alert.email_status == Delivery.NONE and not mail.outbox

    clock.shift(9)
    assert alerting.redeliver(timezone.now()) == 0
    clock.shift(1)
    assert alerting.redeliver(timezone.now()) == 1
    alert.refresh_from_db()
    assert (alert.webhook_status, alert.webhook_attempts, alert.webhook_response) == (
        Delivery.RETRYING,
        2,
        503,
    )
    assert alert.webhook_next_at == timezone.now() + timedelta(seconds=20)  # doubled

    clock.shift(20)
    assert alerting.redeliver(timezone.now()) == 1
    alert.refresh_from_db()
    assert (alert.webhook_status, alert.webhook_attempts, alert.webhook_response) == (
        Delivery.SENT,
        3,
        200,
    )
    assert alerting.redeliver(timezone.now() + timedelta(days=1)) == 0

    assert len(server.requests) == 3
    headers, body = server.requests[-1]
    expected = hmac.new(b"s3cret-value", body, hashlib.sha256).hexdigest()
    assert headers["X-Flowdeck-Signature"] == f"sha256={expected}"
    sent = json.loads(body)
    assert sent["key"] == f"run:{run.pk}" and sent["rule"]["kind"] == "run_failed"
    assert "s3cret-value" not in caplog.text and "token=abc" not in caplog.text


def test_a_webhook_gives_up_after_its_attempts(alice, clock, evaluate, hook, settings):
    settings.FLOWDECK_ALERT_WEBHOOK_ATTEMPTS = 2
    settings.FLOWDECK_ALERT_WEBHOOK_BACKOFF_S = 1
    server = hook([500, 500, 500])
    wf = workflow(alice, failing_graph())
    rule(wf, AlertKind.RUN_FAILED, emails=["ops@example.com"], webhook_url=server.url)
    start(wf)
    drive()
    assert evaluate() == 1
    clock.shift(1)
    assert alerting.redeliver(timezone.now()) == 1
    clock.shift(100)
    assert alerting.redeliver(timezone.now()) == 0
    alert = Alert.objects.get()
    assert (alert.webhook_status, alert.webhook_attempts) == (Delivery.FAILED, 2)
    assert alert.email_status == Delivery.SENT and len(mail.outbox) == 1
    assert "X-Flowdeck-Signature" not in server.requests[0][0]  # no secret, no signature


def test_an_unreachable_webhook_is_recorded_as_retrying(alice, clock, evaluate):
    wf = workflow(alice, failing_graph())
    rule(wf, AlertKind.RUN_FAILED, emails=[], webhook_url="http://127.0.0.1:9/nothing")
    start(wf)
    drive()
    assert evaluate() == 1
    alert = Alert.objects.get()
    assert alert.webhook_status == Delivery.RETRYING
    assert "ConnectError" in alert.webhook_error


def test_a_delivery_whose_task_was_lost_is_sent_once_its_lease_runs_out(
    alice, clock, evaluate, hook, broker
):
    server = hook([200])
    wf = workflow(alice, failing_graph())
    rule(wf, AlertKind.RUN_FAILED, emails=["ops@example.com"], webhook_url=server.url)
    start(wf)
    drive()
    broker.lose = True  # the broker forgets the task, or its worker is killed mid-send
    assert evaluate() == 1
    alert = Alert.objects.get()
    assert (alert.email_status, alert.webhook_status) == (Delivery.PENDING, Delivery.PENDING)
    assert not server.requests and not mail.outbox

    broker.lose = False
    clock.shift(alerting.delivery_lease().total_seconds() - 1)
    assert alerting.redeliver(timezone.now()) == 0  # its lease still holds
    clock.shift(1)
    assert alerting.redeliver(timezone.now()) == 1
    assert alerting.redeliver(timezone.now()) == 0  # sent: nothing more is due
    alert.refresh_from_db()
    assert (alert.email_status, alert.webhook_status) == (Delivery.SENT, Delivery.SENT)
    assert len(server.requests) == 1 and len(mail.outbox) == 1
    assert broker.deliveries == [alert.pk, alert.pk]


def test_deliveries_go_through_the_queue_not_the_sweep(alice, clock, evaluate, broker):
    wf = workflow(alice, failing_graph())
    rule(wf, AlertKind.RUN_FAILED, emails=["ops@example.com"])
    start(wf)
    drive()
    broker.lose = True
    assert evaluate() == 1
    # Evaluating only enqueued the delivery: the sweep never waits for a mail server.
    assert broker.deliveries == [Alert.objects.get().pk] and not mail.outbox


def test_a_webhook_to_a_refused_address_fails_at_once_and_sends_nothing(
    alice, clock, evaluate, hook, settings
):
    settings.FLOWDECK_HTTP_ALLOW_NETWORKS = []
    server = hook([200])
    wf = workflow(alice, failing_graph())
    # A host name resolving to loopback: refused when sending, before any connection.
    rule(
        wf,
        AlertKind.RUN_FAILED,
        emails=[],
        webhook_url=server.url.replace("127.0.0.1", "localhost"),
    )
    start(wf)
    drive()
    assert evaluate() == 1
    alert = Alert.objects.get()
    assert (alert.webhook_status, alert.webhook_attempts) == (Delivery.FAILED, 1)
    assert "loopback" in alert.webhook_error
    assert server.requests == []
    clock.shift(3600)
    assert alerting.redeliver(timezone.now()) == 0  # refused for good: no retries
