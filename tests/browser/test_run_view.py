"""The run view in Chromium (daphne, the run's websocket): the graph's nodes take their steps'
colours live while the test process drives the run, the inspector shows a step's output, an
operator retries a failed step with edited input and cancels a run with a reason, and an API
conflict is explained in the dialog. On a phone (390 x 844) the page does not scroll sideways,
the inspector is a bottom drawer and a retry works; axe-core finds nothing serious on a running
or a failed run; in dark mode the graph is dark."""

import re

import pytest
from playwright.sync_api import expect

from engine.models import Run, RunEvent
from tests.engine_kit import (
    build,
    child_workflow,
    drive,
    execute,
    fn,
    noop,
    parent_graph,
    start,
    statuses,
    workflow,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, server, path: str) -> None:
    page.goto(f"{server.url}/login/?next={path}")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("alice-pass-123")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(rf"{path}$"))


def node_of(page, node_id: str):
    return page.get_by_test_id("run-graph").locator(f'.run-step[data-id="{node_id}"]')


def show(page, tab: str) -> None:
    """Open one of the run view's tabs (Steps, Timeline, Events, Input/output)."""
    page.get_by_role("tab", name=tab).click()


def toast(page, text: str):
    return page.get_by_role("alert").filter(has_text=text)


def expect_every_event(page, run) -> None:
    """The Events tab lists every event of the run, newest first."""
    show(page, "Events")
    rows = page.get_by_role("table", name="Events").locator("tbody tr")
    ids = list(RunEvent.objects.filter(run=run).order_by("-id").values_list("id", flat=True))
    expect(rows).to_have_count(len(ids))
    assert [int(x) for x in rows.evaluate_all("rows => rows.map(r => r.dataset.event)")] == ids


@pytest.fixture
def wf(alice):
    graph = build(
        {
            "start": ("trigger.manual",),
            "add": fn("add", a=1, b=2),
            "bad": fn("flaky", fail_times=5, retryable=False),
        },
        ["start>add", "add>bad"],
    )
    return workflow(alice, graph, name="Flaky")


def test_the_run_view_colours_steps_live_and_retries_a_failed_step_with_edited_input(
    page, web_server, alice, wf
):
    run = start(wf, actor=alice)
    log_in(page, web_server, f"/runs/{run.pk}")
    expect(page.get_by_role("status", name="Live updates")).to_have_text(re.compile("live"))
    expect(node_of(page, "start")).to_have_attribute("data-status", "queued")
    expect(node_of(page, "add")).to_have_attribute("data-status", "pending")
    page.evaluate("window.__sameDocument = true")

    execute(run, "start")
    expect(node_of(page, "start")).to_have_attribute("data-status", "succeeded")
    expect(node_of(page, "add")).to_have_attribute("data-status", "queued")
    execute(run, "add")
    expect(page.get_by_label("Step add: succeeded")).to_be_visible()

    # The inspector: a click on the node shows what the step did.
    node_of(page, "add").click()
    inspector = page.get_by_role("region", name="Step add details")
    expect(inspector.get_by_label("Step output", exact=True)).to_have_text("3")
    expect(inspector.get_by_label("Idempotency key", exact=True)).to_have_value(f"{run.pk}:add:1")
    inspector.get_by_role("tab", name="Input").click()
    expect(inspector.get_by_label("Step input", exact=True)).to_contain_text(
        '"function": "examples.add"'
    )

    execute(run, "bad")
    expect(node_of(page, "bad")).to_have_attribute("data-status", "failed")
    expect(page.get_by_label("Run status")).to_have_text("failed")
    show(page, "Timeline")
    expect(page.get_by_role("img", name=re.compile(r"^bad: failed"))).to_be_visible()

    # Retry it from its row, with edited input: bad JSON is refused before it is sent.
    show(page, "Steps")
    page.get_by_role("button", name="Inspect bad").click()
    inspector = page.get_by_role("region", name="Step bad details")
    expect(inspector.get_by_role("region", name="Step error")).to_contain_text("failed on purpose")
    inspector.get_by_role("button", name="Retry with edited input").click()
    dialog = page.get_by_role("dialog", name="Retry step bad with edited input")
    editor = dialog.get_by_label("Input (JSON)")
    expect(editor).to_have_value(re.compile('"fail_times": 5'))
    editor.fill('{"function": "examples.flaky", "args": {"fail_times": 0}')
    expect(dialog.get_by_role("button", name="Retry step")).to_be_disabled()
    expect(editor).to_have_attribute("aria-invalid", "true")
    editor.fill('{"function": "examples.flaky", "args": {"fail_times": 0}}')
    dialog.get_by_label("Reason").fill("no failures this time")
    dialog.get_by_role("button", name="Retry step").click()
    expect(dialog).to_be_hidden()
    expect(toast(page, "Step bad queued again.")).to_be_visible()
    expect(node_of(page, "bad")).to_have_attribute("data-status", "queued")
    expect(page.get_by_label("Run status")).to_have_text("running")

    drive()
    expect(page.get_by_label("Run status")).to_have_text("succeeded")
    expect(page.get_by_label("Step bad: succeeded, attempt 2")).to_be_visible()
    expect(node_of(page, "bad").locator(".attempt-badge")).to_have_text("×2")
    show(page, "Events")
    events = page.get_by_role("table", name="Events")
    expect(events).to_contain_text("reason: no failures this time")
    expect(events.get_by_role("row").filter(has_text="alice")).not_to_have_count(0)
    assert statuses(run)["bad"] == "succeeded"
    expect_every_event(page, run)
    assert page.evaluate("window.__sameDocument") is True


