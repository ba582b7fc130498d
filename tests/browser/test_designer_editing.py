"""Editing in the designer, in Chromium: the workflow's inputs declared as fields, problems
found while editing (before any save) and jumped to, keyboard-only building, auto-layout."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_designer_story import no_problems, pick, problems_list, toast
from tests.browser.test_shell import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def node(page, node_id):
    return page.locator(f'.react-flow__node[data-id="{node_id}"]')


def new_workflow(page, live_server, name):
    log_in(page, live_server, "alice", "alice-pass-123")
    page.get_by_role("link", name="New workflow").click()
    toolbar = page.get_by_role("toolbar", name="Edit")
    toolbar.get_by_label("Workflow name").fill(name)
    return toolbar, page.get_by_role("complementary", name="Steps")


def test_inputs_are_declared_as_fields_and_saved_as_the_input_schema(page, live_server, alice):
    from designer.models import Workflow

    toolbar, palette = new_workflow(page, live_server, "With inputs")
    palette.get_by_role("button", name="Manual start").click()
    page.locator(".react-flow__pane").click(position={"x": 5, "y": 5})  # nothing selected

    settings = page.get_by_role("complementary", name="Workflow settings")
    settings.get_by_label("New input name").fill("amount")
    settings.get_by_role("button", name="Add input").click()
    pick(page, settings.get_by_label("Type of amount"), "number")
    settings.get_by_label("Title of amount").fill("Amount (EUR)")
    settings.get_by_label("amount is required").check()
    settings.get_by_label("New input name").fill("2nd")
    settings.get_by_role("button", name="Add input").click()
    expect(settings.get_by_role("alert")).to_contain_text("not starting with a digit")

    toolbar.get_by_role("button", name="Save", exact=True).click()
    expect(toast(page, "Saved version 1")).to_be_visible()
    graph = Workflow.objects.get(name="With inputs").versions.get().graph
    assert graph["input_schema"] == {
        "type": "object",
        "properties": {"amount": {"type": "number", "title": "Amount (EUR)"}},
        "required": ["amount"],
    }

    # The run form is generated from it.
    toolbar.get_by_role("button", name="Run").click()
    dialog = page.get_by_role("dialog", name="Run the workflow")
    expect(dialog.get_by_label("Amount (EUR)")).to_be_visible()


def test_problems_appear_while_editing_and_jump_to_the_step_and_field(page, live_server, alice):
    toolbar, palette = new_workflow(page, live_server, "Problems")
    palette.get_by_role("button", name="Manual start").click()
    palette.get_by_role("button", name="Condition").click()
    problems = problems_list(page)
    # Before any save: not connected (seen here), expression missing (the schema says so).
    expect(problems).to_contain_text("condition is not connected to the trigger")
    expect(problems).to_contain_text("condition: config.expression")
    expect(node(page, "condition").get_by_label(re.compile(r"\d+ problems"))).to_be_visible()

    # A click on the problem selects the step and puts the cursor in the field.
    page.locator(".react-flow__pane").click(position={"x": 5, "y": 5})
    problems.get_by_role("button", name=re.compile("config.expression")).click()
    panel = page.get_by_role("complementary", name="Configure condition")
    expect(panel.get_by_label("Expression")).to_be_focused()

    # The server's checks run too, without saving: a step that does not exist.
    panel.get_by_label("Expression").fill("steps.nowhere.output > 1")
    expect(problems).to_contain_text("names no node")
    panel.get_by_label("Expression").fill("1 > 0")
    expect(problems).not_to_contain_text("names no node")
    expect(problems).not_to_contain_text("config.expression")

    expect(page.get_by_role("group", name="Connections of condition")).to_be_visible()
    find = page.get_by_role("toolbar", name="Edit").get_by_role("searchbox", name="Find step")
    find.fill("manual")
    find.press("Enter")
    connections = page.get_by_role("group", name="Connections of manual")
    pick(page, connections.get_by_label("Next step"), "Condition (condition)")
    connections.get_by_role("button", name="Connect").click()
    expect(page.get_by_label("Graph size")).to_have_text("2 steps, 1 connections")
    expect(problems).to_have_count(0)
    expect(node(page, "condition").get_by_label(re.compile(r"\d+ problems"))).to_have_count(0)


def test_a_workflow_is_built_with_the_keyboard_alone(page, live_server, alice):
    toolbar, palette = new_workflow(page, live_server, "Keys")
    # Tab to the palette's search, then to its entries, and add with Enter.
    palette.get_by_role("searchbox", name="Search steps").focus()
    page.keyboard.type("manual")
    page.keyboard.press("Tab")
    expect(palette.get_by_role("button", name="Manual start")).to_be_focused()
    page.keyboard.press("Enter")
    palette.get_by_role("searchbox", name="Search steps").fill("")
    palette.get_by_role("searchbox", name="Search steps").focus()
    page.keyboard.type("transform")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Graph size")).to_have_text("2 steps, 0 connections")

    # The new step is selected; its connections form connects it, all by keyboard.
    toolbar.get_by_role("searchbox", name="Find step").focus()
    page.keyboard.type("manual")
    page.keyboard.press("Enter")
    connections = page.get_by_role("group", name="Connections of manual")
    connections.get_by_label("Next step").focus()
    page.keyboard.press("Tab")
    expect(connections.get_by_role("button", name="Connect")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Graph size")).to_have_text("2 steps, 1 connections")
    remove = connections.get_by_role("button", name="Remove connection out to transform")
    expect(remove).to_be_visible()

    # Delete removes the selected step when focus is on the canvas, not in a field.
    node(page, "transform").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Delete")
    expect(page.get_by_label("Graph size")).to_have_text("1 steps, 0 connections")
    page.keyboard.press("Control+z")
    expect(page.get_by_label("Graph size")).to_have_text("2 steps, 1 connections")


def test_auto_layout_places_the_steps_left_to_right_in_one_undoable_edit(page, live_server, alice):
    from designer.services import do_create_workflow
    from tests.engine_kit import build

    graph = build(
        {
            "start": ("trigger.manual",),
            "check": ("logic.condition", {"expression": "true"}),
            "yes": ("data.transform", {"value": 1}),
            "no": ("data.transform", {"value": 2}),
        },
        ["start>check", "check.true>yes", "check.false>no"],
    )
    wf = do_create_workflow(actor=alice, name="Piled up", graph=graph)  # every step at 0,0
    log_in(page, live_server, "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/designer/{wf.pk}")
    toolbar = page.get_by_role("toolbar", name="Edit")
    expect(page.get_by_label("Graph size")).to_have_text("4 steps, 3 connections")

    toolbar.get_by_role("button", name="Auto-layout").click()
    expect(toolbar.get_by_label("Save state")).to_have_text("Unsaved changes")

    def at(node_id):
        """The step's place on the canvas (flow coordinates, as React Flow positions it)."""
        style = node(page, node_id).get_attribute("style")
        x, y = re.search(r"translate\(([-\d.]+)px, ([-\d.]+)px\)", style).groups()
        return float(x), float(y)

    expect(node(page, "yes")).not_to_have_attribute("style", re.compile(r"translate\(0px, 0px\)"))
    assert at("start")[0] < at("check")[0] < at("yes")[0]
    assert at("yes")[0] == at("no")[0]
    assert abs(at("yes")[1] - at("no")[1]) >= node(page, "yes").bounding_box()["height"]
    toolbar.get_by_role("button", name="Undo").click()
    expect(toolbar.get_by_label("Save state")).to_have_text("Version 1")


