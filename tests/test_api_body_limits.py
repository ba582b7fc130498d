"""One body limit and no HTML under /api/ (issue 19, "the body-size contract"): a body over its
endpoint's limit is a 413 ``too_large`` in the contract's JSON before any of it is read, and
Django's own refusals (a bad Host, a malformed multipart body, too many fields, a body over
Django's memory cap) are JSON there too, logged at WARNING without a traceback.

The walks take every endpoint of the URL conf under /api/ with the permission matrix's rules
(tests/matrix_kit.py), so a new endpoint is covered as soon as it has its matrix row. The last
tests go through a real daphne, whose handling of bodies differs from the test client's.
"""

import asyncio
import json
import logging
from typing import Any

import httpx
import pytest
from asgiref.sync import async_to_sync
from django.http import JsonResponse
from django.test import Client
from django.urls import include, path
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from designer.views import MAX_BODY_BYTES as DESIGNER_LIMIT
from engine.models import Run
from flowdeck.bodylimit import body_limit, limit_for
from tests.engine_kit import approval_graph, build, workflow
from tests.helpers import api_key, free_port
from tests.matrix_kit import RULES, World, endpoints, methods_of, seed
from tests.workers import WebServer
from webhooks.models import WebhookEndpoint
from webhooks.services import LARGEST_MAX_BODY_BYTES, token_of

WRITES = ("POST", "PUT", "PATCH", "DELETE")
MiB = 1024 * 1024
CSRF = "a" * 32  # a CSRF secret of Django's form; the header may repeat it unmasked


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: None)


@pytest.fixture
def world(alice, charlie, admin) -> World:
    return seed(alice, charlie, admin)


class Untouched:
    """A request body (wsgi.input) that fails the request if anything reads it."""

    read_at_all = False

    def read(self, *args: Any) -> bytes:
        Untouched.read_at_all = True
        raise AssertionError("the body was read")

    readline = read


def api_routes(world: World) -> list[tuple[str, str, list[str]]]:
    """(URL name, a real path, the methods it serves) for every endpoint under /api/."""
    found = []
    for endpoint in endpoints():
        if not endpoint.text.startswith("api/"):
            continue
        rule = RULES[endpoint.key]
        served = methods_of(endpoint.callback) or {case.method for case in rule.cases}
        found.append((endpoint.key, rule.path(world), sorted(served)))
    assert len(found) > 50, "the walk found too few endpoints"
    return found


def is_contract_error(response: Any, status: int, code: str | None = None) -> str | None:
    """What is wrong with ``response`` as the contract's JSON error, or None."""
    if response.status_code != status:
        return f"{response.status_code}, not {status}: {response.content[:200]!r}"
    if response["Content-Type"] != "application/json":
        return f"Content-Type {response['Content-Type']}"
    errors = json.loads(response.content).get("errors")
    if not errors or not {"code", "message"} <= set(errors[0]):
        return f"not the errors shape: {response.content[:200]!r}"
    if code is not None and errors[0]["code"] != code:
        return f"code {errors[0]['code']}, not {code}"
    return None


def declared_over_limit(client: Client, method: str, path: str, limit: int) -> Any:
    """A request that declares one byte more than ``limit`` and sends nothing readable."""
    extra = {"CONTENT_LENGTH": str(limit + 1), "wsgi.input": Untouched()}
    return client.generic(method, path, b"{}", content_type="application/json", **extra)


# --- Over the limit: 413 before reading -------------------------------------------------------


def test_every_api_endpoint_refuses_a_body_over_its_limit_unread(world):
    staff = Client()
    staff.force_login(world.users["staff"])
    problems = []
    for key, route, methods in api_routes(world):
        limit = limit_for(route.split("?")[0])
        for method in methods:
            response = declared_over_limit(staff, method, route, limit)
            if problem := is_contract_error(response, 413, "too_large"):
                problems.append(f"{method} {key}: {problem}")
            elif str(limit) not in response.json()["errors"][0]["message"]:
                problems.append(f"{method} {key}: the message does not say the limit")
    assert not problems, "\n".join(problems)
    assert not Untouched.read_at_all


