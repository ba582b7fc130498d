"""Expression fields of the configuration panel in Chromium: an editor named by its field's label
that completes what the step may name (CONTRACT §2), typed into and saved as a person would."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_designer import drag
from tests.browser.test_designer_story import toast
from tests.browser.test_shell import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

INPUT_SCHEMA = {
    "type": "object",
    "required": ["amount"],
    "properties": {
        "amount": {"type": "number", "title": "Amount"},
        "customer": {"type": "object", "properties": {"name": {"type": "string"}}},
    },
}


def open_workflow(page, live_server, alice, nodes, edges):
    """A saved workflow with an input_schema (the designer cannot edit one yet), opened."""
    from designer.services import do_create_workflow
    from tests.engine_kit import build

    graph = build(nodes, edges, input_schema=INPUT_SCHEMA)
    wf = do_create_workflow(actor=alice, name="Orders", graph=graph)
    log_in(page, live_server, "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/designer/{wf.pk}")
    return wf


def editor(panel, label: str):
    """The expression field named ``label``, once its editor has replaced the plain textarea
    standing in while the editor's code loads."""
    field = panel.get_by_role("textbox", name=label)
    expect(field).to_have_attribute("contenteditable", "true")
    return field


def option(page, name: str):
    """The completion offering ``name``: its accessible name is the name, then the detail."""
    return page.get_by_role("listbox", name="Completions").get_by_role(
        "option", name=re.compile(rf"^{name}( |$)")
    )


def test_a_template_completes_upstream_steps_and_input_and_the_result_is_saved(
    page, live_server, alice
):
    from designer.models import Workflow

    wf = open_workflow(
        page,
        live_server,
        alice,
        {
            "start": {"type": "trigger.manual", "position": {"x": 0, "y": 0}},
            "lookup": {
                "type": "data.transform",
                "label": "Look up",
                "position": {"x": 260, "y": 0},
                "config": {"value": "{{ input.amount }}"},
            },
        },
        ["start>lookup"],
    )
    palette = page.get_by_role("complementary", name="Steps")
    toolbar = page.get_by_role("toolbar", name="Edit")
    expect(page.get_by_label("Graph size")).to_have_text("2 steps, 1 connections")

    # A transform after lookup, connected by dragging from lookup's output.
    palette.get_by_role("button", name="Transform").click()
    transform = page.locator('.react-flow__node[data-id="transform"]')
    # The new step may land outside the view; fit the view to see every step.
    page.get_by_role("button", name="Fit View").click()
    lookup_out = page.get_by_label("lookup output out")
    drag(page, lookup_out, transform.locator(".react-flow__handle-left"))
    expect(page.get_by_label("Graph size")).to_have_text("3 steps, 2 connections")

    transform.click()
    panel = page.get_by_role("complementary", name="Configure transform")
    value = editor(panel, "Value")
    value.click()

    # input. offers the properties of input_schema, nested ones after their object.
    page.keyboard.type("{{ input.")
    expect(option(page, "amount")).to_be_visible()
    expect(option(page, "customer")).to_be_visible()
    page.keyboard.type("cu")
    expect(option(page, "amount")).to_have_count(0)
    option(page, "customer").click()
    page.keyboard.type(".")
    expect(option(page, "name")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("listbox", name="Completions")).to_have_count(0)
    # The second brace closed itself when the first was typed.
    expect(value).to_have_text("{{ input.customer.}}")

    page.keyboard.press("Control+a")
    page.keyboard.press("Backspace")
    expect(value).to_have_text("")

    # steps. offers the steps that run before this one: not the transform itself.
    page.keyboard.type("{{ steps.")
    expect(option(page, "lookup")).to_contain_text("Look up")
    expect(option(page, "start")).to_be_visible()
    expect(option(page, "transform")).to_have_count(0)
    option(page, "lookup").click()
    expect(value).to_have_text("{{ steps.lookup}}")
    page.keyboard.type(".")
    expect(option(page, "status")).to_be_visible()
    option(page, "output").click()
    page.keyboard.type(" ")
    expect(value).to_have_text("{{ steps.lookup.output }}")

    toolbar.get_by_role("button", name="Save", exact=True).click()
    expect(toast(page, "Saved version 2")).to_be_visible()
    saved = Workflow.objects.get(pk=wf.pk).versions.get(number=2).graph
    node = next(n for n in saved["nodes"] if n["id"] == "transform")
    assert node["config"] == {"value": "{{ steps.lookup.output }}"}

    page.reload()
    page.locator('.react-flow__node[data-id="transform"]').click()
    panel = page.get_by_role("complementary", name="Configure transform")
    expect(editor(panel, "Value")).to_have_text("{{ steps.lookup.output }}")