def test_a_dragged_step_follows_the_pointer_and_the_drop_is_one_edit(page, live_server, alice):
    toolbar, palette = new_workflow(page, live_server, "Dragging")
    palette.get_by_role("button", name="Manual start").click()
    step = node(page, "manual")
    start = step.bounding_box()
    page.mouse.move(start["x"] + 20, start["y"] + 10)
    page.mouse.down()
    page.mouse.move(start["x"] + 140, start["y"] + 90, steps=10)
    # Still held: the step is already under the pointer, and nothing is an edit yet.
    held = step.bounding_box()
    assert held["x"] - start["x"] > 60
    expect(toolbar.get_by_role("button", name="Undo")).to_be_enabled()  # adding the step
    page.mouse.up()
    dropped = step.bounding_box()
    assert abs(dropped["x"] - held["x"]) < 30
    toolbar.get_by_role("button", name="Undo").click()
    expect(page.get_by_label("Graph size")).to_have_text("1 steps, 0 connections")
    assert abs(step.bounding_box()["x"] - start["x"]) < 2


def test_renaming_a_step_updates_its_connections_and_the_expressions_naming_it(
    page, live_server, alice
):
    from designer.models import Workflow
    from designer.services import do_create_workflow
    from tests.engine_kit import build

    graph = build(
        {
            "start": {"type": "trigger.manual", "position": {"x": 0, "y": 0}},
            "fetch": {
                "type": "data.transform",
                "config": {"value": 1},
                "position": {"x": 300, "y": 0},
            },
            "shape": {
                "type": "data.transform",
                "config": {"value": "{{ steps.fetch.output }}"},
                "position": {"x": 600, "y": 0},
            },
        },
        ["start>fetch", "fetch>shape"],
    )
    wf = do_create_workflow(actor=alice, name="Renaming", graph=graph)
    log_in(page, live_server, "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/designer/{wf.pk}")
    node(page, "fetch").click()
    panel = page.get_by_role("complementary", name="Configure fetch")
    expect(panel).to_contain_text("renaming updates the 1 that name it")

    # A taken id is refused and the field goes back.
    panel.get_by_label("Id").fill("shape")
    panel.get_by_label("Id").press("Enter")
    expect(panel.get_by_role("alert")).to_contain_text("already the id of another step")
    expect(panel.get_by_label("Id")).to_have_value("fetch")

    panel.get_by_label("Id").fill("load")
    panel.get_by_label("Id").press("Enter")
    expect(node(page, "load")).to_be_visible()
    expect(page.get_by_role("complementary", name="Configure load")).to_be_visible()
    expect(page.get_by_label("Graph size")).to_have_text("3 steps, 2 connections")
    expect(no_problems(page)).to_have_count(0)
    page.get_by_role("toolbar", name="Edit").get_by_role("button", name="Save", exact=True).click()
    expect(toast(page, "Saved version 2")).to_be_visible()
    saved = Workflow.objects.get(pk=wf.pk).versions.get(number=2).graph
    nodes = {n["id"]: n for n in saved["nodes"]}
    assert set(nodes) == {"start", "load", "shape"}
    assert nodes["shape"]["config"]["value"] == "{{ steps.load.output }}"
    assert {(e["source"], e["target"]) for e in saved["edges"]} == {
        ("start", "load"),
        ("load", "shape"),
    }


