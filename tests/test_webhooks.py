"""trigger.webhook: a secret URL per workflow (issued on save, kept across versions, rotatable)
that starts runs from a POSTed body, checked in order: token, rate, size, signature, body,
input_schema; Idempotency-Key, ?wait=, and the API for the people who look after the URL.

Senders are Django's test client (a raw HTTP client: no login, CSRF enforced) or, for chunked
bodies, httpx against a real daphne."""

import hashlib
import hmac
import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from connectors.credentials import do_create_credential
from designer.models import Role, WorkflowGrant
from designer.services import do_save_version, do_set_archived
from engine.models import Run, RunEvent, StepRun
from flowdeck.env import env_rate, parse_rate
from tests.engine_kit import build, drive, steps, workflow
from tests.helpers import free_port, wait_until
from tests.workers import WebServer
from webhooks.models import WebhookEndpoint
from webhooks.services import hash_token, token_of

SECRET = "whsec-7c1e0b9f24d84a6a"
JSON_TYPE = {"Content-Type": "application/json"}
AMOUNT_SCHEMA = {
    "type": "object",
    "required": ["amount"],
    "properties": {"amount": {"type": "number", "minimum": 0}},
}
T0 = datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC)


def hook_graph(config: dict | None = None, **extra) -> dict:
    """start (trigger.webhook) > echo, and the run's output is what echo saw."""
    return build(
        {
            "start": ("trigger.webhook", config or {}),
            "echo": ("data.transform", {"value": "{{ steps.start.output }}"}),
        },
        ["start>echo"],
        output={"got": "{{ steps.echo.output }}"},
        **extra,
    )


def signed_config(**more) -> dict:
    return {"signature": {"secret_credential": "hook-secret", **more}}


@pytest.fixture
def secret(alice):
    return do_create_credential(
        actor=alice, name="hook-secret", kind="secret", data={"value": SECRET}
    )


@pytest.fixture
def sender() -> Client:
    # No session, and CSRF enforced: the webhook must need neither.
    return Client(enforce_csrf_checks=True)


def url_of(wf) -> str:
    return f"/api/hooks/{token_of(WebhookEndpoint.objects.get(workflow=wf))}/"


def post_json(sender: Client, url: str, body, headers: dict | None = None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return sender.post(url, raw, content_type="application/json", headers=headers or {})


def sign(body: bytes, timestamp: int, secret: str = SECRET) -> str:
    """The recipe of docs/connectors/webhooks.md: HMAC-SHA256 over ``<timestamp>.<raw body>``."""
    message = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(body: bytes, timestamp: int | None = None, **more) -> dict:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "X-Flowdeck-Signature": sign(body, timestamp),
        "X-Flowdeck-Timestamp": str(timestamp),
        **more,
    }


def refusal(response) -> tuple[int, str]:
    return response.status_code, response.json()["errors"][0]["code"]


# --- The token ---------------------------------------------------------------------------------


def test_saving_a_webhook_workflow_issues_one_token_kept_across_versions(db, alice):
    wf = workflow(alice, hook_graph())
    endpoint = WebhookEndpoint.objects.get(workflow=wf)
    token = token_of(endpoint)

    do_save_version(
        actor=alice, workflow=wf, graph=hook_graph({"max_body_bytes": 10}), base_version=1
    )

    assert len(token) >= 43  # 32 random bytes, URL-safe base64
    assert WebhookEndpoint.objects.count() == 1
    assert token_of(WebhookEndpoint.objects.get(workflow=wf)) == token
    # Stored as a hash to find it and a sealed copy to show it, never in the clear.
    row = WebhookEndpoint.objects.values().get(workflow=wf)
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(row)


def test_a_workflow_without_a_webhook_trigger_gets_no_token(db, alice):
    workflow(alice, build({"start": ("trigger.manual",)}, []))
    assert not WebhookEndpoint.objects.exists()


def test_a_version_that_adds_a_webhook_trigger_issues_the_token_in_its_save(db, alice):
    wf = workflow(alice, build({"start": ("trigger.manual",)}, []))
    do_save_version(actor=alice, workflow=wf, graph=hook_graph(), base_version=1)
    assert WebhookEndpoint.objects.filter(workflow=wf).exists()


# --- Starting runs -----------------------------------------------------------------------------


