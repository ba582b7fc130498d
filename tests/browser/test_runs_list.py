"""The runs list in Chromium over daphne: filters, a new run appearing live, bulk cancel and
bulk retry of failed runs. The test process plays the workers."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_inbox import logged_in
from tests.engine_kit import build, drive, noop, start, workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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
        filters.get_by_label("Status").select_option("failed")
        expect(row(busy)).to_have_count(0)
        expect(row(failed)).to_be_visible()
        filters.get_by_label("Status").select_option("")
        filters.get_by_label("Workflow").select_option(label="Waiting")
        expect(row(failed)).to_have_count(0)
        filters.get_by_label("Workflow").select_option("")

        # A run started elsewhere appears without a reload, at the top.
        fresh = start(waiting, actor=alice)
        expect(table.locator("tbody tr").first).to_have_attribute("data-id", str(fresh.pk))

        page.get_by_label(f"Select run {busy.pk}").check()
        page.get_by_label(f"Select run {fresh.pk}").check()
        bar = page.get_by_role("toolbar", name="Selected runs")
        bar.get_by_role("button", name="Cancel selected").click()
        expect(bar.get_by_role("status", name="Notice")).to_have_text(
            "Cancelled 2 of 2 selected runs"
        )
        expect(row(busy)).to_contain_text("cancelled")
        expect(row(fresh)).to_contain_text("cancelled")

        page.get_by_label(f"Select run {failed.pk}").check()
        bar.get_by_role("button", name="Retry failed steps of selected").click()
        expect(bar.get_by_role("status", name="Notice")).to_have_text("Retried 1 of 1 selected run")
        expect(row(failed)).to_contain_text(re.compile("running"))
        drive()
        expect(row(failed)).to_contain_text("failed")
    finally:
        context.close()
