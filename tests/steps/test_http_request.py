"""http.request: calls an HTTP service through the outbound-address guard and outputs
``{status, headers, body}`` (CONTRACT §3). The service is a real server on 127.0.0.1 in a
thread (tests/http_server.py); the tests allow 127.0.0.1/32 explicitly, as a deployment
would allow an internal network."""

import base64
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import time_machine
from django.utils import timezone

from connectors.credentials import (
    do_create_credential,
    do_grant_credential,
    do_revoke_credential,
)
from designer.models import Role
from engine.models import Run
from engine.steps.base import StepContext, StepError
from engine.steps.http import parse_retry_after, request_timeout
from engine.transitions import MAX_RETRY_AFTER_S, retry_after
from tests.engine_kit import build, drive, event_types, start, steps, workflow
from tests.helpers import wait_until
from tests.http_server import ConnectSpy, LocalServer, Reply

LOCAL = ["127.0.0.1/32"]
SECRET = "s3cr3t-7f1e2d9c4b"


@pytest.fixture
def server(settings):
    settings.FLOWDECK_HTTP_ALLOW_NETWORKS = LOCAL
    with LocalServer() as running:
        yield running


def call(url: str, retry: dict | None = None, **config) -> dict:
    """A graph ``start > call``, where ``call`` is an http.request to ``url``."""
    node = {"type": "http.request", "config": {"url": url, **config}}
    if retry:
        node["retry"] = retry
    return build({"start": ("trigger.manual",), "call": node}, ["start>call"])


def run_once(owner, graph: dict, input: dict | None = None) -> Run:
    run = start(workflow(owner, graph), input or {})
    drive()
    run.refresh_from_db()
    return run


# --- The request and the output ------------------------------------------------------------------


def test_a_get_outputs_status_headers_and_the_parsed_json_body(alice, server):
    server.reply("/invoices", Reply(200, {"items": [1, 2]}, headers={"X-Total": "2"}))
    graph = call(server.url("/invoices?sort=due"), query={"page": "{{ input.page }}"})

    run = run_once(alice, graph, {"page": 3})

    step = steps(run)["call"]
    assert step.status == "succeeded", step.error
    assert step.output["status"] == 200
    assert step.output["body"] == {"items": [1, 2]}
    assert step.output["headers"]["x-total"] == "2"
    assert step.output["headers"]["content-type"] == "application/json"
    seen = server.requests[0]
    assert (seen.method, seen.path) == ("GET", "/invoices")
    assert seen.query == {"sort": ["due"], "page": ["3"]}
    assert seen.headers["idempotency-key"] == f"{run.pk}:call:1"
    assert seen.headers["user-agent"] == "Flowdeck"


@pytest.mark.parametrize(
    ("body_type", "body", "content_type", "sent"),
    [
        ("json", {"amount": "{{ input.amount }}"}, "application/json", b'{"amount": 5}'),
        (
            "form",
            {"a": "1", "b": "{{ input.amount }}"},
            "application/x-www-form-urlencoded",
            b"a=1&b=5",
        ),
        ("raw", "a,b\n1,{{ input.amount }}", "text/plain; charset=utf-8", b"a,b\n1,5"),
    ],
)
def test_the_body_is_sent_as_its_body_type_says(alice, server, body_type, body, content_type, sent):
    graph = call(server.url("/pay"), method="POST", body=body, body_type=body_type)

    run = run_once(alice, graph, {"amount": 5})

    assert steps(run)["call"].status == "succeeded"
    seen = server.requests[0]
    assert seen.method == "POST"
    assert seen.headers["content-type"] == content_type
    assert seen.body == sent


def test_a_user_supplied_idempotency_key_wins(alice, server):
    graph = call(server.url("/pay"), headers={"idempotency-key": "order-{{ input.id }}"})

    run_once(alice, graph, {"id": "A-1"})

    assert server.requests[0].headers["idempotency-key"] == "order-A-1"


