"""Circuit breakers (engine/breakers.py): the state machine's compare-and-sets, the sliding
window, the single half-open probe, what counts as a failure for http.request (a real server on
127.0.0.1) and code.function, the retry that waits for the half-open time, the config's
validation, the API (list, close, permissions, audit), /metrics and the breaker_open alert."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.admin.models import LogEntry
from django.utils import timezone

from alerts.evaluate import evaluate
from alerts.models import Alert, AlertKind, AlertRule
from connectors.credentials import do_create_credential, do_grant_credential
from designer.models import Role
from designer.validation import validate_graph
from engine import breakers
from engine.breakers import Thresholds, guard, report
from engine.metrics import collector
from engine.models import BreakerScope, BreakerState, CircuitBreaker
from engine.steps.base import StepError
from tests.engine_kit import build, drive, start, steps, workflow
from tests.http_server import LocalServer, Reply

pytestmark = pytest.mark.django_db
# A blocking step runs in a thread with a connection of its own, which writes the breaker's row:
# it must see committed rows and must not wait for the test's transaction (SQLite's lock).
THREADED = pytest.mark.django_db(transaction=True)

LOCAL = ["127.0.0.1/32"]
T3 = Thresholds(failures=3, window_s=60, open_s=30)
BREAKER = {"failures": 3, "window_s": 60, "open_s": 30}


@pytest.fixture
def server(settings):
    settings.FLOWDECK_HTTP_ALLOW_NETWORKS = LOCAL
    with LocalServer() as running:
        yield running


def fail(target: str = "pay", thresholds: Thresholds = T3) -> None:
    report(guard(BreakerScope.FUNCTION, target, thresholds), "failure", {"code": "x"})


def row(target: str = "pay") -> CircuitBreaker:
    return CircuitBreaker.objects.get(key=f"function:{target}")


# --- The state machine ----------------------------------------------------------------------------


def test_no_config_means_no_breaker_and_no_row():
    assert guard(BreakerScope.FUNCTION, "pay", None) is None
    assert Thresholds.of({}) is None and Thresholds.of({"circuit_breaker": {}}) is None
    assert Thresholds.of({"circuit_breaker": {"failures": 2}}) == Thresholds(2, 60, 30)
    report(None, "failure")
    assert not CircuitBreaker.objects.exists()


def test_n_failures_within_the_window_open_it_and_calls_then_fail_fast():
    fail()
    fail()
    assert row().state == BreakerState.CLOSED and row().failures == 2
    fail()
    opened = row()
    assert opened.state == BreakerState.OPEN and opened.opens_total == 1
    with pytest.raises(StepError) as caught:
        guard(BreakerScope.FUNCTION, "pay", T3)
    error = caught.value.as_dict()
    assert error["code"] == "circuit_open" and error["retryable"] is True
    assert 29 < error["retry_after_s"] <= 30


def test_failures_older_than_the_window_do_not_count():
    with time_machine.travel(timezone.now(), tick=False) as clock:
        fail()
        fail()
        clock.shift(61)
        fail()
        assert row().state == BreakerState.CLOSED and row().failures == 1
        fail()
        fail()
        assert row().state == BreakerState.OPEN


def test_successes_do_not_wipe_failures_inside_the_window():
    fail()
    report(guard(BreakerScope.FUNCTION, "pay", T3), "success")
    fail()
    fail()
    assert row().state == BreakerState.OPEN


def test_half_open_lets_exactly_one_probe_through_and_its_success_closes_it():
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(3):
            fail()
        clock.shift(31)
        probe = guard(BreakerScope.FUNCTION, "pay", T3)
        assert probe.probe and row().state == BreakerState.HALF_OPEN
        for _ in range(3):  # others fail fast while the probe is out
            with pytest.raises(StepError, match="half-open"):
                guard(BreakerScope.FUNCTION, "pay", T3)
        report(probe, "success")
        assert row().state == BreakerState.CLOSED and row().failures == 0
        assert guard(BreakerScope.FUNCTION, "pay", T3).probe is False


def test_a_failed_probe_reopens_it_for_open_s():
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(3):
            fail()
        clock.shift(31)
        probe = guard(BreakerScope.FUNCTION, "pay", T3)
        report(probe, "failure", {"code": "timeout"})
        reopened = row()
        assert reopened.state == BreakerState.OPEN and reopened.opens_total == 2
        assert reopened.retry_at == timezone.now() + timedelta(seconds=30)


def test_a_lost_probe_lets_another_probe_go_after_open_s():
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(3):
            fail()
        clock.shift(31)
        lost = guard(BreakerScope.FUNCTION, "pay", T3)
        clock.shift(31)  # its worker died: it never reports
        second = guard(BreakerScope.FUNCTION, "pay", T3)
        assert second.probe and second.version > lost.version
        report(lost, "success")  # a late report of the lost probe changes nothing
        assert row().state == BreakerState.HALF_OPEN
        report(second, "success")
        assert row().state == BreakerState.CLOSED


def test_a_late_failure_while_half_open_is_counted_and_the_probe_still_closes_it():
    with time_machine.travel(timezone.now(), tick=False) as clock:
        early = guard(BreakerScope.FUNCTION, "pay", T3)  # left before the breaker opened
        for _ in range(3):
            fail()
        clock.shift(31)
        probe = guard(BreakerScope.FUNCTION, "pay", T3)
        report(early, "failure", {"code": "timeout"})
        assert row().failures_total == 4 and row().state == BreakerState.HALF_OPEN
        report(probe, "success")
        assert row().state == BreakerState.CLOSED


def test_the_compare_and_set_refuses_a_stale_version():
    fail()
    stale = row()
    fail()  # another worker moved the row on
    assert breakers._cas(stale, recent=[]) == 0
    assert row().failures == 2


def test_two_probes_racing_for_half_open_one_wins():
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(3):
            fail()
        clock.shift(31)
        seen = row()  # both workers read the open row
        won = breakers._cas(seen, state=BreakerState.HALF_OPEN)
        lost = breakers._cas(seen, state=BreakerState.HALF_OPEN)
        assert (won, lost) == (1, 0)


# --- http.request ---------------------------------------------------------------------------------


def call(url: str, retry: dict | None = None, **config) -> dict:
    node = {"type": "http.request", "config": {"url": url, "circuit_breaker": BREAKER, **config}}
    if retry:
        node["retry"] = retry
    return build({"start": ("trigger.manual",), "call": node}, ["start>call"])


def run_once(owner, graph: dict):
    run = start(workflow(owner, graph))
    drive()
    return steps(run)["call"]


@THREADED
def test_5xx_opens_an_http_breaker_per_host_and_then_no_request_is_sent(alice, server):
    server.reply("/pay", Reply(503, {"down": True}))
    graph = call(server.url("/pay"))
    for _ in range(3):
        assert run_once(alice, graph).error["code"] == "http_status"
    assert len(server.requests) == 3
    breaker = CircuitBreaker.objects.get()
    assert breaker.key == f"host:127.0.0.1:{server.port}" and breaker.state == BreakerState.OPEN

    step = run_once(alice, graph)
    assert step.error["code"] == "circuit_open" and step.error["retryable"] is True
    assert len(server.requests) == 3  # failed at once: the service saw nothing


@THREADED
def test_4xx_does_not_count(alice, server):
    server.reply("/pay", Reply(404))
    graph = call(server.url("/pay"))
    for _ in range(4):
        assert run_once(alice, graph).error["code"] == "http_status"
    assert len(server.requests) == 4
    assert not CircuitBreaker.objects.exclude(state=BreakerState.CLOSED).exists()


@THREADED
def test_connection_errors_and_timeouts_count(alice, server, settings):
    settings.FLOWDECK_HTTP_TIMEOUT_S = 0.3
    server.reply("/slow", Reply(action="hang"))
    graph = call(server.url("/slow"))
    assert run_once(alice, graph).error["code"] == "request_timeout"
    dead = call("http://127.0.0.1:9/")  # nothing listens on the discard port
    assert run_once(alice, dead).error["code"] == "network_error"
    keys = dict(CircuitBreaker.objects.values_list("key", "failures_total"))
    assert keys == {f"host:127.0.0.1:{server.port}": 1, "host:127.0.0.1:9": 1}


@THREADED
def test_a_step_with_a_credential_has_the_credentials_breaker(alice, server):
    do_create_credential(
        actor=alice, name="payments", kind="http_bearer", data={"token": "t0ken-abcdef"}
    )
    server.reply("/pay", Reply(500))
    graph = call(server.url("/pay"), credential="payments")
    run_once(alice, graph)
    assert CircuitBreaker.objects.get().key == "credential:payments"


@THREADED
def test_the_retry_waits_for_the_half_open_time(alice, server):
    server.reply("/pay", Reply(503), Reply(503), Reply(503), Reply(200, {"paid": True}))
    retry = {"max_attempts": 10, "backoff_s": 1, "backoff_factor": 1, "jitter": False}
    now = timezone.now()
    with time_machine.travel(now, tick=False) as clock:
        run = start(workflow(alice, call(server.url("/pay"), retry=retry)))
        for _ in range(3):
            drive()
            clock.shift(1.5)
            drive(timezone.now())
        step = steps(run)["call"]
        assert step.error["code"] == "circuit_open" and step.status == "retrying"
        # The backoff said 1 s; the breaker's half-open time (30 s after it opened) wins.
        opened = CircuitBreaker.objects.get().opened_at
        assert step.wake_at >= opened + timedelta(seconds=30)
        clock.move_to(step.wake_at + timedelta(seconds=0.1))
        drive(timezone.now())
    step = steps(run)["call"]
    assert step.status == "succeeded" and step.output["body"] == {"paid": True}
    assert CircuitBreaker.objects.get().state == BreakerState.CLOSED
    assert len(server.requests) == 4  # three failures and the probe


# --- code.function --------------------------------------------------------------------------------


def fn_graph(**args) -> dict:
    node = {
        "type": "code.function",
        "config": {"function": "examples.flaky", "args": args, "circuit_breaker": BREAKER},
    }
    return build({"start": ("trigger.manual",), "call": node}, ["start>call"])


@THREADED
def test_retryable_function_errors_count_and_permanent_ones_do_not(alice):
    for _ in range(3):
        run_once(alice, fn_graph(fail_times=9, retryable=False))
    assert not CircuitBreaker.objects.exists()  # nothing counted: no row either
    for _ in range(3):
        run_once(alice, fn_graph(fail_times=9, retryable=True))
    breaker = CircuitBreaker.objects.get()
    assert breaker.key == "function:examples.flaky" and breaker.state == BreakerState.OPEN
    assert run_once(alice, fn_graph()).error["code"] == "circuit_open"


# --- Validation -----------------------------------------------------------------------------------


def test_a_bad_breaker_config_names_the_node_and_field():
    graph = call("http://example.com/", circuit_breaker={"failures": 0, "open_s": "x"})
    errors = validate_graph(graph)
    fields = {(e["node"], e["field"]) for e in errors}
    assert ("call", "config.circuit_breaker.failures") in fields
    assert ("call", "config.circuit_breaker.open_s") in fields


# --- The API --------------------------------------------------------------------------------------


def open_breaker(target: str = "payments", scope: str = BreakerScope.CREDENTIAL) -> CircuitBreaker:
    for _ in range(3):
        report(guard(scope, target, T3), "failure", {"code": "http_status", "message": "503"})
    return CircuitBreaker.objects.get(key=f"{scope}:{target}")


def test_anonymous_callers_get_401_or_403(api):
    breaker = open_breaker()
    assert api.get("/api/breakers/").status_code in (401, 403)
    assert api.post(f"/api/breakers/{breaker.pk}/close/").status_code in (401, 403)


def test_staff_list_open_breakers_first_with_counts(api, admin):
    open_breaker()
    report(guard(BreakerScope.HOST, "quiet.example", T3), "failure")
    api.force_authenticate(admin)
    body = api.get("/api/breakers/").json()
    assert [(b["key"], b["state"], b["failures"]) for b in body] == [
        ("credential:payments", "open", 3),
        ("host:quiet.example", "closed", 1),
    ]
    assert body[0]["retry_in_s"] > 0 and body[0]["may_close"] is True
    tripped = api.get("/api/breakers/?tripped=true").json()
    assert [b["key"] for b in tripped] == ["credential:payments"]


def test_a_bad_filter_is_a_400_naming_the_field(api, admin):
    api.force_authenticate(admin)
    response = api.get("/api/breakers/?state=broken")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "state"


def test_others_see_only_their_credentials_breakers_and_close_only_as_editors(
    api, alice, bob, charlie
):
    do_create_credential(actor=alice, name="payments", kind="http_bearer", data={"token": "abcd1"})
    credential = do_create_credential(
        actor=alice, name="ledger", kind="http_bearer", data={"token": "abcd2"}
    )
    do_grant_credential(actor=alice, credential=credential, role=Role.RUNNER, user=bob)
    payments, ledger = open_breaker("payments"), open_breaker("ledger")
    open_breaker("examples.noop", BreakerScope.FUNCTION)

    api.force_authenticate(charlie)
    assert api.get("/api/breakers/").json() == []
    assert api.post(f"/api/breakers/{payments.pk}/close/").status_code == 404

    api.force_authenticate(bob)  # a runner of ledger: sees it, may not close it
    assert [b["key"] for b in api.get("/api/breakers/").json()] == ["credential:ledger"]
    assert api.post(f"/api/breakers/{ledger.pk}/close/").status_code == 403
    assert CircuitBreaker.objects.get(pk=ledger.pk).state == BreakerState.OPEN

    api.force_authenticate(alice)  # the owner
    assert api.post(f"/api/breakers/{payments.pk}/close/").status_code == 200


def test_closing_by_hand_forgets_the_failures_and_is_audited(api, admin):
    breaker = open_breaker()
    api.force_authenticate(admin)
    response = api.post(f"/api/breakers/{breaker.pk}/close/")
    assert response.status_code == 200
    body = response.json()
    assert (body["state"], body["failures"], body["closed_by"]) == ("closed", 0, "admin")
    entry = LogEntry.objects.get(object_id=str(breaker.pk))
    assert entry.user == admin and "by hand (it was open)" in entry.get_change_message()
    assert guard(BreakerScope.CREDENTIAL, "payments", T3).probe is False


def test_a_worker_holding_an_old_version_cannot_undo_a_close(api, admin):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        open_breaker()
        clock.shift(31)
        probe = guard(BreakerScope.CREDENTIAL, "payments", T3)
        api.force_authenticate(admin)
        api.post(f"/api/breakers/{CircuitBreaker.objects.get().pk}/close/")
        report(probe, "failure", {"code": "network_error"})  # the probe failed, too late
    assert CircuitBreaker.objects.get().state == BreakerState.CLOSED


# --- /metrics and alerts --------------------------------------------------------------------------


def test_metrics_export_each_breakers_state_and_counters():
    open_breaker()
    families = {f.name: f for f in collector.collect()}
    states = {
        s.labels["state"]: s.value
        for s in families["flowdeck_breaker_state"].samples
        if s.labels["breaker"] == "credential:payments"
    }
    assert states == {"closed": 0, "open": 1, "half_open": 0}
    [total] = families["flowdeck_breaker_failures"].samples
    assert (total.name, total.value) == ("flowdeck_breaker_failures_total", 3)
    [opens] = families["flowdeck_breaker_opens"].samples
    assert opens.value == 1
    [window] = families["flowdeck_breaker_window_failures"].samples
    assert window.value == 3


def test_a_breaker_open_rule_fires_while_a_breaker_is_open_and_clears_when_it_closes(admin):
    rule = AlertRule.objects.create(
        name="breakers", kind=AlertKind.BREAKER_OPEN, emails=["ops@example.com"], cooldown_s=3600
    )
    breaker = open_breaker()
    now = timezone.now()
    assert evaluate(now) == 1
    alert = Alert.objects.get(rule=rule)
    assert alert.key == f"breaker:{breaker.pk}" and "credential:payments is open" in alert.summary
    breakers.do_close_breaker(breaker.pk, actor=admin)
    evaluate(now + timedelta(seconds=1))
    alert.refresh_from_db()
    assert alert.cleared_at is not None


def test_a_breaker_open_rule_is_global(api, admin, alice):
    wf = workflow(alice, build({"start": ("trigger.manual",)}, []))
    api.force_authenticate(admin)
    response = api.post(
        "/api/alerts/rules/",
        {"name": "b", "kind": "breaker_open", "workflow": wf.pk, "emails": ["a@example.com"]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "workflow"
