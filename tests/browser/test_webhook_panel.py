"""The webhook step's panel in the designer, in Chromium: the URL of a saved workflow with a
copy button and a curl example (with the signing recipe when requests are signed), rotation
behind a confirmation, and the URL appearing once a new workflow with the step is saved."""

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.test_designer_story import toast
from tests.browser.test_shell import log_in
from tests.engine_kit import build

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def clipboard_page(browser, live_server):
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def signed_webhook_workflow(owner):
    from connectors.credentials import do_create_credential
    from designer.services import do_create_workflow

    do_create_credential(actor=owner, name="shop-secret", kind="secret", data={"value": "s" * 24})
    graph = build(
        {
            "start": {
                "type": "trigger.webhook",
                "config": {"signature": {"secret_credential": "shop-secret"}},
                "position": {"x": 0, "y": 0},
            },
            "shape": {
                "type": "data.transform",
                "config": {"value": "{{ input }}"},
                "position": {"x": 300, "y": 0},
            },
        },
        ["start>shape"],
    )
    return do_create_workflow(actor=owner, name="Orders in", graph=graph)


def hook_path(wf) -> str:
    from webhooks.models import WebhookEndpoint
    from webhooks.services import token_of

    return f"/api/hooks/{token_of(WebhookEndpoint.objects.get(workflow=wf))}/"


def test_the_webhook_step_shows_its_url_copies_it_and_rotates_it(
    clipboard_page, live_server, alice
):
    page = clipboard_page
    wf = signed_webhook_workflow(alice)
    old = hook_path(wf)
    log_in(page, live_server, "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/designer/{wf.pk}")

    page.locator('.react-flow__node[data-id="start"]').click()
    panel = page.get_by_role("region", name="Webhook URL")
    url = panel.get_by_role("textbox", name="Webhook URL")
    expect(url).to_have_value(f"{live_server.url}{old}")
    expect(panel).to_contain_text("Requests must be signed: X-Flowdeck-Signature")

    panel.get_by_role("button", name="Copy").click()
    expect(panel.get_by_role("status")).to_have_text("URL copied.")
    assert page.evaluate("navigator.clipboard.readText()") == f"{live_server.url}{old}"

    panel.get_by_text("Try it with curl").click()
    example = panel.get_by_label("curl example")
    expect(example).to_contain_text(f"curl -X POST '{live_server.url}{old}'")
    expect(example).to_contain_text("openssl dgst -sha256 -hmac")
    expect(example).to_contain_text("the value of the credential shop-secret")

    # Rotation asks first; cancelling keeps the URL.
    panel.get_by_role("button", name="Rotate URL…").click()
    confirm = panel.get_by_role("alertdialog", name="Rotate the webhook URL")
    expect(confirm).to_contain_text("stops working at once")
    confirm.get_by_role("button", name="Cancel").click()
    expect(url).to_have_value(f"{live_server.url}{old}")
    assert hook_path(wf) == old

    panel.get_by_role("button", name="Rotate URL…").click()
    panel.get_by_role("alertdialog").get_by_role("button", name="Rotate").click()
    expect(panel.get_by_role("status")).to_have_text("New URL issued; the old one no longer works.")
    new = hook_path(wf)
    assert new != old
    expect(url).to_have_value(f"{live_server.url}{new}")
    expect(example).to_contain_text(new)
    # The old URL is unknown now; the new one is known (and asks for its signature).
    assert httpx.post(f"{live_server.url}{old}", json={}).status_code == 404
    assert httpx.post(f"{live_server.url}{new}", json={}).status_code == 401


def test_a_new_workflow_gets_its_webhook_url_when_saved(page, live_server, alice):
    log_in(page, live_server, "alice", "alice-pass-123")
    page.get_by_role("link", name="New workflow").click()
    toolbar = page.get_by_role("toolbar", name="Edit")
    toolbar.get_by_label("Workflow name").fill("Hooked")
    page.get_by_role("complementary", name="Steps").get_by_role("button", name="Webhook").click()

    page.locator('.react-flow__node[data-id="webhook"]').click()
    panel = page.get_by_role("region", name="Webhook URL")
    expect(panel).to_contain_text("Save the workflow to get the URL")
    toolbar.get_by_role("button", name="Save", exact=True).click()
    expect(toast(page, "Saved version 1")).to_be_visible()
    # The saved workflow opens at its own address (which reloads it); select the step again.
    expect(page).to_have_url(re.compile(r"/designer/\d+$"))
    page.reload()
    page.locator('.react-flow__node[data-id="webhook"]').click()

    from designer.models import Workflow

    wf = Workflow.objects.get(name="Hooked")
    url = panel.get_by_role("textbox", name="Webhook URL")
    expect(url).to_have_value(f"{live_server.url}{hook_path(wf)}")
    expect(panel).to_contain_text("Anyone with this URL can start the workflow")
    expect(panel.get_by_label("curl example")).not_to_contain_text("openssl")
