"""The permission matrix (issue 10, item 7; STYLE 12): every endpoint of the URL conf and every
websocket route, asked by anonymous, charlie (no access), a viewer, a runner, an editor, the
owner and staff, on real objects (tests/matrix_kit.py has the rules and the seeded world).

A new endpoint, or a new method of a view, without a rule fails the first test: "no expectation
for <pattern>". The other test files test what each endpoint does; this one is the single place
that checks who reaches all of them.
"""

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import resolve

from flowdeck.asgi import application
from flowdeck.routing import websocket_urlpatterns
from tests.matrix_kit import (
    ACCEPTED,
    AREAS,
    LOGIN,
    OK,
    OPEN,
    ROLES,
    RULES,
    Callers,
    Case,
    Rule,
    World,
    admin_path,
    but,
    describe,
    endpoints,
    everyone,
    matches,
    methods_of,
    outcome,
    seed,
    socket_rules,
)

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: None)


@pytest.fixture(autouse=True)
def _docs_site(settings, tmp_path):
    """/docs/ serves what MkDocs built; a built site of three files stands for it here."""
    for name in ("index.html", "runs/index.html", "assets/main.css"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("<!doctype html><title>Flowdeck</title>")
    settings.DOCS_SITE_DIR = tmp_path


@pytest.fixture(autouse=True)
def _attachments(settings, tmp_path):
    """The world's attachment goes to a folder of the test's own."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }


@pytest.fixture
def world(alice, charlie, admin) -> World:
    return seed(alice, charlie, admin)


def problems_of(callers: Callers, rule: Rule, case: Case) -> list[str]:
    world = callers.world
    path = rule.path_of(case, world)
    label = f"{case.method} {path}" + (f" ({case.note})" if case.note else "")
    found = []
    for role in ROLES:
        body = case.body(world) if case.body else None
        response = callers.ask(role, case.method, path, body)
        expected = case.expect[role]
        if not matches(expected, response):
            found.append(f"{label} as {role}: expected {expected}, got {describe(response)}")
        elif case.then is not None and (message := case.then(world, role, response)):
            found.append(f"{label} as {role}: {message}")
    return found


# --- Every pattern has its rule ------------------------------------------------------------------


def test_every_endpoint_has_an_expectation_for_each_of_its_methods():
    missing = []
    seen = set()
    for endpoint in endpoints():
        if endpoint.namespace == "admin":
            continue  # the admin site: one family, checked page by page below
        assert endpoint.key not in seen, f"two patterns named {endpoint.key}"
        seen.add(endpoint.key)
        rule = RULES.get(endpoint.key)
        if rule is None:
            missing.append(f"no expectation for {endpoint.text}")
            continue
        served = methods_of(endpoint.callback)
        declared = {case.method for case in rule.cases}
        if served is not None:
            missing += [
                f"no expectation for {m} {endpoint.text}" for m in sorted(served - declared)
            ]
            missing += [f"{m} {endpoint.text} is not served" for m in sorted(declared - served)]
    missing += [f"a rule for a pattern that is gone: {key}" for key in sorted(set(RULES) - seen)]
    assert not missing, "\n".join(missing)


def test_every_socket_route_has_an_expectation():
    routes = {str(route.pattern) for route in websocket_urlpatterns}
    ruled = {rule.key for rule in socket_rules()}
    assert not routes - ruled, "no expectation for " + ", ".join(sorted(routes - ruled))
    assert not ruled - routes, "rules for routes that are gone: " + ", ".join(ruled - routes)


# --- HTTP ----------------------------------------------------------------------------------------


def probe_problems(callers: Callers, rule: Rule) -> list[str]:
    """Methods the rule does not name are not served: 405 to the strongest caller (or, for
    what is open to all, to anonymous; a logged-in caller is sent on by the login page)."""
    role = "anonymous" if all(case.expect["anonymous"] == OK for case in rule.cases) else "staff"
    path = rule.path(callers.world).split("?")[0]
    found = []
    for method in sorted(set(METHODS) - {case.method for case in rule.cases}):
        response = callers.ask(role, method, path)
        if response.status_code != 405:
            found.append(
                f"no expectation for {method} {rule.key}: it answered {describe(response)}"
            )
    return found


def side_door_problems(callers: Callers, rule: Rule) -> list[str]:
    """HEAD and OPTIONS, which no rule names, open nothing: HEAD answers as GET does (or is not
    served), and OPTIONS (DRF describes a view with it) is refused to anonymous where every
    other method is."""
    found = []
    for case in rule.cases:
        if case.method != "GET":
            continue
        path = rule.path_of(case, callers.world)
        for role in ("anonymous", "charlie"):
            response = callers.ask(role, "HEAD", path)
            if response.status_code != 405 and not matches(case.expect[role], response):
                found.append(
                    f"HEAD {path} as {role}: {describe(response)}, GET gets {case.expect[role]}"
                )
    if all(case.expect["anonymous"] == 401 for case in rule.cases):
        path = rule.path(callers.world).split("?")[0]
        response = callers.ask("anonymous", "OPTIONS", path)
        if outcome(response) not in (401, LOGIN, 405):
            found.append(f"OPTIONS {rule.key} as anonymous: {describe(response)}")
    return found


@pytest.mark.django_db
@pytest.mark.parametrize("area", list(AREAS))
def test_each_role_gets_what_the_matrix_says(world, area):
    callers = Callers(world)
    found = []
    for rule in AREAS[area]:
        for case in rule.cases:
            path = rule.path_of(case, world).split("?")[0]
            match = resolve(path)
            assert (match.url_name or match.route) == rule.key, f"{path} is not {rule.key}"
            found += problems_of(callers, rule, case)
        found += probe_problems(callers, rule) + side_door_problems(callers, rule)
    assert not found, "\n".join(found)


# --- The admin site ------------------------------------------------------------------------------

# Django's admin knows staff or not, no Flowdeck roles: the roles between charlie and the owner
# are all "not staff" to it, so charlie and the owner stand for them.
ADMIN_ROLES = ("anonymous", "charlie", "owner", "staff")
ADMIN = {**everyone(LOGIN), "staff": OK}
ADMIN_EXCEPTIONS = {
    "login": ("GET", OPEN),
    # Anyone may log out; staff land on the login page (LOGOUT_REDIRECT_URL).
    "logout": ("POST", but(OPEN, staff=LOGIN)),
    # A workflow has no page of its own on the site to jump to.
    "view_on_site": ("GET", but(ADMIN, staff=404)),
}
MODEL_PAGES = ("changelist", "add", "change", "history", "delete")


def staff_may(name: str, path: str, world: World) -> bool:
    """What the page's ModelAdmin allows staff (read-only admins refuse adding, say)."""
    request = RequestFactory().get(path)
    request.user = world.users["staff"]
    for model, model_admin in admin.site._registry.items():
        prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
        page = name.removeprefix(prefix)
        if not name.startswith(prefix) or page not in MODEL_PAGES:
            continue
        row = model.objects.order_by("pk").first()
        if page == "add":
            return model_admin.has_add_permission(request)
        if page == "delete":
            return model_admin.has_delete_permission(request, row)
        return model_admin.has_view_or_change_permission(request, row)
    return True


@pytest.mark.django_db
def test_the_admin_site_is_for_staff_only(world):
    callers = Callers(world)
    found = []
    for endpoint in endpoints():
        if endpoint.namespace != "admin":
            continue
        path = admin_path(endpoint.text, world)
        method, expect = ADMIN_EXCEPTIONS.get(endpoint.key, ("GET", ADMIN))
        if "(?P<url>" in endpoint.text:
            expect = but(ADMIN, staff=404)  # the catch-all: no such page
        elif not staff_may(endpoint.key, path, world):
            expect = but(ADMIN, staff=403)
        for role in ADMIN_ROLES:
            response = callers.ask(role, method, path)
            if not matches(expect[role], response):
                found.append(f"{method} {path} as {role}: expected {expect[role]}, got "
                             f"{describe(response)}")  # fmt: skip
        # A write from someone who is not staff is sent to the login page too, never performed.
        if method == "GET" and expect["charlie"] == LOGIN:
            response = callers.ask("charlie", "POST", path)
            if not matches(LOGIN, response):
                found.append(f"POST {path} as charlie: got {describe(response)}")
    assert not found, "\n".join(found)


# --- Websockets ----------------------------------------------------------------------------------

ORIGIN = (b"origin", b"http://localhost")


def session_cookie(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


async def connect(path: str, headers: list[tuple[bytes, bytes]]) -> str | int:
    """ACCEPTED, or the close code the socket was refused with."""
    socket = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await socket.connect(timeout=10)
    if not connected:
        return f"refused at the handshake ({code})"
    # A refusal is an accept followed at once by a close with the code (engine/consumers.py).
    if not await socket.receive_nothing(timeout=0.2):
        message = await socket.receive_output(timeout=5)
        if message["type"] == "websocket.close":
            return message.get("code")
    await socket.disconnect()
    return ACCEPTED


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_channel_layer")
def test_each_role_gets_the_socket_the_matrix_says(world):
    cookies = {role: session_cookie(user) for role, user in world.users.items() if user}
    found = []
    for rule in socket_rules():
        path = rule.path(world)
        for role in ROLES:
            headers = [ORIGIN] + ([cookies[role]] if role in cookies else [])
            got = async_to_sync(connect)(path, headers)
            if got != rule.expect[role]:
                found.append(f"{path} as {role}: expected {rule.expect[role]}, got {got}")
    assert not found, "\n".join(found)