def test_a_post_starts_a_run_with_the_body_as_input_and_no_actor(db, alice, sender):
    wf = workflow(alice, hook_graph())
    body = {"order": {"id": 7, "lines": [1, 2]}, "rush": True}

    response = post_json(sender, url_of(wf), body)

    assert response.status_code == 202, response.content
    answer = response.json()
    run = Run.objects.get()
    assert answer == {
        "run_id": run.pk,
        "status": "running",
        "url": f"http://testserver/api/runs/{run.pk}/",
        "duplicate": False,
    }
    assert (run.trigger, run.actor, run.input) == ("webhook", None, body)
    assert response["Cache-Control"] == "no-store"
    drive()
    run.refresh_from_db()
    assert run.status == "succeeded"
    assert steps(run)["start"].output == body
    assert run.output == {"got": body}


def test_an_empty_body_is_an_empty_input(db, alice, sender):
    wf = workflow(alice, hook_graph())
    response = sender.generic("POST", url_of(wf))  # no body, no Content-Type
    assert response.status_code == 202, response.content
    assert Run.objects.get().input == {}


def test_a_form_body_becomes_an_object_with_lists_for_repeated_fields(db, alice, sender):
    wf = workflow(alice, hook_graph())

    response = sender.post(
        url_of(wf),
        "name=Ann+Lee&amount=12.5&tag=a&tag=b",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 202, response.content
    assert Run.objects.get().input == {"name": "Ann Lee", "amount": "12.5", "tag": ["a", "b"]}


@pytest.mark.parametrize(
    ("content_type", "body", "status", "code"),
    [
        ("application/json", b"{not json", 400, "parse_error"),
        ("application/json", b"[1, 2]", 400, "invalid_type"),
        ("application/json", b'{"x": NaN}', 400, "parse_error"),
        ("application/json", b'{"x": "a\\u0000b"}', 400, "invalid"),
        ("application/json", b"\xff\xfe", 400, "parse_error"),
        ("text/plain", b"hello", 415, "unsupported_media_type"),
        ("multipart/form-data; boundary=x", b"--x--", 415, "unsupported_media_type"),
    ],
)
def test_a_body_that_is_not_an_object_is_refused_and_starts_nothing(
    db, alice, sender, content_type, body, status, code
):
    wf = workflow(alice, hook_graph())
    response = sender.post(url_of(wf), body, content_type=content_type)
    assert refusal(response) == (status, code)
    assert response.json()["errors"][0]["field"] in ("body", "headers.Content-Type")
    assert not Run.objects.exists()


def test_an_input_that_breaks_the_input_schema_is_400_naming_the_field(db, alice, sender):
    wf = workflow(alice, hook_graph(input_schema=AMOUNT_SCHEMA))

    response = post_json(sender, url_of(wf), {"amount": -3})

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["field"], error["code"]) == ("input.amount", "minimum")
    assert not Run.objects.exists()
    assert post_json(sender, url_of(wf), {"amount": 3}).status_code == 202


def test_a_webhook_takes_post_only(db, alice, sender):
    wf = workflow(alice, hook_graph())
    for method in ("get", "put", "delete"):
        response = getattr(sender, method)(url_of(wf))
        assert response.status_code == 405, method
        assert response["Allow"] == "POST"
    assert not Run.objects.exists()


# --- Unknown, rotated, archived ----------------------------------------------------------------


def test_unknown_tokens_archived_workflows_and_removed_triggers_are_the_same_404(db, alice, sender):
    wf = workflow(alice, hook_graph())
    url = url_of(wf)
    unknown = post_json(sender, "/api/hooks/" + "A" * 43 + "/", {})
    short = post_json(sender, "/api/hooks/x/", {})
    assert unknown.status_code == short.status_code == 404
    assert unknown.json() == short.json()

    do_set_archived(actor=alice, workflow=wf, archived=True)
    archived = post_json(sender, url, {})
    do_set_archived(actor=alice, workflow=wf, archived=False)
    do_save_version(
        actor=alice, workflow=wf, graph=build({"start": ("trigger.manual",)}, []), base_version=1
    )
    removed = post_json(sender, url, {})

    assert archived.status_code == removed.status_code == 404
    assert archived.json() == removed.json() == unknown.json()
    assert not Run.objects.exists()

    # The trigger back: the same URL works again, for the newest version.
    do_save_version(actor=alice, workflow=wf, graph=hook_graph(), base_version=2)
    assert post_json(sender, url, {}).status_code == 202
    assert Run.objects.get().version.number == 3


