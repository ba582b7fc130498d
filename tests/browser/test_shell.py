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

    expect(page).to_have_url(re.compile(r"/workflows$"))
    nav = page.get_by_role("navigation", name="Main")
    for section in ["Workflows", "Runs", "Inbox", "Dashboard", "Credentials"]:
        expect(nav.get_by_role("link", name=section)).to_be_visible()
    expect(page.get_by_role("button", name="Account of alice")).to_contain_text("alice")
    # The designer opens on the workflows list (empty: alice has none yet); a new workflow opens
    # the React Flow canvas.
    expect(page.get_by_role("heading", level=1, name="Workflows")).to_be_visible()
    expect(page.get_by_role("region", name="Create your first workflow")).to_be_visible()
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
    page.get_by_role("button", name="Account of alice").click()
    page.get_by_role("menuitem", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login/$"))
    page.goto(f"{live_server.url}/runs")
    expect(page).to_have_url(re.compile(r"/login/\?next=/runs$"))


def background_of(page) -> tuple[int, int, int]:
    color = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    return tuple(int(x) for x in re.findall(r"\d+", color)[:3])


def is_dark(rgb: tuple[int, int, int]) -> bool:
    return sum(rgb) / 3 < 80


def test_the_pages_are_dark_when_the_system_prefers_dark(dark_page, live_server, alice):
    log_in(dark_page, live_server, "alice", "alice-pass-123")
    expect(dark_page.get_by_role("navigation", name="Main")).to_be_visible()
    assert is_dark(background_of(dark_page))
    # The login page too (it is outside the app).
    dark_page.context.clear_cookies()
    dark_page.goto(f"{live_server.url}/login/")
    expect(dark_page.get_by_role("button", name="Log in")).to_be_visible()
    assert is_dark(background_of(dark_page))


def test_the_chosen_colour_scheme_is_remembered(page, live_server, alice):
    log_in(page, live_server, "alice", "alice-pass-123")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    assert not is_dark(background_of(page)), "the system prefers light: the page starts light"

    page.get_by_role("button", name=re.compile("Colour scheme")).click()
    page.get_by_role("menuitemradio", name="Dark").click()
    expect(page.locator("html")).to_have_attribute("data-mantine-color-scheme", "dark")

    page.reload()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    assert is_dark(background_of(page)), "the choice outlives a reload"


def test_the_command_palette_opens_a_workflow_and_a_run(page, live_server, alice):
    from designer.services import do_create_workflow
    from tests.engine_kit import build

    flow = do_create_workflow(
        actor=alice,
        name="Quarterly close",
        description="",
        graph=build({"s": ("trigger.manual",)}, []),
    )
    log_in(page, live_server, "alice", "alice-pass-123")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()

    page.keyboard.press("Control+k")
    page.get_by_role("textbox", name="Command").fill("quarterly")
    page.get_by_role("button", name=re.compile("Quarterly close")).click()
    expect(page).to_have_url(re.compile(rf"/designer/{flow.pk}$"))
    expect(page.get_by_role("textbox", name="Command")).to_have_count(0)  # closed

    page.keyboard.press("Control+k")
    page.get_by_role("textbox", name="Command").fill("#77")
    page.get_by_role("button", name=re.compile("Open run 77")).click()
    expect(page).to_have_url(re.compile(r"/runs/77$"))


def test_the_login_page_and_the_shell_have_no_serious_accessibility_violation(
    axe_page, live_server, alice
):
    from tests.browser.axe import assert_accessible

    axe_page.goto(f"{live_server.url}/login/")
    expect(axe_page.get_by_role("button", name="Log in")).to_be_visible()
    assert_accessible(axe_page)
    log_in(axe_page, live_server, "alice", "alice-pass-123")
    expect(axe_page.get_by_role("navigation", name="Main")).to_be_visible()
    assert_accessible(axe_page, include="header")
    assert_accessible(axe_page, include="nav")


def test_on_a_phone_the_navigation_opens_from_the_burger(phone_page, live_server, alice):
    log_in(phone_page, live_server, "alice", "alice-pass-123")
    nav = phone_page.get_by_role("navigation", name="Main")
    expect(nav).not_to_be_in_viewport()
    phone_page.get_by_role("button", name="Navigation").click()
    nav.get_by_role("link", name="Runs").click()
    expect(phone_page).to_have_url(re.compile(r"/runs$"))
    expect(nav).not_to_be_in_viewport()
    width = phone_page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width} px wide)"
