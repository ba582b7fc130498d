"""The workflows list in Chromium, used as a person would: sort it, show only their own, follow a
workflow's last run, duplicate, archive (and undo), import; a new user starts from the examples;
on a phone; and with axe-core."""

import json
import re

import pytest
from playwright.sync_api import expect

from designer import services
from designer.examples import example_files
from designer.models import Role, Workflow
from tests.browser.axe import assert_accessible
from tests.browser.test_shell import log_in
from tests.engine_kit import build, drive, noop, start

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def small_graph() -> dict:
    return build({"start": ("trigger.manual",), "work": noop()}, ["start>work"])


def create(owner, name: str, description: str = "") -> Workflow:
    return services.do_create_workflow(
        actor=owner, name=name, description=description, graph=small_graph()
    )


def table_of(page):
    return page.get_by_role("table", name="Workflows")


def rows_of(page):
    return table_of(page).locator("tbody tr")


def row_menu(page, name: str):
    """Open a row's actions menu; the menu it opened."""
    page.get_by_role("button", name=f"Actions for {name}", exact=True).click()
    return page.get_by_role("menu")


def test_sorting_by_name_puts_the_rows_in_order(page, live_server, alice):
    for name in ["Beta", "Gamma", "Alpha"]:
        create(alice, name)
    log_in(page, live_server, "alice", "alice-pass-123")
    rows = rows_of(page)
    expect(rows).to_have_count(3)
    expect(rows).to_contain_text(["Alpha", "Gamma", "Beta"])  # recently updated first
    # A sortable column's header is a button that says how the column is sorted.
    updated = table_of(page).get_by_role("button", name=re.compile("^Updated "))
    expect(updated).to_have_accessible_name("Updated Sorted descending")

    name = table_of(page).get_by_role("button", name=re.compile("^Workflow "))
    name.click()
    expect(name).to_have_accessible_name("Workflow Sorted ascending")
    expect(rows).to_contain_text(["Alpha", "Beta", "Gamma"])
    name.click()
    expect(name).to_have_accessible_name("Workflow Sorted descending")
    expect(rows).to_contain_text(["Gamma", "Beta", "Alpha"])
    expect(updated).to_have_accessible_name("Updated Not sorted")


def test_the_owner_filter_me_hides_a_workflow_shared_by_someone_else(page, live_server, alice, bob):
    create(alice, "Mine")
    shared = create(bob, "Bob's report")
    services.do_grant(actor=bob, workflow=shared, role=Role.VIEWER, user=alice, group=None)
    log_in(page, live_server, "alice", "alice-pass-123")
    table = table_of(page)
    expect(table.get_by_role("link", name="Bob's report", exact=True)).to_be_visible()
    expect(rows_of(page)).to_have_count(2)

    page.get_by_role("combobox", name="Owner").click()
    page.get_by_role("option", name="Only mine").click()

    expect(table.get_by_role("link", name="Bob's report", exact=True)).to_have_count(0)
    expect(rows_of(page)).to_have_count(1)
    expect(rows_of(page)).to_contain_text(["Mine"])
    page.get_by_role("combobox", name="Owner").click()
    page.get_by_role("option", name="Anyone's").click()
    expect(rows_of(page)).to_have_count(2)


def test_a_workflows_last_run_shows_its_status_and_opens_the_run(page, live_server, alice):
    ran = create(alice, "Nightly")
    create(alice, "Idle")
    run = start(ran, actor=alice)
    drive()
    log_in(page, live_server, "alice", "alice-pass-123")
    table = table_of(page)
    expect(rows_of(page).filter(has_text="Idle")).to_contain_text("Never run")

    status = table.get_by_role("link", name="Last run of Nightly: succeeded")
    expect(status).to_have_text(re.compile("^succeeded$", re.I))
    status.click()

    expect(page).to_have_url(re.compile(rf"/runs/{run.pk}$"))
    expect(page.get_by_label("Run status")).to_have_text("succeeded")