def test_a_rotated_token_stops_at_once_and_the_new_one_works(db, alice, sender):
    wf = workflow(alice, hook_graph())
    old = url_of(wf)
    api = Client()
    api.force_login(alice)

    response = api.post(f"/api/workflows/{wf.pk}/webhook/rotate/")

    assert response.status_code == 200, response.content
    new = url_of(wf)
    assert new != old
    assert response.json()["url"] == f"http://testserver{new}"
    assert response.json()["rotated_at"] is not None
    assert refusal(post_json(sender, old, {})) == (404, "not_found")
    assert post_json(sender, new, {}).status_code == 202


# --- Size --------------------------------------------------------------------------------------


def test_a_body_over_max_body_bytes_is_413_by_its_content_length(db, alice, sender):
    wf = workflow(alice, hook_graph({"max_body_bytes": 100}))

    too_big = post_json(sender, url_of(wf), {"text": "x" * 200})
    fits = post_json(sender, url_of(wf), {"text": "x" * 50})

    assert refusal(too_big) == (413, "too_large")
    assert "100" in too_big.json()["errors"][0]["message"]
    assert fits.status_code == 202
    assert Run.objects.count() == 1


# --- Signatures --------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["prefixed", "bare", "upper"])
def test_a_signed_request_starts_a_run(db, alice, secret, sender, form):
    wf = workflow(alice, hook_graph(signed_config()))
    body = json.dumps({"amount": 5}).encode()
    headers = signed_headers(body)
    signature = headers["X-Flowdeck-Signature"]
    headers["X-Flowdeck-Signature"] = {
        "prefixed": signature,
        "bare": signature.removeprefix("sha256="),
        "upper": "SHA256=" + signature.removeprefix("sha256=").upper(),
    }[form]

    response = post_json(sender, url_of(wf), body, headers)

    assert response.status_code == 202, response.content
    assert Run.objects.get().input == {"amount": 5}


def test_a_signature_with_other_header_names_is_read_from_them(db, alice, secret, sender):
    wf = workflow(alice, hook_graph(signed_config(header="X-Sig", timestamp_header="X-Time")))
    body = b'{"a": 1}'
    now = int(time.time())
    headers = {"X-Sig": sign(body, now), "X-Time": str(now)}
    assert post_json(sender, url_of(wf), body, headers).status_code == 202


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"X-Flowdeck-Signature": None}, "missing_signature"),
        ({"X-Flowdeck-Signature": "sha256=" + "0" * 64}, "bad_signature"),
        ({"X-Flowdeck-Signature": "garbage"}, "bad_signature"),
        ({"X-Flowdeck-Timestamp": None}, "missing_timestamp"),
        ({"X-Flowdeck-Timestamp": "yesterday"}, "missing_timestamp"),
    ],
)
def test_a_missing_or_wrong_signature_is_401(db, alice, secret, sender, change, code):
    wf = workflow(alice, hook_graph(signed_config()))
    body = b'{"amount": 5}'
    headers = {k: v for k, v in {**signed_headers(body), **change}.items() if v is not None}

    response = post_json(sender, url_of(wf), body, headers)

    assert refusal(response) == (401, code)
    assert not Run.objects.exists()


def test_a_body_changed_after_signing_is_401(db, alice, secret, sender):
    wf = workflow(alice, hook_graph(signed_config()))
    headers = signed_headers(b'{"amount": 5}')
    response = post_json(sender, url_of(wf), b'{"amount": 500}', headers)
    assert refusal(response) == (401, "bad_signature")


def test_a_secret_signed_with_another_key_is_401(db, alice, secret, sender):
    wf = workflow(alice, hook_graph(signed_config()))
    body = b"{}"
    now = int(time.time())
    headers = {
        "X-Flowdeck-Signature": sign(body, now, "not-the-secret"),
        "X-Flowdeck-Timestamp": str(now),
    }
    assert refusal(post_json(sender, url_of(wf), body, headers)) == (401, "bad_signature")


@pytest.mark.parametrize("offset", [-301, 301, -86_400])
def test_a_timestamp_outside_the_tolerance_is_a_replay_and_401(db, alice, secret, sender, offset):
    wf = workflow(alice, hook_graph(signed_config()))
    body = b'{"amount": 5}'
    signed_at = int(T0.timestamp()) + offset
    with time_machine.travel(T0, tick=False):
        response = post_json(sender, url_of(wf), body, signed_headers(body, signed_at))
        # Within the 300 s: accepted.
        inside = post_json(
            sender, url_of(wf), body, signed_headers(body, int(T0.timestamp()) - 299)
        )
    assert refusal(response) == (401, "stale_timestamp")
    assert inside.status_code == 202


