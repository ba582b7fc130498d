"""The designer's story from issue 17, in Chromium, as a person does it: three steps dragged
from the palette onto three points of an empty canvas land where they were dropped (the
pointer at the middle of the step's header, steps/geometry.ts), are connected by dragging
between handles, saved and found at the same places after a reload. And: a new workflow opens
at zoom 1 with a call to action; "+" on a connection inserts a step; fitting the view keeps
every example's labels readable; the Run dialog enters a list of objects; the canvas is dark
in a dark system; axe-core finds nothing serious with a step selected."""

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.axe import assert_accessible
from tests.browser.test_shell import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXAMPLES = Path(__file__).resolve().parents[2] / "designer" / "examples"
HEADER = 56  # steps/geometry.ts STEP_HEADER: the drop point is the middle of this first line


def toast(page, text: str):
    """A toast (Mantine's notification, role alert) saying ``text``."""
    return page.get_by_role("alert").filter(has_text=text)


def pick(page, field, option) -> None:
    """Choose ``option`` in a Mantine Select: open its list, click the option."""
    field.click()
    page.get_by_role("option", name=option, exact=isinstance(option, str)).click()


def problems_list(page):
    """The floating list of the workflow's problems, unfolded (it opens folded to its count)."""
    region = page.get_by_role("region", name="Problems of the workflow")
    region.get_by_role("button", name=re.compile("show the list")).click()
    return region.get_by_role("list", name="Problems", exact=True)


def no_problems(page):
    """The problems' overlay, which is there only while there are problems."""
    return page.get_by_role("region", name="Problems of the workflow")


def node(page, node_id):
    return page.locator(f'.react-flow__node[data-id="{node_id}"]')


def zoom(page) -> float:
    style = page.locator(".react-flow__viewport").get_attribute("style")
    return float(re.search(r"scale\(([\d.]+)\)", style).group(1))


def flow_position(page, node_id) -> tuple[float, float]:
    """Where React Flow places the step, in flow coordinates (its saved position)."""
    style = node(page, node_id).get_attribute("style")
    x, y = re.search(r"translate\(([-\d.]+)px, ([-\d.]+)px\)", style).groups()
    return float(x), float(y)


def drag_from_palette(page, title: str, x: float, y: float) -> None:
    """Press on the palette's entry, move to (x, y) in steps, release: HTML drag and drop."""
    entry = page.get_by_role("complementary", name="Steps").get_by_role(
        "button", name=title, exact=True
    )
    box = entry.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(x, y, steps=15)
    page.mouse.up()


def drag(page, source, target) -> None:
    a, b = source.bounding_box(), target.bounding_box()
    page.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
    page.mouse.down()
    page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=12)
    page.mouse.up()


def overlap(a, b) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def create(owner, example: str, **extra):
    from designer.services import do_create_workflow
    from tests.graphs import example_graph

    document = json.loads((EXAMPLES / f"{example}.json").read_text())
    return do_create_workflow(
        actor=owner, name=document["name"], graph=example_graph(example), **extra
    )