def test_duplicate_opens_the_copy_in_the_designer_and_the_list_then_shows_it(
    page, live_server, alice
):
    original = create(alice, "Invoices", description="Monthly invoices")
    log_in(page, live_server, "alice", "alice-pass-123")

    row_menu(page, "Invoices").get_by_role("menuitem", name="Duplicate").click()

    expect(page).to_have_url(re.compile(r"/designer/\d+$"))
    copy = Workflow.objects.exclude(pk=original.pk).get()
    assert page.url.endswith(f"/designer/{copy.pk}")
    toolbar = page.get_by_role("toolbar", name="Edit")
    expect(toolbar.get_by_label("Workflow name")).to_have_value("Copy of Invoices")
    expect(page.get_by_label("Graph size")).to_have_text("2 steps, 1 connections")
    assert copy.description == "Monthly invoices"
    assert copy.versions.get().graph == original.versions.get().graph

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Workflows").click()
    table = table_of(page)
    expect(table.get_by_role("link", name="Copy of Invoices", exact=True)).to_be_visible()
    expect(table.get_by_role("link", name="Invoices", exact=True)).to_be_visible()


def test_run_in_a_rows_menu_opens_the_designers_run_dialog_once(page, live_server, alice):
    create(alice, "Invoices")
    log_in(page, live_server, "alice", "alice-pass-123")

    row_menu(page, "Invoices").get_by_role("menuitem", name="Run…").click()

    dialog = page.get_by_role("dialog", name="Run the workflow")
    expect(dialog).to_be_visible()
    expect(page).to_have_url(re.compile(r"/designer/\d+$"))  # ?run=1 is gone...
    page.reload()
    expect(page.get_by_label("Graph size")).to_have_text("2 steps, 1 connections")
    expect(dialog).to_have_count(0)  # ...so a reload does not open it again


def test_a_new_user_adds_the_examples_from_the_empty_page(page, live_server, alice):
    log_in(page, live_server, "alice", "alice-pass-123")
    empty = page.get_by_role("region", name="Create your first workflow")
    expect(empty).to_be_visible()
    expect(empty.get_by_role("link", name="New workflow")).to_be_visible()
    expect(table_of(page)).to_have_count(0)

    empty.get_by_role("button", name="Add the example workflows").click()

    count = len(example_files())
    added = page.get_by_role("alert").filter(has_text=f"Added {count} example workflows")
    expect(added).to_be_visible()
    expect(rows_of(page)).to_have_count(count)
    expect(table_of(page).get_by_role("link", name="Invoice approval", exact=True)).to_be_visible()
    expect(empty).to_have_count(0)
    assert Workflow.objects.filter(owner=alice).count() == count


def test_a_search_that_matches_nothing_says_so_and_clears(page, live_server, alice):
    create(alice, "Invoices")
    log_in(page, live_server, "alice", "alice-pass-123")
    expect(rows_of(page)).to_have_count(1)

    page.get_by_role("textbox", name="Search workflows").fill("payroll")

    nothing = page.get_by_role("region", name="No workflow matches")
    expect(nothing).to_contain_text("“payroll”")
    nothing.get_by_role("button", name="Clear the search and filters").click()
    expect(rows_of(page)).to_have_count(1)
    expect(page.get_by_role("textbox", name="Search workflows")).to_have_value("")


