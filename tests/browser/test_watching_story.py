"""Watching runs, the whole story (issue 8) in real Chromium, on daphne, with real worker
processes (``manage.py flowdeck_worker``) doing the work: alice starts a run from the designer
and lands on its run view; the nodes take their colours live as the run moves through an
approval (bob decides in his inbox) and a durable delay; the inspector shows a step's output;
a step fails, and alice retries it with edited input from the operator dialog's JSON editor;
the run succeeds; her dashboard, open in a second page, counted the run without a reload.
Nothing is slept: every wait is for what the user would see."""

import re

import pytest
from playwright.sync_api import expect

from engine.models import Run, RunEvent
from tests.browser.test_inbox import logged_in
from tests.engine_kit import build, fn, workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The status palette's colour of each status the story checks (frontend/src/status.ts).
PALETTE = {"pending": "gray", "waiting": "yellow", "succeeded": "teal", "failed": "red"}

# The colour a CSS value resolves to, as Chromium reports colours ("rgb(...)").
RESOLVE = """(value) => {
    const probe = document.createElement("span");
    probe.style.color = value;
    document.body.appendChild(probe);
    const color = getComputedStyle(probe).color;
    probe.remove();
    return color;
}"""


def payout_graph() -> dict:
    """start > approve (finance) > cool_off (a 3 s durable delay) > pay, which fails its first
    attempt (not retried by policy: an operator must act)."""
    return build(
        {
            "start": ("trigger.manual",),
            "approve": (
                "human.approval",
                {"title": "Pay {{ input.amount }} EUR", "assignees": {"groups": ["finance"]}},
            ),
            "cool_off": ("flow.delay", {"seconds": 3}),
            "pay": fn("flaky", fail_times=1, retryable=False),
        },
        ["start>approve", "approve.approved>cool_off", "cool_off>pay"],
        input_schema={
            "type": "object",
            "required": ["amount"],
            "properties": {"amount": {"type": "number", "title": "Amount"}},
        },
        output={"paid_on_attempt": "{{ steps.pay.output.attempt }}"},
    )


def node(page, node_id: str):
    return page.get_by_test_id("run-graph").locator(f'.run-step[data-id="{node_id}"]')


def expect_node(page, node_id: str, status: str) -> None:
    """The node shows ``status``: its state and, where the story checks it, its card's colour
    from the shared status palette (whether or not the card is selected)."""
    expect(node(page, node_id)).to_have_attribute("data-status", status)
    if status in PALETTE:
        card = node(page, node_id).locator("[data-status]").first
        drawn = card.evaluate(
            "(e) => getComputedStyle(e).getPropertyValue('--fd-step-border').trim()"
        )
        palette = f"var(--mantine-color-{PALETTE[status]}-filled)"
        assert page.evaluate(RESOLVE, drawn) == page.evaluate(RESOLVE, palette), (node_id, status)


def figure(page, name: str):
    return page.get_by_role("group", name=name, exact=True).locator(".value")


