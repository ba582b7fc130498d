"""Deadlines people can see (issue 19), in Chromium over daphne: a task due in a few seconds
shows a countdown that moves, amber in the last fifth of its window, and turns red once overdue,
in bob's inbox row and on the approval's node of alice's run graph, without a reload; when the
sweeper's timer escalates it, both say "escalated to finance-leads" with the new time left. On
a phone in the dark scheme the row does not overflow. The browser runs on real time, so the
due time is set in the database a little ahead; the test process plays the sweeper."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import expect

from designer.models import Role, WorkflowGrant
from engine.models import HumanTask, RunEvent, StepRun
from tests.browser.axe import assert_accessible
from tests.browser.test_inbox import log_in, logged_in, no_sideways_scroll
from tests.engine_kit import approval_graph, drive, start, workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ESCALATING = {
    "due_in_s": 3600,
    "on_timeout": "escalate",
    "escalate_to": {"groups": ["finance-leads"], "due_in_s": 7200},
}


def due_soon(run, seconds: float, window: float = 200) -> None:
    """The run's task is due in ``seconds``, at the end of a ``window``-second SLA window (so
    it is already in its last fifth), and the step's timer with it."""
    due = timezone.now() + timedelta(seconds=seconds)
    HumanTask.objects.filter(run=run).update(due_at=due, due_from=due - timedelta(seconds=window))
    StepRun.objects.filter(run=run, node_id="ask").update(wake_at=due)


def test_a_countdown_moves_turns_red_when_overdue_and_names_the_escalation_live(
    browser, web_server, alice, bob
):
    Group.objects.create(name="finance-leads")
    run = start(workflow(alice, approval_graph(**ESCALATING), name="Payments"), {"amount": 5})
    drive(timezone.now())
    # Long enough for both pages to load and lay out the graph on a busy machine.
    due_soon(run, 45)
    contexts = []
    try:
        bob_context, inbox = logged_in(browser, web_server, "bob", "/inbox")
        alice_context, run_page = logged_in(browser, web_server, "alice", f"/runs/{run.pk}")
        contexts += [bob_context, alice_context]
        row = inbox.get_by_role("listitem", name="Pay 5 EUR").get_by_role("timer")
        node = run_page.get_by_test_id("run-graph").locator('.run-step[data-id="ask"]')
        on_graph = node.get_by_role("timer")
        expect(node).to_be_visible(timeout=30_000)  # the graph's layout runs in the page
        for page in (inbox, run_page):
            page.evaluate("window.__sameDocument = true")

        # Amber, in seconds, and moving on its own.
        for timer in (row, on_graph):
            expect(timer).to_have_text(re.compile(r"^\d+ s left$"))
            expect(timer).to_have_attribute("data-countdown", "soon")
        shown = row.inner_text()
        expect(row).not_to_have_text(shown, timeout=5_000)
        # The run view's steps table counts down too.
        steps = run_page.get_by_role("table", name="Steps")
        expect(steps.locator('tr[data-id="ask"]').get_by_role("timer")).to_have_text(
            re.compile(r"^\d+ s left$")
        )

        # Past the due time: red, counting how late, with nothing read again.
        for timer in (row, on_graph):
            expect(timer).to_have_attribute("data-countdown", "overdue", timeout=60_000)
            expect(timer).to_have_text(re.compile(r"^overdue \d+ s$"))
        assert not RunEvent.objects.filter(run=run, type="task.overdue").exists()

        # The sweeper's timer: the breach, then the escalation, pushed to both pages.
        drive(timezone.now())
        assert list(
            RunEvent.objects.filter(run=run, type__in=["task.overdue", "task.escalated"])
            .order_by("id")
            .values_list("type", flat=True)
        ) == ["task.overdue", "task.escalated"]
        escalated = re.compile(r"^escalated to finance-leads · (2 h|1 h 59 min) left$")
        for timer in (row, on_graph):
            expect(timer).to_have_text(escalated)
            expect(timer).to_have_attribute("data-countdown", "normal")
        for page in (inbox, run_page):
            assert page.evaluate("window.__sameDocument") is True
    finally:
        for context in contexts:
            context.close()


