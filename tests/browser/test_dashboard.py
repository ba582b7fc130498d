"""The dashboard in Chromium over daphne: the figures of /api/stats/ for the user's runs, a
chart drawn by Recharts, and a new run counted without a reload."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_inbox import logged_in
from tests.engine_kit import build, drive, start, workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_dashboard_counts_runs_live_and_charts_them(browser, web_server, alice, charlie):
    failing = workflow(
        alice,
        build(
            {"start": ("trigger.manual",), "stop": ("flow.fail", {"message": "no"})},
            ["start>stop"],
        ),
        name="Failing",
    )
    fine = workflow(alice, build({"start": ("trigger.manual",)}, []), name="Fine")
    start(failing, actor=alice)
    start(fine, actor=alice)
    drive()
    start(workflow(charlie, build({"start": ("trigger.manual",)}, []), name="Not hers"))
    context, page = logged_in(browser, web_server, "alice", "/dashboard")
    try:
        started = page.get_by_role("group", name="Runs started").locator(".value")
        expect(started).to_have_text("2")  # charlie's run is not hers to see
        expect(page.get_by_role("group", name="Failed", exact=True).locator(".value")).to_have_text(
            "1"
        )
        expect(page.get_by_role("group", name="Failure rate")).to_contain_text("50.0 %")
        failing_table = page.get_by_role("table", name="Failing workflows")
        expect(failing_table).to_contain_text("Failing")
        chart = page.get_by_role("figure", name="Runs per interval")
        expect(chart.locator(".recharts-bar-rectangle").first).to_be_visible()
        expect(page.get_by_role("status", name="Live updates")).to_have_text("live")

        start(fine, actor=alice)  # counted without a reload
        expect(started).to_have_text("3")

        page.get_by_role("search", name="Dashboard filters").get_by_label("Workflow").select_option(
            label="Failing"
        )
        expect(started).to_have_text("1")
        expect(page.get_by_role("group", name="Failure rate")).to_contain_text("100.0 %")
    finally:
        context.close()


def test_alerts_show_on_the_dashboard_and_dead_letters_are_retried(browser, web_server, alice):
    from django.utils import timezone

    from alerts.evaluate import evaluate
    from alerts.models import AlertRule

    failing = workflow(
        alice,
        build(
            {"start": ("trigger.manual",), "stop": ("flow.fail", {"message": "no"})},
            ["start>stop"],
        ),
        name="Failing",
    )
    AlertRule.objects.create(name="Failures", kind="run_failed", workflow=failing, owner=alice)
    run = start(failing, actor=alice)
    drive()
    evaluate(timezone.now())
    context, page = logged_in(browser, web_server, "alice", "/dashboard")
    try:
        alerts = page.get_by_role("table", name="Open alerts")
        expect(alerts).to_contain_text("Failures")
        alerts.get_by_role("button", name=re.compile("Resolve alert")).click()
        expect(page.get_by_role("status", name="Alerts notice")).to_contain_text("Resolved")
        expect(alerts).to_contain_text("No open alerts.")

        dead = page.get_by_role("table", name="Failed for good")
        expect(dead.locator(f'tr[data-id="{run.pk}"]')).to_contain_text("stop")
        page.get_by_label(f"Select dead letter {run.pk}").check()
        page.get_by_role("button", name="Retry selected dead letters").click()
        expect(page.get_by_role("status", name="Alerts notice")).to_have_text("Retried 1 of 1 runs")
        expect(dead.locator(f'tr[data-id="{run.pk}"]')).to_have_count(0)
        run.refresh_from_db()
        assert run.status == "running"
    finally:
        context.close()


def test_alert_rules_are_added_and_deleted_from_the_dashboard(browser, web_server, alice):
    from alerts.models import AlertRule

    wf = workflow(alice, build({"start": ("trigger.manual",)}, []), name="Payments")
    context, page = logged_in(browser, web_server, "alice", "/dashboard")
    try:
        rules = page.get_by_role("region", name="Alert rules")
        form = rules.get_by_role("form", name="New alert rule")
        form.get_by_label("Rule name").fill("Too many failures")
        form.get_by_label("When").select_option("failure_rate")
        form.get_by_label("On workflow").select_option(label="Payments")
        form.get_by_label("Emails").fill("ops@example.com")
        form.get_by_role("button", name="Add rule").click()
        expect(form.get_by_role("alert")).to_contain_text("rate_pct")  # the server's check

        form.get_by_label("Failure rate over (%)").fill("20")
        form.get_by_role("button", name="Add rule").click()
        expect(rules.get_by_role("listitem")).to_contain_text("Too many failures")
        rule = AlertRule.objects.get(name="Too many failures")
        assert (rule.workflow_id, rule.rate_pct, rule.emails) == (wf.pk, 20.0, ["ops@example.com"])

        rules.get_by_role("button", name="Delete rule Too many failures").click()
        expect(rules.get_by_role("listitem")).to_have_text("No rules yet.")
        assert not AlertRule.objects.exists()
    finally:
        context.close()
