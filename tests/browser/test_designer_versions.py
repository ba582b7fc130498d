"""Versions in the designer, in Chromium: the history with author, time and note; an old
version opened read-only, compared with the latest and restored; a stale save kept as a copy;
and the guard that keeps unsaved edits from being lost by navigating away."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_designer_story import toast
from tests.browser.test_shell import log_in
from tests.engine_kit import build

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def two_versions(owner):
    """A workflow whose version 2 changed a step, added one and dropped one of version 1."""
    from designer.services import do_create_workflow, do_save_version

    v1 = build(
        {
            "start": ("trigger.manual",),
            "shape": ("data.transform", {"value": 1}),
            "old": ("data.transform", {"value": "gone"}),
        },
        ["start>shape", "shape>old"],
    )
    v2 = build(
        {
            "start": ("trigger.manual",),
            "shape": ("data.transform", {"value": 2}),
            "fresh": ("data.transform", {"value": "new"}),
        },
        ["start>shape", "shape>fresh"],
    )
    wf = do_create_workflow(actor=owner, name="Versioned", graph=v1, note="first cut")
    do_save_version(actor=owner, workflow=wf, graph=v2, base_version=1, note="swap old for fresh")
    return wf


def test_history_opens_an_old_version_read_only_compares_and_restores_it(page, live_server, alice):
    from designer.models import Workflow

    wf = two_versions(alice)
    log_in(page, live_server, "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/designer/{wf.pk}")
    toolbar = page.get_by_role("toolbar", name="Edit")
    expect(toolbar.get_by_label("Save state")).to_have_text("Version 2")

    toolbar.get_by_role("button", name="History").click()
    history = page.get_by_role("complementary", name="Version history")
    first = history.get_by_role("listitem", name="Version 1")
    expect(first).to_contain_text("alice")
    expect(first).to_contain_text("first cut")
    expect(history.get_by_role("listitem", name="Version 2")).to_contain_text("swap old for fresh")

    # Version 1, read-only: its steps, no palette, nothing draggable.
    first.get_by_role("button", name="Open version 1").click()
    expect(page.get_by_role("region", name="Old version")).to_contain_text("Version 1, read-only")
    expect(page.locator('.react-flow__node[data-id="old"]')).to_be_visible()
    expect(page.locator('.react-flow__node[data-id="fresh"]')).to_have_count(0)
    expect(page.get_by_role("complementary", name="Steps")).to_have_count(0)
    expect(toolbar.get_by_role("button", name="Save", exact=True)).to_be_disabled()

    # The comparison marks what version 2 added, removed and changed, on the canvas and in words.
    first.get_by_role("button", name="Compare version 1 with latest").click()
    changes = page.get_by_role("region", name="Comparison").get_by_role("list", name="Changes")
    expect(changes).to_contain_text("added fresh")
    expect(changes).to_contain_text("removed old")
    expect(changes).to_contain_text("changed shape: config.value")
    for node, change in [("fresh", "added"), ("old", "removed"), ("shape", "changed")]:
        marked = page.locator(f'.react-flow__node[data-id="{node}"] [data-change="{change}"]')
        expect(marked).to_be_visible()

    # Restore version 1: it becomes version 3, with a note saying so, and the editor shows it.
    first.get_by_role("button", name="Open version 1").click()
    page.get_by_role("button", name="Restore version 1 as a new version").click()
    expect(toast(page, "Restored version 1 as version 3")).to_be_visible()
    expect(toolbar.get_by_label("Save state")).to_have_text("Version 3")
    expect(page.locator('.react-flow__node[data-id="old"]')).to_be_visible()
    expect(history.get_by_role("listitem", name="Version 3")).to_contain_text("Restored version 1")
    wf = Workflow.objects.get(pk=wf.pk)
    assert wf.latest_version == 3
    assert wf.versions.get(number=3).graph == wf.versions.get(number=1).graph


def test_a_stale_save_is_kept_as_a_copy_with_the_users_edits(page, live_server, alice):
    from designer.models import Workflow
    from designer.services import do_save_version

    wf = two_versions(alice)
    log_in(page, live_server, "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/designer/{wf.pk}")
    toolbar = page.get_by_role("toolbar", name="Edit")
    expect(toolbar.get_by_label("Save state")).to_have_text("Version 2")

    # Someone else saves version 3 while this user edits.
    latest = wf.versions.get(number=2).graph
    do_save_version(actor=alice, workflow=wf, graph=latest, base_version=2, note="elsewhere")
    toolbar.get_by_role("searchbox", name="Find step").fill("shape")
    toolbar.get_by_role("searchbox", name="Find step").press("Enter")
    page.get_by_role("complementary", name="Configure shape").get_by_label("Label").fill("Shaped")
    expect(toolbar.get_by_label("Save state")).to_have_text("Unsaved changes")
    toolbar.get_by_role("button", name="Save", exact=True).click()

    stale = page.get_by_role("dialog", name="Stale save")
    expect(stale).to_contain_text("Someone saved version 3")
    expect(page.locator('.react-flow__node[data-id="shape"]')).to_contain_text("Shaped")
    stale.get_by_role("button", name="Save my edits as a copy").click()

    expect(toast(page, "Saved as a new workflow, Versioned (copy)")).to_be_visible()
    copy = Workflow.objects.get(name="Versioned (copy)")
    expect(page).to_have_url(re.compile(rf"/designer/{copy.pk}$"))
    labels = {n["id"]: n.get("label") for n in copy.versions.get(number=1).graph["nodes"]}
    assert labels["shape"] == "Shaped"
    assert Workflow.objects.get(pk=wf.pk).latest_version == 3


def test_reload_after_a_stale_save_drops_the_edits_for_the_latest_version(page, live_server, alice):
    from designer.services import do_save_version

    wf = two_versions(alice)
    log_in(page, live_server, "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/designer/{wf.pk}")
    expect(page.get_by_label("Save state")).to_have_text("Version 2")
    do_save_version(
        actor=alice,
        workflow=wf,
        graph=build({"start": ("trigger.manual",)}, []),
        base_version=2,
    )
    toolbar = page.get_by_role("toolbar", name="Edit")
    toolbar.get_by_role("searchbox", name="Find step").fill("fresh")
    toolbar.get_by_role("searchbox", name="Find step").press("Enter")
    page.get_by_role("complementary", name="Configure fresh").get_by_label("Label").fill("Mine")
    toolbar.get_by_role("button", name="Save", exact=True).click()
    page.get_by_role("dialog", name="Stale save").get_by_role(
        "button", name="Reload version 3 and drop my edits"
    ).click()
    expect(page.get_by_label("Save state")).to_have_text("Version 3")
    expect(page.get_by_label("Graph size")).to_have_text("1 steps, 0 connections")


def test_leaving_with_unsaved_edits_asks_first(page, live_server, alice):
    wf = two_versions(alice)
    log_in(page, live_server, "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/designer/{wf.pk}")
    expect(page.get_by_label("Save state")).to_have_text("Version 2")
    page.get_by_role("complementary", name="Steps").get_by_role("button", name="Delay").click()
    expect(page.get_by_label("Save state")).to_have_text("Unsaved changes")

    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Runs").click()
    dialog = page.get_by_role("dialog", name="Unsaved changes")
    dialog.get_by_role("button", name="Stay").click()
    expect(page).to_have_url(re.compile(rf"/designer/{wf.pk}$"))
    expect(page.get_by_label("Graph size")).to_have_text("4 steps, 2 connections")

    nav.get_by_role("link", name="Runs").click()
    page.get_by_role("dialog", name="Unsaved changes").get_by_role(
        "button", name="Leave without saving"
    ).click()
    expect(page).to_have_url(re.compile(r"/runs$"))

    # Nothing to lose, nothing asked.
    page.goto(f"{live_server.url}/designer/{wf.pk}")
    expect(page.get_by_label("Save state")).to_have_text("Version 2")
    nav.get_by_role("link", name="Runs").click()
    expect(page).to_have_url(re.compile(r"/runs$"))
