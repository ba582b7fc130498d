"""Bulk decisions and out of office in Chromium over daphne: bob selects three approvals in
his inbox, approves them with one comment, and sees them leave; an absent user's inbox says
so, and the deputy's row says for whom the task is. The test process plays the workers."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from rest_framework.test import APIClient

from engine.models import HumanTask, TaskDecision
from people.absences import do_create_absence
from tests.browser.axe import assert_accessible
from tests.engine_kit import approval_graph, drive, form_graph, start, statuses, workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def logged_in(browser, server, username: str, path: str, **options):
    context = browser.new_context(**options)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{server.url}/login/?next={path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(f"{username}-pass-123")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    return context, page


def test_bob_approves_three_tasks_at_once_with_one_comment(browser, web_server, alice, bob):
    wf = workflow(alice, approval_graph(), name="Payments")
    runs = [start(wf, {"amount": n}, actor=alice) for n in (1, 2, 3, 4)]
    form_run = start(workflow(alice, form_graph(), name="Onboarding"), {}, actor=alice)
    drive(timezone.now())
    # bypass_csp: for axe-core alone (tests/browser/conftest.py axe_page).
    context, page = logged_in(browser, web_server, "bob", "/inbox", bypass_csp=True)
    try:
        tasks = page.get_by_role("list", name="Open tasks")
        expect(tasks.get_by_role("listitem")).to_have_count(5)
        # A form is decided on its own: no checkbox on its row.
        expect(tasks.get_by_role("checkbox")).to_have_count(4)
        expect(page.get_by_role("checkbox", name="Select Bank details")).to_have_count(0)

        for amount in (1, 2, 3):
            page.get_by_role("checkbox", name=f"Select Pay {amount} EUR").check()
        bar = page.get_by_role("region", name="Bulk decision")
        expect(bar).to_contain_text("3 selected")
        expect(page.get_by_role("checkbox", name="Select all approvals shown")).not_to_be_checked()
        bar.get_by_label("Comment for all").fill("month end, all checked")
        assert_accessible(page)
        bar.get_by_role("button", name="Approve 3").click()
        dialog = page.get_by_role("dialog", name="Approve 3 tasks?")
        expect(dialog).to_contain_text("Pay 2 EUR")
        dialog.get_by_role("button", name="Approve 3").click()

        expect(page.get_by_role("alert").filter(has_text="3 approved")).to_be_visible()
        for amount in (1, 2, 3):
            expect(tasks.get_by_role("listitem", name=f"Pay {amount} EUR")).to_have_count(0)
        expect(tasks.get_by_role("listitem", name="Pay 4 EUR")).to_be_visible()
        expect(bar).to_have_count(0)  # nothing selected any more
        decisions = TaskDecision.objects.filter(user=bob)
        assert sorted(decisions.values_list("comment", flat=True)) == ["month end, all checked"] * 3
        drive(timezone.now())
        assert [statuses(run)["yes"] for run in runs[:3]] == ["succeeded"] * 3
        assert statuses(form_run)["ask"] == "waiting"
    finally:
        context.close()


def test_select_all_takes_the_approvals_and_a_failure_is_reported_per_task(
    browser, web_server, alice, bob, dave
):
    wf = workflow(alice, approval_graph(), name="Payments")
    for n in (1, 2):
        start(wf, {"amount": n}, actor=alice)
    drive(timezone.now())
    context, page = logged_in(browser, web_server, "bob", "/inbox")
    try:
        tasks = page.get_by_role("list", name="Open tasks")
        expect(tasks.get_by_role("listitem")).to_have_count(2)
        page.get_by_role("checkbox", name="Select all approvals shown").check()
        expect(page.get_by_role("region", name="Bulk decision")).to_contain_text("2 selected")
        # dave decides one while bob's request is on its way, so bob's page cannot have heard
        # of it (deciding before the click races the live update, which unselects it).
        first = HumanTask.objects.get(title="Pay 1 EUR")
        dave_answered = []

        def dave_decides_first(route):
            api = APIClient()
            api.force_authenticate(dave)
            rejected = api.post(f"/api/approvals/{first.pk}/decide/", {"decision": "reject"})
            dave_answered.append(rejected.status_code)
            route.continue_()

        page.route("**/api/approvals/bulk-decide/", dave_decides_first)
        page.get_by_role("button", name="Reject 2").click()
        page.get_by_role("dialog").get_by_role("button", name="Reject 2").click()

        # Inline, until dismissed (a toast says it too, for a while).
        results = page.get_by_role("alert", name=f"1 rejected, 1 failed: task {first.pk} was")
        expect(results).to_contain_text("Pay 1 EUR: the task is already rejected")
        expect(tasks.get_by_role("listitem")).to_have_count(0)
        assert dave_answered == [200]
    finally:
        context.close()


def test_out_of_office_the_absent_user_sees_a_banner_and_the_deputy_for_whom(
    browser, web_server, alice, bob, dave
):
    now = timezone.now()
    do_create_absence(
        actor=bob,
        user=bob,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=2),
        deputy="dave",
    )
    wf = workflow(alice, approval_graph(assignees={"users": ["bob"]}), name="Payments")
    start(wf, {"amount": 7})
    drive(timezone.now())
    contexts = []
    try:
        bob_context, bob_page = logged_in(browser, web_server, "bob", "/inbox")
        dave_context, dave_page = logged_in(browser, web_server, "dave", "/inbox")
        contexts += [bob_context, dave_context]

        banner = bob_page.get_by_role("status", name="Out of office")
        expect(banner).to_contain_text("new tasks go to dave")
        handed = banner.get_by_role("list", name="Handed to your deputy")
        expect(handed.get_by_role("listitem", name="Pay 7 EUR")).to_contain_text(
            "delegated to dave (you are out of office)"
        )
        dave_tasks = dave_page.get_by_role("list", name="Open tasks")
        row = dave_tasks.get_by_role("listitem", name="Pay 7 EUR")
        expect(row).to_contain_text("for bob, out of office")
        expect(dave_page.get_by_role("status", name="Out of office")).to_have_count(0)

        # bob's account page lists the absence, and he ends it.
        bob_page.goto(f"{web_server.url}/account")
        table = bob_page.get_by_role("table", name="Your absences")
        expect(table).to_contain_text("dave")
        table.get_by_role("button", name=re.compile("^Delete the absence until")).click()
        bob_page.get_by_role("dialog").get_by_role("button", name="End it").click()
        expect(bob_page.get_by_text("No absence planned.")).to_be_visible()
    finally:
        for context in contexts:
            context.close()
