"""The Credentials page and the designer's credential field, in Chromium: a secret typed once
is never shown again (neither in the page nor in anything the API sent it), a change without it
keeps it, sharing gives bob a role, a step names the credential from a select, and deleting
asks first."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.axe import assert_accessible
from tests.browser.test_shell import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TOKEN = "tok-7c1e9b44d0a2f635"
NEW_TOKEN = "tok-replaced-0b5d27e1c4"


def secrets_in_page(page, secret: str = TOKEN) -> bool:
    """Whether the secret is in the page's markup or in any field's current value."""
    values = page.evaluate(
        "() => [...document.querySelectorAll('input, textarea, select')].map((e) => e.value)"
    )
    return secret in page.content() or any(secret in v for v in values)


def pick(page, select, option: str) -> None:
    """Choose an option of a Mantine select (a text box that opens a list box)."""
    select.click()
    page.get_by_role("option", name=option, exact=True).click()


def toast(page, text: str):
    return page.get_by_role("alert").filter(has_text=text)


def test_a_credential_is_created_edited_shared_and_picked_in_the_designer(
    page, browser, live_server, alice, bob
):
    from connectors.credentials import resolve
    from connectors.models import Credential, CredentialGrant
    from designer.services import do_create_workflow
    from tests.graphs import simple_graph

    graph = simple_graph()
    for i, node in enumerate(graph["nodes"]):
        node["position"] = {"x": 260 * i, "y": 0}
    wf = do_create_workflow(actor=alice, name="Payments", graph=graph)
    bodies: list[str] = []

    def keep_body(response) -> None:
        # Read at once: a body is gone once the page navigates away.
        if "/api/" in response.url and response.status != 204:
            bodies.append(response.text())

    page.on("response", keep_body)
    log_in(page, live_server, "alice", "alice-pass-123")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Credentials").click()
    expect(page.get_by_role("heading", level=1, name="Credentials")).to_be_visible()
    empty = page.get_by_role("region", name="No credentials yet")
    expect(empty).to_contain_text("instead of holding the secret itself")

    # Create one; the server's field errors show under their fields.
    empty.get_by_role("button", name="New credential").click()
    dialog = page.get_by_role("dialog", name="New credential")
    form = dialog.get_by_role("form", name="New credential")
    form.get_by_label("Name").fill("payments api")
    pick(page, form.get_by_role("combobox", name="Kind"), "HTTP bearer token")
    token = form.get_by_role("textbox", name="Token", exact=True)
    expect(token).to_have_attribute("type", "password")
    form.get_by_role("button", name="Create credential").click()
    expect(form.get_by_label("Name")).to_have_attribute("aria-invalid", "true")
    expect(form.get_by_label("Name")).to_have_accessible_description(re.compile("does not match"))

    form.get_by_label("Name").fill("payments-api")
    form.get_by_role("button", name="Create credential").click()
    expect(token).to_have_accessible_description(re.compile("token is required"))

    token.fill(TOKEN)
    assert secrets_in_page(page)  # the check sees a typed secret...
    form.get_by_role("button", name="Create credential").click()
    expect(toast(page, "Created payments-api")).to_be_visible()
    expect(form).to_have_count(0)
    table = page.get_by_role("table", name="Credentials")
    row = table.get_by_role("row", name=re.compile("payments-api"))
    expect(row).to_contain_text("HTTP bearer token")
    expect(row.get_by_label("Your role on payments-api")).to_have_text("owner")
    expect(row.get_by_label("Secrets of payments-api")).to_have_text("token: set")
    assert not secrets_in_page(page)  # ...and none is left once saved

    # Edit the description; the token is shown as set, never as a value, and kept.
    row.get_by_role("button", name="Actions for payments-api").click()
    page.get_by_role("menuitem", name="Edit").click()
    edit = page.get_by_role("form", name="Edit payments-api")
    expect(edit.get_by_text("Set, never shown")).to_be_visible()
    expect(edit.get_by_role("textbox", name="Token", exact=True)).to_have_count(0)
    edit.get_by_label("Description").fill("The payments service")
    edit.get_by_role("button", name="Save changes").click()
    expect(toast(page, "Saved payments-api")).to_be_visible()
    expect(row).to_contain_text("The payments service")
    assert resolve("payments-api", user_id=alice.pk, kinds=["http_bearer"]).secret == {
        "token": TOKEN
    }

    # Replacing the token: a new, empty field; "keep" goes back; a saved one replaces it.
    row.get_by_role("button", name="Actions for payments-api").click()
    page.get_by_role("menuitem", name="Edit").click()
    edit.get_by_role("button", name="Replace token").click()
    replaced = edit.get_by_role("textbox", name="Token", exact=True)
    expect(replaced).to_have_value("")
    expect(replaced).to_have_accessible_description(re.compile("replaces the stored one"))
    edit.get_by_role("button", name="Keep the stored token").click()
    expect(edit.get_by_role("textbox", name="Token", exact=True)).to_have_count(0)
    edit.get_by_role("button", name="Replace token").click()
    edit.get_by_role("textbox", name="Token", exact=True).fill(NEW_TOKEN)
    edit.get_by_role("button", name="Save changes").click()
    expect(toast(page, "Saved payments-api").last).to_be_visible()
    expect(edit).to_have_count(0)
    assert resolve("payments-api", user_id=alice.pk, kinds=["http_bearer"]).secret == {
        "token": NEW_TOKEN
    }
    assert not secrets_in_page(page, NEW_TOKEN)

    # Share it with bob as runner, and with finance as viewer, then take the group's back.
    row.get_by_role("button", name="Actions for payments-api").click()
    page.get_by_role("menuitem", name="Share…").click()
    sharing = page.get_by_role("dialog", name="Sharing of payments-api")
    share = sharing.get_by_role("form", name="Share payments-api")
    share.get_by_label("User name").fill("bob")
    pick(page, share.get_by_role("combobox", name="Role"), "runner")
    share.get_by_role("button", name="Share").click()
    roles = sharing.get_by_role("list", name="Roles")
    expect(roles).to_contain_text("user bob: runner")
    share.get_by_role("radiogroup", name="Share with").get_by_text("A group").click()
    share.get_by_label("Group name").fill("nobody-here")
    share.get_by_role("button", name="Share").click()
    expect(share.get_by_label("Group name")).to_have_accessible_description(
        re.compile("does not exist")
    )
    share.get_by_label("Group name").fill("finance")
    pick(page, share.get_by_role("combobox", name="Role"), "viewer")
    share.get_by_role("button", name="Share").click()
    expect(roles).to_contain_text("group finance: viewer")
    roles.get_by_role("button", name="Revoke the role of group finance").click()
    expect(roles).not_to_contain_text("group finance")
    assert list(CredentialGrant.objects.values_list("user__username", "role")) == [
        ("bob", "runner")
    ]
    sharing.get_by_role("button", name="Close").click()
    expect(sharing).to_have_count(0)

    # bob sees it with his role, and no controls he may not use.
    bob_context = browser.new_context()
    try:
        bob_page = bob_context.new_page()
        log_in(bob_page, live_server, "bob", "bob-pass-123")
        bob_page.goto(f"{live_server.url}/credentials")
        bob_row = bob_page.get_by_role("table", name="Credentials").get_by_role(
            "row", name=re.compile("payments-api")
        )
        expect(bob_row.get_by_label("Your role on payments-api")).to_have_text("runner")
        expect(bob_row.get_by_role("button")).to_have_count(0)
    finally:
        bob_context.close()

    # The designer's link to create one opens the form for the field's kind.
    page.goto(f"{live_server.url}/credentials?new=smtp")
    form = page.get_by_role("form", name="New credential")
    expect(form.get_by_role("combobox", name="Kind")).to_have_value("SMTP server")
    expect(form.get_by_label("Host")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/credentials$"))  # a reload does not open it again
    page.keyboard.press("Escape")
    expect(form).to_have_count(0)

    # In the designer, the http.request step picks it from a select.
    page.goto(f"{live_server.url}/designer/{wf.pk}")
    page.locator('.react-flow__node[data-id="fetch"]').click()
    panel = page.get_by_role("complementary", name="Configure fetch")
    credential = panel.get_by_role("combobox", name="Credential", exact=True)
    expect(credential).to_have_attribute("placeholder", "No credential")
    expect(panel.get_by_role("link", name=re.compile("Create a credential"))).to_have_attribute(
        "href", "/credentials?new=http_bearer"
    )
    credential.click()
    expect(page.get_by_role("listbox").get_by_role("option")).to_have_text(
        ["payments-api (http_bearer)"]
    )
    page.get_by_role("option", name="payments-api (http_bearer)").click()
    expect(credential).to_have_value("payments-api (http_bearer)")
    page.get_by_role("toolbar", name="Edit").get_by_role("button", name="Save", exact=True).click()
    expect(toast(page, "Saved version 2")).to_be_visible()
    wf.refresh_from_db()
    fetch = next(n for n in wf.versions.order_by("-number")[0].graph["nodes"] if n["id"] == "fetch")
    assert fetch["config"]["credential"] == "payments-api"

    # Deleting asks first.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Credentials").click()
    page.get_by_role("button", name="Actions for payments-api").click()
    page.get_by_role("menuitem", name="Delete…").click()
    confirm = page.get_by_role("dialog", name="Delete payments-api?")
    confirm.get_by_role("button", name="Keep it").click()
    expect(confirm).to_have_count(0)
    page.get_by_role("button", name="Actions for payments-api").click()
    page.get_by_role("menuitem", name="Delete…").click()
    confirm.get_by_role("button", name="Delete", exact=True).click()
    expect(toast(page, "Deleted payments-api")).to_be_visible()
    expect(page.get_by_role("region", name="No credentials yet")).to_be_visible()
    assert not Credential.objects.exists()

    # Nothing the API sent the page held the token.
    assert any("payments-api" in body for body in bodies)
    assert not any(TOKEN in body or NEW_TOKEN in body for body in bodies)
    assert not secrets_in_page(page) and not secrets_in_page(page, NEW_TOKEN)


def test_the_credentials_page_and_its_modal_have_no_serious_accessibility_violation(
    axe_page, live_server, alice
):
    from connectors.credentials import do_create_credential

    do_create_credential(
        actor=alice,
        name="mailer",
        kind="smtp",
        data={"host": "mail.example.com", "port": 587, "password": "pw-1"},
        description="Outgoing mail",
    )
    log_in(axe_page, live_server, "alice", "alice-pass-123")
    axe_page.goto(f"{live_server.url}/credentials")
    table = axe_page.get_by_role("table", name="Credentials")
    row = table.get_by_role("row", name=re.compile("mailer"))
    expect(row.get_by_label("Secrets of mailer")).to_have_text("password: set")
    assert_accessible(axe_page)

    row.get_by_role("button", name="Actions for mailer").click()
    axe_page.get_by_role("menuitem", name="Edit").click()
    edit = axe_page.get_by_role("form", name="Edit mailer")
    expect(edit.get_by_label("Host")).to_have_value("mail.example.com")
    # Once it has faded in: mid-transition colours are blends.
    expect(axe_page.get_by_role("dialog", name="Edit mailer")).to_have_css("opacity", "1")
    assert_accessible(axe_page)


def test_the_credentials_page_fits_a_phone(phone_page, live_server, alice):
    from connectors.credentials import do_create_credential

    do_create_credential(
        actor=alice, name="payments-api", kind="http_bearer", data={"token": "t-1"}
    )
    log_in(phone_page, live_server, "alice", "alice-pass-123")
    phone_page.goto(f"{live_server.url}/credentials")
    row = phone_page.get_by_role("table", name="Credentials").get_by_role(
        "row", name=re.compile("payments-api")
    )
    expect(row).to_contain_text("HTTP bearer token")  # under the name: the kind's column is hidden
    expect(row.get_by_label("Secrets of payments-api")).to_have_text("token: set")
    assert phone_page.evaluate("() => document.documentElement.scrollWidth") <= 390
    row.get_by_role("button", name="Actions for payments-api").click()
    phone_page.get_by_role("menuitem", name="Edit").click()
    expect(phone_page.get_by_role("form", name="Edit payments-api")).to_be_visible()
    assert phone_page.evaluate("() => document.documentElement.scrollWidth") <= 390
