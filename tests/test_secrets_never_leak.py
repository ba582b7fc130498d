"""No secret leaves its seal (issue 9): after real runs that use a credential of every kind,
against services that echo what they receive back, no API response, no log line (web server,
workers, this process) and no row of any table holds a secret in the clear.

Everything goes through real processes: daphne serves the API and the webhook, worker
processes run the steps, an HTTP server and an SMTP server on 127.0.0.1 stand for the outside
world. The API is crawled from the committed OpenAPI schema, so a new endpoint is covered as
soon as it exists."""

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from django.apps import apps
from django.contrib.auth.models import User

from tests.engine_kit import build
from tests.helpers import api_key, free_port, wait_until
from tests.http_server import LocalServer, Reply
from tests.smtp_server import smtp_server
from tests.workers import WebServer, Workers

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
]

SCHEMA = Path(__file__).resolve().parent.parent / "flowdeck" / "openapi.yaml"
LOCAL = {"FLOWDECK_HTTP_ALLOW_NETWORKS": "127.0.0.1/32"}

# One distinct value per secret field of every credential kind.
SECRETS = {
    "bearer": "tok-Bearer-5e0c1d9a7f",
    "basic": "pw-Basic-3b8e2f6a41",
    "header": "hv-Header-9d2a7c4e0b",
    "api_key": "key-Query-1f7b3e9c5d",
    "smtp": "pw-Smtp-6c4a0e8d2f",
    "hook": "whsec-Hook-8a1d5b3f7e",
}


@pytest.fixture
def processes(tmp_path, django_db_setup):
    """daphne and a worker cluster on the test database, with their logs."""
    web = WebServer(tmp_path / "web.log", free_port(), **LOCAL).start()
    workers = Workers(tmp_path / "workers.log", **LOCAL).start()
    yield web, workers
    workers.stop()
    web.stop()


@pytest.fixture
def echo():
    """A service that answers with the request it saw (headers, query, body): the worst case,
    a service that hands the secret back. Each path fails once with the echo, then succeeds."""
    with LocalServer() as server:
        for path in ("/bearer", "/basic", "/header", "/key"):
            server.reply(path, Reply(503, action="echo"), Reply(200, action="echo"))
        yield server


@pytest.fixture
def mailbox():
    controller, box = smtp_server(free_port(), login=("mailer", SECRETS["smtp"]))
    box.port = controller.port
    yield box
    controller.stop()


def client_for(web: WebServer, user: User) -> httpx.Client:
    key = api_key(user)
    return httpx.Client(base_url=web.url, headers={"Authorization": f"Token {key}"}, timeout=30)


def create_credentials(api: httpx.Client, smtp_port: int) -> list[httpx.Response]:
    bodies = [
        {"name": "c-bearer", "kind": "http_bearer", "data": {"token": SECRETS["bearer"]}},
        {
            "name": "c-basic",
            "kind": "http_basic",
            "data": {"username": "svc", "password": SECRETS["basic"]},
        },
        {
            "name": "c-header",
            "kind": "http_header",
            "data": {"header": "X-Api-Token", "value": SECRETS["header"]},
        },
        {
            "name": "c-key",
            "kind": "api_key",
            "data": {"name": "api_key", "in": "query", "value": SECRETS["api_key"]},
        },
        {
            "name": "c-smtp",
            "kind": "smtp",
            "data": {
                "host": "127.0.0.1",
                "port": smtp_port,
                "username": "mailer",
                "security": "none",
                "from_email": "flowdeck@example.com",
                "password": SECRETS["smtp"],
            },
        },
        {"name": "c-hook", "kind": "secret", "data": {"value": SECRETS["hook"]}},
    ]
    responses = [api.post("/api/credentials/", json=body) for body in bodies]
    assert [r.status_code for r in responses] == [201] * len(bodies), responses[-1].text
    return responses


def calls_graph(echo: LocalServer) -> dict[str, Any]:
    def call(path: str, credential: str) -> dict[str, Any]:
        return {
            "type": "http.request",
            "config": {"url": echo.url(path), "credential": credential},
            "retry": {"max_attempts": 2, "backoff_s": 0},
        }

    return build(
        {
            "start": ("trigger.manual",),
            "bearer": call("/bearer", "c-bearer"),
            "basic": call("/basic", "c-basic"),
            "header": call("/header", "c-header"),
            "key": call("/key", "c-key"),
            "mail": (
                "notify.email",
                {
                    "to": ["ops@example.com"],
                    "subject": "Calls done",
                    # What the services answered, secrets and all, goes into the mail body.
                    "body": "{{ steps.bearer.output }} {{ steps.key.output }}",
                    "credential": "c-smtp",
                },
            ),
        },
        ["start>bearer", "bearer>basic", "basic>header", "header>key", "key>mail"],
        output={"answers": "{{ steps.header.output.body }}"},
    )


def hook_graph() -> dict[str, Any]:
    return build(
        {
            "start": ("trigger.webhook", {"signature": {"secret_credential": "c-hook"}}),
            "shape": ("data.transform", {"value": "{{ steps.start.output }}"}),
        },
        ["start>shape"],
    )