@pytest.mark.parametrize(
    ("response_type", "reply", "body"),
    [
        ("auto", Reply(200, "plain words"), "plain words"),
        ("auto", Reply(200, b'{"a": 1}', {"Content-Type": "application/problem+json"}), {"a": 1}),
        ("auto", Reply(200, b"not json", {"Content-Type": "application/json"}), "not json"),
        ("text", Reply(200, {"a": 1}), '{"a": 1}'),
        ("json", Reply(200, b'{"a": 1}', {"Content-Type": "text/plain"}), {"a": 1}),
        ("json", Reply(204), None),
    ],
)
def test_the_response_type_decides_how_the_body_is_read(alice, server, response_type, reply, body):
    server.reply("/r", reply)

    run = run_once(alice, call(server.url("/r"), response_type=response_type))

    assert steps(run)["call"].output["body"] == body


def test_json_that_is_not_json_fails_when_json_was_required(alice, server):
    server.reply("/r", Reply(200, "<html>oops</html>"))
    graph = call(server.url("/r"), response_type="json", retry={"max_attempts": 3})

    run = run_once(alice, graph)

    step = steps(run)["call"]
    assert (step.status, step.attempt) == ("failed", 1)
    assert step.error["code"] == "invalid_json"


def test_an_expected_status_outside_2xx_is_a_success(alice, server):
    server.reply("/missing", Reply(404, {"found": False}))

    run = run_once(alice, call(server.url("/missing"), expected_status=[404]))

    step = steps(run)["call"]
    assert step.status == "succeeded"
    assert step.output["status"] == 404


def test_a_redirect_is_returned_as_it_is_unless_followed(alice, server):
    server.reply("/old", Reply(302, headers={"Location": "/new"}))
    server.reply("/new", Reply(200, {"here": True}))

    kept = run_once(alice, call(server.url("/old"), expected_status=[302]))
    followed = run_once(alice, call(server.url("/old"), follow_redirects=True))

    assert steps(kept)["call"].output["headers"]["location"] == "/new"
    assert steps(followed)["call"].output == {
        "status": 200,
        "headers": steps(followed)["call"].output["headers"],
        "body": {"here": True},
    }
    assert [r.path for r in server.requests] == ["/old", "/old", "/new"]


@pytest.mark.parametrize("url", ["ftp://files.example.com/x", "http:///no-host", "not a url"])
def test_a_bad_url_fails_permanently(alice, url):
    graph = call("{{ input.url }}", retry={"max_attempts": 3})

    run = run_once(alice, graph, {"url": url})

    step = steps(run)["call"]
    assert (step.status, step.attempt) == ("failed", 1)
    assert step.error["code"] == "invalid_url"


@pytest.mark.parametrize(
    ("config", "input"),
    [
        ({"headers": {"X-Note": "{{ input.v }}"}}, {"v": "two\r\nX-Evil: 1"}),
        ({"headers": {"X-Note": "{{ input.v }}"}}, {"v": "café"}),
        ({"headers": {"X-Note": "{{ input.v }}"}}, {"v": {"nested": 1}}),
        ({"query": "{{ input.v }}"}, {"v": [1, 2]}),
        ({"body_type": "form", "body": "{{ input.v }}"}, {"v": [1, 2]}),
    ],
    ids=["line-break", "non-ascii", "object-header", "list-query", "list-form"],
)
def test_config_that_cannot_go_on_the_wire_fails_permanently_without_calling(
    alice, server, config, input
):
    graph = call(server.url("/x"), retry={"max_attempts": 3}, **config)

    run = run_once(alice, graph, input)

    step = steps(run)["call"]
    assert (step.status, step.attempt) == ("failed", 1)
    assert step.error["code"] == "invalid_config"
    assert server.connections == 0


# --- Failures and retries ------------------------------------------------------------------------


