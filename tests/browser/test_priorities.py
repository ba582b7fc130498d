"""Run priorities in Chromium: the workflow's priority is set in the designer's workflow
settings and saved in its graph; the Run dialog starts from it and may ask for another; the
run page and the runs list show a run's priority when it is not normal."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_designer_story import toast
from tests.browser.test_shell import log_in
from tests.engine_kit import build, noop, workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_workflows_priority_is_saved_and_a_run_started_at_another_shows_it(
    page, live_server, alice
):
    from engine.models import Run

    wf = workflow(alice, build({"start": ("trigger.manual",), "work": noop()}, ["start>work"]))
    log_in(page, live_server, "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/designer/{wf.pk}")
    settings = page.get_by_role("complementary", name="Workflow settings")
    priority = settings.get_by_role("radiogroup", name="Priority")
    expect(priority.get_by_role("radio", name="normal")).to_be_checked()

    priority.get_by_text("high", exact=True).click()
    toolbar = page.get_by_role("toolbar", name="Edit")
    toolbar.get_by_role("button", name="Save", exact=True).click()
    expect(toast(page, "Saved version 2")).to_be_visible()
    wf.refresh_from_db()
    assert wf.versions.get(number=2).graph["priority"] == "high"

    toolbar.get_by_role("button", name="Run").click()
    dialog = page.get_by_role("dialog", name="Run the workflow")
    chosen = dialog.get_by_role("radiogroup", name="Priority")
    expect(chosen.get_by_role("radio", name="high")).to_be_checked()
    chosen.get_by_text("urgent", exact=True).click()
    dialog.get_by_role("button", name="Start run").click()

    expect(page).to_have_url(re.compile(r"/runs/\d+$"))
    run = Run.objects.get(workflow=wf)
    assert run.priority == "urgent"
    expect(page.locator('[data-priority="urgent"]')).to_have_text("urgent priority")
    page.goto(f"{live_server.url}/runs")
    row = page.locator(f'tr:has(a[href="/runs/{run.pk}"])')
    expect(row.get_by_text("urgent priority")).to_be_visible()
