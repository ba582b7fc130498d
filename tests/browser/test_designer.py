"""The designer canvas in Chromium, driven as a person would: steps from the palette, a
connection drawn by dragging between handles, a refused edit explained, undo and redo."""

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_shell import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def drag(page, source, target) -> None:
    """Press on one element, move in steps (React Flow follows the pointer), release on another."""
    a = source.bounding_box()
    b = target.bounding_box()
    page.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
    page.mouse.down()
    page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=12)
    page.mouse.up()


def test_a_user_builds_a_small_workflow_on_the_canvas(page, live_server, alice):
    log_in(page, live_server, "alice", "alice-pass-123")
    expect(page).to_have_url(re.compile(r"/designer$"))
    page.get_by_role("link", name="New workflow").click()
    palette = page.get_by_role("complementary", name="Steps")
    size = page.get_by_label("Graph size")

    # A trigger by click, a transform dragged from the palette onto the canvas.
    palette.get_by_role("button", name="Manual start").click()
    palette.get_by_role("button", name="Transform").drag_to(
        page.get_by_test_id("designer-canvas"), target_position={"x": 150, "y": 320}
    )
    expect(size).to_have_text("2 steps, 0 connections")
    expect(page.locator('.react-flow__node[data-id="manual"]')).to_be_visible()
    expect(page.locator('.react-flow__node[data-id="transform"]')).to_be_visible()

    # Connect the trigger's "out" to the transform's input by dragging between the handles.
    drag(
        page,
        page.get_by_label("manual output out"),
        page.locator('.react-flow__node[data-id="transform"]').locator(".react-flow__handle-left"),
    )
    expect(size).to_have_text("2 steps, 1 connections")

    # A second trigger is refused, and the reason is shown.
    palette.get_by_role("button", name="Manual start").click()
    expect(page.get_by_role("status")).to_contain_text("exactly one trigger")
    expect(size).to_have_text("2 steps, 1 connections")

    # Undo takes back the connection, redo brings it back.
    toolbar = page.get_by_role("toolbar", name="Edit")
    toolbar.get_by_role("button", name="Undo").click()
    expect(size).to_have_text("2 steps, 0 connections")
    toolbar.get_by_role("button", name="Redo").click()
    expect(size).to_have_text("2 steps, 1 connections")


def test_the_palette_is_searchable(page, live_server, alice):
    log_in(page, live_server, "alice", "alice-pass-123")
    page.get_by_role("link", name="New workflow").click()
    palette = page.get_by_role("complementary", name="Steps")
    expect(palette.get_by_role("button", name="Condition")).to_be_visible()

    palette.get_by_role("searchbox", name="Search steps").fill("delay")

    expect(palette.get_by_role("button", name="Delay")).to_be_visible()
    expect(palette.get_by_role("button", name="Condition")).to_have_count(0)


def test_a_user_saves_sees_the_servers_problems_on_the_node_and_finds_the_workflow_after_reload(
    page, live_server, alice
):
    # Hold the catalog back: a name typed before it arrives must survive its arrival.
    held = []
    page.route("**/api/step-types/", lambda route: held.append(route))
    log_in(page, live_server, "alice", "alice-pass-123")
    page.get_by_role("link", name="New workflow").click()
    palette = page.get_by_role("complementary", name="Steps")
    toolbar = page.get_by_role("toolbar", name="Edit")
    toolbar.get_by_label("Workflow name").fill("Hello")
    assert len(held) == 1
    held[0].continue_()
    page.unroute("**/api/step-types/")
    palette.get_by_role("button", name="Manual start").click()
    expect(toolbar.get_by_label("Workflow name")).to_have_value("Hello")
    palette.get_by_role("button", name="Transform").click()
    expect(toolbar.get_by_label("Save state")).to_have_text("Unsaved changes")

    # The transform has no value yet and is not connected: the server says so, on the node.
    toolbar.get_by_role("button", name="Save").click()
    problems = page.get_by_role("list", name="Problems", exact=True)
    expect(problems).to_contain_text("transform")
    transform = page.locator('.react-flow__node[data-id="transform"]')
    expect(transform.get_by_label(re.compile(r"\d+ problems"))).to_be_visible()

    # Remove it and save: version 1 of a new workflow, at its own address.
    transform.click()
    toolbar.get_by_role("button", name="Delete").click()
    toolbar.get_by_role("button", name="Save").click()
    expect(page.get_by_label("Notice")).to_have_text("Saved version 1")
    expect(page).to_have_url(re.compile(r"/designer/\d+$"))

    page.reload()
    expect(page.get_by_label("Graph size")).to_have_text("1 steps, 0 connections")
    expect(page.get_by_role("toolbar", name="Edit").get_by_label("Workflow name")).to_have_value(
        "Hello"
    )
    expect(page.get_by_label("Save state")).to_have_text("Version 1")


