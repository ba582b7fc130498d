"""Presence in the designer, in Chromium over daphne (websockets): alice and bob open the same
workflow in two browsers and each sees the other's avatar; alice saves, and bob, still on
version 1, is told live who saved which version, compares it with his, and reloads it; alice's
own save tells her nothing. When bob leaves, his avatar leaves alice's toolbar."""

import re

import pytest
from playwright.sync_api import expect

from designer.models import Role, WorkflowGrant
from tests.browser.test_inbox import logged_in
from tests.engine_kit import build, workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEWER = re.compile(r"saved version \d+ — your draft is based on")  # the notice, named by its title


def shared_workflow(alice, bob):
    alice.first_name, alice.last_name = "Alice", "Liddell"
    alice.save()
    graph = build(
        {"start": ("trigger.manual",), "shape": ("data.transform", {"value": 1})}, ["start>shape"]
    )
    wf = workflow(alice, graph, name="Shared")
    WorkflowGrant.objects.create(workflow=wf, user=bob, role=Role.EDITOR)
    return wf


def test_two_people_see_each_other_and_a_save_reaches_the_other_live(
    browser, web_server, alice, bob
):
    wf = shared_workflow(alice, bob)
    path = f"/designer/{wf.pk}"
    contexts = []
    try:
        alice_context, alice_page = logged_in(browser, web_server, "alice", path)
        bob_context, bob_page = logged_in(browser, web_server, "bob", path)
        contexts += [alice_context, bob_context]
        alice_bar = alice_page.get_by_role("toolbar", name="Edit")
        bob_bar = bob_page.get_by_role("toolbar", name="Edit")

        # Each sees the other, not themselves.
        expect(alice_bar.get_by_role("group", name="Also here: bob")).to_be_visible()
        expect(bob_bar.get_by_role("group", name="Also here: Alice Liddell")).to_be_visible()
        expect(bob_bar.get_by_role("img", name="Alice Liddell")).to_have_text("AL")
        bob_bar.get_by_role("img", name="Alice Liddell").hover()
        expect(bob_page.get_by_role("tooltip")).to_contain_text(
            "Alice Liddell (alice) has this workflow open"
        )

        # Alice saves version 2 with a note; bob is told at once, before any save of his.
        alice_bar.get_by_role("button", name="Save options").click()
        alice_page.get_by_label("Note for this version").fill("a second shape")
        alice_page.get_by_role("menuitem", name="Save with this note").click()
        expect(alice_bar.get_by_label("Save state")).to_have_text("Version 2")
        notice = bob_page.get_by_role("status", name=NEWER)
        expect(notice).to_contain_text(
            "Alice Liddell saved version 2 — your draft is based on version 1"
        )
        expect(notice).to_contain_text("a second shape")
        expect(bob_bar.get_by_label("Save state")).to_have_text("Version 1")
        # Her own save tells her nothing.
        expect(alice_page.get_by_role("status", name=NEWER)).to_have_count(0)

        notice.get_by_role("button", name="View differences").click()
        expect(bob_page.get_by_role("region", name="Comparison")).to_contain_text(
            "Version 1 compared with version 2"
        )
        bob_page.get_by_role("button", name="Back to editing").click()
        notice.get_by_role("button", name="Reload version 2").click()
        expect(bob_bar.get_by_label("Save state")).to_have_text("Version 2")
        expect(notice).to_have_count(0)

        # Bob leaves: alice is alone again.
        bob_context.close()
        contexts.remove(bob_context)
        expect(alice_bar.get_by_role("group", name="Also here: bob")).to_have_count(0)
    finally:
        for context in contexts:
            context.close()