def test_archiving_asks_first_and_can_be_undone(page, live_server, alice):
    wf = create(alice, "Old report")
    create(alice, "Kept")
    log_in(page, live_server, "alice", "alice-pass-123")
    expect(rows_of(page)).to_have_count(2)

    row_menu(page, "Old report").get_by_role("menuitem", name="Archive…").click()
    confirm = page.get_by_role("dialog", name="Archive Old report?")
    confirm.get_by_role("button", name="Keep it").click()
    expect(confirm).to_have_count(0)
    expect(rows_of(page)).to_have_count(2)

    row_menu(page, "Old report").get_by_role("menuitem", name="Archive…").click()
    confirm.get_by_role("button", name="Archive", exact=True).click()
    expect(rows_of(page)).to_have_count(1)
    wf.refresh_from_db()
    assert wf.archived

    toast = page.get_by_role("alert").filter(has_text="Old report left the list")
    toast.get_by_role("button", name="Undo").click()
    expect(rows_of(page)).to_have_count(2)
    expect(page.get_by_role("alert").filter(has_text="Old report is back")).to_be_visible()
    wf.refresh_from_db()
    assert not wf.archived

    # The archive is a view of its own, with a restore.
    services.do_set_archived(actor=alice, workflow=wf, archived=True)
    page.get_by_role("radiogroup", name="Show").get_by_text("Archived").click()
    expect(rows_of(page)).to_have_count(1)
    row_menu(page, "Old report").get_by_role("menuitem", name="Restore").click()
    expect(page.get_by_role("region", name="No archived workflows")).to_be_visible()
    wf.refresh_from_db()
    assert not wf.archived


def test_an_import_shows_the_errors_by_step_and_field_then_opens_the_workflow(
    page, live_server, alice, tmp_path
):
    log_in(page, live_server, "alice", "alice-pass-123")
    page.get_by_role("button", name="Import").first.click()
    dialog = page.get_by_role("dialog", name="Import a workflow")

    broken = small_graph()
    broken["nodes"].append({"id": "fetch", "type": "http.request", "config": {}})
    broken["edges"].append({"id": "e9", "source": "work", "target": "fetch"})
    dialog.get_by_role("tab", name="Paste").click()
    document = {"kind": "flowdeck.workflow", "version": 1, "name": "Broken", "graph": broken}
    dialog.get_by_label("Workflow document").fill(json.dumps(document))
    dialog.get_by_role("button", name="Import", exact=True).click()
    expect(dialog.get_by_role("alert")).to_contain_text("step fetch · config.url")
    assert not Workflow.objects.exists()

    good = tmp_path / "orders.yaml"
    good.write_text(
        "kind: flowdeck.workflow\nversion: 1\nname: Orders\ndescription: From a file\n"
        "graph: " + json.dumps(small_graph())
    )
    dialog.get_by_role("tab", name="Upload a file").click()
    dialog.locator('input[type="file"]').set_input_files(str(good))
    expect(dialog.get_by_role("button", name="Workflow file")).to_contain_text("orders.yaml")
    dialog.get_by_role("button", name="Import", exact=True).click()

    expect(page).to_have_url(re.compile(r"/designer/\d+$"))
    imported = Workflow.objects.get()
    assert (imported.name, imported.description, imported.owner) == ("Orders", "From a file", alice)


def test_the_list_works_on_a_phone_without_sideways_scrolling(phone_page, live_server, alice):
    for name in ["A workflow with a rather long name to wrap", "Short"]:
        create(alice, name, description="Something it does, described at some length")
    start(Workflow.objects.get(name="Short"), actor=alice)
    drive()
    log_in(phone_page, live_server, "alice", "alice-pass-123")
    expect(rows_of(phone_page)).to_have_count(2)
    last_run = table_of(phone_page).get_by_role("link", name="Last run of Short: succeeded")
    expect(last_run).to_be_visible()

    width = phone_page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390
    menu = row_menu(phone_page, "Short")
    expect(menu.get_by_role("menuitem", name="Open in the designer")).to_be_visible()
    box = phone_page.get_by_role("button", name="Actions for Short").bounding_box()
    assert box["width"] >= 40 and box["height"] >= 40


def test_the_list_with_data_has_no_serious_accessibility_violation(axe_page, live_server, alice):
    ran = create(alice, "Nightly", description="Every night")
    create(alice, "Idle")
    start(ran, actor=alice)
    drive()
    log_in(axe_page, live_server, "alice", "alice-pass-123")
    last_run = table_of(axe_page).get_by_role("link", name="Last run of Nightly: succeeded")
    expect(last_run).to_be_visible()
    assert_accessible(axe_page)
    menu = row_menu(axe_page, "Nightly")
    # Once it has faded in: mid-transition colours are blends.
    expect(menu).to_have_css("opacity", "1")
    assert_accessible(axe_page)