def test_a_run_is_watched_live_from_start_to_success(browser, web_server, workers, alice, bob):
    wf = workflow(alice, payout_graph(), name="Payout")
    contexts = []
    try:
        # alice keeps her dashboard open in one page and designs in another (one session).
        alice_context, dashboard = logged_in(browser, web_server, "alice", "/dashboard")
        contexts.append(alice_context)
        expect(dashboard.get_by_role("status", name="Live updates")).to_have_text("live")
        # No run yet: the dashboard guides to a first run instead of showing zeros.
        expect(dashboard.get_by_role("region", name="No runs yet.")).to_be_visible()
        dashboard.evaluate("window.__sameDocument = true")
        bob_context, inbox = logged_in(browser, web_server, "bob", "/inbox")
        contexts.append(bob_context)
        expect(inbox.get_by_text("Nothing waits for you.")).to_be_visible()

        # Start the run from the designer: it lands on the run view.
        page = alice_context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{web_server.url}/designer/{wf.pk}")
        page.get_by_role("toolbar", name="Edit").get_by_role("button", name="Run").click()
        dialog = page.get_by_role("dialog", name="Run the workflow")
        dialog.get_by_label("Amount").fill("120")
        dialog.get_by_role("button", name="Start run").click()
        expect(page).to_have_url(re.compile(r"/runs/\d+$"))
        run = Run.objects.get(workflow=wf)
        page.evaluate("window.__sameDocument = true")
        expect(page.get_by_role("status", name="Live updates")).to_have_text("live")

        # The workers run the trigger; the approval parks and waits for bob. The timeline is
        # watched beside the graph.
        page.get_by_role("tab", name="Timeline").click()
        expect_node(page, "start", "succeeded")
        expect_node(page, "approve", "waiting")
        expect_node(page, "cool_off", "pending")
        expect(page.get_by_label("Run status")).to_have_text("waiting")
        # The dashboard counted the new run and its open task without a reload.
        expect(figure(dashboard, "Runs started")).to_have_text("1")
        expect(figure(dashboard, "Waiting tasks")).to_have_text("1")

        # bob approves in his inbox; alice's run view follows: the delay parks, then ends.
        inbox.get_by_role("listitem", name="Pay 120 EUR").get_by_role("link").click()
        task = inbox.get_by_role("region", name="Task: Pay 120 EUR")
        task.get_by_label("Comment").fill("fine")
        task.get_by_role("button", name="Approve").click()
        expect(inbox.get_by_role("alert").filter(has_text="Approved: Pay 120 EUR")).to_be_visible()
        expect(inbox.get_by_role("listitem", name="Pay 120 EUR")).to_have_count(0)
        expect_node(page, "approve", "succeeded")
        expect_node(page, "cool_off", "waiting")
        expect(
            page.get_by_role("img", name=re.compile(r"^cool_off: waiting until "))
        ).to_be_visible()
        expect_node(page, "cool_off", "succeeded")
        expect_node(page, "pay", "failed")
        expect(page.get_by_label("Run status")).to_have_text("failed")

        # The inspector shows what a step did: the approval's output names bob.
        node(page, "approve").click()
        approve = page.get_by_role("region", name="Step approve details")
        output = approve.get_by_label("Step output", exact=True)
        expect(output).to_contain_text('"decided_by": "bob"')
        expect(output).to_contain_text('"comment": "fine"')

        # pay failed: its error and its log; alice retries it with edited input. (She picks it
        # on the timeline: with the inspector open, the graph shows it when it is chosen.)
        page.get_by_role("button", name="Inspect pay on the timeline").click()
        pay = page.get_by_role("region", name="Step pay details")
        expect(pay.get_by_role("region", name="Step error")).to_contain_text(
            "attempt 1 failed on purpose"
        )
        pay.get_by_role("tab", name="Logs").click()
        first = pay.get_by_role("group", name="Logs of attempt 1")
        expect(first).to_contain_text("failing attempt 1 on purpose")
        pay.get_by_role("button", name="Retry with edited input").click()
        dialog = page.get_by_role("dialog", name="Retry step pay with edited input")
        editor = dialog.get_by_label("Input (JSON)")
        expect(editor).to_have_value(re.compile('"fail_times": 1'))
        editor.fill('{"function": "examples.flaky", "args": {"fail_times": 0}')  # unbalanced
        expect(editor).to_have_attribute("aria-invalid", "true")
        expect(dialog.get_by_role("button", name="Retry step")).to_be_disabled()
        editor.fill('{"function": "examples.flaky", "args": {"fail_times": 0}}')
        dialog.get_by_label("Reason").fill("the payment service is back")
        dialog.get_by_role("button", name="Retry step").click()
        expect(dialog).to_be_hidden()
        expect(page.get_by_role("alert").filter(has_text="Step pay queued again.")).to_be_visible()

        # The workers run the new attempt: the run succeeds, live.
        expect(page.get_by_label("Run status")).to_have_text("succeeded")
        expect_node(page, "pay", "succeeded")
        expect(page.get_by_label("Step pay: succeeded, attempt 2")).to_be_visible()
        expect(pay.get_by_role("group", name="Logs of attempt 2")).to_contain_text(
            "attempt 2 succeeded"
        )
        pay.get_by_role("tab", name="Output").click()
        expect(pay.get_by_label("Step output", exact=True)).to_have_text('{\n  "attempt": 2\n}')
        page.get_by_role("tab", name="Input/output").click()
        expect(page.get_by_label("Run output", exact=True)).to_contain_text('"paid_on_attempt": 2')
        page.get_by_role("tab", name="Events").click()
        expect(page.get_by_role("table", name="Events")).to_contain_text(
            "reason: the payment service is back"
        )
        expect(figure(dashboard, "Success rate")).to_have_text("100.0 %")
        expect(dashboard.get_by_role("group", name="Success rate")).to_contain_text(
            "1 succeeded of 1"
        )
        expect(figure(dashboard, "Waiting tasks")).to_have_text("0")

        for watched in (page, dashboard):
            assert watched.evaluate("window.__sameDocument") is True
        run.refresh_from_db()
        assert (run.status, run.output) == ("succeeded", {"paid_on_attempt": 2})
        retried = RunEvent.objects.get(run=run, node_id="pay", type="step.retried")
        assert retried.actor == alice
    finally:
        for context in contexts:
            context.close()