def test_a_503_is_retried_with_a_new_idempotency_key_then_succeeds(alice, server):
    server.reply("/pay", Reply(503, "busy"), Reply(200, {"paid": True}))
    graph = call(server.url("/pay"), retry={"max_attempts": 3, "backoff_s": 1, "jitter": False})
    with time_machine.travel(timezone.now(), tick=False) as clock:
        run = start(workflow(alice, graph))
        drive(timezone.now())
        step = steps(run)["call"]
        assert (step.status, step.error["status"], step.error["retryable"]) == (
            "retrying",
            503,
            True,
        )

        clock.shift(2)
        drive(timezone.now())

    step = steps(run)["call"]
    assert (step.status, step.attempt) == ("succeeded", 2)
    assert step.output["body"] == {"paid": True}
    keys = [r.headers["idempotency-key"] for r in server.requests]
    assert keys == [f"{run.pk}:call:1", f"{run.pk}:call:2"]


def test_a_404_fails_at_once_with_the_status_and_an_excerpt(alice, server):
    server.reply("/invoices/9", Reply(404, "no such invoice"))
    graph = call(server.url("/invoices/9"), retry={"max_attempts": 3, "backoff_s": 0})

    run = run_once(alice, graph)

    step = steps(run)["call"]
    assert (step.status, step.attempt) == ("failed", 1)
    assert step.error == {
        "message": f"GET {server.url('/invoices/9')} answered 404 Not Found: no such invoice",
        "code": "http_status",
        "retryable": False,
        "status": 404,
        "body": "no such invoice",
    }
    assert len(server.requests) == 1
    assert run.status == "failed"


@pytest.mark.parametrize(("status", "retryable"), [(500, True), (408, True), (400, False)])
def test_server_trouble_and_request_timeouts_are_retryable_client_errors_are_not(
    alice, server, status, retryable
):
    server.reply("/x", Reply(status, "nope"))

    run = run_once(alice, call(server.url("/x")))

    assert steps(run)["call"].error["retryable"] is retryable


def test_a_429_with_retry_after_seconds_waits_at_least_that_long(alice, server):
    server.reply("/api", Reply(429, "slow down", {"Retry-After": "120"}), Reply(200, {"ok": 1}))
    graph = call(server.url("/api"), retry={"max_attempts": 2, "backoff_s": 1, "jitter": False})
    t0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
    with time_machine.travel(t0, tick=False) as clock:
        run = start(workflow(alice, graph))
        drive(timezone.now())
        step = steps(run)["call"]
        assert step.status == "retrying"
        assert step.error["retry_after_s"] == 120
        assert step.wake_at == t0 + timedelta(seconds=120)  # not the 1 s backoff

        clock.shift(119)
        drive(timezone.now())
        assert steps(run)["call"].status == "retrying"
        assert len(server.requests) == 1

        clock.shift(1)
        drive(timezone.now())

    assert steps(run)["call"].status == "succeeded"
    assert len(server.requests) == 2