def test_an_operator_cancels_a_run_with_a_reason_and_sees_a_conflict(page, web_server, alice, wf):
    run = start(wf, actor=alice)
    log_in(page, web_server, f"/runs/{run.pk}")
    expect(page.get_by_role("status", name="Live updates")).to_have_text(re.compile("live"))

    page.get_by_role("button", name="Cancel run").click()
    dialog = page.get_by_role("dialog", name=f"Cancel run {run.pk}")
    dialog.get_by_label("Reason").fill("wrong input")
    dialog.get_by_role("button", name="Cancel run").click()
    expect(dialog).to_be_hidden()
    expect(toast(page, f"Run {run.pk} cancelled.")).to_be_visible()
    expect(page.get_by_label("Run status")).to_have_text("cancelled")
    expect(node_of(page, "start")).to_have_attribute("data-status", "cancelled")
    show(page, "Events")
    expect(page.get_by_role("table", name="Events")).to_contain_text("reason: wrong input")
    expect(page.get_by_role("button", name="Cancel run")).to_have_count(0)
    event = RunEvent.objects.get(run=run, node_id="", new_status="cancelled")
    assert event.data["reason"] == "wrong input" and event.actor == alice

    # A run that ends while the dialog is open: the server's 409 is shown, the dialog stays.
    other = start(wf, actor=alice)
    page.goto(f"{web_server.url}/runs/{other.pk}")
    page.get_by_role("button", name="Cancel run").click()
    dialog = page.get_by_role("dialog", name=f"Cancel run {other.pk}")
    drive()
    expect(page.get_by_label("Run status")).to_have_text("failed")
    dialog.get_by_role("button", name="Cancel run").click()
    # The 409 is explained in the dialog, which stays open.
    alert = dialog.get_by_role("alert")
    expect(alert).to_contain_text("Changed meanwhile")
    expect(alert).to_contain_text("already ended")
    dialog.get_by_role("button", name="Close", exact=True).click()
    expect(dialog).to_be_hidden()
    # The run moved on before the page had read its log and opened its socket: no event is lost.
    expect_every_event(page, other)


def test_a_run_links_to_its_child_runs_and_a_child_to_its_parent(page, web_server, alice):
    child_workflow(alice)
    node = {
        "type": "flow.subworkflow",
        "config": {"workflow": {"name": "double"}, "input": {"n": "{{ input.x }}"}},
    }
    run = start(workflow(alice, parent_graph(node), name="parent"), {"x": 2}, actor=alice)
    drive()
    child = Run.objects.get(parent_run=run)

    log_in(page, web_server, f"/runs/{run.pk}")
    expect(page.get_by_label("Run status")).to_have_text("succeeded")
    expect(node_of(page, "call")).to_have_attribute("data-status", "succeeded")
    related = page.get_by_role("navigation", name="Related runs")
    related.get_by_role("link", name=f"run {child.pk}").click()
    expect(page).to_have_url(re.compile(rf"/runs/{child.pk}$"))
    related = page.get_by_role("navigation", name="Related runs")
    expect(related).to_contain_text(f"Parent: run {run.pk} (step call)")
    expect(node_of(page, "twice")).to_have_attribute("data-status", "succeeded")
    related.get_by_role("link", name=f"run {run.pk}").click()
    expect(page).to_have_url(re.compile(rf"/runs/{run.pk}$"))


