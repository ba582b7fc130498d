"""The run view in Chromium (daphne, the run's websocket): the graph's nodes take their steps'
colours live while the test process drives the run, the inspector shows a step's output, an
operator retries a failed step with edited input and cancels a run with a reason, and an API
conflict is shown in the dialog."""

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


def expect_every_event(page, run) -> None:
    rows = page.get_by_role("table", name="Events").locator("tbody tr")
    ids = list(RunEvent.objects.filter(run=run).order_by("id").values_list("id", flat=True))
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
    expect(inspector.get_by_label("Step output")).to_have_text("3")
    expect(inspector.get_by_label("Step input")).to_contain_text('"function": "examples.add"')
    expect(inspector.get_by_label("Idempotency key")).to_have_text(f"{run.pk}:add:1")

    execute(run, "bad")
    expect(node_of(page, "bad")).to_have_attribute("data-status", "failed")
    expect(page.get_by_label("Run status")).to_have_text("failed")
    expect(page.get_by_role("img", name=re.compile(r"^bad: failed"))).to_be_visible()

    # Retry it from its row, with edited input: bad JSON is refused before it is sent.
    page.get_by_role("button", name="Inspect bad").click()
    inspector = page.get_by_role("region", name="Step bad details")
    expect(inspector.get_by_role("region", name="Step error")).to_contain_text("failed on purpose")
    inspector.get_by_role("button", name="Retry with edited input").click()
    dialog = page.get_by_role("dialog", name="Retry step bad with edited input")
    editor = dialog.get_by_label("Input (JSON)")
    expect(editor).to_have_value(re.compile('"fail_times": 5'))
    editor.fill('{"function": "examples.flaky", "args": {"fail_times": 0}')
    expect(dialog.get_by_role("button", name="Confirm")).to_be_disabled()
    expect(editor).to_have_attribute("aria-invalid", "true")
    editor.fill('{"function": "examples.flaky", "args": {"fail_times": 0}}')
    dialog.get_by_label("Reason").fill("no failures this time")
    dialog.get_by_role("button", name="Confirm").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("status", name="Notice")).to_have_text("Step bad queued again.")
    expect(node_of(page, "bad")).to_have_attribute("data-status", "queued")
    expect(page.get_by_label("Run status")).to_have_text("running")

    drive()
    expect(page.get_by_label("Run status")).to_have_text("succeeded")
    expect(page.get_by_label("Step bad: succeeded, attempt 2")).to_be_visible()
    expect(node_of(page, "bad").locator(".attempt-badge")).to_have_text("×2")
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
    dialog.get_by_role("button", name="Confirm").click()
    expect(page.get_by_label("Run status")).to_have_text("cancelled")
    expect(node_of(page, "start")).to_have_attribute("data-status", "cancelled")
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
    dialog.get_by_role("button", name="Confirm").click()
    expect(dialog.get_by_role("alert")).to_have_text(re.compile(r"^409: .*already ended"))
    # The run moved on before the page had read its log and opened its socket: no event is lost.
    expect_every_event(page, other)
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()


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
    expect(page.get_by_role("img", name=re.compile(r"^wait: waiting until "))).to_be_visible()
    page.get_by_role("button", name="Inspect wait").click()
    page.get_by_role("region", name="Step wait details").get_by_role("button", name="Skip").click()
    dialog = page.get_by_role("dialog", name="Skip step wait")
    dialog.get_by_label("Reason").fill("no need to wait")
    dialog.get_by_role("button", name="Confirm").click()
    expect(node_of(page, "wait")).to_have_attribute("data-status", "skipped")
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
    logs = page.get_by_role("region", name="Step fetch details").get_by_role("region", name="Logs")
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

    logs.get_by_label("Log level").select_option("warning")
    expect(first.locator(".log-line")).to_have_count(2)
    expect(second.locator(".log-line")).to_have_text(re.compile("row 250 looked odd"))