def test_a_503_with_a_retry_after_date_waits_until_that_date(alice, server):
    t0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
    later = format_datetime(t0 + timedelta(minutes=5), usegmt=True)
    server.reply("/api", Reply(503, "maintenance", {"Retry-After": later}))
    graph = call(server.url("/api"), retry={"max_attempts": 2, "backoff_s": 1, "jitter": False})
    with time_machine.travel(t0, tick=False):
        run = start(workflow(alice, graph))
        drive(timezone.now())

    assert steps(run)["call"].wake_at == t0 + timedelta(minutes=5)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        ("0", 0.0),
        ("Tue, 01 Jan 2030 09:00:30 GMT", 30.0),
        ("Mon, 31 Dec 2029 09:00:00 GMT", 0.0),  # in the past
        ("soon", None),
        ("-5", None),
        (None, None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(header, seconds):
    now = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
    assert parse_retry_after(header, now=now) == seconds


def test_a_far_retry_after_is_capped_and_junk_is_ignored():
    assert retry_after({"retry_after_s": 10**9}) == MAX_RETRY_AFTER_S == 3600
    assert retry_after({"retry_after_s": 30}) == 30
    assert retry_after({"retry_after_s": True}) == 0
    assert retry_after({"retry_after_s": "30"}) == 0
    assert retry_after({}) == 0


def test_a_service_that_does_not_answer_in_time_fails_as_a_retryable_timeout(
    alice, server, settings
):
    settings.FLOWDECK_HTTP_TIMEOUT_S = 0.3
    server.reply("/slow", Reply(action="hang"))

    run = run_once(alice, call(server.url("/slow")))

    step = steps(run)["call"]
    assert step.status == "failed"
    assert step.error["code"] == "request_timeout"
    assert step.error["retryable"] is True
    assert "did not answer within 0.3 s" in step.error["message"]


def test_the_request_timeout_never_runs_past_the_nodes_timeout(settings):
    settings.FLOWDECK_HTTP_TIMEOUT_S = 30
    now = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)

    def ctx(deadline):
        return StepContext(
            run_id=1, node_id="call", attempt=1, config={}, scope={}, deadline_at=deadline
        )

    assert request_timeout(ctx(None), now=now) == 30
    assert request_timeout(ctx(now + timedelta(seconds=4)), now=now) == 4
    assert request_timeout(ctx(now + timedelta(minutes=5)), now=now) == 30
    with pytest.raises(StepError) as late:
        request_timeout(ctx(now - timedelta(seconds=1)), now=now)
    assert late.value.code == "request_timeout"


def test_a_response_announced_over_the_limit_fails_permanently(alice, server):
    server.reply("/big", Reply(200, b"x" * 5000))
    graph = call(server.url("/big"), max_response_bytes=1000, retry={"max_attempts": 3})

    run = run_once(alice, graph)

    step = steps(run)["call"]
    assert (step.status, step.attempt) == ("failed", 1)
    assert step.error["code"] == "response_too_large"
    assert step.error["retryable"] is False


def test_an_endless_response_is_cut_off_once_over_the_limit(alice, server):
    size = 64 * 1024 * 1024
    server.reply("/stream", Reply(action="stream", size=size))

    run = run_once(alice, call(server.url("/stream"), max_response_bytes=100_000))

    step = steps(run)["call"]
    assert step.error["code"] == "response_too_large"
    assert server.sent < size  # the step stopped reading; the server could not send it all


def test_a_failing_service_with_a_big_page_is_still_a_status_error(alice, server):
    server.reply("/x", Reply(502, b"<html>" + b"x" * 50_000))

    run = run_once(alice, call(server.url("/x"), max_response_bytes=1000))

    error = steps(run)["call"].error
    assert (error["code"], error["status"], error["retryable"]) == ("http_status", 502, True)
    assert len(error["body"]) == 1000


def test_a_dropped_connection_is_tried_again_within_the_attempt_with_the_same_key(alice, server):
    server.reply("/pay", Reply(action="drop"), Reply(200, {"paid": True}))

    run = run_once(alice, call(server.url("/pay"), method="POST", body={"amount": 5}))

    step = steps(run)["call"]
    assert (step.status, step.attempt) == ("succeeded", 1)
    keys = [r.headers["idempotency-key"] for r in server.requests]
    assert keys == [f"{run.pk}:call:1"] * 2
    assert [r.json() for r in server.requests] == [{"amount": 5}] * 2
    assert server.connections == 2


def test_a_connection_that_keeps_dropping_fails_as_a_retryable_network_error(alice, server):
    server.reply("/pay", Reply(action="drop"))

    run = run_once(alice, call(server.url("/pay")))

    step = steps(run)["call"]
    assert step.error["code"] == "network_error"
    assert step.error["retryable"] is True
    assert len(server.requests) == 3  # the first try and two quick ones
    assert {r.headers["idempotency-key"] for r in server.requests} == {f"{run.pk}:call:1"}