def test_a_step_is_configured_from_the_form_generated_from_its_schema(page, live_server, alice):
    log_in(page, live_server, "alice", "alice-pass-123")
    page.get_by_role("link", name="New workflow").click()
    palette = page.get_by_role("complementary", name="Steps")
    toolbar = page.get_by_role("toolbar", name="Edit")
    toolbar.get_by_label("Workflow name").fill("Big orders")
    palette.get_by_role("button", name="Manual start").click()
    palette.get_by_role("button", name="Condition").click()
    drag(
        page,
        page.get_by_label("manual output out"),
        page.locator('.react-flow__node[data-id="condition"]').locator(".react-flow__handle-left"),
    )

    page.locator('.react-flow__node[data-id="condition"]').click()
    panel = page.get_by_role("complementary", name="Configure condition")
    panel.get_by_label("Expression").fill("input.amount > 1000")
    panel.get_by_label("Label").fill("Big?")
    expect(page.locator('.react-flow__node[data-id="condition"]')).to_contain_text("Big?")
    toolbar.get_by_role("button", name="Save").click()
    expect(page.get_by_label("Notice")).to_have_text("Saved version 1")

    page.reload()
    page.locator('.react-flow__node[data-id="condition"]').click()
    panel = page.get_by_role("complementary", name="Configure condition")
    # The expression editor (CodeMirror, loaded on demand), not its stand-in textarea.
    expression = panel.get_by_role("textbox", name="Expression")
    expect(expression).to_have_attribute("contenteditable", "true")
    expect(expression).to_have_text("input.amount > 1000")


def test_the_workflows_page_lists_searches_imports_exports_and_archives(
    page, live_server, alice, tmp_path
):
    from designer.services import do_create_workflow
    from tests.graphs import example_graph

    invoices = do_create_workflow(
        actor=alice, name="Invoices", graph=example_graph("invoice_approval")
    )
    do_create_workflow(actor=alice, name="Reports", graph=example_graph("nightly_report"))
    log_in(page, live_server, "alice", "alice-pass-123")
    table = page.get_by_role("table", name="Workflows")
    expect(table.get_by_role("link", name="Invoices", exact=True)).to_be_visible()
    page.get_by_role("button", name="Actions for Invoices").click()
    expect(page.get_by_role("menuitem", name="Export as JSON")).to_have_attribute(
        "href", f"/api/workflows/{invoices.pk}/export/?format=json"
    )
    page.keyboard.press("Escape")

    page.get_by_label("Search workflows").fill("rep")
    expect(table.get_by_role("link", name="Reports", exact=True)).to_be_visible()
    expect(table.get_by_role("link", name="Invoices", exact=True)).to_have_count(0)
    page.get_by_label("Search workflows").fill("")

    page.get_by_role("button", name="Actions for Reports").click()
    page.get_by_role("menuitem", name="Archive…").click()
    confirm = page.get_by_role("dialog", name="Archive Reports?")
    confirm.get_by_role("button", name="Archive").click()
    expect(page.get_by_role("alert").filter(has_text="Reports left the list")).to_be_visible()
    expect(table.get_by_role("link", name="Reports", exact=True)).to_have_count(0)

    # Import a document file; the editor opens it.
    document = {"kind": "flowdeck.workflow", "version": 1, "name": "Imported"}
    document["graph"] = {
        "format": 1,
        "nodes": [{"id": "go", "type": "trigger.manual", "config": {}}],
        "edges": [],
    }
    path = tmp_path / "imported.json"
    path.write_text(json.dumps(document))
    page.get_by_role("button", name="Import", exact=True).click()
    dialog = page.get_by_role("dialog", name="Import a workflow")
    dialog.locator('input[type="file"]').set_input_files(str(path))
    dialog.get_by_role("button", name="Import", exact=True).click()
    expect(page).to_have_url(re.compile(r"/designer/\d+$"))
    expect(page.get_by_label("Graph size")).to_have_text("1 steps, 0 connections")
    expect(page.get_by_role("toolbar", name="Edit").get_by_label("Workflow name")).to_have_value(
        "Imported"
    )