def test_the_limits_are_the_default_the_graphs_and_the_webhooks(world, settings):
    assert settings.FLOWDECK_MAX_BODY_BYTES == settings.FLOWDECK_MAX_OUTPUT_BYTES + 64 * 1024
    assert limit_for(f"/api/workflows/{world.wf.pk}/runs/") == settings.FLOWDECK_MAX_BODY_BYTES
    assert limit_for(f"/api/approvals/{world.task.pk}/decide/") == (
        settings.FLOWDECK_MAX_BODY_BYTES
    )
    assert limit_for("/api/workflows/validate/") == DESIGNER_LIMIT
    assert limit_for(f"/api/hooks/{world.token}/") == LARGEST_MAX_BODY_BYTES
    # The upload follows its setting per request, with room for the multipart envelope.
    uploads = f"/api/approvals/{world.task.pk}/attachments/"
    settings.FLOWDECK_ATTACHMENT_MAX_BYTES = 3 * MiB
    assert limit_for(uploads) == 3 * MiB + 64 * 1024
    settings.FLOWDECK_ATTACHMENT_MAX_BYTES = 5 * MiB
    assert limit_for(uploads) == 5 * MiB + 64 * 1024
    # Django's memory cap never refuses what the API admits.
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE >= settings.FLOWDECK_MAX_BODY_BYTES


def test_the_webhooks_limit_is_the_largest_a_trigger_may_set():
    from engine.steps.triggers import WebhookTrigger

    schema = WebhookTrigger.config_schema
    assert schema["properties"]["max_body_bytes"]["maximum"] == LARGEST_MAX_BODY_BYTES


def test_a_body_over_the_limit_is_refused_before_the_login_is_asked_for(world, settings):
    response = declared_over_limit(
        Client(), "POST", f"/api/runs/{world.run.pk}/cancel/", settings.FLOWDECK_MAX_BODY_BYTES
    )

    assert is_contract_error(response, 413, "too_large") is None


# --- Starting a run: refused up front, never 201-then-fail --------------------------------------


@pytest.mark.parametrize("size", [int(1.5 * MiB), int(2.4 * MiB), 3 * MiB, 8 * MiB])
def test_a_run_start_with_a_body_over_the_limit_is_413_and_starts_nothing(alice, api, size):
    wf = workflow(alice, approval_graph())
    api.force_authenticate(alice)
    body = json.dumps({"input": {"amount": 5, "note": "x" * size}})

    response = api.post(f"/api/workflows/{wf.pk}/runs/", body, content_type="application/json")

    assert is_contract_error(response, 413, "too_large") is None
    assert not Run.objects.exists()


def test_an_input_over_the_output_limit_is_413_naming_input_even_in_a_body_within_the_limit(
    alice, api, settings
):
    # A larger body limit: the input's own limit (a step's output) must still refuse it.
    settings.FLOWDECK_MAX_BODY_BYTES = 4 * MiB
    wf = workflow(alice, approval_graph())
    api.force_authenticate(alice)
    body = json.dumps({"input": {"amount": 5, "note": "x" * int(1.5 * MiB)}})

    response = api.post(f"/api/workflows/{wf.pk}/runs/", body, content_type="application/json")

    assert is_contract_error(response, 413, "too_large") is None
    error = response.json()["errors"][0]
    assert error["field"] == "input" and "FLOWDECK_MAX_OUTPUT_BYTES" in error["message"]
    assert not Run.objects.exists()


def test_an_input_measured_over_the_limit_as_json_is_refused_though_its_body_is_small(alice, api):
    # 200,000 CJK characters: 600 kB of UTF-8 in the body, 1.2 MB as the engine stores it
    # (escaped), which is what the output limit counts.
    wf = workflow(alice, approval_graph())
    api.force_authenticate(alice)
    body = json.dumps({"input": {"amount": 5, "note": "中" * 200_000}}, ensure_ascii=False)
    assert len(body.encode()) < MiB

    response = api.post(f"/api/workflows/{wf.pk}/runs/", body, content_type="application/json")

    assert is_contract_error(response, 413, "too_large") is None
    assert response.json()["errors"][0]["field"] == "input"
    assert not Run.objects.exists()


