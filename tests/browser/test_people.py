"""People and API tokens in Chromium (issue 17, item 7): staff create a user with a
set-password link, who sets a password through it and logs in; staff change a group's members
and deactivate a user; a user makes an API token, sees its key once, uses it against the live
server, revokes it, and it stops working. On a phone, and under axe-core."""

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.test_shell import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "violet-harbour-42"


def open_people(page, live_server) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="People").click()
    expect(page.get_by_role("heading", level=1, name="People")).to_be_visible()


def row_of(page, table: str, username: str):
    return page.get_by_role("table", name=table).locator(f'tr[data-username="{username}"]')


def test_staff_create_a_user_with_a_link_who_sets_a_password_and_logs_in(
    page, browser, live_server, admin, bob
):
    from django.contrib.auth.models import User

    log_in(page, live_server, "admin", "admin-pass-123")
    open_people(page, live_server)
    expect(row_of(page, "Users", "bob")).to_be_visible()

    page.get_by_role("button", name="New user").click()
    form = page.get_by_role("form", name="New user")
    form.get_by_label("Username").fill("erin")
    form.get_by_label("First name").fill("Erin")
    form.get_by_label("Email").fill("erin@example.com")
    form.get_by_role("combobox", name="Groups").click()
    page.get_by_role("option", name="finance").click()
    expect(form.get_by_role("radio", name="A set-password link")).to_be_checked()
    form.get_by_role("button", name="Create user").click()

    dialog = page.get_by_role("dialog", name="Set-password link for erin")
    link = dialog.get_by_label("Set-password link", exact=True).inner_text().strip()
    assert link.startswith(f"{live_server.url}/set-password/")
    expect(dialog.get_by_text("Shown once")).to_be_visible()
    dialog.get_by_role("button", name="Done").click()
    erin_row = row_of(page, "Users", "erin")
    expect(erin_row).to_contain_text("finance")
    expect(erin_row).to_contain_text("No password yet")
    assert link not in page.content(), "the link is not shown again"

    # Erin, in a browser of her own, follows the link.
    context = browser.new_context()
    erin = context.new_page()
    erin.set_default_timeout(15_000)
    erin.goto(link)
    expect(erin.get_by_role("heading", name="Choose your password")).to_be_visible()
    expect(erin).not_to_have_url(re.compile(re.escape(link.rstrip("/").rsplit("/", 1)[-1])))
    erin.get_by_role("textbox", name="New password", exact=True).fill("12345678")
    erin.get_by_role("textbox", name="New password again").fill("12345678")
    erin.get_by_role("button", name="Set password").click()
    expect(erin.get_by_text("This password is too common.")).to_be_visible()
    erin.get_by_role("textbox", name="New password", exact=True).fill(NEW_PASSWORD)
    erin.get_by_role("textbox", name="New password again").fill(NEW_PASSWORD)
    erin.get_by_role("button", name="Set password").click()
    expect(erin.get_by_role("heading", name="Your password is set")).to_be_visible()
    erin.get_by_role("link", name="Log in").click()
    erin.get_by_label("Username").fill("erin")
    erin.get_by_label("Password").fill(NEW_PASSWORD)
    erin.get_by_role("button", name="Log in").click()
    expect(erin.get_by_role("button", name="Account of erin")).to_be_visible()
    # The link worked once.
    erin.goto(link)
    expect(erin.get_by_role("heading", name="This link does not work")).to_be_visible()

    assert list(User.objects.get(username="erin").groups.values_list("name", flat=True)) == [
        "finance"
    ]

    # Staff deactivate her: asked first; her session ends.
    page.reload()
    row_of(page, "Users", "erin").get_by_role("button", name="Actions for erin").click()
    page.get_by_role("menuitem", name="Deactivate").click()
    page.get_by_role("dialog", name="Deactivate erin?").get_by_role(
        "button", name="Deactivate"
    ).click()
    expect(page.get_by_role("alert").filter(has_text="erin can no longer log in")).to_be_visible()
    page.get_by_role("radiogroup", name="Show").get_by_text("Deactivated").click()
    expect(row_of(page, "Users", "erin")).to_contain_text("Deactivated")
    erin.goto(f"{live_server.url}/runs")
    expect(erin).to_have_url(re.compile(r"/login/\?next=/runs$"))
    context.close()


