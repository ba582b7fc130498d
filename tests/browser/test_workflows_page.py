"""The workflows list in Chromium, used as a person would: sort it, show only their own, follow a
workflow's last run, duplicate a workflow."""

import re

import pytest
from playwright.sync_api import expect

from designer import services
from designer.models import Role, Workflow
from tests.browser.test_shell import log_in
from tests.engine_kit import build, drive, noop, start

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def small_graph() -> dict:
    return build({"start": ("trigger.manual",), "work": noop()}, ["start>work"])


def create(owner, name: str, description: str = "") -> Workflow:
    return services.do_create_workflow(
        actor=owner, name=name, description=description, graph=small_graph()
    )


def test_sorting_by_name_puts_the_rows_in_order(page, live_server, alice):
    for name in ["Beta", "Gamma", "Alpha"]:
        create(alice, name)
    log_in(page, live_server, "alice", "alice-pass-123")
    names = page.get_by_role("table", name="Workflows").get_by_role("rowheader")
    expect(names).to_have_text(["Alpha", "Gamma", "Beta"])  # recently updated first

    page.get_by_label("Sort").select_option(label="Name A–Z")
    expect(names).to_have_text(["Alpha", "Beta", "Gamma"])
    page.get_by_label("Sort").select_option(label="Name Z–A")
    expect(names).to_have_text(["Gamma", "Beta", "Alpha"])


def test_the_owner_filter_me_hides_a_workflow_shared_by_someone_else(page, live_server, alice, bob):
    create(alice, "Mine")
    shared = create(bob, "Bob's report")
    services.do_grant(actor=bob, workflow=shared, role=Role.VIEWER, user=alice, group=None)
    log_in(page, live_server, "alice", "alice-pass-123")
    table = page.get_by_role("table", name="Workflows")
    expect(table.get_by_role("link", name="Bob's report", exact=True)).to_be_visible()
    expect(table.get_by_role("rowheader")).to_have_count(2)

    page.get_by_label("Owner").select_option(label="Me")

    expect(table.get_by_role("link", name="Bob's report", exact=True)).to_have_count(0)
    expect(table.get_by_role("rowheader")).to_have_text(["Mine"])
    page.get_by_label("Owner").select_option(label="Anyone")
    expect(table.get_by_role("rowheader")).to_have_count(2)


def test_a_workflows_last_run_shows_its_status_and_opens_the_run(page, live_server, alice):
    ran = create(alice, "Nightly")
    create(alice, "Idle")
    run = start(ran, actor=alice)
    drive()
    log_in(page, live_server, "alice", "alice-pass-123")
    table = page.get_by_role("table", name="Workflows")
    expect(table.get_by_role("row", name=re.compile("^Idle"))).to_contain_text("Never run")

    status = table.get_by_role("link", name="Last run of Nightly: succeeded")
    expect(status).to_have_text("succeeded")
    status.click()

    expect(page).to_have_url(re.compile(rf"/runs/{run.pk}$"))
    expect(page.get_by_label("Run status")).to_have_text("succeeded")


def test_duplicate_opens_the_copy_in_the_designer_and_the_list_then_shows_it(
    page, live_server, alice
):
    original = create(alice, "Invoices", description="Monthly invoices")
    log_in(page, live_server, "alice", "alice-pass-123")

    page.get_by_role("button", name="Duplicate Invoices").click()

    expect(page).to_have_url(re.compile(r"/designer/\d+$"))
    copy = Workflow.objects.exclude(pk=original.pk).get()
    assert page.url.endswith(f"/designer/{copy.pk}")
    toolbar = page.get_by_role("toolbar", name="Edit")
    expect(toolbar.get_by_label("Workflow name")).to_have_value("Copy of Invoices")
    expect(page.get_by_label("Graph size")).to_have_text("2 steps, 1 connections")
    assert copy.description == "Monthly invoices"
    assert copy.versions.get().graph == original.versions.get().graph

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Workflows").click()
    table = page.get_by_role("table", name="Workflows")
    expect(table.get_by_role("link", name="Copy of Invoices", exact=True)).to_be_visible()
    expect(table.get_by_role("link", name="Invoices", exact=True)).to_be_visible()