def test_three_dropped_steps_land_where_dropped_connect_save_and_come_back(
    page, live_server, alice
):
    from designer.models import Workflow

    page.set_viewport_size({"width": 1600, "height": 1000})
    log_in(page, live_server, "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/designer/new")
    toolbar = page.get_by_role("toolbar", name="Edit")
    toolbar.get_by_label("Workflow name").fill("Dropped")
    canvas = page.get_by_test_id("designer-canvas").bounding_box()
    expect(page.get_by_role("region", name="Start with a trigger")).to_be_visible()
    assert zoom(page) == 1

    drops = {
        "manual": ("Manual start", canvas["x"] + 140, canvas["y"] + 200),
        "transform": ("Transform", canvas["x"] + 400, canvas["y"] + 200),
        "condition": ("Condition", canvas["x"] + 400, canvas["y"] + 420),
    }
    for step_id, (title, x, y) in drops.items():
        drag_from_palette(page, title, x, y)
        expect(node(page, step_id)).to_be_visible()
    expect(page.get_by_label("Graph size")).to_have_text("3 steps, 0 connections")
    assert zoom(page) == 1  # nothing moved the canvas

    boxes = {step_id: node(page, step_id).bounding_box() for step_id in drops}
    for step_id, (_, x, y) in drops.items():
        box = boxes[step_id]
        # The drop point is the middle of the step's header.
        assert abs(box["x"] + box["width"] / 2 - x) <= 60, (step_id, box, x)
        assert abs(box["y"] + HEADER / 2 - y) <= 60, (step_id, box, y)
    ids = list(drops)
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            assert not overlap(boxes[a], boxes[b]), (a, b)

    # Both connections by dragging from an output handle onto an input handle.
    drag(page, page.get_by_label("manual output out"), page.get_by_label("transform input"))
    expect(page.get_by_label("Graph size")).to_have_text("3 steps, 1 connections")
    drag(page, page.get_by_label("transform output out"), page.get_by_label("condition input"))
    expect(page.get_by_label("Graph size")).to_have_text("3 steps, 2 connections")

    # What a save needs: a value and an expression.
    node(page, "transform").click()
    panel = page.get_by_role("complementary", name="Configure transform")
    panel.get_by_role("textbox", name="Value").fill("1")
    node(page, "condition").click()
    page.get_by_role("complementary", name="Configure condition").get_by_role(
        "textbox", name="Expression"
    ).fill("true")
    placed = {step_id: flow_position(page, step_id) for step_id in drops}
    toolbar.get_by_role("button", name="Save", exact=True).click()
    expect(toast(page, "Saved version 1")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/designer/\d+$"))

    page.reload()
    expect(page.get_by_label("Graph size")).to_have_text("3 steps, 2 connections")
    for step_id in drops:
        expect(node(page, step_id)).to_be_visible()
        assert flow_position(page, step_id) == placed[step_id]
    graph = Workflow.objects.get(name="Dropped").versions.get().graph
    assert {(e["source"], e["target"]) for e in graph["edges"]} == {
        ("manual", "transform"),
        ("transform", "condition"),
    }
    saved = {n["id"]: (n["position"]["x"], n["position"]["y"]) for n in graph["nodes"]}
    assert saved == {step_id: placed[step_id] for step_id in drops}


def test_a_new_workflow_opens_at_zoom_1_with_a_call_to_add_a_trigger(page, live_server, alice):
    log_in(page, live_server, "alice", "alice-pass-123")
    page.get_by_role("link", name="New workflow").click()
    cta = page.get_by_role("region", name="Start with a trigger")
    expect(cta).to_be_visible()
    assert zoom(page) == 1
    cta.get_by_role("button", name="Add a schedule trigger").click()
    expect(node(page, "schedule")).to_be_visible()
    expect(cta).to_have_count(0)
    assert zoom(page) == 1
    # The step is selected and its panel open; it sits inside the visible canvas.
    expect(page.get_by_role("complementary", name="Configure schedule")).to_be_visible()
    canvas = page.get_by_test_id("designer-canvas").bounding_box()
    box = node(page, "schedule").bounding_box()
    assert canvas["x"] < box["x"] and box["x"] + box["width"] < canvas["x"] + canvas["width"]


def test_plus_on_a_connection_inserts_a_step_between_the_two(page, live_server, alice):
    from designer.models import Workflow
    from designer.services import do_create_workflow
    from tests.engine_kit import build

    graph = build(
        {
            "start": {"type": "trigger.manual", "position": {"x": 0, "y": 0}},
            "check": {
                "type": "logic.condition",
                "config": {"expression": "true"},
                "position": {"x": 260, "y": 0},
            },
            "shape": {
                "type": "data.transform",
                "config": {"value": 1},
                "position": {"x": 560, "y": 0},
            },
        },
        ["start>check", "check.true>shape"],
    )
    wf = do_create_workflow(actor=alice, name="Inserting", graph=graph)
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, live_server, "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/designer/{wf.pk}")
    expect(page.get_by_label("Graph size")).to_have_text("3 steps, 2 connections")

    # Hovering the connection shows its "+"; the menu is searchable.
    edge = page.locator('[aria-label="Connection check true to shape"]')
    box = edge.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    plus = page.get_by_role("button", name="Insert a step between check and shape")
    plus.click()
    page.get_by_role("textbox", name="Search steps to insert").fill("delay")
    page.get_by_role("option", name="Delay").click()

    expect(page.get_by_label("Graph size")).to_have_text("4 steps, 3 connections")
    expect(node(page, "delay")).to_be_visible()
    # The condition keeps its "true" output for the first half.
    expect(page.locator('[aria-label="Connection check true to delay"]')).to_have_count(1)
    expect(page.locator('[aria-label="Connection delay out to shape"]')).to_have_count(1)
    expect(page.get_by_role("complementary", name="Configure delay")).to_be_visible()
    # The new delay has no time yet: wait for the live check to say so before typing one
    # (typed while that answer arrived, the value was once lost), then for it to be content.
    expect(no_problems(page)).to_contain_text("1 problem")
    page.get_by_role("complementary", name="Configure delay").get_by_role(
        "textbox", name="Seconds"
    ).fill("5")
    expect(no_problems(page)).to_have_count(0)
    page.get_by_role("toolbar", name="Edit").get_by_role("button", name="Save", exact=True).click()
    expect(toast(page, "Saved version 2")).to_be_visible()
    saved = Workflow.objects.get(pk=wf.pk).versions.get(number=2).graph
    assert {(e["source"], e.get("source_handle"), e["target"]) for e in saved["edges"]} == {
        ("start", None, "check"),
        ("check", "true", "delay"),
        ("delay", None, "shape"),
    }

    # The keyboard's way: the connections panel inserts too.
    node(page, "start").click()
    connections = page.get_by_role("group", name="Connections of start")
    connections.get_by_role("button", name="Insert a step between start and check").click()
    page.keyboard.type("transform")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Graph size")).to_have_text("5 steps, 4 connections")


