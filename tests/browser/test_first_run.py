"""A new user's first runs, in Chromium, as on a fresh ``./start.sh``: the first administrator
from ``flowdeck_bootstrap`` (in the examples' groups), the examples loaded, the demo services
listening and real workers allowed to reach them. Every example is started from the designer's
**Run** button with the input the Run dialog offers, its approvals are decided in the Inbox,
and it runs to its end; Getting started's walk-through of "Invoice approval" is followed word
for word."""

import json
import re
import threading

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from playwright.sync_api import expect

from designer import transfer
from designer.demo_services import DemoServer
from designer.examples import example_files
from designer.models import Workflow, WorkflowVersion
from engine.models import Run
from tests.workers import Workers

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "first-admin-pass-123"
EXAMPLES = [transfer.parts_of(transfer.load(p.read_bytes(), "json"))[0] for p in example_files()]


@pytest.fixture(scope="module")
def demo_and_workers(django_db_setup, tmp_path_factory):
    """The demo services on a free port, and workers allowed to reach it (as ./start.sh
    allows 127.0.0.1:9000)."""
    with DemoServer("127.0.0.1", 0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        server.url = f"http://127.0.0.1:{server.server_address[1]}"
        log = tmp_path_factory.mktemp("first-run") / "worker.log"
        workers = Workers(
            log, FLOWDECK_HTTP_ALLOW_NETWORKS=f"127.0.0.1:{server.server_address[1]}"
        ).start()
        yield server
        workers.stop()
        server.shutdown()


@pytest.fixture
def fresh_install(demo_and_workers):
    """What the first ./start.sh leaves: the administrator, the groups, the examples (pointed
    at this test's demo services instead of port 9000)."""
    call_command("flowdeck_bootstrap")
    admin = User.objects.get(username="admin")
    admin.set_password(PASSWORD)  # the bootstrap prints a random one
    admin.save()
    for version in WorkflowVersion.objects.all():
        text = json.dumps(version.graph).replace("http://127.0.0.1:9000", demo_and_workers.url)
        WorkflowVersion.objects.filter(pk=version.pk).update(graph=json.loads(text))
    return admin


def log_in(page, server) -> None:
    page.set_default_timeout(20_000)
    page.goto(f"{server.url}/login/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1, name="Workflows")).to_be_visible()


def decided(page):
    """The notice of the decision just made (a Mantine notification, role=alert; the task
    left on screen may hold an alert of its own, "No longer open")."""
    return page.locator(".mantine-Notification-root").filter(has_text=re.compile(r"^Approved: "))


def approve_in_the_inbox(page, title: re.Pattern) -> None:
    """Open the Inbox from the navigation, open the task, approve it."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Inbox").click()
    task = page.get_by_role("list", name="Open tasks").get_by_role("listitem", name=title)
    task.get_by_role("link").click()
    detail = page.get_by_role("region", name=re.compile(r"^Task: "))
    detail.get_by_label("Comment").fill("Looks right")
    detail.get_by_role("button", name="Approve").click()
    expect(decided(page)).to_be_visible()


def expect_run_ends(page, status: str) -> None:
    expect(page.get_by_label("Run status")).to_have_text(status, timeout=60_000)


def test_the_getting_started_walk_through_of_invoice_approval_is_true(
    page, web_server, fresh_install
):
    log_in(page, web_server)
    # 1. Start it. On the workflows page, open "Invoice approval" and press Run.
    page.get_by_role("table", name="Workflows").get_by_role(
        "link", name="Invoice approval", exact=True
    ).click()
    page.get_by_role("toolbar", name="Edit").get_by_role("button", name="Run").click()
    dialog = page.get_by_role("dialog", name="Run the workflow")
    # The form asks for the invoice number, the amount (EUR) and the supplier.
    dialog.get_by_label("Invoice number").fill("INV-7")
    dialog.get_by_label("Amount (EUR)").fill("2500")
    dialog.get_by_label("Supplier").fill("Northwind")
    dialog.get_by_role("button", name="Start run").click()
    # The run view opens: the condition takes its true branch and the approval waits.
    expect(page).to_have_url(re.compile(r"/runs/\d+$"))
    expect(page.get_by_label("Run status")).to_have_text("waiting")
    page.get_by_role("tab", name="Steps").click()
    steps = page.get_by_role("table", name="Steps")
    expect(steps.locator('tr[data-id="big"]')).to_contain_text("succeeded")
    expect(steps.locator('tr[data-id="approve"]')).to_contain_text("waiting")
    run = Run.objects.get(workflow__name="Invoice approval")
    assert run.steps.get(node_id="big").handle == "true"

    # 2. Approve it in the Inbox. The Inbox link shows one task.
    expect(page.get_by_label("Open tasks: 1")).to_be_visible()
    approve_in_the_inbox(page, re.compile(r"^Approve invoice INV-7 of 2500 EUR"))

    # 3. Watch it pay: back on the run (the decision's notice links to it), it ends
    # succeeded, paid.
    decided(page).get_by_role("button", name=f"Open run {run.pk}").click()
    expect(page).to_have_url(re.compile(rf"/runs/{run.pk}$"))
    expect_run_ends(page, "succeeded")
    page.get_by_role("tab", name="Input/output").click()
    expect(page.get_by_role("figure", name="Run output")).to_contain_text('"paid": true')
    run.refresh_from_db()
    assert run.output == {"paid": True}
    assert run.actor_id == fresh_install.pk


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_runs_to_its_end_from_the_run_button(page, web_server, fresh_install, name):
    wf = Workflow.objects.get(name=name)
    graph = wf.versions.get().graph
    scheduled = graph["nodes"][0]["type"] == "trigger.schedule"
    log_in(page, web_server)
    page.get_by_role("table", name="Workflows").get_by_role("link", name=name, exact=True).click()
    page.get_by_role("toolbar", name="Edit").get_by_role("button", name="Run").click()
    dialog = page.get_by_role("dialog", name="Run the workflow")
    if scheduled:
        # A manual run of a scheduled workflow gets the schedule's input, shown in the form.
        expect(dialog).to_contain_text("A run started by hand gets the schedule's input")
    else:
        dialog.get_by_role("button", name="Use sample input").click()
    dialog.get_by_role("button", name="Start run").first.click()
    expect(page).to_have_url(re.compile(r"/runs/\d+$"))
    run = Run.objects.get(workflow=wf)

    if any(n["type"] == "human.approval" for n in graph["nodes"]):
        expect(page.get_by_label("Run status")).to_have_text("waiting", timeout=30_000)
        approve_in_the_inbox(page, re.compile(r"^Approve "))
        page.goto(f"{web_server.url}/runs/{run.pk}")

    if name == "Book a trip":
        # The sample card is declined: the payment fails and the reservations are undone,
        # the compensations drawn as such on the run's graph.
        expect_run_ends(page, "failed")
        for kind in ("flight", "hotel", "car"):
            undo = page.get_by_test_id("run-graph").locator(f'.run-step[data-id="cancel_{kind}"]')
            expect(undo).to_have_attribute("data-status", "succeeded")
            expect(undo).to_have_attribute("data-compensation", "true")
        run.refresh_from_db()
        assert run.status == "failed" and run.error["node"] == "pay", run.error
    else:
        expect_run_ends(page, "succeeded")
        run.refresh_from_db()
        assert run.status == "succeeded", run.error
    if scheduled:
        assert run.input == graph["nodes"][0]["config"]["input"]
    else:
        assert run.input == graph["input_schema"]["examples"][0]