def test_staff_change_a_groups_members_and_see_which_workflows_ask_it(
    page, live_server, admin, alice, bob
):
    from django.contrib.auth.models import Group

    from tests.engine_kit import approval_graph, workflow

    Group.objects.create(name="auditors")
    workflow(alice, approval_graph(), name="Payments")  # asks finance

    log_in(page, live_server, "admin", "admin-pass-123")
    open_people(page, live_server)
    page.get_by_role("tab", name="Groups").click()
    expect(page).to_have_url(re.compile(r"/people/groups$"))
    page.get_by_role("table", name="Groups").get_by_role("link", name="finance").click()

    panel = page.get_by_role("region", name="Group finance")
    expect(panel.get_by_text("Workflows ask this group")).to_be_visible()
    expect(panel.get_by_role("link", name="Payments")).to_be_visible()
    expect(panel.get_by_role("button", name="Rename")).to_be_disabled()
    members = panel.get_by_role("list", name="Members")
    expect(members).to_contain_text("bob")
    panel.get_by_role("combobox", name="Add members").click()
    page.get_by_role("option", name="alice").click()
    panel.get_by_role("button", name="Add", exact=True).click()
    expect(members).to_contain_text("alice")
    panel.get_by_role("button", name="Remove bob from finance").click()
    expect(members).not_to_contain_text("bob")
    expect(
        page.get_by_role("table", name="Groups").locator("tr", has_text="finance")
    ).to_contain_text("1")
    assert list(Group.objects.get(name="finance").user_set.values_list("username", flat=True)) == [
        "alice"
    ]

    # A group no workflow asks is renamed and deleted; deleting asks first.
    page.get_by_role("table", name="Groups").get_by_role("link", name="auditors").click()
    panel = page.get_by_role("region", name="Group auditors")
    panel.get_by_role("button", name="Rename").click()
    panel.get_by_label("New name").fill("audit")
    panel.get_by_role("button", name="Save name").click()
    panel = page.get_by_role("region", name="Group audit")
    panel.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog", name="Delete group audit?").get_by_role(
        "button", name="Delete group"
    ).click()
    expect(
        page.get_by_role("table", name="Groups").get_by_role("link", name="audit")
    ).to_have_count(0)
    assert not Group.objects.filter(name__startswith="audit").exists()


def test_a_user_makes_a_token_sees_it_once_uses_it_and_revokes_it(page, live_server, alice):
    log_in(page, live_server, "alice", "alice-pass-123")
    page.get_by_role("button", name="Account of alice").click()
    page.get_by_role("menuitem", name="API tokens").click()
    expect(page.get_by_role("heading", level=1, name="API tokens")).to_be_visible()
    empty = page.get_by_role("region", name="No API tokens yet")
    empty.get_by_role("button", name="Create a token").click()

    form = page.get_by_role("form", name="New API token")
    form.get_by_label("Name").fill("laptop")
    form.get_by_role("button", name="Create token").click()
    dialog = page.get_by_role("dialog", name="Token laptop")
    key = dialog.get_by_label("API token", exact=True).inner_text().strip()
    assert key.startswith("fdt_")
    expect(dialog.get_by_label("curl example", exact=True)).to_contain_text(
        f'curl -H "Authorization: Token {key}" {live_server.url}/api/me/'
    )
    dialog.get_by_role("button", name="Done").click()

    row = page.get_by_role("table", name="API tokens").locator('tr[data-token="laptop"]')
    expect(row).to_contain_text(key[:8])
    expect(row).to_contain_text("Never")
    assert key not in page.content(), "the key is not shown again"

    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Token {key}"}) as http:
        me = http.get("/api/me/")
        assert me.status_code == 200 and me.json()["username"] == "alice"
        page.reload()
        expect(row).not_to_contain_text("Never")  # used just now

        row.get_by_role("button", name="Revoke laptop").click()
        page.get_by_role("dialog", name="Revoke the token laptop?").get_by_role(
            "button", name="Revoke"
        ).click()
        expect(page.get_by_role("region", name="No API tokens yet")).to_be_visible()
        assert http.get("/api/me/").status_code == 401