def test_a_condition_completes_names_without_braces_and_tab_leaves_the_field(
    page, live_server, alice
):
    open_workflow(
        page,
        live_server,
        alice,
        {
            "start": {"type": "trigger.manual", "position": {"x": 0, "y": 0}},
            "check": {
                "type": "logic.condition",
                "position": {"x": 260, "y": 0},
                "config": {"expression": "true"},
            },
        },
        ["start>check"],
    )
    page.locator('.react-flow__node[data-id="check"]').click()
    panel = page.get_by_role("complementary", name="Configure check")
    expression = editor(panel, "Expression")
    expect(expression).to_have_text("true")
    expression.click()
    page.keyboard.press("Control+a")

    # A bare expression completes everywhere: no braces needed.
    page.keyboard.type("inp")
    option(page, "input").click()
    page.keyboard.type(".am")
    option(page, "amount").click()
    page.keyboard.type(" > 10 and ")
    expect(page.get_by_role("listbox", name="Completions")).to_have_count(0)
    # Ctrl+Space asks for every name in scope.
    page.keyboard.press("Control+Space")
    for name in ("input", "steps", "run"):
        expect(option(page, name)).to_be_visible()
    page.keyboard.press("Escape")
    expect(expression).to_have_text("input.amount > 10 and ")
    # Undo is the designer's: it takes back the last keystroke's edit, and the field follows.
    page.keyboard.press("Control+z")
    expect(expression).to_have_text("input.amount > 10 and")

    # Tab moves on to the next control; the editor does not keep it for indentation.
    expect(expression).to_be_focused()
    page.keyboard.press("Tab")
    expect(expression).not_to_be_focused()
    expect(expression).to_have_text("input.amount > 10 and")


def test_an_expressions_value_with_the_newest_runs_data_follows_what_is_typed(
    page, live_server, alice
):
    from tests.engine_kit import drive, start

    wf = open_workflow(
        page,
        live_server,
        alice,
        {
            "start": {"type": "trigger.manual", "position": {"x": 0, "y": 0}},
            "lookup": {
                "type": "data.transform",
                "label": "Look up",
                "position": {"x": 260, "y": 0},
                "config": {"value": {"doubled": "{{ input.amount * 2 }}"}},
            },
            "shape": {
                "type": "data.transform",
                "position": {"x": 520, "y": 0},
                "config": {"value": "{{ steps.lookup.output.doubled }}"},
            },
        },
        ["start>lookup", "lookup>shape"],
    )
    run = start(wf, {"amount": 21, "customer": {"name": "Ada"}}, actor=alice)
    drive()
    page.reload()

    page.locator('.react-flow__node[data-id="shape"]').click()
    panel = page.get_by_role("complementary", name="Configure shape")
    value = editor(panel, "Value")
    shown = panel.get_by_role("status", name=f"Value in run {run.pk}")
    expect(shown).to_have_text(f"In run {run.pk}:42")

    # Typing changes it: the server evaluates what is in the field now, unsaved.
    value.click()
    page.keyboard.press("Control+a")
    page.keyboard.type("Dear {{ input.customer.name }}, {{ steps.lookup.output.doubled + 1 ")
    expect(shown).to_have_text(f'In run {run.pk}:"Dear Ada, 43"')

    # Completion offers the keys the run's steps really output (no step type has an output
    # schema), with the value they had.
    page.keyboard.press("Control+a")
    page.keyboard.type("{{ steps.lookup.output.")
    expect(option(page, "doubled")).to_contain_text("number")
    # The selected option's description: the value it had.
    expect(page.locator(".cm-completionInfo")).to_have_text(f"In run {run.pk}: 42")
    page.keyboard.press("Escape")

    # A name the run does not have: what the step would fail with.
    page.keyboard.press("Control+a")
    page.keyboard.type("{{ steps.lookup.output.missing.deeper ")
    expect(shown).to_contain_text("missing")
    expect(shown.locator("[data-preview=error]")).to_be_visible()