def test_a_webhook_body_its_trigger_takes_but_too_large_for_an_input_is_413_naming_input(alice):
    graph = build({"start": ("trigger.webhook", {"max_body_bytes": 4 * MiB})}, [])
    wf = workflow(alice, graph)
    url = f"/api/hooks/{token_of(WebhookEndpoint.objects.get(workflow=wf))}/"
    body = json.dumps({"note": "x" * (2 * MiB)})

    response = Client().post(url, body, content_type="application/json")

    assert is_contract_error(response, 413, "too_large") is None
    assert response.json()["errors"][0]["field"] == "input"
    assert not Run.objects.exists()


# --- Django's refusals are JSON under /api/ -----------------------------------------------------


def csrf_client(user: Any) -> Client:
    """A browser's session: CSRF enforced, the cookie set, the header sent."""
    client = Client(enforce_csrf_checks=True, headers={"X-CSRFToken": CSRF})
    client.force_login(user)
    client.cookies["csrftoken"] = CSRF
    return client


def takes_multipart(callback: Any) -> bool:
    view = getattr(callback, "cls", None)
    parsers = getattr(view, "parser_classes", None) or []
    return any(parser.media_type.startswith("multipart/") for parser in parsers)


def test_a_malformed_multipart_body_is_a_json_400_or_415_at_every_api_endpoint(world):
    # A session's CSRF check reads a POST's form with the view's parsers: every POST parses
    # the body. An endpoint that reads multipart finds it unreadable (400); one that does not
    # refuses its type (415). PUT and PATCH are parsed by the view, when it reads a body.
    client = csrf_client(world.users["staff"])
    callbacks = {e.key: e.callback for e in endpoints()}
    problems = []
    for key, route, methods in api_routes(world):
        for method in set(methods) & {"POST", "PUT", "PATCH"}:
            response = client.generic(method, route, b"--x\r\nbroken", "multipart/form-data")
            if key != "webhook-hook" and takes_multipart(callbacks[key]):
                expected = (400, "parse_error")
            else:  # the webhook, and the views that take JSON only
                expected = (415, "unsupported_media_type")
            if method != "POST" and response.status_code < 400:
                continue  # a view that reads no body
            if problem := is_contract_error(response, *expected):
                problems.append(f"{method} {key}: {problem}")
    assert not problems, "\n".join(problems)


def test_a_form_with_too_many_fields_is_a_json_400(world, caplog):
    client = csrf_client(world.users["owner"])
    form = "&".join(f"f{i}=1" for i in range(1001))

    with caplog.at_level(logging.WARNING):
        response = client.post(
            f"/api/runs/{world.run.pk}/cancel/", form, "application/x-www-form-urlencoded"
        )

    assert is_contract_error(response, 400, "too_many_fields") is None
    assert_logged_once_without_traceback(caplog, "django.security.TooManyFieldsSent")


def test_a_bad_host_is_a_json_400_at_every_api_endpoint(world):
    client = Client(headers={"Host": "evil.example"})
    problems = []
    for key, route, methods in api_routes(world):
        for method in methods:
            response = client.generic(method, route)
            if problem := is_contract_error(response, 400, "bad_host"):
                problems.append(f"{method} {key}: {problem}")
    assert not problems, "\n".join(problems)


def assert_logged_once_without_traceback(caplog: Any, logger: str) -> None:
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [(r.name, r.levelname) for r in records] == [(logger, "WARNING")]
    assert records[0].exc_info is None


def test_a_bad_host_is_logged_once_at_warning_without_a_traceback(db, caplog):
    with caplog.at_level(logging.WARNING):
        Client(headers={"Host": "evil.example"}).post("/api/runs/1/cancel/")

    assert_logged_once_without_traceback(caplog, "django.security.DisallowedHost")


def test_outside_the_api_a_bad_host_still_gets_djangos_page(db, caplog):
    with caplog.at_level(logging.WARNING):
        response = Client(headers={"Host": "evil.example"}).get("/login/")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert_logged_once_without_traceback(caplog, "django.security.DisallowedHost")