def test_the_people_and_token_pages_fit_a_phone(phone_page, live_server, admin, bob):
    from tests.helpers import api_key

    api_key(admin, "laptop")
    log_in(phone_page, live_server, "admin", "admin-pass-123")
    for path, heading in (
        ("/people", "People"),
        ("/people/groups", "People"),
        ("/account", "API tokens"),
    ):
        phone_page.goto(f"{live_server.url}{path}")
        expect(phone_page.get_by_role("heading", level=1, name=heading)).to_be_visible()
        expect(phone_page.get_by_role("table").first).to_be_visible()
        width = phone_page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, f"{path} scrolls sideways ({width} px wide)"
        small = phone_page.evaluate(SMALL_TARGETS)
        assert not small, f"{path}: tap targets under 40 px: {small}"

    # The create form fills the phone's screen and fits it.
    phone_page.goto(f"{live_server.url}/people")
    phone_page.get_by_role("button", name="New user").click()
    expect(phone_page.get_by_role("form", name="New user")).to_be_visible()
    width = phone_page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the new-user form scrolls sideways ({width} px wide)"


# Controls in the page's main area (not the header, which tests/browser/test_shell.py checks)
# smaller than 40 x 40 CSS pixels, by accessible name.
SMALL_TARGETS = """() => [...document.querySelectorAll(
    'main button, main a[href], main input:not([type=hidden]), main [role=tab], main [role=radio]'
  )]
  .filter((e) => e.offsetParent !== null)
  .map((e) => {
    // A radio's target is its label (the whole option), not the small circle.
    const target = e.closest('label') || e.closest('.mantine-SegmentedControl-control') || e;
    const box = target.getBoundingClientRect();
    const name = e.getAttribute('aria-label') || target.textContent.trim() || e.name;
    return {name, w: box.width, h: box.height};
  })
  .filter((b) => b.h < 40 || b.w < 40)
  .map((b) => `${b.name} (${Math.round(b.w)}x${Math.round(b.h)})`)"""


def test_the_people_and_token_pages_have_no_serious_accessibility_violation(
    axe_page, live_server, admin, bob
):
    from people.accounts import do_create_user
    from tests.browser.axe import assert_accessible
    from tests.helpers import api_key

    api_key(admin, "laptop")
    log_in(axe_page, live_server, "admin", "admin-pass-123")
    axe_page.goto(f"{live_server.url}/people")
    expect(row_of(axe_page, "Users", "bob")).to_be_visible()
    assert_accessible(axe_page, include="main")
    axe_page.get_by_role("button", name="New user").click()
    expect(axe_page.get_by_role("form", name="New user")).to_be_visible()
    assert_accessible(axe_page, include="[role=dialog]")
    axe_page.keyboard.press("Escape")
    axe_page.goto(f"{live_server.url}/people/groups")
    axe_page.get_by_role("table", name="Groups").get_by_role("link", name="finance").click()
    expect(axe_page.get_by_role("region", name="Group finance")).to_be_visible()
    assert_accessible(axe_page, include="main")
    axe_page.goto(f"{live_server.url}/account")
    expect(axe_page.get_by_role("table", name="API tokens")).to_contain_text("laptop")
    assert_accessible(axe_page, include="main")

    # The pages outside the app: changing one's password, and a set-password link.
    axe_page.goto(f"{live_server.url}/change-password/")
    expect(axe_page.get_by_role("heading", name="Change your password")).to_be_visible()
    assert_accessible(axe_page)
    _, issued = do_create_user(actor=admin, username="erin", password_setup="link")
    axe_page.goto(f"{live_server.url}{issued.link_path}")
    expect(axe_page.get_by_role("heading", name="Choose your password")).to_be_visible()
    assert_accessible(axe_page)
