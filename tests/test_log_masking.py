"""Secrets never written to logs: the URLs that carry one (a task email's link, a webhook, a
password reset; flowdeck/logmask.py) are masked in daphne's access log (flowdeck/web.py, a
real daphne here) and in Django's request and security lines (settings.LOGGING)."""

import logging
import sys

import httpx
import pytest
from django.core import signing
from django.test import Client

from engine import tasklinks
from flowdeck.logmask import MaskSecretUrls, mask, mask_uri
from tests.helpers import free_port, wait_until
from tests.workers import WebServer
from webhooks.services import new_token

# Shaped as the real ones: django.core.signing (with ":") and token_urlsafe.
LINK_TOKEN = signing.dumps({"l": 1, "n": "x" * 22}, salt=tasklinks.SALT, compress=False)
HOOK_TOKEN = new_token()


# --- The masking function ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, masked",
    [
        (f"/tasks/act/{LINK_TOKEN}/", "/tasks/act/<token>/"),
        (f"/tasks/act/{LINK_TOKEN}", "/tasks/act/<token>"),  # before APPEND_SLASH redirects
        (f"/api/hooks/{HOOK_TOKEN}/?wait=20", "/api/hooks/<token>/?wait=20"),
        (
            f"Forbidden (CSRF token missing.): /tasks/act/{LINK_TOKEN}/",
            "Forbidden (CSRF token missing.): /tasks/act/<token>/",
        ),
        (
            f"https://flowdeck.test/api/hooks/{HOOK_TOKEN}/",
            "https://flowdeck.test/api/hooks/<token>/",
        ),
        (f"/login/?next=/tasks/act/{LINK_TOKEN}/", "/login/?next=/tasks/act/<token>/"),
        (
            "/login/?next=%2Ftasks%2Fact%2F" + LINK_TOKEN.replace(":", "%3A") + "%2F&x=1",
            "/login/?next=%2Ftasks%2Fact%2F<token>%2F&x=1",
        ),
        (  # a next inside a next: encoded twice
            "/a/?next=%2Flogin%2F%3Fnext%3D%252Ftasks%252Fact%252Fabc%253Adef%252F",
            "/a/?next=%2Flogin%2F%3Fnext%3D%252Ftasks%252Fact%252F<token>%252F",
        ),
        ("/set-password/MQ/c4x9-0a1b2c3d4e5f/", "/set-password/MQ/<token>/"),
    ],
)
def test_the_secret_of_every_secret_url_is_masked(text, masked):
    assert mask(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "/api/workflows/3/webhook/",
        "/api/runs/?hooks=1",
        "/tasks/",
        "/login/?next=/api/runs/",
        "/set-password/done/",
        "/api/approvals/7/decide/",
    ],
)
def test_other_paths_are_left_as_they_are(text):
    assert mask(text) == text


def test_a_path_percent_encoded_to_dodge_the_table_is_logged_decoded_and_masked():
    assert mask_uri("/tasks/%61ct/abc%3Adef/") == "/tasks/act/<token>/"
    assert mask_uri("/api/%68ooks/abc/x%0A1.2.3.4 - forged") == (
        "/api/hooks/<token>/x%0A1.2.3.4%20-%20forged"
    )
    assert mask_uri("/api/runs/?q=%41") == "/api/runs/?q=%41"  # nothing to mask: as received
    assert mask_uri("/login/?next=%2Ftasks%2Fact%2Fa%3Ab%2F") == (
        "/login/?next=%2Ftasks%2Fact%2F<token>%2F"  # masked as received: still encoded
    )


def record(msg: str, *args: object, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise LookupError(f"/api/hooks/{HOOK_TOKEN}/")
        except LookupError:
            exc_info = sys.exc_info()
    return logging.LogRecord("django.request", logging.WARNING, __file__, 1, msg, args, exc_info)


def test_the_filter_masks_the_message_its_arguments_and_its_traceback():
    rec = record("%s: %s", "Gone", httpx.URL(f"http://x/tasks/act/{LINK_TOKEN}/"), exc=True)

    assert MaskSecretUrls().filter(rec) is True

    assert rec.getMessage() == "Gone: http://x/tasks/act/<token>/"
    assert HOOK_TOKEN not in rec.exc_text and "/api/hooks/<token>/" in rec.exc_text


def test_the_filter_leaves_a_record_without_a_secret_untouched():
    rec = record("%s took %d ms", "/api/runs/", 12)

    MaskSecretUrls().filter(rec)

    assert (rec.msg, rec.args) == ("%s took %d ms", ("/api/runs/", 12))


# --- Django's loggers --------------------------------------------------------------------------


def test_a_csrf_failing_post_to_a_task_link_logs_no_token(db, caplog):
    browser = Client(enforce_csrf_checks=True)

    with caplog.at_level(logging.INFO):
        response = browser.post(f"/tasks/act/{LINK_TOKEN}/", {"comment": "ok"})

    assert response.status_code == 403
    assert "Forbidden (CSRF cookie not set.): /tasks/act/<token>/" in caplog.text
    assert LINK_TOKEN not in caplog.text


def test_a_refused_task_link_is_logged_by_django_masked(db, caplog):
    with caplog.at_level(logging.INFO):
        response = Client().get(f"/tasks/act/{LINK_TOKEN}x/")

    assert response.status_code == 400
    assert "Bad Request: /tasks/act/<token>/" in caplog.text  # django.request, masked
    assert "task link refused with 400" in caplog.text  # ours, with the reason
    assert LINK_TOKEN not in caplog.text


def test_a_webhook_404_is_logged_masked(db, caplog):
    with caplog.at_level(logging.INFO):
        response = Client().post(f"/api/hooks/{HOOK_TOKEN}/", {}, content_type="application/json")

    assert response.status_code == 404
    assert "/api/hooks/<token>/" in caplog.text
    assert HOOK_TOKEN not in caplog.text


# --- daphne's access log -----------------------------------------------------------------------


@pytest.fixture
def daphne(django_db_setup, tmp_path):
    server = WebServer(tmp_path / "daphne.log", free_port()).start()
    yield server
    server.stop()


@pytest.mark.django_db(transaction=True)  # daphne reads the tables of the test database
def test_daphnes_access_log_names_task_links_and_webhooks_without_their_token(daphne):
    encoded_link = "%2Ftasks%2Fact%2F" + LINK_TOKEN.replace(":", "%3A") + "%2F"
    with httpx.Client(base_url=daphne.url, timeout=30) as http:
        link = http.get(f"/tasks/act/{LINK_TOKEN}/")
        hook = http.post(f"/api/hooks/{HOOK_TOKEN}/", json={"n": 1})
        login = http.get(f"/login/?next={encoded_link}")
        dodged = http.get(f"/api/%68ooks/{HOOK_TOKEN}/")
        runs = http.get("/api/runs/")

    assert (link.status_code, hook.status_code, login.status_code) == (410, 404, 200)
    assert (dodged.status_code, runs.status_code) == (405, 401)
    wait_until(lambda: '"GET /api/runs/" 401' in daphne.log(), timeout=10, what="the last line")
    log = daphne.log_path.read_text()
    assert '"GET /tasks/act/<token>/" 410' in log
    assert '"POST /api/hooks/<token>/" 404' in log
    assert '"GET /login/?next=%2Ftasks%2Fact%2F<token>%2F" 200' in log
    assert '"GET /api/hooks/<token>/" 405' in log
    assert LINK_TOKEN not in log and LINK_TOKEN.replace(":", "%3A") not in log
    assert HOOK_TOKEN not in log