def test_a_tolerance_of_zero_accepts_any_signing_time(db, alice, secret, sender):
    wf = workflow(alice, hook_graph(signed_config(tolerance_s=0)))
    body = b"{}"
    response = post_json(sender, url_of(wf), body, signed_headers(body, 1_000_000_000))
    assert response.status_code == 202


def test_a_signing_credential_that_is_gone_is_503_without_details(db, alice, secret, sender):
    wf = workflow(alice, hook_graph(signed_config()))
    secret.delete()
    body = b"{}"
    response = post_json(sender, url_of(wf), body, signed_headers(body))
    assert refusal(response) == (503, "secret_unavailable")
    assert "hook-secret" not in response.content.decode()


def test_the_size_is_checked_before_the_signature_and_the_signature_before_the_body(
    db, alice, secret, sender
):
    wf = workflow(alice, hook_graph(signed_config(), input_schema=AMOUNT_SCHEMA))
    do_save_version(
        actor=alice,
        workflow=wf,
        graph=hook_graph({**signed_config(), "max_body_bytes": 20}, input_schema=AMOUNT_SCHEMA),
        base_version=1,
    )
    url = url_of(wf)
    assert refusal(post_json(sender, url, {"amount": "x" * 50})) == (413, "too_large")
    assert refusal(sender.post(url, b"not json", content_type="application/json")) == (
        401,
        "missing_signature",
    )
    body = b"[]"
    assert refusal(post_json(sender, url, body, signed_headers(body))) == (400, "invalid_type")
    body = b'{"amount": "x"}'
    assert refusal(post_json(sender, url, body, signed_headers(body))) == (400, "type")


# --- Idempotency -------------------------------------------------------------------------------


def test_a_repeated_idempotency_key_returns_the_first_run(db, alice, sender):
    wf = workflow(alice, hook_graph())
    first = post_json(sender, url_of(wf), {"n": 1}, {"Idempotency-Key": "delivery-42"})
    again = post_json(sender, url_of(wf), {"n": 2}, {"Idempotency-Key": "delivery-42"})
    other = post_json(sender, url_of(wf), {"n": 3}, {"Idempotency-Key": "delivery-43"})

    assert first.status_code == again.status_code == other.status_code == 202
    assert again.json()["run_id"] == first.json()["run_id"] != other.json()["run_id"]
    assert (first.json()["duplicate"], again.json()["duplicate"]) == (False, True)
    assert Run.objects.count() == 2
    run = Run.objects.get(pk=first.json()["run_id"])
    assert (run.input, run.idempotency_key) == ({"n": 1}, "hook:delivery-42")


def test_webhook_keys_do_not_collide_with_keys_of_the_runs_api(db, alice, sender):
    wf = workflow(alice, hook_graph())
    api = Client()
    api.force_login(alice)
    by_api = api.post(
        f"/api/workflows/{wf.pk}/runs/",
        {"input": {}, "idempotency_key": "k1"},
        content_type="application/json",
    )
    by_hook = post_json(sender, url_of(wf), {}, {"Idempotency-Key": "k1"})
    assert by_api.status_code == 201
    assert by_hook.json()["run_id"] != by_api.json()["id"]


def test_an_overlong_idempotency_key_is_400(db, alice, sender):
    wf = workflow(alice, hook_graph())
    response = post_json(sender, url_of(wf), {}, {"Idempotency-Key": "k" * 196})
    assert refusal(response) == (400, "invalid")
    assert response.json()["errors"][0]["field"] == "headers.Idempotency-Key"


# --- Waiting -----------------------------------------------------------------------------------


def test_a_wait_past_the_cap_answers_202_while_the_run_is_still_going(db, alice, sender, settings):
    settings.FLOWDECK_WEBHOOK_MAX_WAIT_S = 0.2
    wf = workflow(alice, hook_graph())
    began = time.monotonic()

    response = post_json(sender, url_of(wf) + "?wait=60", {})

    assert response.status_code == 202
    assert response.json()["status"] == "running"
    assert "output" not in response.json()
    assert time.monotonic() - began < 5  # the cap, not the 60 asked for