# --- The guard -----------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_local_service_is_refused_unless_allowed_and_sees_no_connection(
    alice, server, settings, host
):
    settings.FLOWDECK_HTTP_ALLOW_NETWORKS = []
    graph = call(server.url("/admin", host=host), retry={"max_attempts": 3})

    run = run_once(alice, graph)

    step = steps(run)["call"]
    assert (step.status, step.attempt) == ("failed", 1)
    assert step.error["code"] == "address_refused"
    assert step.error["retryable"] is False
    assert step.error["message"].startswith(f"{host} ")
    assert "loopback" in step.error["message"]
    assert server.connections == 0


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("http://10.0.0.1/internal", "10.0.0.1"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
    ],
)
def test_private_and_metadata_addresses_are_refused_before_connecting(
    alice, server, monkeypatch, url, address
):
    spy = ConnectSpy(monkeypatch)

    run = run_once(alice, call(url))

    assert steps(run)["call"].error["code"] == "address_refused"
    assert address not in spy.addresses


def test_a_redirect_to_a_refused_address_is_refused(alice, server):
    with LocalServer("127.0.0.2") as inside:
        server.reply("/go", Reply(302, headers={"Location": inside.url("/admin")}))

        run = run_once(alice, call(server.url("/go"), follow_redirects=True))

        error = steps(run)["call"].error
        assert error["code"] == "address_refused"
        assert error["message"].startswith("127.0.0.2 is a loopback address")
        assert inside.connections == 0


# --- Credentials (committed, so the step's thread can open them) ---------------------------------

KINDS = {
    "bearer": ("http_bearer", {"token": SECRET}),
    "basic": ("http_basic", {"username": "svc", "password": SECRET}),
    "header": ("http_header", {"header": "X-Api-Token", "value": SECRET}),
    "api_key_header": ("api_key", {"name": "X-Key", "in": "header", "value": SECRET}),
    "api_key_query": ("api_key", {"name": "key", "in": "query", "value": SECRET}),
}
BASIC_WIRE = base64.b64encode(f"svc:{SECRET}".encode()).decode()


def sent_credential(seen, kind: str) -> str | None:
    return {
        "bearer": seen.headers.get("authorization"),
        "basic": seen.headers.get("authorization"),
        "header": seen.headers.get("x-api-token"),
        "api_key_header": seen.headers.get("x-key"),
        "api_key_query": (seen.query.get("key") or [None])[0],
    }[kind]


EXPECTED_ON_THE_WIRE = {
    "bearer": f"Bearer {SECRET}",
    "basic": f"Basic {BASIC_WIRE}",
    "header": SECRET,
    "api_key_header": SECRET,
    "api_key_query": SECRET,
}


def assert_no_secret_in(run: Run) -> None:
    step = steps(run)["call"]
    recorded = json.dumps([step.input, step.output, step.error, run.output, run.error])
    events = json.dumps([e.data for e in run.events.all()])
    for text in (recorded, events):
        assert SECRET not in text
        assert BASIC_WIRE not in text


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("status", [200, 401])
def test_each_credential_kind_is_sent_and_its_secret_is_never_recorded(alice, server, kind, status):
    credential_kind, data = KINDS[kind]
    do_create_credential(actor=alice, name="svc", kind=credential_kind, data=data)
    # The service echoes the request back: the secret comes back in the response.
    server.reply("/me", Reply(status, action="echo"))

    run = run_once(alice, call(server.url("/me"), credential="svc"))

    assert sent_credential(server.requests[0], kind) == EXPECTED_ON_THE_WIRE[kind]
    step = steps(run)["call"]
    assert step.status == ("succeeded" if status == 200 else "failed")
    assert step.input["credential"] == "svc"
    assert "***" in json.dumps(step.output if status == 200 else step.error)
    assert_no_secret_in(run)