def finished(api: httpx.Client, run_id: int) -> dict[str, Any] | None:
    run = api.get(f"/api/runs/{run_id}/").json()
    return run if run["status"] in ("succeeded", "failed", "cancelled") else None


def signed_post(web: WebServer, url: str, body: bytes) -> httpx.Response:
    stamp = str(int(time.time()))
    digest = hmac.new(SECRETS["hook"].encode(), f"{stamp}.".encode() + body, hashlib.sha256)
    headers = {
        "Content-Type": "application/json",
        "X-Flowdeck-Signature": f"sha256={digest.hexdigest()}",
        "X-Flowdeck-Timestamp": stamp,
    }
    return httpx.post(url, content=body, headers=headers, timeout=30)


def crawl(api: httpx.Client, ids: dict[str, Any]) -> list[httpx.Response]:
    """GET every path of the API schema, with the ids of what the test made."""
    paths = yaml.safe_load(SCHEMA.read_text())["paths"]
    responses = []
    for template, methods in paths.items():
        if "get" not in methods:
            continue
        if "{id}" in template:
            kind = template.split("/")[2]  # runs, workflows, credentials, approvals, ...
            if kind not in ids:
                continue
            choices = ids[kind]
        else:
            choices = [None]
        for choice in choices:
            path = template.replace("{id}", str(choice)).replace("{number}", "1")
            if "{workflow_id}" in path:
                for workflow_id in ids["workflows"]:
                    responses.append(api.get(path.replace("{workflow_id}", str(workflow_id))))
            elif "{node}" in path:
                for node in ids["nodes"]:
                    responses.append(api.get(path.replace("{node}", node)))
            else:
                responses.append(api.get(path))
    return responses


def every_row() -> str:
    """Every row of every table, as text."""
    rows = []
    for model in apps.get_models():
        rows.extend(json.dumps(row, default=str) for row in model.objects.values())
    return "\n".join(rows)


def leaks(text: str) -> dict[str, int]:
    return {name: text.count(value) for name, value in SECRETS.items() if value in text}


def test_no_secret_reaches_an_api_response_a_log_line_or_a_stored_row(
    processes, echo, mailbox, alice, admin, caplog
):
    web, workers = processes
    api, staff = client_for(web, alice), client_for(web, admin)
    created = create_credentials(api, mailbox.port)

    calls = api.post("/api/workflows/", json={"name": "calls", "graph": calls_graph(echo)})
    hooks = api.post("/api/workflows/", json={"name": "hooks", "graph": hook_graph()})
    assert (calls.status_code, hooks.status_code) == (201, 201), calls.text + hooks.text
    calls_id, hooks_id = calls.json()["id"], hooks.json()["id"]

    run = api.post(f"/api/workflows/{calls_id}/runs/", json={"input": {}})
    assert run.status_code == 201, run.text
    hook_url = api.get(f"/api/workflows/{hooks_id}/webhook/").json()["url"]
    hooked = signed_post(web, hook_url, b'{"order": "A-1"}')
    assert hooked.status_code == 202, hooked.text
    run_ids = [run.json()["id"], hooked.json()["run_id"]]
    ends = [
        wait_until(lambda r=r: finished(api, r), timeout=90, what=f"run {r} to end")
        for r in run_ids
    ]
    assert [end["status"] for end in ends] == ["succeeded", "succeeded"], ends

    # The secrets were really used: the services saw every one of them.
    seen = json.dumps([(r.headers, r.query) for r in echo.requests])
    assert {"bearer", "header", "api_key"} <= set(leaks(seen))
    assert base64.b64encode(f"svc:{SECRETS['basic']}".encode()).decode() in seen
    assert mailbox.logins == ["mailer"] and len(mailbox.messages) == 1

    ids = {
        "runs": run_ids,
        "workflows": [calls_id, hooks_id],
        "credentials": [c.json()["id"] for c in created],
        "nodes": ["start", "bearer", "basic", "header", "key", "mail", "shape"],
    }
    responses = [*created, hooked, *crawl(api, ids), *crawl(staff, ids)]
    assert all(r.status_code < 500 for r in responses), [
        (r.url, r.status_code) for r in responses if r.status_code >= 500
    ]
    assert sum(r.status_code == 200 for r in responses) > 40  # the crawl reached real pages
    assert leaks("\n".join(r.text for r in responses)) == {}
    assert leaks(every_row()) == {}
    assert leaks(workers.log_path.read_text(errors="replace")) == {}
    assert leaks(web.log_path.read_text(errors="replace")) == {}
    assert leaks(caplog.text) == {}
    # The webhook's URL is a secret too: daphne's access line names it masked.
    hook_token = hook_url.rstrip("/").rsplit("/", 1)[1]
    assert hook_token not in web.log_path.read_text(errors="replace")
    assert '"POST /api/hooks/<token>/" 202' in web.log_path.read_text(errors="replace")