def test_a_saved_workflow_is_run_from_the_editor_with_a_form_from_its_input_schema(
    page, live_server, alice
):
    from designer.services import do_create_workflow
    from engine.models import Run
    from tests.engine_kit import build

    graph = build(
        {
            "start": ("trigger.manual",),
            "shape": ("data.transform", {"value": "{{ input.amount }}"}),
        },
        ["start>shape"],
        input_schema={
            "type": "object",
            "required": ["amount"],
            "properties": {"amount": {"type": "number", "title": "Amount"}},
        },
    )
    wf = do_create_workflow(actor=alice, name="Runnable", graph=graph)
    log_in(page, live_server, "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/designer/{wf.pk}")
    toolbar = page.get_by_role("toolbar", name="Edit")
    expect(page.get_by_label("Graph size")).to_have_text("2 steps, 1 connections")

    toolbar.get_by_role("button", name="Run").click()
    dialog = page.get_by_role("dialog", name="Run the workflow")
    dialog.get_by_label("Amount").fill("12.5")
    dialog.get_by_role("button", name="Start run").click()

    expect(page).to_have_url(re.compile(r"/runs/\d+$"))
    run = Run.objects.get(workflow=wf)
    assert run.input == {"amount": 12.5}
    assert run.actor == alice
    expect(page.get_by_label("Run status")).to_have_text("running")  # no workers in this test
    steps = page.get_by_role("table", name="Steps")
    expect(steps.locator('tr[data-id="start"]')).to_contain_text("queued")
    expect(steps.locator('tr[data-id="shape"]')).to_contain_text("pending")


def test_run_waits_for_a_save(page, live_server, alice):
    log_in(page, live_server, "alice", "alice-pass-123")
    page.get_by_role("link", name="New workflow").click()
    toolbar = page.get_by_role("toolbar", name="Edit")
    expect(toolbar.get_by_role("button", name="Run")).to_be_disabled()


def test_copy_paste_shortcuts_and_the_retry_and_timeout_fields(page, live_server, alice):
    from designer.models import Workflow

    log_in(page, live_server, "alice", "alice-pass-123")
    page.get_by_role("link", name="New workflow").click()
    palette = page.get_by_role("complementary", name="Steps")
    toolbar = page.get_by_role("toolbar", name="Edit")
    toolbar.get_by_label("Workflow name").fill("Retrying")
    palette.get_by_role("button", name="Manual start").click()
    palette.get_by_role("button", name="Condition").click()
    condition = page.locator('.react-flow__node[data-id="condition"]')

    condition.click()
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+v")
    expect(page.locator('.react-flow__node[data-id="condition_2"]')).to_be_visible()
    expect(page.get_by_label("Graph size")).to_have_text("3 steps, 0 connections")
    toolbar.get_by_role("button", name="Undo").click()
    expect(page.get_by_label("Graph size")).to_have_text("2 steps, 0 connections")

    condition.click()
    panel = page.get_by_role("complementary", name="Configure condition")
    panel.get_by_label("Max attempts").fill("3")
    panel.get_by_label("Backoff (s)").fill("2")
    panel.get_by_label("Backoff factor").fill("3")
    panel.get_by_label("Backoff cap (s)").fill("60")
    panel.get_by_label("Jitter").uncheck()
    panel.get_by_label("Timeout per attempt (s)").fill("30")
    panel.get_by_label("Expression").fill("input.ok")
    drag(
        page,
        page.get_by_label("manual output out"),
        condition.locator(".react-flow__handle-left"),
    )
    toolbar.get_by_role("button", name="Save").click()
    expect(page.get_by_label("Notice")).to_have_text("Saved version 1")

    node = next(
        n for n in Workflow.objects.get().versions.get().graph["nodes"] if n["id"] == "condition"
    )
    assert node["retry"] == {
        "max_attempts": 3,
        "backoff_s": 2,
        "backoff_factor": 3,
        "max_backoff_s": 60,
        "jitter": False,
    }
    assert node["timeout_s"] == 30


def test_a_refused_connection_says_why_while_it_is_dragged(page, live_server, alice):
    log_in(page, live_server, "alice", "alice-pass-123")
    page.get_by_role("link", name="New workflow").click()
    palette = page.get_by_role("complementary", name="Steps")
    palette.get_by_role("button", name="Manual start").click()
    palette.get_by_role("button", name="Transform").click()
    # From the transform's output onto the trigger's input: refused, with the reason, while held.
    source = page.get_by_label("transform output out").bounding_box()
    target = page.locator('.react-flow__node[data-id="manual"] .react-flow__handle-left')
    box = target.bounding_box()
    page.mouse.move(source["x"] + source["width"] / 2, source["y"] + source["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=12)
    expect(page.get_by_role("status", name="Connection refused")).to_contain_text(
        "a trigger starts the workflow"
    )
    page.mouse.up()
    expect(page.get_by_role("status", name="Connection refused")).to_have_count(0)
    expect(page.get_by_label("Graph size")).to_have_text("2 steps, 0 connections")
