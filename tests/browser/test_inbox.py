"""The inbox in Chromium over daphne (websockets): alice's run reaches an approval; the prompt
appears in bob's and dave's open inboxes without a reload, with a count in the navigation;
bob approves, the task leaves dave's inbox live, and alice's run page shows the run moving on.
The test process plays the workers (it drives the queued steps)."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.engine_kit import approval_graph, drive, form_graph, start, workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def logged_in(browser, server, username: str, path: str):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{server.url}/login/?next={path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(f"{username}-pass-123")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    return context, page


def test_an_approval_reaches_the_inboxes_live_and_the_decision_moves_the_run(
    browser, web_server, alice, bob, dave
):
    contexts = []
    try:
        bob_context, bob_page = logged_in(browser, web_server, "bob", "/inbox")
        dave_context, dave_page = logged_in(browser, web_server, "dave", "/inbox")
        contexts += [bob_context, dave_context]
        for page in (bob_page, dave_page):
            expect(page.get_by_text("Nothing waits for you.")).to_be_visible()
            page.evaluate("window.__sameDocument = true")

        run = start(workflow(alice, approval_graph(), name="Payments"), {"amount": 5}, actor=alice)
        drive(timezone.now())
        alice_context, alice_page = logged_in(browser, web_server, "alice", f"/runs/{run.pk}")
        contexts.append(alice_context)
        expect(alice_page.get_by_label("Run status")).to_have_text("waiting")

        # The prompt arrives in both finance inboxes, and the navigation counts it.
        for page in (bob_page, dave_page):
            task = page.get_by_role("listitem", name="Pay 5 EUR")
            expect(task).to_be_visible()
            expect(task).to_contain_text("started by alice")
            expect(page.get_by_label("Open tasks: 1")).to_be_visible()

        task = bob_page.get_by_role("listitem", name="Pay 5 EUR")
        task.get_by_label("Comment on Pay 5 EUR").fill("Looks right")
        task.get_by_role("button", name="Approve").click()
        expect(bob_page.get_by_label("Notice")).to_have_text("Approved: Pay 5 EUR")
        expect(bob_page.get_by_role("listitem", name="Pay 5 EUR")).to_have_count(0)

        # Decided: gone from dave's inbox and count, without a reload.
        expect(dave_page.get_by_role("listitem", name="Pay 5 EUR")).to_have_count(0)
        expect(dave_page.get_by_label(re.compile(r"^Open tasks: \d+$"))).to_have_count(0)
        for page in (bob_page, dave_page):
            assert page.evaluate("window.__sameDocument") is True

        # alice's run page follows: the approval succeeded, the approved branch runs.
        steps = alice_page.get_by_role("table", name="Steps")
        expect(steps.locator('tr[data-id="ask"]')).to_contain_text("succeeded")
        drive(timezone.now())
        expect(steps.locator('tr[data-id="yes"]')).to_contain_text("succeeded")
        expect(steps.locator('tr[data-id="no"]')).to_contain_text("skipped")
        expect(alice_page.get_by_label("Run status")).to_have_text("succeeded")
    finally:
        for context in contexts:
            context.close()


def test_a_form_task_is_filled_from_its_schema_in_the_inbox(browser, web_server, alice, bob):
    run = start(workflow(alice, form_graph(), name="Onboarding"), {}, actor=alice)
    drive(timezone.now())
    context, page = logged_in(browser, web_server, "bob", "/inbox")
    try:
        task = page.get_by_role("listitem", name="Bank details")
        task.get_by_role("button", name="Submit").click()  # iban left empty: checked in the page
        expect(task).to_contain_text("required")
        task.get_by_role("textbox", name="iban").fill("DE89")  # too short for the schema
        task.get_by_role("button", name="Submit").click()
        expect(task).to_contain_text("fewer than 5 characters")
        task.get_by_role("textbox", name="iban").fill("DE89370400440532013000")
        task.get_by_role("button", name="Submit").click()
        expect(page.get_by_label("Notice")).to_have_text("Submitted: Bank details")
        expect(task).to_have_count(0)
        run.refresh_from_db()
        from engine.models import StepRun

        step = StepRun.objects.get(run=run, node_id="ask")
        assert step.status == "succeeded"
        assert step.output["submitted_by"] == "bob"
    finally:
        context.close()


def test_a_reminder_marks_the_task_in_the_open_inbox(browser, web_server, alice, bob):
    from datetime import timedelta

    import time_machine

    t0 = timezone.now()
    with time_machine.travel(t0, tick=False):
        run = start(
            workflow(alice, approval_graph(reminder_every_s=3600), name="Slow"),
            {"amount": 7},
            actor=alice,
        )
        drive(timezone.now())
    context, page = logged_in(browser, web_server, "bob", "/inbox")
    try:
        task = page.get_by_role("listitem", name="Pay 7 EUR")
        expect(task).to_be_visible()
        expect(task.get_by_label(re.compile("Reminder"))).to_have_count(0)
        with time_machine.travel(t0 + timedelta(hours=1, seconds=1), tick=False):
            drive(timezone.now())  # the sweeper's timer, fired here
        expect(task.get_by_label("Reminder 1")).to_be_visible()
        assert run.pk
    finally:
        context.close()