def test_a_webhook_refusal_logs_no_token(world, caplog):
    with caplog.at_level(logging.WARNING):
        declared_over_limit(Client(), "POST", f"/api/hooks/{world.token}/", 10 * MiB)

    assert caplog.records and world.token not in caplog.text


def test_a_csrf_refusal_by_djangos_middleware_is_json_under_the_api(rf):
    from flowdeck.views import csrf_failure

    response = csrf_failure(rf.post("/api/anything/"), "CSRF cookie not set.")

    assert is_contract_error(response, 403, "permission_denied") is None
    assert csrf_failure(rf.post("/login/"), "x")["Content-Type"].startswith("text/html")


# --- A view's own limit (the mechanism the attachment upload uses) ------------------------------


class UploadView(APIView):
    """Stands for an upload whose limit is a setting: files stream to disk, past Django's
    memory cap."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [MultiPartParser]
    max_body_bytes = "BODYLIMIT_TEST_UPLOAD_BYTES"

    def post(self, request: Any) -> Response:
        return Response({"size": request.data["file"].size}, status=201)


class BigJsonView(APIView):
    """Admits JSON bodies past Django's memory cap: Django's own limit answers (413)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser]
    max_body_bytes = 8 * MiB

    def post(self, request: Any) -> Response:
        return Response({"keys": len(request.data)})


class SmallViewSet(viewsets.ViewSet):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    max_body_bytes = 100

    @action(detail=False, methods=["post"], max_body_bytes=200)
    def roomy(self, request: Any) -> Response:
        return Response({})

    @action(detail=False, methods=["post"])
    def tight(self, request: Any) -> Response:
        return Response({})


@body_limit(50)
def small_function(request: Any) -> JsonResponse:
    return JsonResponse({})


router = SimpleRouter()
router.register("small", SmallViewSet, basename="small")
urlpatterns = [
    path("api/upload/", UploadView.as_view()),
    path("api/big-json/", BigJsonView.as_view()),
    path("api/function/", small_function),
    path("api/", include(router.urls)),
]


@pytest.mark.urls(__name__)
def test_a_view_may_declare_its_limit_as_a_setting_larger_than_the_default(db, settings):
    settings.BODYLIMIT_TEST_UPLOAD_BYTES = 4 * MiB
    client = Client()
    upload = b"x" * (3 * MiB)

    response = client.post("/api/upload/", {"file": _file("a.bin", upload)})
    refused = declared_over_limit(client, "POST", "/api/upload/", 4 * MiB)

    assert (response.status_code, response.json()) == (201, {"size": len(upload)})
    assert is_contract_error(refused, 413, "too_large") is None


@pytest.mark.urls(__name__)
def test_function_views_and_actions_declare_their_own_limits(db):
    client = Client()
    assert limit_for("/api/function/") == 50
    assert limit_for("/api/small/roomy/") == 200
    assert limit_for("/api/small/tight/") == 100
    for route, limit in [("/api/function/", 50), ("/api/small/roomy/", 200)]:
        within = client.post(route, "x" * limit, content_type="text/plain")
        over = client.post(route, "x" * (limit + 1), content_type="text/plain")
        assert within.status_code == 200, route
        assert is_contract_error(over, 413, "too_large") is None, route


@pytest.mark.urls(__name__)
def test_a_json_body_past_djangos_memory_cap_is_a_413_logged_without_a_traceback(
    db, settings, caplog
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1 * MiB
    body = json.dumps({"note": "x" * (2 * MiB)})

    with caplog.at_level(logging.WARNING):
        response = Client().post("/api/big-json/", body, content_type="application/json")

    assert is_contract_error(response, 413, "too_large") is None
    assert_logged_once_without_traceback(caplog, "django.security.RequestDataTooBig")


def _file(name: str, content: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


# --- ASGI: Django never reads what it refuses --------------------------------------------------


def asgi_request(path: str, headers: list, chunks: list[bytes]) -> tuple[int, dict, int]:
    """Send a request to the ASGI application; its status, JSON body and the number of body
    chunks the application took. After the last chunk the client stays connected."""
    from flowdeck.asgi import application

    taken = 0
    sent: list[dict] = []

    async def receive() -> dict:
        nonlocal taken
        if taken < len(chunks):
            taken += 1
            more = taken < len(chunks)
            return {"type": "http.request", "body": chunks[taken - 1], "more_body": more}
        await asyncio.Future()  # connected until the response is sent (Django then stops)

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "scheme": "http",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }

    async def run() -> None:
        await asyncio.wait_for(application(scope, receive, send), timeout=20)

    async_to_sync(run)()
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], json.loads(body), taken