@pytest.mark.django_db(transaction=True)
def test_the_credential_wins_over_a_header_of_the_same_name(alice, server):
    do_create_credential(actor=alice, name="svc", kind="http_bearer", data={"token": SECRET})
    graph = call(server.url("/me"), credential="svc", headers={"Authorization": "Bearer guess"})

    run_once(alice, graph)

    assert server.requests[0].headers["authorization"] == f"Bearer {SECRET}"


@pytest.mark.django_db(transaction=True)
def test_a_redirect_to_another_host_does_not_carry_the_credential(alice, server, settings):
    settings.FLOWDECK_HTTP_ALLOW_NETWORKS = ["127.0.0.0/8"]
    do_create_credential(
        actor=alice, name="svc", kind="http_header", data={"header": "X-Api-Token", "value": SECRET}
    )
    with LocalServer("127.0.0.2") as elsewhere:
        server.reply("/same", Reply(307, headers={"Location": "/there"}))
        server.reply("/away", Reply(307, headers={"Location": elsewhere.url("/there")}))

        run_once(alice, call(server.url("/same"), credential="svc", follow_redirects=True))
        run_once(alice, call(server.url("/away"), credential="svc", follow_redirects=True))

        there = [r for r in server.requests if r.path == "/there"]
        assert there[0].headers["x-api-token"] == SECRET  # same origin keeps it
        assert "x-api-token" not in elsewhere.requests[0].headers


@pytest.mark.django_db(transaction=True)
def test_a_credential_whose_grant_was_revoked_fails_the_step_without_calling(alice, bob, server):
    bobs = do_create_credential(actor=bob, name="bobs", kind="http_bearer", data={"token": SECRET})
    grant = do_grant_credential(actor=bob, credential=bobs, role=Role.RUNNER, user=alice)
    wf = workflow(alice, call(server.url("/me"), credential="bobs"))
    do_revoke_credential(actor=bob, grant=grant)

    run = start(wf)
    drive()

    step = steps(run)["call"]
    assert step.error["code"] == "credential_unavailable"
    assert step.error["retryable"] is False
    assert server.connections == 0


# --- Through real workers (last: the module's workers run until the module ends) -----------------


@pytest.fixture(scope="module")
def workers(local_http_workers):
    return local_http_workers


@pytest.mark.django_db(transaction=True)
def test_a_run_on_real_workers_calls_the_service_and_uses_the_answer_downstream(
    workers, alice, server
):
    do_create_credential(actor=alice, name="payments", kind="http_bearer", data={"token": SECRET})
    server.reply("/pay", Reply(503, "warming up"), Reply(201, {"payment": "P-17"}))
    graph = build(
        {
            "start": ("trigger.manual",),
            "call": {
                "type": "http.request",
                "config": {
                    "method": "POST",
                    "url": server.url("/pay"),
                    "body": {"invoice": "{{ input.invoice }}"},
                    "credential": "payments",
                },
                "retry": {"max_attempts": 3, "backoff_s": 0},
            },
            "shape": ("data.transform", {"value": "{{ steps.call.output.body.payment }}"}),
        },
        ["start>call", "call>shape"],
        output={"payment": "{{ steps.shape.output }}", "status": "{{ steps.call.output.status }}"},
    )

    run = start(workflow(alice, graph), {"invoice": "INV-7"})

    def ended():
        run.refresh_from_db()
        return run.is_terminal

    wait_until(ended, timeout=60, what="the run to end")
    assert run.status == "succeeded", workers.log()
    assert run.output == {"payment": "P-17", "status": 201}
    assert [r.json() for r in server.requests] == [{"invoice": "INV-7"}] * 2
    assert [r.headers["authorization"] for r in server.requests] == [f"Bearer {SECRET}"] * 2
    assert [r.headers["idempotency-key"] for r in server.requests] == [
        f"{run.pk}:call:1",
        f"{run.pk}:call:2",
    ]
    assert "step.retrying:call" in event_types(run)
    assert_no_secret_in(run)