@pytest.mark.parametrize("wait", ["soon", "-1", "nan", "inf", "", "1_0", "%201", "0x10"])
def test_a_bad_wait_is_400_and_starts_nothing(db, alice, sender, wait):
    wf = workflow(alice, hook_graph())
    response = post_json(sender, url_of(wf) + f"?wait={wait}", {})
    assert refusal(response) == (400, "invalid")
    assert response.json()["errors"][0]["field"] == "wait"
    assert not Run.objects.exists()


# --- Rate --------------------------------------------------------------------------------------


def test_a_token_over_its_rate_gets_429_with_retry_after(db, alice, sender, settings):
    settings.FLOWDECK_WEBHOOK_RATE = "2/min"
    wf = workflow(alice, hook_graph())
    other = workflow(alice, hook_graph(), name="other")
    url = url_of(wf)

    with time_machine.travel(T0, tick=False) as clock:
        accepted = [post_json(sender, url, {}).status_code for _ in range(2)]
        limited = post_json(sender, url, {})
        # Another token has its own count.
        elsewhere = post_json(sender, url_of(other), {})
        wait = int(limited["Retry-After"])
        clock.shift(timedelta(seconds=wait - 1))
        still_limited = post_json(sender, url, {})
        clock.shift(timedelta(seconds=1))
        next_window = post_json(sender, url, {})

    assert accepted == [202, 202]
    assert refusal(limited) == (429, "rate_limited")
    # The end of the token's window (windows are offset per token, so they do not all reset
    # at the same second).
    assert 1 <= wait <= 60
    assert still_limited.status_code == 429
    assert set(limited.json()["errors"][0]) == {"node", "edge", "field", "code", "message"}
    assert elsewhere.status_code == 202
    assert next_window.status_code == 202
    assert Run.objects.count() == 4


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("60/min", (60, 60)),
        ("5/s", (5, 1)),
        ("1000/hour", (1000, 3600)),
        ("10000/day", (10000, 86400)),
        (" 7 / minute ", (7, 60)),
        ("off", None),
    ],
)
def test_the_webhook_rate_setting_reads_count_per_unit(value, expected):
    assert parse_rate(env_rate("RATE", "60/min", environ={"RATE": value}) or "off") == expected


@pytest.mark.parametrize("value", ["60", "0/min", "-1/min", "60/fortnight", "sixty/min", "6.5/s"])
def test_a_junk_webhook_rate_stops_the_process_naming_the_variable(value):
    with pytest.raises(ImproperlyConfigured, match="FLOWDECK_WEBHOOK_RATE"):
        env_rate("FLOWDECK_WEBHOOK_RATE", "60/min", environ={"FLOWDECK_WEBHOOK_RATE": value})


# --- Secrets stay secret -----------------------------------------------------------------------


def test_neither_the_secret_nor_the_token_reaches_events_steps_or_logs(
    db, alice, secret, sender, caplog
):
    caplog.set_level(logging.DEBUG)
    wf = workflow(alice, hook_graph(signed_config()))
    url = url_of(wf)
    token = url.split("/")[3]
    body = json.dumps({"amount": 5}).encode()
    post_json(
        sender, url, body, {"X-Flowdeck-Signature": "sha256=bad", "X-Flowdeck-Timestamp": "1"}
    )
    post_json(sender, url, body)  # 401 missing signature
    sender.get(url)  # 405
    response = post_json(sender, url, body, signed_headers(body))
    assert response.status_code == 202
    drive()

    run = Run.objects.get()
    assert run.status == "succeeded"
    recorded = json.dumps(
        [
            list(RunEvent.objects.values("type", "data")),
            list(StepRun.objects.values("input", "output", "error", "state")),
            [run.input, run.output, run.error, run.idempotency_key],
        ],
        default=str,
    )
    for leak in (SECRET, token, hash_token(token)):
        assert leak not in recorded
        assert leak not in caplog.text
    assert "/api/hooks/<token>/" in caplog.text  # the 4xx responses are logged, masked


# --- The API for people ------------------------------------------------------------------------


