"""Deciding from the link of a delivered email, in Chromium over daphne (issue 19): alice's run
asks bob; bob opens the Approve link of his email, logs in (the workflow's default policy),
lands on the confirmation page, types a comment and presses Approve; his task says it was
decided via the email link, and alice sees the run go on. The test process plays the workers."""

import re

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.test_inbox import log_in
from tests.engine_kit import approval_graph, drive, start, workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_bob_approves_from_the_link_in_his_email_and_the_run_goes_on(
    browser, page, web_server, settings, alice, bob
):
    settings.FLOWDECK_BASE_URL = web_server.url
    bob.email = "bob@example.com"
    bob.save()
    run = start(workflow(alice, approval_graph(), name="Payments"), {"amount": 5}, actor=alice)
    drive(timezone.now())
    [message] = [m for m in mail.outbox if m.to == ["bob@example.com"]]
    link = re.search(r"^Approve: (\S+)$", message.body, re.M).group(1)

    page.goto(link)
    # Not logged in: the login page first, then back to the link.
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password").fill("bob-pass-123")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Approve this task?")).to_be_visible()
    expect(page.get_by_text("Pay 5 EUR")).to_be_visible()
    expect(page.get_by_text(f"Payments · run {run.pk}")).to_be_visible()
    page.get_by_label("Comment").fill("Paid from my phone")
    page.get_by_role("button", name="Approve").click()

    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("approved and the workflow goes on")
    drive(timezone.now())

    page.get_by_role("link", name="Open the task").click()
    expect(page.get_by_text("bob already approved via email link")).to_be_visible()

    # alice, who started the run, sees it go on, and how the decision was made.
    alice_context = browser.new_context()
    try:
        alice_page = alice_context.new_page()
        log_in(alice_page, web_server, "alice", f"/runs/{run.pk}")
        expect(alice_page.get_by_label("Run status")).to_have_text("succeeded")
        alice_page.get_by_role("tab", name="Events").click()
        expect(alice_page.get_by_text("via email link")).to_be_visible()
        expect(alice_page.get_by_role("cell", name="bob", exact=True).first).to_be_visible()
    finally:
        alice_context.close()

    # The link again: used, and the page says so.
    page.goto(link)
    expect(page.get_by_role("heading", name="This link was already used")).to_be_visible()