@pytest.mark.parametrize("example", sorted(p.stem for p in EXAMPLES.glob("*.json")))
def test_fitting_the_view_keeps_every_label_readable(page, live_server, alice, example):
    if example == "route_order":
        create(alice, "price_line")  # the child workflow it maps over
    wf = create(alice, example)
    log_in(page, live_server, "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/designer/{wf.pk}")
    expect(page.locator("[data-step-label]").first).to_be_visible()
    page.get_by_role("button", name="Fit View").click()
    page.wait_for_function(
        "() => !document.querySelector('.react-flow__viewport').style.transition"
    )
    expect(page.locator("[data-step-label]").first).to_be_visible()
    scale = zoom(page)
    sizes = page.locator("[data-step-label]").evaluate_all(
        "(labels) => labels.map((l) => parseFloat(getComputedStyle(l).fontSize))"
    )
    assert sizes and min(sizes) * scale >= 9.99, (example, scale, sizes)
    assert scale <= 1
    # The minimap draws each step in its category's colour.
    fills = page.locator(".react-flow__minimap-node").evaluate_all(
        "(rects) => rects.map((r) => r.style.fill)"
    )
    assert fills and all(f.startswith("var(--mantine-color-") for f in fills)


def test_the_run_dialog_enters_a_list_of_objects_and_offers_the_sample(page, live_server, alice):
    from engine.models import Run

    create(alice, "price_line")
    wf = create(alice, "route_order")
    log_in(page, live_server, "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/designer/{wf.pk}")
    page.get_by_role("toolbar", name="Edit").get_by_role("button", name="Run").click()
    dialog = page.get_by_role("dialog", name="Run the workflow")
    dialog.get_by_role("textbox", name="Order id").fill("B-7")
    dialog.get_by_role("textbox", name="Country").fill("US")
    # The schema's minItems gives one line; a second is added with the labelled button.
    skus = dialog.get_by_role("textbox", name="SKU")
    expect(skus).to_have_count(1)
    add = dialog.get_by_role("button", name="Add an item to lines")
    expect(add).to_be_visible()
    add.click()
    expect(skus).to_have_count(2)
    quantities = dialog.get_by_role("textbox", name="Quantity")
    prices = dialog.get_by_role("textbox", name="Unit price")
    for i, (sku, quantity, price) in enumerate([("chair", "2", "100"), ("lamp", "1", "30")]):
        skus.nth(i).fill(sku)
        quantities.nth(i).fill(quantity)
        prices.nth(i).fill(price)
    remove = dialog.get_by_role("button", name="Remove lines item 2")
    expect(remove).to_be_visible()
    dialog.get_by_role("button", name="Start run").click()

    expect(page).to_have_url(re.compile(r"/runs/\d+$"))
    expect(page.get_by_role("alert").filter(has_text="started")).to_be_visible()
    run = Run.objects.get(workflow=wf)
    assert run.input["order_id"] == "B-7"
    assert run.input["country"] == "US"
    assert run.input["lines"] == [
        {"sku": "chair", "quantity": 2, "unit_price": 100},
        {"sku": "lamp", "quantity": 1, "unit_price": 30},
    ]

    # The sample input of the schema's `examples`, one click away.
    page.goto(f"{live_server.url}/designer/{wf.pk}")
    page.get_by_role("toolbar", name="Edit").get_by_role("button", name="Run").click()
    dialog = page.get_by_role("dialog", name="Run the workflow")
    dialog.get_by_role("button", name="Use sample input").click()
    expect(dialog.get_by_role("textbox", name="Order id")).to_have_value("A-1001")
    dialog.get_by_role("tab", name="JSON").click()
    expect(dialog.get_by_role("textbox", name="Input (JSON)")).to_contain_text('"sku": "desk"')
    dialog.get_by_role("button", name="Start run").click()
    expect(page).to_have_url(re.compile(r"/runs/\d+$"))
    sample = json.loads((EXAMPLES / "route_order.json").read_text())["graph"]["input_schema"]
    latest = Run.objects.filter(workflow=wf).order_by("-pk").first()
    assert latest.input == sample["examples"][0]