def test_an_escalated_overdue_row_fits_a_phone_in_the_dark(browser, web_server, alice, bob):
    Group.objects.create(name="finance-leads")
    graph = approval_graph(title="Pay the quarterly invoice of Northwind Traders", **ESCALATING)
    run = start(workflow(alice, graph, name="Payments"), {"amount": 5})
    drive(timezone.now())
    HumanTask.objects.filter(run=run).update(escalation_level=1, due_at=timezone.now())
    # A newer task without a due time: last by time left, first by arrival.
    start(workflow(alice, approval_graph(title="Sign the lease"), name="Office"), {"amount": 1})
    drive(timezone.now())
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, color_scheme="dark"
    )
    try:
        page = context.new_page()
        log_in(page, web_server, "bob", "/inbox")
        timer = page.get_by_role("listitem", name=re.compile("^Pay the quarterly")).get_by_role(
            "timer"
        )
        expect(timer).to_have_text(re.compile(r"^escalated to finance-leads · overdue"))
        expect(timer).to_have_attribute("data-countdown", "overdue")
        no_sideways_scroll(page)
        # The theme's red tint on the dark surface, and text light enough to read on it.
        tint = timer.evaluate("e => getComputedStyle(e).backgroundColor")
        red, green, blue = (float(c) for c in re.findall(r"[\d.]+", tint)[:3])
        assert red > 2 * green and red > 2 * blue, tint
        text = timer.evaluate("e => getComputedStyle(e).color")
        assert min(int(c) for c in re.findall(r"\d+", text)[:3]) > 200, text
        # The sort control: due first by default, newest first one tap away.
        rows = page.get_by_role("list", name="Open tasks").get_by_role("listitem")
        expect(rows).to_have_count(2)
        expect(rows.first).to_have_accessible_name(re.compile("^Pay the quarterly"))
        page.get_by_role("radiogroup", name="Sort tasks").get_by_text("Newest").tap()
        expect(page.get_by_role("radio", name="Newest")).to_be_checked()
        expect(rows.first).to_have_accessible_name("Sign the lease")
        expect(timer).to_be_visible()
        no_sideways_scroll(page)
    finally:
        context.close()


def test_countdowns_have_no_serious_accessibility_violation(axe_page, web_server, alice, bob):
    payments = workflow(alice, approval_graph(due_in_s=3600), name="Payments")
    WorkflowGrant.objects.create(workflow=payments, user=bob, role=Role.VIEWER)  # its run view
    soon = start(payments, {"amount": 3})
    late = start(workflow(alice, approval_graph(due_in_s=3600), name="Rent"), {"amount": 4})
    drive(timezone.now())
    due_soon(soon, 600, window=3600)
    HumanTask.objects.filter(run=late).update(due_at=timezone.now() - timedelta(minutes=5))
    log_in(axe_page, web_server, "bob", "/inbox")
    timers = axe_page.get_by_role("list", name="Open tasks").get_by_role("timer")
    expect(timers).to_have_count(2)
    expect(timers.first).to_have_attribute("data-countdown", "overdue")
    expect(timers.last).to_have_attribute("data-countdown", "soon")
    assert_accessible(axe_page)

    axe_page.goto(f"{web_server.url}/runs/{soon.pk}")
    node = axe_page.get_by_test_id("run-graph").locator('.run-step[data-id="ask"]')
    expect(node.get_by_role("timer")).to_have_attribute("data-countdown", "soon", timeout=30_000)
    axe_page.get_by_role("button", name="Inspect ask").click()
    details = axe_page.get_by_role("region", name="Step ask details")
    expect(details.get_by_role("timer")).to_have_text(re.compile(r"^\d+ min \d+ s left$"))
    assert_accessible(axe_page)