@pytest.mark.django_db(transaction=True)
def test_over_asgi_a_declared_length_over_the_limit_is_refused_without_taking_a_byte(settings):
    limit = settings.FLOWDECK_MAX_BODY_BYTES
    chunks = [b"x" * 65536] * 20

    status, body, taken = asgi_request(
        "/api/runs/1/cancel/", [(b"content-length", str(limit + 1).encode())], chunks
    )

    assert (status, body["errors"][0]["code"], taken) == (413, "too_large", 0)


@pytest.mark.django_db(transaction=True)
def test_over_asgi_a_chunked_body_is_cut_one_chunk_past_the_limit(settings):
    settings.FLOWDECK_MAX_BODY_BYTES = 200_000
    chunks = [b"x" * 65536] * 40  # 2.6 MB, announced by no length

    status, body, taken = asgi_request(
        "/api/runs/1/cancel/", [(b"transfer-encoding", b"chunked")], chunks
    )

    assert (status, body["errors"][0]["code"]) == (413, "too_large")
    assert taken == 4  # 200,000 bytes fit in 4 chunks of 64 KiB: the 4th is one past


# --- Over real HTTP (daphne) --------------------------------------------------------------------


@pytest.fixture(scope="module")
def daphne(django_db_setup, tmp_path_factory):
    server = WebServer(tmp_path_factory.mktemp("daphne") / "daphne.log", free_port()).start()
    yield server
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_over_daphne_bodies_over_the_limit_and_bad_hosts_are_json(daphne, alice):
    wf = workflow(alice, approval_graph())
    url = f"{daphne.url}/api/workflows/{wf.pk}/runs/"
    token = {"Authorization": f"Token {api_key(alice)}", "Content-Type": "application/json"}

    def body(size: int) -> bytes:
        return json.dumps({"input": {"amount": 5, "note": "x" * size}}).encode()

    def chunked(data: bytes):
        for start in range(0, len(data), 65536):
            yield data[start : start + 65536]  # a generator: sent chunked, with no length

    with httpx.Client(timeout=60) as client:
        answers = {
            "1.5 MiB": client.post(url, content=body(int(1.5 * MiB)), headers=token),
            "2.4 MiB": client.post(url, content=body(int(2.4 * MiB)), headers=token),
            "8 MiB": client.post(url, content=body(8 * MiB), headers=token),
            "3 MiB chunked": client.post(url, content=chunked(body(3 * MiB)), headers=token),
        }
        bad_host = client.post(url, content=b"{}", headers={**token, "Host": "evil.example"})
        small = client.post(url, content=body(10), headers=token)

    for name, response in answers.items():
        assert response.status_code == 413, (name, response.text[:200])
        assert response.headers["content-type"] == "application/json", name
        assert response.json()["errors"][0]["code"] == "too_large", name
        # Refused by Django's middleware, so with the headers every response carries.
        assert "content-security-policy" in response.headers, name
    chunked_message = answers["3 MiB chunked"].json()["errors"][0]["message"]
    assert "over" in chunked_message  # counted as it came: no length to read it by
    assert bad_host.status_code == 400
    assert bad_host.headers["content-type"] == "application/json"
    assert bad_host.json()["errors"][0]["code"] == "bad_host"
    assert small.status_code == 201, small.text
    assert Run.objects.count() == 1
    assert "Traceback" not in daphne.log() and " ERROR " not in daphne.log()
