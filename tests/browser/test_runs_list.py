"""The runs list in Chromium over daphne: filters, a new run appearing live, bulk cancel and
bulk retry of failed runs with confirmations and toasts; the empty states; on a phone (390 x
844) no sideways scroll; axe-core with runs on the page. The test process plays the workers."""

import re

import pytest
from playwright.sync_api import expect

from engine.models import Run
from tests.browser.test_inbox import logged_in
from tests.browser.test_run_view import node_of
from tests.engine_kit import build, drive, noop, start, workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def choose(page, field, option: str) -> None:
    """Pick an option of a Mantine select (or multi-select), then close its list."""
    field.click()
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")


def toast(page, text: str):
    return page.get_by_role("alert").filter(has_text=text)


def test_runs_are_filtered_follow_live_and_are_cancelled_and_retried_in_bulk(
    browser, web_server, alice
):
    failing = workflow(
        alice,
        build(
            {"start": ("trigger.manual",), "stop": ("flow.fail", {"message": "no"})}, ["start>stop"]
        ),
        name="Failing",
    )
    waiting = workflow(
        alice,
        build({"start": ("trigger.manual",), "a": noop()}, ["start>a"]),
        name="Waiting",
    )
    failed = start(failing, actor=alice)
    drive()
    busy = start(waiting, actor=alice)  # stays running: nobody executes its steps
    context, page = logged_in(browser, web_server, "alice", "/runs")
    try:
        table = page.get_by_role("table", name="Runs")
        row = lambda run: table.locator(f'tr[data-id="{run.pk}"]')  # noqa: E731
        expect(row(failed)).to_contain_text("failed")
        expect(row(busy)).to_contain_text("running")
        expect(page.get_by_role("status", name="Live updates")).to_have_text("live")

        filters = page.get_by_role("search", name="Filter runs")
        choose(page, filters.get_by_label("Status"), "failed")
        expect(row(busy)).to_have_count(0)
        expect(row(failed)).to_be_visible()
        expect(page).to_have_url(re.compile(r"/runs\?status=failed$"))  # a link that keeps them
        filters.get_by_role("button", name="Clear filters").click()
        expect(page).to_have_url(re.compile(r"/runs$"))
        choose(page, filters.get_by_label("Workflow"), "Waiting")
        expect(row(failed)).to_have_count(0)
        expect(row(busy)).to_be_visible()
        filters.get_by_role("button", name="Clear filters").click()
        expect(row(failed)).to_be_visible()

        # A run started elsewhere appears without a reload, at the top.
        fresh = start(waiting, actor=alice)
        expect(table.locator("tbody tr").first).to_have_attribute("data-id", str(fresh.pk))

        page.get_by_label(f"Select run {busy.pk}").check()
        page.get_by_label(f"Select run {fresh.pk}").check()
        bar = page.get_by_role("toolbar", name="Selected runs")
        bar.get_by_role("button", name="Cancel selected").click()
        confirm = page.get_by_role("dialog", name="Cancel 2 runs?")
        confirm.get_by_role("button", name="Cancel 2 runs").click()
        expect(toast(page, "Cancelled 2 of 2 selected runs")).to_be_visible()
        expect(toast(page, f"Run {busy.pk}: cancelled")).to_be_visible()
        expect(row(busy)).to_contain_text("cancelled")
        expect(row(fresh)).to_contain_text("cancelled")
        expect(bar).to_have_count(0)  # the selection is done with

        page.get_by_label(f"Select run {failed.pk}").check()
        bar.get_by_role("button", name="Retry failed steps of selected").click()
        page.get_by_role("dialog", name="Retry the failed steps of 1 run?").get_by_role(
            "button", name="Retry 1 run"
        ).click()
        expect(toast(page, "Retried 1 of 1 selected run")).to_be_visible()
        expect(row(failed)).to_contain_text(re.compile("running"))
        drive()
        expect(row(failed)).to_contain_text("failed")
    finally:
        context.close()