def test_shift_drag_selects_a_box_of_steps_and_delete_removes_them_all(page, live_server, alice):
    from designer.services import do_create_workflow
    from tests.engine_kit import build

    graph = build(
        {
            "start": {"type": "trigger.manual", "position": {"x": 0, "y": 0}},
            "a": {"type": "data.transform", "config": {"value": 1}, "position": {"x": 300, "y": 0}},
            "b": {
                "type": "data.transform",
                "config": {"value": 2},
                "position": {"x": 300, "y": 200},
            },
        },
        ["start>a", "start>b"],
    )
    wf = do_create_workflow(actor=alice, name="Boxes", graph=graph)
    log_in(page, live_server, "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/designer/{wf.pk}")
    expect(page.get_by_label("Graph size")).to_have_text("3 steps, 2 connections")

    a, b = node(page, "a").bounding_box(), node(page, "b").bounding_box()
    page.keyboard.down("Shift")
    page.mouse.move(a["x"] - 20, a["y"] - 20)
    page.mouse.down()
    page.mouse.move(b["x"] + b["width"] + 20, b["y"] + b["height"] + 20, steps=10)
    page.mouse.up()
    page.keyboard.up("Shift")
    expect(node(page, "a")).to_have_class(re.compile(r"\bselected\b"))
    expect(node(page, "b")).to_have_class(re.compile(r"\bselected\b"))
    expect(node(page, "start")).not_to_have_class(re.compile(r"\bselected\b"))

    page.get_by_role("toolbar", name="Edit").get_by_role("button", name="Delete").click()
    expect(page.get_by_label("Graph size")).to_have_text("1 steps, 0 connections")
    page.keyboard.press("Control+z")
    expect(page.get_by_label("Graph size")).to_have_text("3 steps, 2 connections")
