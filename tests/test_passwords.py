"""Passwords people choose themselves (issue 17, item 7): the set-password link's page (expires,
works once) and the first login with a one-time password (nothing else until a new one is
chosen). Through the browser's forms, CSRF checked."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from people.models import Account

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "violet-harbour-42"


def csrf_of(response) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def issue(api, admin, setup: str, **more) -> dict:
    api.force_login(admin)
    body = {"username": "erin", "first_name": "Erin", "password_setup": setup, **more}
    response = api.post("/api/users/", body, format="json")
    assert response.status_code == 201, response.data
    return response.data["access"]


def path_of(link: str) -> str:
    return link.removeprefix("http://testserver")


def open_link(browser: Client, link: str):
    """Follow the link as a browser: its token moves to the session, the form shows."""
    first = browser.get(path_of(link))
    assert first.status_code == 302, first.content.decode()[:500]
    assert first["Location"].endswith("/set-password/"), "the token left the URL"
    return browser.get(first["Location"])


def set_password(browser: Client, form, password: str = NEW_PASSWORD):
    return browser.post(
        form.request["PATH_INFO"],
        {
            "new_password1": password,
            "new_password2": password,
            "csrfmiddlewaretoken": csrf_of(form),
        },
    )


def log_in(browser: Client, username: str, password: str, next: str = "/"):
    page = browser.get(f"/login/?next={next}")
    return browser.post(
        "/login/",
        {
            "username": username,
            "password": password,
            "next": next,
            "csrfmiddlewaretoken": csrf_of(page),
        },
    )


# --- Set-password links --------------------------------------------------------------------------


def test_a_new_user_sets_a_password_through_the_link_and_logs_in(api, admin):
    link = issue(api, admin, "link")["set_password_link"]
    browser = Client(enforce_csrf_checks=True)

    form = open_link(browser, link)
    assert form.status_code == 200
    assert "Choose your password" in form.content.decode() and "erin" in form.content.decode()
    done = set_password(browser, form)

    assert done.status_code == 302 and done["Location"] == "/set-password/done/"
    assert "Log in" in browser.get(done["Location"]).content.decode()
    assert log_in(browser, "erin", NEW_PASSWORD)["Location"] == "/"
    assert browser.get("/").status_code == 200
    erin = User.objects.get(username="erin")
    assert not Account.objects.get(user=erin).must_change_password


def test_a_link_works_once(api, admin):
    link = issue(api, admin, "link")["set_password_link"]
    browser = Client()
    assert set_password(browser, open_link(browser, link)).status_code == 302

    again = Client().get(path_of(link))

    assert again.status_code == 200
    assert "This link does not work" in again.content.decode()


def test_a_link_expires_after_the_password_reset_timeout(api, admin, settings):
    settings.PASSWORD_RESET_TIMEOUT = 3600
    link = issue(api, admin, "link")["set_password_link"]

    with time_machine.travel(timezone.now() + timedelta(seconds=3601)):
        response = Client().get(path_of(link))

    assert "This link does not work" in response.content.decode()


def test_a_newer_link_for_someone_without_a_password_retires_the_older_one(api, admin):
    first = issue(api, admin, "link")["set_password_link"]
    erin = User.objects.get(username="erin")
    second = api.post(f"/api/users/{erin.pk}/password/", {"password_setup": "link"}, format="json")

    assert "This link does not work" in Client().get(path_of(first)).content.decode()
    assert Client().get(path_of(second.data["set_password_link"])).status_code == 302


def test_a_deactivated_users_link_does_not_work(api, admin):
    link = issue(api, admin, "link")["set_password_link"]
    erin = User.objects.get(username="erin")
    api.post(f"/api/users/{erin.pk}/deactivate/")

    response = Client().get(path_of(link))

    assert "This link does not work" in response.content.decode()


def test_a_weak_password_is_refused_on_the_link_page(api, admin):
    link = issue(api, admin, "link")["set_password_link"]
    browser = Client()
    form = open_link(browser, link)

    response = set_password(browser, form, "12345678")

    assert response.status_code == 200
    assert "too common" in response.content.decode()
    assert not User.objects.get(username="erin").has_usable_password()


# --- One-time passwords --------------------------------------------------------------------------


def test_a_one_time_password_must_be_replaced_before_anything_else(api, admin):
    password = issue(api, admin, "one_time")["one_time_password"]
    browser = Client(enforce_csrf_checks=True)

    assert log_in(browser, "erin", password, next="/runs")["Location"] == "/runs"
    page = browser.get("/runs")
    api_call = browser.get("/api/me/")
    assert page.status_code == 302
    assert page["Location"] == "/change-password/?next=%2Fruns"
    assert api_call.status_code == 403
    assert api_call.json()["errors"][0]["code"] == "password_change_required"

    form = browser.get(page["Location"])
    assert "one-time password" in form.content.decode()
    same = browser.post(
        "/change-password/?next=/runs",
        {
            "old_password": password,
            "new_password1": password,
            "new_password2": password,
            "csrfmiddlewaretoken": csrf_of(form),
        },
    )
    assert "different from the current one" in same.content.decode()
    changed = browser.post(
        "/change-password/",
        {
            "old_password": password,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
            "next": "/runs",
            "csrfmiddlewaretoken": csrf_of(form),
        },
    )

    assert changed.status_code == 302 and changed["Location"] == "/runs"
    assert browser.get("/runs").status_code == 200, "the same session goes on"
    assert browser.get("/api/me/").status_code == 200
    erin = User.objects.get(username="erin")
    assert erin.check_password(NEW_PASSWORD)
    api.force_login(admin)
    assert api.get(f"/api/users/{erin.pk}/").data["password_status"] == "usable"


def test_the_change_password_page_sends_nowhere_else_after_it(api, admin):
    password = issue(api, admin, "one_time")["one_time_password"]
    browser = Client()
    log_in(browser, "erin", password)

    response = browser.post(
        "/change-password/",
        {
            "old_password": password,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
            "next": "https://elsewhere.example/",
        },
    )

    assert response["Location"] == "/"


def test_logging_out_stays_possible_with_a_one_time_password(api, admin):
    password = issue(api, admin, "one_time")["one_time_password"]
    browser = Client()
    log_in(browser, "erin", password)

    response = browser.post("/logout/")

    assert response.status_code == 302 and response["Location"] == "/login/"


def test_anyone_may_change_their_password_with_the_current_one(alice):
    browser = Client()
    browser.force_login(alice)

    wrong = browser.post(
        "/change-password/",
        {"old_password": "nope", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    right = browser.post(
        "/change-password/",
        {
            "old_password": "alice-pass-123",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    assert wrong.status_code == 200 and "incorrectly" in wrong.content.decode()
    assert right.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
