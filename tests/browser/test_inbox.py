"""The inbox in Chromium over daphne (websockets): alice's run reaches an approval; the prompt
appears in bob's and dave's open inboxes without a reload, with a count in the navigation;
bob approves with a comment, the task leaves dave's inbox live, and alice's run page shows the
run moving on. A decision someone made first is explained; a rejection is confirmed; a form is
filled from its schema; a reminder marks its task; the empty inbox starts the example whose
approval then arrives. On a phone (390 x 844) a task is read, approved and a form filled with
no sideways scroll and the decision in thumb's reach; axe-core finds no serious violation.
The test process plays the workers (it drives the queued steps)."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from engine.models import HumanTask, Run, StepRun, TaskDecision
from tests.browser.axe import assert_accessible
from tests.engine_kit import approval_graph, build, drive, form_graph, noop, start, workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, server, username: str, path: str) -> None:
    page.set_default_timeout(15_000)
    page.goto(f"{server.url}/login/?next={path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(f"{username}-pass-123")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))


def logged_in(browser, server, username: str, path: str):
    context = browser.new_context()
    page = context.new_page()
    log_in(page, server, username, path)
    return context, page


def toast(page, text: str):
    """A notification (Mantine renders each as role=alert) containing ``text``."""
    return page.get_by_role("alert").filter(has_text=text)


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


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
            expect(page.get_by_role("status", name="Live updates")).to_have_text("live")
            page.evaluate("window.__sameDocument = true")

        run = start(workflow(alice, approval_graph(), name="Payments"), {"amount": 5}, actor=alice)
        drive(timezone.now())
        alice_context, alice_page = logged_in(browser, web_server, "alice", f"/runs/{run.pk}")
        contexts.append(alice_context)
        expect(alice_page.get_by_label("Run status")).to_have_text("waiting")

        # The prompt arrives in both finance inboxes, and the navigation counts it.
        for page in (bob_page, dave_page):
            tasks = page.get_by_role("list", name="Open tasks")
            task = tasks.get_by_role("listitem", name="Pay 5 EUR")
            expect(task).to_be_visible()
            expect(task).to_contain_text("started by alice")
            expect(task).to_contain_text("Payments · run")
            expect(page.get_by_label("Open tasks: 1")).to_be_visible()

        # bob opens it and approves with a comment.
        bob_page.get_by_role("listitem", name="Pay 5 EUR").get_by_role("link").click()
        expect(bob_page).to_have_url(re.compile(r"/inbox/\d+$"))
        detail = bob_page.get_by_role("region", name="Task: Pay 5 EUR")
        expect(detail).to_contain_text("Requested by")
        expect(detail).to_contain_text("alice")
        expect(detail.get_by_label("group finance")).to_be_visible()
        detail.get_by_label("Comment").fill("Looks right")
        detail.get_by_role("button", name="Approve").click()
        expect(toast(bob_page, "Approved: Pay 5 EUR")).to_be_visible()
        expect(bob_page.get_by_role("listitem", name="Pay 5 EUR")).to_have_count(0)
        expect(bob_page.get_by_text("Nothing waits for you.")).to_be_visible()

        # Decided: gone from dave's inbox and count, without a reload.
        expect(dave_page.get_by_role("listitem", name="Pay 5 EUR")).to_have_count(0)
        expect(dave_page.get_by_label(re.compile(r"^Open tasks: \d+$"))).to_have_count(0)
        for page in (bob_page, dave_page):
            assert page.evaluate("window.__sameDocument") is True
        decision = TaskDecision.objects.get(task__run=run)
        assert (decision.user, decision.decision) == (bob, "approve")
        assert decision.comment == "Looks right"

        # alice's run page follows: the approval succeeded, the approved branch runs.
        alice_page.get_by_role("tab", name="Steps").click()
        steps = alice_page.get_by_role("table", name="Steps")
        expect(steps.locator('tr[data-id="ask"]')).to_contain_text("succeeded")
        drive(timezone.now())
        expect(steps.locator('tr[data-id="yes"]')).to_contain_text("succeeded")
        expect(steps.locator('tr[data-id="no"]')).to_contain_text("skipped")
        expect(alice_page.get_by_label("Run status")).to_have_text("succeeded")
    finally:
        for context in contexts:
            context.close()


def test_a_decision_someone_made_first_is_explained(page, web_server, alice, bob, dave):
    from engine import transitions

    run = start(workflow(alice, approval_graph(), name="Payments"), {"amount": 8}, actor=alice)
    drive(timezone.now())
    task = HumanTask.objects.get(run=run)
    # dave's page hears nothing of the inbox socket: it still shows the task when he decides.
    page.route_web_socket(re.compile(r"/ws/inbox/"), lambda ws: None)
    log_in(page, web_server, "dave", f"/inbox/{task.pk}")
    detail = page.get_by_role("region", name="Task: Pay 8 EUR")
    expect(detail.get_by_role("button", name="Approve")).to_be_enabled()

    transitions.do_decide(task.pk, actor=bob, decision="approve", comment="paid already", data=None)
    detail.get_by_role("button", name="Approve").click()

    conflict = toast(page, "Already decided: Pay 8 EUR")
    expect(conflict).to_contain_text("bob already approved")
    expect(conflict).to_contain_text("paid already")
    expect(conflict).to_contain_text("was not recorded")
    expect(page.get_by_role("listitem", name="Pay 8 EUR")).to_have_count(0)
    # The task stays on screen, closed, saying who decided.
    expect(detail.get_by_text("No longer open")).to_be_visible()
    assert not TaskDecision.objects.filter(task=task, user=dave).exists()


def test_a_rejection_is_confirmed_with_a_reason_and_takes_the_rejected_branch(
    page, web_server, alice, bob
):
    run = start(workflow(alice, approval_graph(), name="Payments"), {"amount": 9}, actor=alice)
    drive(timezone.now())
    log_in(page, web_server, "bob", "/inbox")
    detail = page.get_by_role("region", name="Task: Pay 9 EUR")
    detail.get_by_role("button", name="Reject").click()
    dialog = page.get_by_role("dialog", name="Reject this task?")
    expect(dialog).to_contain_text("rejected branch")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert not TaskDecision.objects.exists()  # nothing sent before the confirmation

    detail.get_by_role("button", name="Reject").click()
    dialog.get_by_label("Reason").fill("Wrong supplier")
    dialog.get_by_role("button", name="Reject task").click()
    expect(toast(page, "Rejected: Pay 9 EUR")).to_be_visible()
    expect(page.get_by_role("listitem", name="Pay 9 EUR")).to_have_count(0)
    decision = TaskDecision.objects.get(task__run=run)
    assert (decision.decision, decision.comment) == ("reject", "Wrong supplier")
    drive(timezone.now())
    assert StepRun.objects.get(run=run, node_id="no").status == "succeeded"
    assert StepRun.objects.get(run=run, node_id="yes").status == "skipped"


def test_a_form_task_is_filled_from_its_schema_in_the_inbox(page, web_server, alice, bob):
    run = start(workflow(alice, form_graph(), name="Onboarding"), {}, actor=alice)
    drive(timezone.now())
    log_in(page, web_server, "bob", "/inbox")
    task = page.get_by_role("region", name="Task: Bank details")
    task.get_by_role("button", name="Submit").click()  # iban left empty: checked in the page
    expect(task).to_contain_text("required")
    task.get_by_role("textbox", name="iban").fill("DE89")  # too short for the schema
    task.get_by_role("button", name="Submit").click()
    expect(task).to_contain_text("fewer than 5 characters")
    task.get_by_role("textbox", name="iban").fill("DE89370400440532013000")
    task.get_by_role("button", name="Submit").click()
    expect(toast(page, "Submitted: Bank details")).to_be_visible()
    expect(page.get_by_role("listitem", name="Bank details")).to_have_count(0)
    step = StepRun.objects.get(run=run, node_id="ask")
    assert step.status == "succeeded"
    assert step.output["submitted_by"] == "bob"
    assert step.output["data"]["iban"] == "DE89370400440532013000"


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
        # The open task says how often reminders come.
        expect(page.get_by_role("region", name="Task: Pay 7 EUR")).to_contain_text("every 1 h")
        assert run.pk
    finally:
        context.close()


def test_an_empty_inbox_starts_the_invoice_example_whose_approval_arrives(
    browser, web_server, admin, bob
):
    from django.contrib.auth.models import Group

    from designer.examples import load_examples

    # The groups the example asks, with the first administrator in them, as the bootstrap makes.
    for name in ("finance", "finance-leads"):
        Group.objects.get_or_create(name=name)[0].user_set.add(admin)
    load_examples(admin)
    contexts = []
    try:
        admin_context, page = logged_in(browser, web_server, "admin", "/inbox")
        bob_context, bob_page = logged_in(browser, web_server, "bob", "/inbox")
        contexts += [admin_context, bob_context]
        empty = page.get_by_role("region", name="Nothing waits for you.")
        expect(empty).to_contain_text("Invoice approval")
        expect(empty.get_by_role("link", name="Open the example")).to_have_attribute(
            "href", re.compile(r"^/designer/\d+$")
        )
        empty.get_by_role("button", name="Start an invoice to approve").click()
        expect(toast(page, "Started Invoice approval")).to_be_visible()

        run = Run.objects.get(workflow__name="Invoice approval")
        assert run.input["amount"] > 1000  # over the example's threshold: it asks finance
        drive(timezone.now())
        # The approval arrives, live, in the inbox of finance.
        arrived = bob_page.get_by_role("listitem", name=re.compile(r"^Approve invoice"))
        expect(arrived).to_be_visible()
    finally:
        for context in contexts:
            context.close()


def test_the_inbox_on_a_phone_reads_and_approves_a_task_with_a_comment(
    phone_page, web_server, alice, bob
):
    page = phone_page
    graph = approval_graph(
        description="Supplier: Northwind Traders, a long line of text that must wrap on a phone"
    )
    run = start(workflow(alice, graph, name="Payments"), {"amount": 12}, actor=alice)
    drive(timezone.now())
    log_in(page, web_server, "bob", "/inbox")
    item = page.get_by_role("listitem", name="Pay 12 EUR")
    expect(item).to_be_visible()
    no_sideways_scroll(page)

    item.get_by_role("link").tap()
    detail = page.get_by_role("region", name="Task: Pay 12 EUR")
    expect(detail).to_contain_text("Northwind Traders")
    # The task fills the screen: the list is not beside it.
    expect(page.get_by_role("list", name="Open tasks")).to_have_count(0)
    no_sideways_scroll(page)
    approve = detail.get_by_role("button", name="Approve")
    reject = detail.get_by_role("button", name="Reject")
    for button in (approve, reject, page.get_by_role("button", name="All tasks")):
        assert button.bounding_box()["height"] >= 40
    # The decision sits at the bottom of the screen, in reach of a thumb, without scrolling.
    for button in (approve, reject):
        box = button.bounding_box()
        assert box["y"] > 844 / 2 and box["y"] + box["height"] <= 844

    detail.get_by_label("Comment").fill("OK from my phone")
    approve.tap()
    expect(toast(page, "Approved: Pay 12 EUR")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/inbox$"))
    expect(page.get_by_text("Nothing waits for you.")).to_be_visible()
    no_sideways_scroll(page)

    decision = TaskDecision.objects.get(task__run=run)
    assert (decision.user, decision.comment) == (bob, "OK from my phone")
    drive(timezone.now())
    run.refresh_from_db()
    assert run.status == "succeeded"
    assert StepRun.objects.get(run=run, node_id="yes").status == "succeeded"


def test_a_form_task_is_filled_on_a_phone(phone_page, web_server, alice, bob):
    page = phone_page
    schema = {
        "type": "object",
        "required": ["iban"],
        "properties": {
            "iban": {"type": "string", "title": "IBAN", "minLength": 5},
            "currency": {"type": "string", "title": "Currency", "enum": ["EUR", "USD"]},
            "contacts": {
                "type": "array",
                "title": "Contacts",
                "items": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {"name": {"type": "string", "title": "Name"}},
                },
            },
        },
    }
    graph = build(
        {
            "start": ("trigger.manual",),
            "ask": (
                "human.form",
                {"title": "Supplier", "assignees": {"groups": ["finance"]}, "form_schema": schema},
            ),
            "after": noop(),
        },
        ["start>ask", "ask>after"],
    )
    run = start(workflow(alice, graph, name="Onboarding"), {}, actor=alice)
    drive(timezone.now())
    task = HumanTask.objects.get(run=run)
    log_in(page, web_server, "bob", f"/inbox/{task.pk}")
    detail = page.get_by_role("region", name="Task: Supplier")
    detail.get_by_role("textbox", name="IBAN").fill("DE89370400440532013000")
    add = detail.get_by_role("button", name="Add item")
    assert add.bounding_box()["height"] >= 40
    add.tap()
    detail.get_by_role("textbox", name="Name").fill("Ada Lovelace")
    remove = detail.get_by_role("button", name="Remove item 1")
    assert remove.bounding_box()["height"] >= 40
    no_sideways_scroll(page)
    submit = detail.get_by_role("button", name="Submit")
    assert submit.bounding_box()["height"] >= 40
    submit.tap()
    expect(toast(page, "Submitted: Supplier")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/inbox$"))

    step = StepRun.objects.get(run=run, node_id="ask")
    assert step.status == "succeeded"
    assert step.output["data"] == {
        "iban": "DE89370400440532013000",
        "contacts": [{"name": "Ada Lovelace"}],
    }


def test_the_inbox_with_a_task_open_has_no_serious_accessibility_violation(
    axe_page, web_server, alice, bob
):
    start(workflow(alice, approval_graph(required_approvals=2), name="Payments"), {"amount": 3})
    start(workflow(alice, form_graph(), name="Onboarding"), {}, actor=alice)
    drive(timezone.now())
    log_in(axe_page, web_server, "bob", "/inbox")
    axe_page.get_by_role("listitem", name="Pay 3 EUR").get_by_role("link").click()
    detail = axe_page.get_by_role("region", name="Task: Pay 3 EUR")
    expect(detail).to_contain_text("0 of 2")
    expect(detail.get_by_role("progressbar", name="0 of 2 approvals")).to_have_attribute(
        "aria-valuenow", "0"
    )
    assert_accessible(axe_page)

    axe_page.get_by_role("listitem", name="Bank details").get_by_role("link").click()
    expect(axe_page.get_by_role("region", name="Task: Bank details")).to_be_visible()
    assert_accessible(axe_page)

    axe_page.get_by_role("listitem", name="Pay 3 EUR").get_by_role("link").click()
    detail.get_by_role("button", name="Reject").click()
    expect(axe_page.get_by_role("dialog", name="Reject this task?")).to_be_visible()
    assert_accessible(axe_page)