def test_the_empty_list_guides_to_a_first_run_and_filters_that_match_nothing_can_be_cleared(
    browser, web_server, alice
):
    from designer.services import do_create_workflow

    do_create_workflow(
        actor=alice,
        name="Fetch and transform",
        description="",
        graph=build({"start": ("trigger.manual",), "a": noop()}, ["start>a"]),
    )
    context, page = logged_in(browser, web_server, "alice", "/runs")
    try:
        empty = page.get_by_role("region", name="No runs yet")
        expect(empty).to_contain_text("Runs appear here")
        expect(empty.get_by_role("link", name="Open the workflows")).to_have_attribute(
            "href", "/workflows"
        )
        # Run the example from here: its run opens.
        empty.get_by_role("button", name="Run Fetch and transform").click()
        expect(page).to_have_url(re.compile(r"/runs/\d+$"))
        run = Run.objects.get()
        expect(page.get_by_role("heading", level=1, name=f"Run {run.pk}")).to_be_visible()

        page.goto(f"{web_server.url}/runs?status=cancelled")
        nothing = page.get_by_role("region", name="No run matches these filters")
        expect(nothing).to_be_visible()
        nothing.get_by_role("button", name="Clear filters").click()
        expect(
            page.get_by_role("table", name="Runs").locator(f'tr[data-id="{run.pk}"]')
        ).to_be_visible()
    finally:
        context.close()


def test_on_a_phone_the_runs_list_fits_the_screen_and_opens_a_run(phone_page, web_server, alice):
    page = phone_page
    flow = workflow(
        alice,
        build({"start": ("trigger.manual",), "a": noop()}, ["start>a"]),
        name="A workflow with a rather long name",
    )
    runs = [start(flow, actor=alice) for _ in range(3)]
    drive()
    page.goto(f"{web_server.url}/login/?next=/runs")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("alice-pass-123")
    page.get_by_role("button", name="Log in").click()
    table = page.get_by_role("table", name="Runs")
    expect(table.locator("tbody tr")).to_have_count(3)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width} px wide)"
    # Filters fold behind one button; rows are thumb-sized.
    filters = page.get_by_role("search", name="Filter runs")
    expect(filters.get_by_label("Status")).to_be_hidden()
    filters.get_by_role("button", name="Filters").tap()
    expect(filters.get_by_label("Status")).to_be_visible()
    first = table.locator(f'tr[data-id="{runs[-1].pk}"]')
    assert first.bounding_box()["height"] >= 40
    expect(first).to_contain_text("succeeded")
    first.locator("td").last.tap()
    expect(page).to_have_url(re.compile(rf"/runs/{runs[-1].pk}$"))
    expect(page.get_by_label("Run status")).to_have_text("succeeded")
    expect(node_of(page, "a")).to_have_attribute("data-status", "succeeded")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the run view scrolls sideways ({width} px wide)"


def test_the_runs_list_has_no_serious_accessibility_violation(axe_page, web_server, alice):
    from tests.browser.axe import assert_accessible

    failing = workflow(
        alice,
        build(
            {"start": ("trigger.manual",), "stop": ("flow.fail", {"message": "no"})}, ["start>stop"]
        ),
        name="Failing",
    )
    start(failing, actor=alice)
    drive()
    start(
        workflow(alice, build({"start": ("trigger.manual",), "a": noop()}, ["start>a"])),
        actor=alice,
    )
    page = axe_page
    page.goto(f"{web_server.url}/login/?next=/runs")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("alice-pass-123")
    page.get_by_role("button", name="Log in").click()
    table = page.get_by_role("table", name="Runs")
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(page.get_by_role("status", name="Live updates")).to_have_text("live")
    assert_accessible(page)
    table.locator("tbody tr").first.get_by_role("checkbox").check()
    expect(page.get_by_role("toolbar", name="Selected runs")).to_be_visible()
    assert_accessible(page)
