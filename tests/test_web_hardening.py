"""Web hardening (issue 10, item 8): security headers on every response, secure cookies and HSTS
over HTTPS, login throttling (/login/ and /admin/login/), password validators, CSRF on every
session-authenticated write (walked from the URL conf, through the permission matrix's rules),
and the admin's audit log."""

import importlib.util
import os
import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import Client, override_settings

from engine.models import WorkflowSchedule
from tests.helpers import api_key, free_port
from tests.matrix_kit import RULES, Callers, World, admin_path, endpoints, seed, send

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 3, 2, 9, 0, 5, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: None)


# --- Security headers ----------------------------------------------------------------------------


def csp_of(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


def assert_hardened(response, what: str) -> None:
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    for name, value in headers.items():
        assert response.get(name) == value, f"{what}: {name} is {response.get(name)!r}"
    csp = csp_of(response)
    assert csp["default-src"] == "'self'", what
    assert csp["object-src"] == "'none'" and csp["frame-ancestors"] == "'none'", what
    assert csp["base-uri"] == "'self'" and csp["form-action"] == "'self'", what
    assert "'unsafe-inline'" not in csp["script-src"], what
    assert "camera=()" in response["Permissions-Policy"], what


@pytest.mark.django_db
def test_every_kind_of_response_carries_the_security_headers(alice, admin):
    anonymous, owner, staff = Client(), Client(), Client()
    owner.force_login(alice)
    staff.force_login(admin)
    responses = {
        "the login page": anonymous.get("/login/"),
        "a redirect to the login": anonymous.get("/runs"),
        "an API 401": anonymous.get("/api/me/"),
        "an API answer": owner.get("/api/me/"),
        "an API 404": owner.get("/api/runs/999999/"),
        "a 405": owner.post("/healthz"),
        "a page that does not exist": owner.get("/nothing-here/"),
        "a static file (WhiteNoise)": anonymous.get("/static/admin/css/base.css"),
        "the webhook endpoint (an async view)": anonymous.post("/api/hooks/unknown-token/"),
        "the health check": anonymous.get("/healthz"),
        "the metrics": staff.get("/metrics"),
        "an admin page": staff.get("/admin/"),
        "the API docs": owner.get("/api/docs/"),
    }
    for what, response in responses.items():
        assert_hardened(response, what)
    # Only the app's page lets scripts eval (ajv compiles the forms' schemas); nothing else does.
    for what, response in responses.items():
        assert "'unsafe-eval'" not in csp_of(response)["script-src"], what
    app = owner.get("/designer")
    assert_hardened(app, "the app")
    assert csp_of(app)["script-src"] == "'self' 'unsafe-eval'"
    assert csp_of(app)["connect-src"] == "'self' ws://testserver"


def test_the_api_docs_run_no_inline_script(client, alice):
    client.force_login(alice)
    page = client.get("/api/docs/").content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert scripts and all('src="' in attrs and not body.strip() for attrs, body in scripts)
    start_up = client.get("/api/docs/?script=")
    assert start_up.status_code == 200 and "SwaggerUIBundle" in start_up.content.decode()


# --- HTTPS ---------------------------------------------------------------------------------------

HTTPS_SETTINGS = (
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_SSL_REDIRECT",
    "SECURE_REDIRECT_EXEMPT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER",
)


def settings_from(monkeypatch, tmp_path: Path, **env: str) -> dict:
    """flowdeck/settings.py read afresh (as a module of its own, the real one untouched) from
    these variables: the HTTPS settings it makes, Django's defaults for those it leaves."""
    from django.conf import global_settings

    for name in [n for n in os.environ if n.startswith("FLOWDECK_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("FLOWDECK_DATA_DIR", str(tmp_path / "var"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("settings_probe", ROOT / "flowdeck/settings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {name: getattr(module, name, getattr(global_settings, name)) for name in HTTPS_SETTINGS}


@pytest.mark.django_db
def test_over_https_cookies_are_secure_http_redirects_and_hsts_is_sent(
    monkeypatch, tmp_path, alice
):
    https = settings_from(monkeypatch, tmp_path, FLOWDECK_HTTPS="1")
    assert https["SESSION_COOKIE_SECURE"] and https["CSRF_COOKIE_SECURE"]

    with override_settings(**https):
        assert Client().get("/login/")["Location"] == "https://testserver/login/"
        assert Client().get("/healthz").status_code != 301, "a load balancer checks over HTTP"
        browser = Client(headers={"X-Forwarded-Proto": "https"})  # set by the TLS proxy
        page = browser.get("/login/")
        logged_in = browser.post("/login/", {"username": "alice", "password": "alice-pass-123"})

    assert page.status_code == 200
    assert page["Strict-Transport-Security"] == "max-age=31536000"
    assert logged_in.status_code == 302
    session = logged_in.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    assert page.cookies["csrftoken"]["secure"]


def test_hsts_subdomains_preload_and_the_proxy_header_are_settings(monkeypatch, tmp_path):
    https = settings_from(
        monkeypatch,
        tmp_path,
        FLOWDECK_HTTPS="1",
        FLOWDECK_HSTS_SECONDS="600",
        FLOWDECK_HSTS_INCLUDE_SUBDOMAINS="1",
        FLOWDECK_HSTS_PRELOAD="1",
        FLOWDECK_PROXY_SSL_HEADER="X-Forwarded-Scheme",
    )
    assert https["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_SCHEME", "https")
    with override_settings(**https):
        # Only the configured header counts; a client's own X-Forwarded-Proto is no proof.
        assert Client(headers={"X-Forwarded-Proto": "https"}).get("/login/").status_code == 301
        page = Client(headers={"X-Forwarded-Scheme": "https"}).get("/login/")
    assert page["Strict-Transport-Security"] == "max-age=600; includeSubDomains; preload"

    # TLS ended at daphne itself: no proxy header is trusted at all.
    direct = settings_from(
        monkeypatch, tmp_path, FLOWDECK_HTTPS="1", FLOWDECK_PROXY_SSL_HEADER="none"
    )
    assert direct["SECURE_PROXY_SSL_HEADER"] is None and direct["SECURE_SSL_REDIRECT"]
    with pytest.raises(ImproperlyConfigured, match="FLOWDECK_PROXY_SSL_HEADER"):
        settings_from(monkeypatch, tmp_path, FLOWDECK_HTTPS="1", FLOWDECK_PROXY_SSL_HEADER="a b")


def test_without_https_nothing_is_bound_to_it(monkeypatch, tmp_path):
    plain = settings_from(monkeypatch, tmp_path)
    assert not plain["SESSION_COOKIE_SECURE"] and not plain["SECURE_SSL_REDIRECT"]
    assert plain["SECURE_HSTS_SECONDS"] == 0 and plain["SECURE_PROXY_SSL_HEADER"] is None
    with override_settings(**plain):
        page = Client().get("/login/")
    assert page.status_code == 200 and "Strict-Transport-Security" not in page


# --- Login throttling ----------------------------------------------------------------------------


@pytest.fixture
def throttle(settings, db):
    """Three failures per username and address, six per address, in 15 minutes; each test
    comes from addresses of its own (the counts live in a cache that outlives tests). alice,
    bob and admin have the usual passwords, hashed quickly: these tests try many logins."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    for name in ("alice", "bob", "admin"):
        User.objects.create_user(name, password=f"{name}-pass-123", is_staff=name == "admin")
    settings.FLOWDECK_LOGIN_FAILURES = 3
    settings.FLOWDECK_LOGIN_ADDRESS_FAILURES = 6
    settings.FLOWDECK_LOGIN_LOCKOUT_S = 900
    with time_machine.travel(T0, tick=False) as clock:
        yield clock


def an_address() -> Client:
    """A browser at an address of its own."""
    address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    return Client(REMOTE_ADDR=address)


def log_in(browser: Client, username: str, password: str, path: str = "/login/"):
    browser.cookies.clear()  # logged out before each attempt
    return browser.post(path, {"username": username, "password": password})


def logged_in(response) -> bool:
    return response.status_code == 302


@pytest.mark.django_db
def test_three_wrong_passwords_lock_that_username_from_that_address_even_with_the_right_one(
    throttle,
):
    here = an_address()
    for _ in range(3):
        assert log_in(here, "alice", "wrong").status_code == 200

    locked = log_in(here, "alice", "alice-pass-123")

    assert locked.status_code == 429
    assert int(locked["Retry-After"]) == 900
    assert b"Too many failed logins" in locked.content and b"15 minutes" in locked.content
    assert "Content-Security-Policy" in locked, "the lockout page is hardened like the others"


@pytest.mark.django_db
def test_the_lock_lifts_after_the_lockout(throttle):
    here = an_address()
    for _ in range(3):
        log_in(here, "alice", "wrong")
    throttle.shift(timedelta(seconds=899))
    assert log_in(here, "alice", "alice-pass-123").status_code == 429
    throttle.shift(timedelta(seconds=2))
    assert logged_in(log_in(here, "alice", "alice-pass-123"))


@pytest.mark.django_db
def test_a_successful_login_resets_the_count(throttle):
    here = an_address()
    for _ in range(2):
        log_in(here, "alice", "wrong")
    assert logged_in(log_in(here, "alice", "alice-pass-123"))
    for _ in range(2):
        log_in(here, "alice", "wrong")
    assert logged_in(log_in(here, "alice", "alice-pass-123"))


@pytest.mark.django_db
def test_the_lock_holds_one_username_at_one_address_only(throttle):
    here, there = an_address(), an_address()
    for _ in range(3):
        log_in(here, "alice", "wrong")

    assert logged_in(log_in(there, "alice", "alice-pass-123")), "alice elsewhere"
    assert logged_in(log_in(here, "bob", "bob-pass-123")), "bob at the same address"


@pytest.mark.django_db
def test_one_address_guessing_across_usernames_is_locked(throttle):
    here = an_address()
    for name in ("nobody", "alice", "someone", "bob", "root", "admin"):
        log_in(here, name, "wrong")
    assert log_in(here, "bob", "bob-pass-123").status_code == 429
    # A login of one's own does not reset the address's count.
    assert log_in(an_address(), "bob", "bob-pass-123").status_code == 302


@pytest.mark.django_db
def test_the_admin_login_is_throttled_with_the_same_counts(throttle):
    here = an_address()
    for path in ("/login/", "/admin/login/", "/admin/login/"):
        log_in(here, "admin", "wrong", path)

    refused = log_in(here, "admin", "admin-pass-123", "/admin/login/")

    assert refused.status_code == 429
    assert log_in(here, "admin", "admin-pass-123").status_code == 429


@pytest.mark.django_db
def test_another_method_does_not_get_round_the_lock(throttle):
    """Django's login form takes a PUT as a POST, but reads no PUT body: it cannot log in."""
    here = an_address()
    for _ in range(3):
        log_in(here, "alice", "wrong")
    form = "username=alice&password=alice-pass-123"
    response = here.put("/login/", form, content_type="application/x-www-form-urlencoded")
    assert not logged_in(response)
    assert here.get("/").status_code == 302, "still not logged in"


@pytest.mark.django_db
def test_when_the_throttle_cache_is_down_logins_go_through(throttle, settings, caplog):
    nothing_there = f"redis://127.0.0.1:{free_port()}/0"
    redis = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": nothing_there}
    settings.CACHES = {**settings.CACHES, "throttle": redis}
    here = an_address()
    for _ in range(4):
        log_in(here, "alice", "wrong")
    assert logged_in(log_in(here, "alice", "alice-pass-123"))
    assert "the throttle cache failed" in caplog.text


# --- Password validators -------------------------------------------------------------------------


def test_the_password_validators_are_all_on(settings):
    names = [v["NAME"].rsplit(".", 1)[1] for v in settings.AUTH_PASSWORD_VALIDATORS]
    assert names == [
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("12345678", "entirely numeric"),
        ("password", "too common"),
        ("x7#kQ", "too short"),
        ("erin.example", "too similar"),
    ],  # fmt: skip
)
def test_the_admin_refuses_a_weak_password_for_a_new_user(client, admin, password, reason):
    client.force_login(admin)
    form = {"username": "erin.example", "password1": password, "password2": password}
    response = client.post("/admin/auth/user/add/", {**form, "usable_password": "true"})
    assert response.status_code == 200
    assert reason in response.content.decode()
    assert not User.objects.filter(username="erin.example").exists()


@pytest.mark.django_db
def test_the_admin_creates_a_user_with_a_strong_password(client, admin):
    client.force_login(admin)
    form = {"username": "erin", "password1": "kettle-orbit-93-lantern"}
    response = client.post(
        "/admin/auth/user/add/",
        {**form, "password2": form["password1"], "usable_password": "true"},
    )
    assert response.status_code == 302
    assert User.objects.get(username="erin").check_password("kettle-orbit-93-lantern")


@pytest.mark.django_db
def test_the_password_command_refuses_a_weak_password(alice, monkeypatch, capsys):
    typed = iter(["12345678", "12345678"] * 3)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
    with pytest.raises(CommandError, match="after 3 attempts"):
        call_command("changepassword", "alice")
    assert "entirely numeric" in capsys.readouterr().err
    alice.refresh_from_db()
    assert alice.check_password("alice-pass-123")


# --- CSRF on every session-authenticated write ---------------------------------------------------

# Where a write needs no CSRF token, by design: the webhook's token in the URL is its credential.
CSRF_EXEMPT = {"webhook-hook"}
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def csrf_refused(response) -> bool:
    return response.status_code == 403 and b"CSRF" in response.content


@pytest.fixture
def world(alice, charlie, admin) -> World:
    return seed(alice, charlie, admin)


def write_cases(world: World):
    for rule in RULES.values():
        for case in rule.cases:
            if case.method in WRITES:
                # The strongest caller the write is for (the owner, or staff for what only
                # staff may do), so that only the missing token can refuse it.
                role = "owner" if case.expect["owner"] == "ok" else "staff"
                body = case.body(world) if case.body else None
                yield rule, case, role, rule.path_of(case, world), body


@pytest.mark.django_db
def test_every_session_write_without_the_csrf_token_is_refused(world):
    # A session, CSRF checked as for a browser, and no token sent.
    browsers = Callers(world, enforce_csrf_checks=True)
    written = set()
    found = []
    for rule, case, role, path, body in write_cases(world):
        response = browsers.ask(role, case.method, path, body)
        written.add(rule.key)
        if rule.key in CSRF_EXEMPT:
            if csrf_refused(response):
                found.append(f"{case.method} {path} is exempt by design but was refused")
        elif not csrf_refused(response):
            found.append(f"{case.method} {path} as {role}: {response.status_code}, not 403 CSRF")
    # The login form and the admin's forms, whoever posts them.
    for endpoint in endpoints():
        if endpoint.namespace == "admin" and "(?P<url>" not in endpoint.text:
            path = admin_path(endpoint.text, world)
            response = browsers.ask("staff", "POST", path)
            if not csrf_refused(response):
                found.append(f"POST {path} as staff: {response.status_code}, not 403 CSRF")
    assert csrf_refused(Client(enforce_csrf_checks=True).post("/login/", {"username": "alice"}))
    assert {"login", "logout", "workflow-detail", "approval-decide"} <= written
    assert not found, "\n".join(found)


@pytest.mark.django_db
def test_a_token_write_needs_no_csrf_token(world):
    """Scripts authenticate with a token on each request: no cookie rides along, so there is
    nothing to forge, and DRF checks CSRF only for sessions."""
    key = api_key(world.users["owner"])
    script = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Token {key}")
    found = []
    for rule, case, role, path, body in write_cases(world):
        if role != "owner" or not path.startswith("/api/") or rule.key in CSRF_EXEMPT:
            continue
        with transaction.atomic():
            response = send(script, case.method, path, body)
            transaction.set_rollback(True)
        if response.status_code in (401, 403):
            found.append(f"{case.method} {path} with a token: {response.status_code}")
    assert not found, "\n".join(found)


# --- The admin's audit log -----------------------------------------------------------------------


def admin_form(client: Client, path: str) -> dict[str, str]:
    """The change form's fields as the page has them (with its CSRF token and inline forms)."""
    page = client.get(path).content.decode()
    fields = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'\sname="([^"]+)"', tag)
        value = re.search(r'\svalue="([^"]*)"', tag)
        kind = re.search(r'\stype="([^"]+)"', tag)
        if not name or (kind and kind.group(1) in ("submit", "button")):
            continue
        if kind and kind.group(1) == "checkbox":
            if "checked" in tag:
                fields[name.group(1)] = "on"
            continue
        fields[name.group(1)] = value.group(1) if value else ""
    for name, body in re.findall(
        r'<textarea[^>]*\sname="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S
    ):
        fields[name] = body.strip()
    for name, options in re.findall(
        r'<select[^>]*\sname="([^"]+)"[^>]*>(.*?)</select>', page, re.S
    ):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', options)
        if chosen:
            fields[name] = chosen.group(1)
    return fields


@pytest.mark.django_db
def test_a_change_through_the_admin_is_recorded_with_its_actor(world):
    staff = Client(enforce_csrf_checks=True)
    staff.force_login(world.users["staff"])
    path = f"/admin/designer/workflow/{world.wf.pk}/change/"
    form = admin_form(staff, path)
    assert form["name"] == "payments"

    response = staff.post(path, {**form, "name": "payments (EUR)"})

    assert response.status_code == 302, response.content.decode()[:2000]
    entry = LogEntry.objects.get(object_id=str(world.wf.pk), content_type__model="workflow")
    assert (entry.user, entry.action_flag) == (world.users["staff"], CHANGE)
    assert entry.get_change_message() == "Changed Name."
    audit = staff.get("/admin/admin/logentry/").content.decode()
    assert "payments (EUR)" in audit and "Changed Name." in audit
    # The record is read-only, even for staff.
    assert staff.get(f"/admin/admin/logentry/{entry.pk}/delete/").status_code == 403
    assert staff.get("/admin/admin/logentry/add/").status_code == 403


@pytest.mark.django_db
def test_archiving_through_the_admin_stops_the_schedule_as_the_api_does(world):
    staff = Client()
    staff.force_login(world.users["staff"])
    path = f"/admin/designer/workflow/{world.scheduled.pk}/change/"
    form = admin_form(staff, path)

    response = staff.post(path, {**form, "archived": "on"})

    assert response.status_code == 302
    schedule = WorkflowSchedule.objects.get(workflow=world.scheduled)
    assert schedule.next_fire_at is None, "an archived workflow's schedule fires nothing"
    assert LogEntry.objects.filter(object_id=str(world.scheduled.pk)).get().user.is_staff