def test_an_operator_skips_a_waiting_delay_shown_on_the_timeline(page, web_server, alice):
    graph = build(
        {"start": ("trigger.manual",), "wait": ("flow.delay", {"seconds": 3600}), "after": noop()},
        ["start>wait", "wait>after"],
    )
    run = start(workflow(alice, graph, name="Delayed"), actor=alice)
    drive()
    assert statuses(run)["wait"] == "waiting"

    log_in(page, web_server, f"/runs/{run.pk}")
    expect(node_of(page, "wait")).to_have_attribute("data-status", "waiting")
    show(page, "Timeline")
    expect(page.get_by_role("img", name=re.compile(r"^wait: waiting until "))).to_be_visible()
    page.get_by_role("button", name="Inspect wait on the timeline").click()
    inspector = page.get_by_role("region", name="Step wait details")
    expect(inspector).to_contain_text(re.compile(r"Wakes in (an hour|\d+ minutes)"))
    inspector.get_by_role("button", name="Skip").click()
    dialog = page.get_by_role("dialog", name="Skip step wait")
    dialog.get_by_label("Reason").fill("no need to wait")
    dialog.get_by_role("button", name="Skip step").click()
    expect(toast(page, "Step wait skipped.")).to_be_visible()
    expect(node_of(page, "wait")).to_have_attribute("data-status", "skipped")
    show(page, "Events")
    expect(page.get_by_role("table", name="Events")).to_contain_text("reason: no need to wait")

    drive()
    expect(page.get_by_label("Run status")).to_have_text("succeeded")
    expect(node_of(page, "after")).to_have_attribute("data-status", "skipped")


def test_the_inspector_shows_each_attempt_s_log_lines_as_the_step_moves(
    page, web_server, alice, monkeypatch
):
    from datetime import timedelta

    from django.utils import timezone

    from engine.functions import FUNCTIONS
    from engine.steps.base import StepError

    def chatty(ctx) -> int:
        ctx.log("fetching 250 rows")
        for n in range(1, 251):
            ctx.log(f"row {n} read", level="debug")
        ctx.log("row 250 looked odd", level="warning")
        if ctx.attempt == 1:
            ctx.log("the service is busy", level="error")
            raise StepError("the service is busy")
        ctx.log("all rows read")
        return 250

    monkeypatch.setitem(FUNCTIONS, "tests.chatty", chatty)
    fetch = {"type": "code.function", "config": {"function": "tests.chatty"}}
    graph = build(
        {"start": ("trigger.manual",), "fetch": {**fetch, "retry": {"max_attempts": 2}}},
        ["start>fetch"],
    )
    run = start(workflow(alice, graph, name="Chatty"), actor=alice)
    log_in(page, web_server, f"/runs/{run.pk}")
    expect(page.get_by_role("status", name="Live updates")).to_have_text(re.compile("live"))
    page.get_by_role("button", name="Inspect fetch").click()
    inspector = page.get_by_role("region", name="Step fetch details")
    inspector.get_by_role("tab", name="Logs").click()
    logs = inspector.get_by_role("region", name="Logs")
    expect(logs).to_contain_text("No lines logged.")

    execute(run, "start")
    execute(run, "fetch")  # fails, to be retried
    expect(node_of(page, "fetch")).to_have_attribute("data-status", "retrying")
    first = logs.get_by_role("group", name="Logs of attempt 1")
    lines = first.locator(".log-line")
    expect(lines).to_have_count(200)  # the first 100 and the last 100
    expect(lines.first).to_contain_text("info")
    expect(lines.first).to_contain_text("fetching 250 rows")
    expect(first.locator(".log-dropped")).to_have_text("53 lines dropped")
    expect(lines.last).to_contain_text("error")
    expect(lines.last).to_contain_text("the service is busy")

    drive(timezone.now() + timedelta(hours=1))  # the backoff's timer, then attempt 2
    expect(node_of(page, "fetch")).to_have_attribute("data-status", "succeeded")
    second = logs.get_by_role("group", name="Logs of attempt 2")
    expect(second.locator(".log-line").last).to_contain_text("all rows read")
    expect(first).to_be_visible()  # attempt 1's lines stay

    logs.get_by_label("Log level").click()
    page.get_by_role("option", name="Warning and above").click()
    expect(first.locator(".log-line")).to_have_count(2)
    expect(second.locator(".log-line")).to_have_text(re.compile("row 250 looked odd"))