def test_an_editor_reads_the_url_and_whether_signing_is_on(db, alice, secret):
    wf = workflow(alice, hook_graph(signed_config(tolerance_s=60)))
    api = Client()
    api.force_login(alice)

    response = api.get(f"/api/workflows/{wf.pk}/webhook/")

    assert response.status_code == 200
    body = response.json()
    assert body["url"] == f"http://testserver{url_of(wf)}"
    assert body | {"url": None, "created_at": None} == {
        "url": None,
        "active": True,
        "signing": True,
        "signature_header": "X-Flowdeck-Signature",
        "timestamp_header": "X-Flowdeck-Timestamp",
        "tolerance_s": 60,
        "secret_credential": "hook-secret",
        "max_body_bytes": 1_048_576,
        "version": 1,
        "created_at": None,
        "rotated_at": None,
    }
    assert SECRET not in response.content.decode()
    assert response["Cache-Control"] == "no-store"


def test_an_unsigned_webhook_says_so(db, alice):
    wf = workflow(alice, hook_graph())
    api = Client()
    api.force_login(alice)
    body = api.get(f"/api/workflows/{wf.pk}/webhook/").json()
    assert (body["signing"], body["signature_header"], body["secret_credential"]) == (
        False,
        None,
        None,
    )


def test_a_workflow_without_a_webhook_has_none_to_read_or_rotate(db, alice):
    wf = workflow(alice, build({"start": ("trigger.manual",)}, []))
    api = Client()
    api.force_login(alice)
    for response in (
        api.get(f"/api/workflows/{wf.pk}/webhook/"),
        api.post(f"/api/workflows/{wf.pk}/webhook/rotate/"),
    ):
        assert refusal(response) == (404, "no_webhook")
    assert not WebhookEndpoint.objects.exists()


def test_rotating_issues_a_token_for_a_webhook_saved_before_tokens_existed(db, alice, sender):
    wf = workflow(alice, hook_graph())
    WebhookEndpoint.objects.all().delete()
    api = Client()
    api.force_login(alice)
    assert api.post(f"/api/workflows/{wf.pk}/webhook/rotate/").status_code == 200
    assert post_json(sender, url_of(wf), {}).status_code == 202


@pytest.mark.parametrize(
    ("who", "role", "read", "rotate"),
    [
        ("anonymous", None, 401, 401),
        ("charlie", None, 404, 404),
        ("charlie", Role.VIEWER, 403, 403),
        ("charlie", Role.RUNNER, 403, 403),
        ("charlie", Role.EDITOR, 200, 200),
        ("alice", None, 200, 200),
        ("admin", None, 200, 200),
    ],
)
def test_the_webhook_api_needs_the_editor_role(
    db, alice, charlie, admin, api, who, role, read, rotate
):
    wf = workflow(alice, hook_graph())
    token = url_of(wf)
    if role is not None:
        WorkflowGrant.objects.create(workflow=wf, user=charlie, role=role)
    if who != "anonymous":
        api.force_authenticate({"alice": alice, "charlie": charlie, "admin": admin}[who])

    got = api.get(f"/api/workflows/{wf.pk}/webhook/")
    rotated = api.post(f"/api/workflows/{wf.pk}/webhook/rotate/")

    assert (got.status_code, rotated.status_code) == (read, rotate)
    if read != 200:
        assert "errors" in got.json()
        assert token not in got.content.decode()
        assert url_of(wf) == token  # not rotated


def test_an_unknown_workflow_is_404(db, alice, api):
    api.force_authenticate(alice)
    assert api.get("/api/workflows/999999/webhook/").status_code == 404
    assert api.get("/api/workflows/nope/webhook/").status_code == 404


# --- Through real workers and a real web server (daphne) ---------------------------------------


@pytest.fixture(scope="module")
def daphne(django_db_setup, tmp_path_factory):
    server = WebServer(tmp_path_factory.mktemp("daphne") / "daphne.log", free_port()).start()
    yield server
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_a_signed_webhook_run_completes_on_real_workers_and_leaks_nothing(
    workers, alice, secret, sender
):
    wf = workflow(alice, hook_graph(signed_config()))
    url = url_of(wf)
    body = json.dumps({"amount": 5}).encode()

    response = post_json(sender, url, body, signed_headers(body))

    assert response.status_code == 202, response.content
    run_id = response.json()["run_id"]
    wait_until(lambda: Run.objects.get(pk=run_id).status == "succeeded", timeout=30, what="the run")
    run = Run.objects.get(pk=run_id)
    assert (run.trigger, run.actor_id, run.output) == ("webhook", None, {"got": {"amount": 5}})
    token = url.split("/")[3]
    assert SECRET not in workers.log() and token not in workers.log()