def test_a_scheduled_workflow_runs_by_hand_with_the_schedules_input(page, live_server, alice):
    from designer.services import do_create_workflow
    from engine.models import Run
    from tests.engine_kit import build

    graph = build(
        {
            "tick": {
                "type": "trigger.schedule",
                "config": {"cron": "0 6 * * *", "timezone": "UTC", "input": {"report": "sales"}},
                "position": {"x": 0, "y": 0},
            },
            "shape": {
                "type": "data.transform",
                "config": {"value": "{{ input.report }}"},
                "position": {"x": 300, "y": 0},
            },
        },
        ["tick>shape"],
    )
    wf = do_create_workflow(actor=alice, name="Nightly", graph=graph)
    log_in(page, live_server, "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/designer/{wf.pk}")
    page.get_by_role("toolbar", name="Edit").get_by_role("button", name="Run").click()
    dialog = page.get_by_role("dialog", name="Run the workflow")
    expect(dialog).to_contain_text("gets the schedule's input")
    dialog.get_by_role("tab", name="JSON").click()
    expect(dialog.get_by_role("textbox", name="Input (JSON)")).to_contain_text('"report": "sales"')
    dialog.get_by_role("button", name="Start run").click()
    expect(page).to_have_url(re.compile(r"/runs/\d+$"))
    assert Run.objects.get(workflow=wf).input == {"report": "sales"}


def test_the_canvas_is_dark_when_the_system_prefers_dark(dark_page, live_server, alice):
    page = dark_page
    wf = create(alice, "invoice_approval")
    log_in(page, live_server, "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/designer/{wf.pk}")
    expect(page.locator(".react-flow__node").first).to_be_visible()
    expect(page.locator(".react-flow")).to_have_class(re.compile(r"\bdark\b"))
    background = page.get_by_test_id("designer-canvas").evaluate(
        "(el) => getComputedStyle(el).backgroundColor"
    )
    r, g, b = (int(v) for v in re.findall(r"\d+", background)[:3])
    assert r + g + b < 150, background
    minimap = page.locator(".react-flow__minimap").evaluate(
        "(el) => getComputedStyle(el).backgroundColor"
    )
    r, g, b = (int(v) for v in re.findall(r"\d+", minimap)[:3])
    assert r + g + b < 200, minimap


def test_the_designer_with_a_step_selected_has_no_serious_accessibility_violation(
    axe_page, live_server, alice
):
    page = axe_page
    wf = create(alice, "invoice_approval")
    log_in(page, live_server, "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/designer/{wf.pk}")
    expect(page.locator(".react-flow__node").first).to_be_visible()
    page.locator(".react-flow__node").first.click()
    expect(page.get_by_role("complementary", name=re.compile(r"^Configure "))).to_be_visible()
    assert_accessible(page)
