"""The Content-Security-Policy (flowdeck/security.py) in Chromium, served by daphne: every page
of the app works under it (the editor's forms, CodeMirror, React Flow, charts, a run's
websocket), and so do the admin and the API docs (in Flowdeck's frame, trying a call), with no
violation reported; an injected inline script does not run."""

import re

import pytest
from playwright.sync_api import expect

from tests.engine_kit import build, drive, form_graph, noop, start, workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def violations(page) -> list[str]:
    """What Chromium reports of the policy: it logs each refusal to the console."""
    seen: list[str] = []
    page.on(
        "console",
        lambda message: (
            seen.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return seen


def log_in(page, server, username: str, next_path: str) -> None:
    page.goto(f"{server.url}/login/?next={next_path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(f"{username}-pass-123")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(re.escape(next_path) + "$"))


def test_the_app_runs_under_the_policy_with_no_violation(page, web_server, alice, bob, violations):
    # A form task for the inbox's form (react-jsonschema-form with ajv), driven to its task
    # before the watched run starts (which stays unstarted: no worker runs here).
    start(workflow(alice, form_graph(), name="Onboarding"), {}, actor=alice)
    drive()
    graph = build({"start": ("trigger.manual",), "a": noop()}, ["start>a"])
    run = start(workflow(alice, graph, name="Watched"), actor=alice)
    log_in(page, web_server, "alice", f"/runs/{run.pk}")
    # The run's websocket (connect-src names ws://<host> for browsers that want it named).
    expect(page.get_by_role("status", name="Live updates")).to_have_text(re.compile("live"))
    # The run graph (React Flow, laid out by elkjs in the browser) and the runs list's table.
    expect(page.get_by_test_id("run-graph").locator(".run-step")).to_have_count(2)
    page.get_by_role("tab", name="Timeline").click()
    expect(page.get_by_role("tabpanel", name="Timeline")).to_contain_text("No step has started")
    page.goto(f"{web_server.url}/runs")
    runs = page.get_by_role("table", name="Runs")
    expect(runs.locator(f'tr[data-id="{run.pk}"]')).to_be_visible()

    # The editor: React Flow, a step's form (react-jsonschema-form with ajv), CodeMirror.
    page.goto(f"{web_server.url}/designer/new")
    palette = page.get_by_role("complementary", name="Steps")
    palette.get_by_role("button", name="Manual start").click()
    palette.get_by_role("button", name="Condition").click()
    page.locator('.react-flow__node[data-id="condition"]').click()
    panel = page.get_by_role("complementary", name="Configure condition")
    expression = panel.get_by_role("textbox", name="Expression")
    expect(expression).to_have_attribute("contenteditable", "true")
    panel.get_by_label("Label").fill("Big?")
    expect(page.locator('.react-flow__node[data-id="condition"]')).to_contain_text("Big?")

    for section, heading in (("dashboard", "Dashboard"), ("inbox", "Inbox"), ("runs", "Runs")):
        page.goto(f"{web_server.url}/{section}")
        expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
        if section == "dashboard":
            # The charts (@mantine/charts on Recharts) draw their axes and sparklines.
            chart = page.get_by_role("figure", name="Runs per interval")
            expect(chart.locator(".recharts-cartesian-axis-tick-value").first).to_be_visible()
            started = page.get_by_role("group", name="Runs started")
            expect(started.locator(".recharts-area-area")).to_be_visible()
    page.goto(f"{web_server.url}/credentials")
    expect(page.get_by_role("heading", level=1, name="Credentials")).to_be_visible()
    assert violations == []

    # bob's inbox: a form drawn from its JSON Schema (@rjsf/mantine, ajv) checks its fields.
    page.get_by_role("button", name="Account of alice").click()
    page.get_by_role("menuitem", name="Log out").click()
    log_in(page, web_server, "bob", "/inbox")
    task = page.get_by_role("region", name="Task: Bank details")
    task.get_by_role("button", name="Submit").click()
    expect(task).to_contain_text("required")

    assert violations == []


def test_the_admin_and_the_api_docs_run_under_the_policy(page, web_server, admin, violations):
    log_in(page, web_server, "admin", "/admin/")
    expect(page.get_by_role("link", name="Workflows")).to_be_visible()
    page.goto(f"{web_server.url}/admin/auth/user/{admin.pk}/change/")
    expect(page.get_by_label("Username:")).to_have_value("admin")

    # The API reference: Swagger UI (its start-up script a file) in our frame (a Vite entry),
    # and a call made from it with the session (its CSRF header included).
    page.goto(f"{web_server.url}/api/docs/")
    # Drawn once the schema arrives (built per request: seconds on a busy machine).
    title = page.get_by_role("heading", name=re.compile("Flowdeck API"))
    expect(title).to_be_visible(timeout=30_000)
    header = page.get_by_role("banner")
    expect(header.get_by_role("heading", level=1, name="API reference")).to_be_visible()
    expect(header.get_by_role("link", name="Back to Flowdeck")).to_be_visible()
    me = page.locator(".opblock", has=page.locator('[data-path="/api/me/"]'))
    me.locator(".opblock-summary-control").click()
    me.get_by_role("button", name="Try it out").click()
    me.get_by_role("button", name="Execute").click()
    expect(me.locator(".live-responses-table tbody .response-col_status")).to_have_text("200")
    expect(me.locator(".live-responses-table")).to_contain_text('"username": "admin"')

    assert violations == []


def test_an_injected_inline_script_does_not_run(page, web_server):
    page.goto(f"{web_server.url}/login/")
    refused = lambda message: "Content Security Policy" in message.text  # noqa: E731
    with page.expect_console_message(refused) as report:
        ran = page.evaluate(
            """() => {
                const script = document.createElement("script");
                script.textContent = "window.injected = true";
                document.body.appendChild(script);
                return window.injected === true;
            }"""
        )
    assert ran is False
    assert "inline script" in report.value.text