@pytest.mark.django_db(transaction=True)
def test_wait_answers_200_with_the_output_once_the_run_ends(workers, alice, sender):
    wf = workflow(alice, hook_graph())

    response = post_json(sender, url_of(wf) + "?wait=20", {"n": 1})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["output"], body["error"]) == ("succeeded", {"got": {"n": 1}}, None)
    assert body["run_id"] == Run.objects.get().pk


@pytest.mark.django_db(transaction=True)
def test_wait_answers_200_with_the_failure_of_a_failed_run(workers, alice, sender):
    graph = build(
        {
            "start": ("trigger.webhook", {}),
            "stop": ("flow.fail", {"message": "no stock for {{ input.sku }}"}),
        },
        ["start>stop"],
    )
    wf = workflow(alice, graph)

    response = post_json(sender, url_of(wf) + "?wait=20", {"sku": "desk"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["output"]) == ("failed", None)
    assert body["error"]["message"] == "no stock for desk"


@pytest.mark.django_db(transaction=True)
def test_over_daphne_chunked_bodies_are_capped_by_max_body_bytes(workers, daphne, alice):
    wf = workflow(alice, hook_graph({"max_body_bytes": 1000}))
    url = daphne.url + url_of(wf)

    def chunked(*parts: bytes):
        yield from parts  # a generator: httpx sends it chunked, with no Content-Length

    with httpx.Client(timeout=30) as client:
        over = client.post(
            url, content=chunked(b'{"text": "', b"x" * 2000, b'"}'), headers=JSON_TYPE
        )
        within = client.post(
            url + "?wait=20", content=chunked(b'{"text": ', b'"short"}'), headers=JSON_TYPE
        )

    assert over.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in over.request.headers
    assert refusal(over) == (413, "too_large")
    assert within.status_code == 200, within.text
    assert within.json()["output"] == {"got": {"text": "short"}}
    assert Run.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_over_daphne_a_waiting_request_does_not_hold_up_the_others(workers, daphne, alice):
    slow = workflow(
        alice,
        build(
            {"start": ("trigger.webhook", {}), "pause": ("flow.delay", {"seconds": 600})},
            ["start>pause"],
        ),
        name="slow",
    )
    quick = workflow(alice, hook_graph(), name="quick")
    waited = {}

    def wait_for_slow():
        with httpx.Client(timeout=30) as client:
            waited["response"] = client.post(daphne.url + url_of(slow) + "?wait=8", json={})

    waiter = threading.Thread(target=wait_for_slow)
    waiter.start()
    wait_until(lambda: Run.objects.filter(workflow=slow).exists(), what="the slow run")
    with httpx.Client(timeout=30) as client:
        others = [client.post(daphne.url + url_of(quick), json={"i": i}) for i in range(3)]
    still_waiting = waiter.is_alive()
    waiter.join(30)

    assert [r.status_code for r in others] == [202, 202, 202]
    assert still_waiting, "the quick requests were answered only after the waiting one"
    assert waited["response"].status_code == 202
    assert waited["response"].json()["status"] == "waiting"


WEBHOOKS_PAGE = Path(__file__).resolve().parent.parent / "docs" / "connectors" / "webhooks.md"


def documented_block(language: str, containing: str) -> str:
    """The code block in ``language`` holding ``containing`` on the Webhooks page of the docs."""
    for block in re.findall(rf"```{language}\n(.*?)```", WEBHOOKS_PAGE.read_text(), re.S):
        if containing in block:
            return block
    raise AssertionError(f"no {language} block with {containing!r} in {WEBHOOKS_PAGE}")


@pytest.mark.django_db(transaction=True)
def test_the_documented_signing_recipes_in_shell_and_python_start_runs(daphne, alice, secret):
    wf = workflow(alice, hook_graph(signed_config()))
    env = {**os.environ, "URL": daphne.url + url_of(wf), "SECRET": SECRET}

    shell = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + documented_block("sh", "openssl dgst")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    python = subprocess.run(
        [sys.executable, "-c", documented_block("python", "hmac.new")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert shell.returncode == 0, shell.stderr
    assert python.returncode == 0, python.stderr
    assert json.loads(shell.stdout)["duplicate"] is False, shell.stdout
    assert json.loads(python.stdout)["duplicate"] is False, python.stdout
    inputs = {run.idempotency_key: run.input for run in Run.objects.all()}
    assert inputs == {"hook:order-42": {"amount": 42}, "hook:order-43": {"amount": 43}}
