"""A person logs in through the form in Chromium and finds the app shell and its sections."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_a_user_logs_in_and_sees_the_app_shell_with_its_navigation(page, live_server, alice):
    log_in(page, live_server, "alice", "alice-pass-123")

    expect(page).to_have_url(re.compile(r"/designer$"))
    nav = page.get_by_role("navigation", name="Main")
    for section in ["Designer", "Runs", "Inbox", "Dashboard", "Credentials"]:
        expect(nav.get_by_role("link", name=section)).to_be_visible()
    expect(page.get_by_label("Signed in as")).to_have_text("alice")
    # The designer opens on the workflows list; a new workflow opens the React Flow canvas.
    expect(page.get_by_role("table", name="Workflows")).to_be_visible()
    page.get_by_role("link", name="New workflow").click()
    expect(page.locator(".react-flow")).to_be_visible()

    nav.get_by_role("link", name="Runs").click()
    expect(page).to_have_url(re.compile(r"/runs$"))
    expect(page.get_by_role("heading", level=1, name="Runs")).to_be_visible()

    # A deep link is served by Django and routed by the app.
    page.goto(f"{live_server.url}/inbox")
    expect(page.get_by_role("heading", level=1, name="Inbox")).to_be_visible()


def test_a_wrong_password_keeps_the_user_out(page, live_server, alice):
    log_in(page, live_server, "alice", "not-her-password")
    expect(page.get_by_role("alert")).to_contain_text("didn't match")
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)


def test_log_out_returns_to_the_login_page(page, live_server, alice):
    log_in(page, live_server, "alice", "alice-pass-123")
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login/$"))
    page.goto(f"{live_server.url}/runs")
    expect(page).to_have_url(re.compile(r"/login/\?next=/runs$"))
