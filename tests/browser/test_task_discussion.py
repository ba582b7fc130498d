"""A task's discussion in Chromium over daphne: bob opens a task in his inbox, comments with an
@mention picked from the suggestions, replies in the thread, attaches a small PNG, and sees them
listed; an executable dressed as a PDF is refused with the server's reason. A reject that the
workflow wants explained cannot be sent without a reason."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from engine.models import HumanTask, TaskAttachment, TaskComment
from tests.browser.test_inbox import log_in
from tests.discussion_kit import png_bytes
from tests.engine_kit import approval_graph, drive, start, workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def asked(alice, **config):
    run = start(
        workflow(alice, approval_graph(**config), name="Payments"), {"amount": 5}, actor=alice
    )
    drive(timezone.now())
    return HumanTask.objects.get(run=run)


def test_bob_comments_with_a_mention_and_attaches_a_png(page, web_server, alice, bob, tmp_path):
    task = asked(alice)
    picture = tmp_path / "receipt.png"
    picture.write_bytes(png_bytes())
    log_in(page, web_server, "bob", f"/inbox/{task.pk}")
    detail = page.get_by_role("region", name="Task: Pay 5 EUR")
    discussion = detail.get_by_role("region", name="Discussion")
    expect(discussion.get_by_text("No comments yet.")).to_be_visible()

    # @ and a few letters: the suggestions offer the people of the task; bob picks alice.
    box = discussion.get_by_label("Your message", exact=True)
    box.click()
    box.press_sequentially("Is this the right IBAN, @ali")
    page.get_by_role("option", name="alice").click()
    box.press_sequentially("?")
    discussion.get_by_role("button", name="Comment", exact=True).click()

    message = discussion.get_by_role("article", name="Message from bob")
    expect(message).to_contain_text("Is this the right IBAN, @alice ?")
    expect(box).to_have_value("")
    comment = TaskComment.objects.get(task=task)
    assert comment.body == "Is this the right IBAN, @alice ?"
    assert [u.username for u in comment.mentions.all()] == ["alice"]

    # A reply goes into the thread, indented under it.
    discussion.get_by_role("button", name="Reply to bob").click()
    discussion.get_by_label("Your reply to bob").press_sequentially("It is, see the scan.")
    discussion.get_by_role("button", name="Reply", exact=True).click()
    replies = discussion.get_by_role("group", name="Replies to bob")
    expect(replies.get_by_role("article", name="Message from bob")).to_contain_text("see the scan")

    # The file: chosen, uploaded, listed with its size, downloadable.
    expect(discussion.get_by_text("Up to 10 MiB")).to_be_visible()
    with page.expect_file_chooser() as chooser:
        discussion.get_by_role("button", name="Attach a file").click()
    chooser.value.set_files(str(picture))
    files = discussion.get_by_role("list", name="Attached files")
    link = files.get_by_role("link", name="receipt.png")
    expect(link).to_be_visible()
    expect(files).to_contain_text("bob")
    attachment = TaskAttachment.objects.get(task=task)
    assert (attachment.content_type, attachment.size) == ("image/png", len(png_bytes()))
    assert link.get_attribute("href") == f"/api/approvals/{task.pk}/attachments/{attachment.pk}/"
    downloaded = page.request.get(f"{web_server.url}{link.get_attribute('href')}")
    assert downloaded.body() == png_bytes()

    # An executable dressed as a PDF comes back refused, and says why.
    fake = tmp_path / "invoice.pdf"
    fake.write_bytes(b"MZ\x90\x00" + b"\x00" * 60)
    with page.expect_file_chooser() as chooser:
        discussion.get_by_role("button", name="Attach a file").click()
    chooser.value.set_files(str(fake))
    refused = discussion.get_by_role("alert").filter(has_text="The file was not attached")
    expect(refused).to_contain_text("may not be attached")
    expect(files.get_by_role("listitem")).to_have_count(1)


def test_a_reject_that_must_be_explained_waits_for_a_reason(page, web_server, alice, bob):
    task = asked(alice, require_comment_on_reject=True)
    log_in(page, web_server, "bob", f"/inbox/{task.pk}")
    detail = page.get_by_role("region", name="Task: Pay 5 EUR")

    detail.get_by_role("button", name="Reject").click()
    dialog = page.get_by_role("dialog", name="Reject this task?")
    reason = dialog.get_by_label(re.compile("^Reason"))
    expect(reason).to_have_attribute("required", "")
    expect(dialog.get_by_role("button", name="Reject task")).to_be_disabled()
    reason.fill("The IBAN does not match the invoice")
    dialog.get_by_role("button", name="Reject task").click()

    expect(page.get_by_role("alert").filter(has_text="Rejected: Pay 5 EUR")).to_be_visible()
    task.refresh_from_db()
    assert task.status == "rejected"
    assert task.decisions.get().comment == "The IBAN does not match the invoice"


def test_the_run_view_shows_a_human_steps_discussion_read_only(page, web_server, alice, bob):
    from engine.discussion import do_comment

    task = asked(alice)
    do_comment(task.pk, actor=bob, body="Checking the IBAN with @alice")
    log_in(page, web_server, "alice", f"/runs/{task.run_id}")

    page.get_by_test_id("run-graph").locator('.run-step[data-id="ask"]').click()
    inspector = page.get_by_role("region", name="Step ask details")
    discussion = inspector.get_by_role("region", name="Discussion")

    expect(discussion.get_by_role("article", name="Message from bob")).to_contain_text(
        "Checking the IBAN with @alice"
    )
    expect(discussion.get_by_text("No files attached.")).to_be_visible()
    expect(discussion.get_by_role("textbox")).to_have_count(0)
    expect(discussion.get_by_role("button")).to_have_count(0)