def test_on_a_phone_the_run_fits_the_screen_and_a_step_is_inspected_and_retried(
    phone_page, web_server, alice, wf
):
    page = phone_page
    run = start(wf, actor=alice)
    drive()  # start and add succeed, bad fails
    log_in(page, web_server, f"/runs/{run.pk}")
    expect(page.get_by_label("Run status")).to_have_text("failed")
    expect(node_of(page, "bad")).to_have_attribute("data-status", "failed")
    expect(page.get_by_role("table", name="Steps")).to_be_visible()

    # Nothing scrolls sideways: the graph is laid out top to bottom, tables scroll in themselves.
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width} px wide)"
    graph = page.get_by_test_id("run-graph")
    assert graph.get_attribute("data-vertical") == "true"
    box = graph.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390

    # A tap on a node opens the inspector as a bottom drawer, with the step's output.
    node_of(page, "add").tap()
    drawer = page.get_by_role("dialog", name="Step add")
    expect(drawer.get_by_label("Step output", exact=True)).to_have_text("3")
    drawer.get_by_role("button", name="Close step details").tap()
    expect(drawer).to_be_hidden()

    # The failed step: retried from the drawer, with thumb-sized buttons.
    node_of(page, "bad").tap()
    drawer = page.get_by_role("dialog", name="Step bad")
    retry = drawer.get_by_role("button", name="Retry", exact=True)
    for control in (
        retry,
        drawer.get_by_role("button", name="Skip"),
        drawer.get_by_role("tab", name="Logs"),
    ):
        height = control.bounding_box()["height"]
        assert height >= 40, f"a tap target {height} px tall"
    retry.tap()
    dialog = page.get_by_role("dialog", name="Retry step bad")
    dialog.get_by_label("Reason").fill("from my phone")
    dialog.get_by_role("button", name="Retry step").tap()
    expect(dialog).to_be_hidden()
    expect(toast(page, "Step bad queued again.")).to_be_visible()
    expect(node_of(page, "bad")).to_have_attribute("data-status", "queued")
    assert RunEvent.objects.filter(run=run, node_id="bad", type="step.retried").exists()
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width} px wide)"


def test_the_run_view_of_a_running_and_of_a_failed_run_has_no_serious_accessibility_violation(
    axe_page, web_server, alice, wf
):
    from tests.browser.axe import assert_accessible

    page = axe_page
    graph = build(
        {"start": ("trigger.manual",), "wait": ("flow.delay", {"seconds": 3600}), "after": noop()},
        ["start>wait", "wait>after"],
    )
    waiting = start(workflow(alice, graph, name="Delayed"), actor=alice)
    drive()
    log_in(page, web_server, f"/runs/{waiting.pk}")
    expect(node_of(page, "wait")).to_have_attribute("data-status", "waiting")
    expect(page.get_by_role("status", name="Live updates")).to_have_text("live")
    assert_accessible(page)
    node_of(page, "wait").click()
    expect(page.get_by_role("region", name="Step wait details")).to_be_visible()
    assert_accessible(page)
    show(page, "Timeline")
    expect(page.get_by_role("img", name=re.compile(r"^wait: waiting until "))).to_be_visible()
    assert_accessible(page)

    failed = start(wf, actor=alice)
    drive()
    page.goto(f"{web_server.url}/runs/{failed.pk}")
    expect(page.get_by_label("Run status")).to_have_text("failed")
    page.get_by_role("button", name="Inspect bad").click()
    expect(page.get_by_role("region", name="Step error")).to_be_visible()
    assert_accessible(page)
    show(page, "Events")
    expect(page.get_by_role("table", name="Events").locator("tbody tr")).not_to_have_count(0)
    assert_accessible(page)
    page.get_by_role("region", name="Step bad details").get_by_role(
        "button", name="Retry with edited input"
    ).click()
    expect(page.get_by_role("dialog", name="Retry step bad with edited input")).to_be_visible()
    assert_accessible(page)


def test_in_dark_mode_the_run_graph_is_dark(dark_page, web_server, alice, wf):
    run = start(wf, actor=alice)
    drive()
    log_in(dark_page, web_server, f"/runs/{run.pk}")
    expect(node_of(dark_page, "bad")).to_have_attribute("data-status", "failed")
    flow = dark_page.get_by_test_id("run-graph").locator(".react-flow")
    expect(flow).to_have_class(re.compile(r"\bdark\b"))
    for target in ("[data-testid=run-graph]", "[data-testid=run-graph] .react-flow__background"):
        color = dark_page.evaluate(
            "(s) => getComputedStyle(document.querySelector(s)).backgroundColor", target
        )
        rgb = [int(x) for x in re.findall(r"\d+", color)[:3]]
        assert sum(rgb) / 3 < 60, f"{target} is {color}, not dark"
    # A step's card is drawn on the dark surface too, its border in the failed colour.
    card = node_of(dark_page, "bad").locator("[data-status]").first
    background = card.evaluate("(e) => getComputedStyle(e).backgroundColor")
    assert sum(int(x) for x in re.findall(r"\d+", background)[:3]) / 3 < 90, background
