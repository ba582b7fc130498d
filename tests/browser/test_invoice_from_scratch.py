"""The issue's bar for the designer: someone who has never seen Flowdeck builds the example
invoice-approval workflow from scratch in the browser, saves it and starts it. Driven in
Chromium through what is on the screen only: the palette, the canvas, the forms."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_designer import drag
from tests.browser.test_designer_story import no_problems, pick, toast
from tests.browser.test_shell import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_invoice_approval_is_built_saved_and_started_from_scratch(page, live_server, alice, bob):
    from designer.models import Workflow
    from engine.models import Run

    page.set_viewport_size({"width": 1600, "height": 1000})
    log_in(page, live_server, "alice", "alice-pass-123")
    page.get_by_role("link", name="New workflow").click()
    toolbar = page.get_by_role("toolbar", name="Edit")
    palette = page.get_by_role("complementary", name="Steps")
    toolbar.get_by_label("Workflow name").fill("Invoice approval")

    # What a run is started with.
    settings = page.get_by_role("complementary", name="Workflow settings")
    for name, kind, title, required in [
        ("invoice", "string", "Invoice number", True),
        ("amount", "number", "Amount (EUR)", True),
        ("supplier", "string", "Supplier", False),
    ]:
        settings.get_by_label("New input name").fill(name)
        settings.get_by_role("button", name="Add input").click()
        pick(page, settings.get_by_label(f"Type of {name}"), kind)
        settings.get_by_label(f"Title of {name}").fill(title)
        if required:
            settings.get_by_label(f"{name} is required").check()

    def configure(step_id):
        page.locator(f'.react-flow__node[data-id="{step_id}"]').click()
        return page.get_by_role("complementary", name=f"Configure {step_id}")

    palette.get_by_role("button", name="Manual start").click()
    palette.get_by_role("button", name="Condition").click()
    panel = configure("condition")
    panel.get_by_label("Label").fill("Over 1,000 EUR?")
    panel.get_by_label("Expression").fill("input.amount > 1000")

    palette.get_by_role("button", name="Approval").click()
    panel = configure("approval")
    title = panel.get_by_role("textbox", name="Title", exact=True)
    title.fill("Approve invoice {{ input.invoice }}")
    panel.get_by_role("button", name="Add an item to assignees groups").click()
    panel.get_by_role("textbox", name="Groups-1").fill("finance")

    palette.get_by_role("button", name="HTTP request").click()
    panel = configure("request")
    panel.get_by_label("Label").fill("Pay")
    pick(page, panel.get_by_role("combobox", name="Join"), "one_success: at least one succeeded")
    pick(page, panel.get_by_role("combobox", name="Method"), "POST")
    panel.get_by_label("URL").fill("http://127.0.0.1:9/pay")

    palette.get_by_role("button", name="Fail").click()
    panel = configure("fail")
    panel.get_by_label("Message").fill("Invoice {{ input.invoice }} was rejected")

    # The first connection is drawn on the canvas; the rest through the connections form.
    drag(
        page,
        page.get_by_label("manual output out"),
        page.locator('.react-flow__node[data-id="condition"]').locator(".react-flow__handle-left"),
    )
    expect(page.get_by_label("Graph size")).to_have_text("5 steps, 1 connections")
    for source, handle, target in [
        ("condition", "true", "approval"),
        ("condition", "false", "request"),
        ("approval", "approved", "request"),
        ("approval", "rejected", "fail"),
    ]:
        configure(source)
        connections = page.get_by_role("group", name=f"Connections of {source}")
        pick(page, connections.get_by_label("Output"), handle)
        pick(page, connections.get_by_label("Next step"), re.compile(rf"\({target}\)$"))
        connections.get_by_role("button", name="Connect", exact=True).click()
    expect(page.get_by_label("Graph size")).to_have_text("5 steps, 5 connections")
    page.get_by_role("button", name="Auto-layout").click()
    expect(no_problems(page)).to_have_count(0)

    toolbar.get_by_role("button", name="Save", exact=True).click()
    expect(toast(page, "Saved version 1")).to_be_visible()
    graph = Workflow.objects.get(name="Invoice approval").versions.get().graph
    nodes = {n["id"]: n for n in graph["nodes"]}
    assert nodes["approval"]["config"]["assignees"] == {"groups": ["finance"]}
    assert nodes["request"]["join"] == "one_success"
    assert graph["input_schema"]["required"] == ["invoice", "amount"]

    expect(toolbar.get_by_label("Save state")).to_have_text("Version 1")
    toolbar.get_by_role("button", name="Run").click()
    dialog = page.get_by_role("dialog", name="Run the workflow")
    dialog.get_by_label("Invoice number").fill("INV-7")
    dialog.get_by_label("Amount (EUR)").fill("2500")
    dialog.get_by_role("button", name="Start run").click()
    expect(page).to_have_url(re.compile(r"/runs/\d+$"))
    run = Run.objects.get(workflow__name="Invoice approval")
    assert run.input == {"invoice": "INV-7", "amount": 2500}
