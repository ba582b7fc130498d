"""Testing steps while building, in Chromium (issue 18), on daphne and real worker processes:
pin a step's output and run the step below it; open a failed run in the editor, fix the step,
try it, save, replay the run and watch the replay succeed live."""

import re

import pytest
from playwright.sync_api import expect

from engine.models import Run, StepRun
from tests.browser.test_expressions import editor
from tests.browser.test_live_run import step_status
from tests.engine_kit import build, fn, start, workflow
from tests.test_engine_workers import ended

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def graph(shape: str) -> dict:
    """start > fetch (echoes n) > shape (a transform of fetch's output)."""
    return build(
        {
            "start": {"type": "trigger.manual", "position": {"x": 0, "y": 0}},
            "fetch": {**fn("echo", n="{{ input.n }}"), "position": {"x": 260, "y": 0}},
            "shape": {
                "type": "data.transform",
                "position": {"x": 520, "y": 0},
                "config": {"value": shape},
            },
        },
        ["start>fetch", "fetch>shape"],
    )


def log_in(page, server, path: str) -> None:
    page.goto(f"{server.url}/login/?next={path}")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("alice-pass-123")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(rf"{re.escape(path)}$"))


def test_a_pinned_output_feeds_the_step_below_which_runs_on_a_worker(
    page, web_server, workers, alice
):
    wf = workflow(alice, graph("{{ steps.fetch.output['values']['n'] + 1 }}"), name="Pins")
    log_in(page, web_server, f"/designer/{wf.pk}")

    # Pin fetch's output, typed as JSON.
    page.locator('.react-flow__node[data-id="fetch"]').click()
    panel = page.get_by_role("complementary", name="Configure fetch")
    panel.get_by_role("tab", name="Test").click()
    panel.get_by_role("button", name="Pin data…").click()
    panel.get_by_role("textbox", name="Output of fetch in tests").fill('{"values": {"n": 41}}')
    panel.get_by_role("button", name="Pin", exact=True).click()
    expect(page.get_by_role("img", name="fetch output pinned")).to_be_visible()

    # Run the step below it: the worker runs shape alone, with the pin as fetch's output.
    page.locator('.react-flow__node[data-id="shape"]').click()
    panel = page.get_by_role("complementary", name="Configure shape")
    expect(
        panel.get_by_role("list", name="Where the steps above take their output")
    ).to_contain_text("fetchpinned output")
    panel.get_by_role("button", name="Run step").click()
    result = panel.get_by_role("region", name="Test result")
    expect(result.get_by_text("succeeded")).to_be_visible(timeout=15_000)
    expect(result.locator("code, pre").first).to_have_text("42")

    run = Run.objects.get(test=True)
    assert StepRun.objects.get(run=run, node_id="fetch").attempt == 0  # pinned: not run
    wf.refresh_from_db()
    assert wf.pins["fetch"]["output"] == {"values": {"n": 41}}


def test_a_failed_run_is_fixed_in_the_editor_replayed_and_watched_live(
    page, web_server, workers, alice
):
    wf = workflow(alice, graph("{{ steps.fetch.output['values']['m'] + 1 }}"), name="Broken")
    failed = ended(start(wf, {"n": 1}, actor=alice))
    assert failed.status == "failed", workers.log()
    log_in(page, web_server, f"/runs/{failed.pk}")

    page.get_by_role("link", name="Debug in editor").click()
    expect(page).to_have_url(re.compile(rf"/designer/{wf.pk}"))
    banner = page.get_by_role("region", name="Debugging a run")
    expect(banner).to_contain_text(f"Debugging run {failed.pk} (version 1), which failed at shape")
    panel = page.get_by_role("complementary", name="Configure shape")
    expect(panel.get_by_role("tab", name="Test")).to_have_attribute("aria-selected", "true")
    expect(
        panel.get_by_role("list", name="Where the steps above take their output")
    ).to_contain_text("fetchas in the run being debugged")

    # Fix the expression and try the step with the run's data (fetch echoed n = 1).
    panel.get_by_role("tab", name="Configure").click()
    value = editor(panel, "Value")
    value.click()
    page.keyboard.press("Control+a")
    page.keyboard.type("{{ steps.fetch.output['values']['n'] + 1 ")
    panel.get_by_role("tab", name="Test").click()
    panel.get_by_role("button", name="Run step").click()
    result = panel.get_by_role("region", name="Test result")
    expect(result.get_by_text("succeeded")).to_be_visible(timeout=15_000)
    expect(result.locator("code, pre").first).to_have_text("2")

    # Save the fix as version 2, then replay the failed run on it.
    page.get_by_role("toolbar", name="Edit").get_by_role("button", name="Save", exact=True).click()
    replay = banner.get_by_role("button", name=f"Replay run {failed.pk} on version 2")
    expect(replay).to_be_enabled()
    replay.click()
    dialog = page.get_by_role("dialog", name=f"Replay run {failed.pk} on version 2")
    dialog.get_by_label("Why").fill("fixed the key")
    dialog.get_by_role("button", name="Replay").click()

    expect(page).to_have_url(re.compile(r"/runs/\d+$"))
    expect(page.get_by_label("Run status")).to_have_text("succeeded", timeout=15_000)
    expect(step_status(page, "fetch")).to_have_text("succeeded")
    expect(page.get_by_role("navigation", name="Related runs")).to_contain_text(
        f"Replay of run {failed.pk}"
    )
    new = Run.objects.get(replay_of=failed)
    assert StepRun.objects.get(run=new, node_id="fetch").attempt == 0
    assert StepRun.objects.get(run=new, node_id="shape").output == 2
    assert new.version.number == 2


def test_pinning_a_conditions_test_output_keeps_the_branch_it_chose(
    page, web_server, workers, alice
):
    branches = build(
        {
            "start": {"type": "trigger.manual", "position": {"x": 0, "y": 0}},
            "big": {
                "type": "logic.condition",
                "position": {"x": 260, "y": 0},
                "config": {"expression": "input.n > 10"},
            },
            "large": {**fn("add", a=20, b=1), "position": {"x": 520, "y": 0}},
        },
        ["start>big", "big.true>large"],
        input_schema={"type": "object", "examples": [{"n": 50}]},
    )
    wf = workflow(alice, branches, name="Branches")
    log_in(page, web_server, f"/designer/{wf.pk}")

    page.locator('.react-flow__node[data-id="big"]').click()
    panel = page.get_by_role("complementary", name="Configure big")
    panel.get_by_role("tab", name="Test").click()
    panel.get_by_role("button", name="Run step").click()
    result = panel.get_by_role("region", name="Test result")
    expect(result.get_by_text("succeeded")).to_be_visible(timeout=15_000)
    result.get_by_role("button", name="Pin this output").click()
    expect(panel.get_by_role("region", name="Pinned output")).to_contain_text("branch true")

    page.locator('.react-flow__node[data-id="large"]').click()
    panel = page.get_by_role("complementary", name="Configure large")
    panel.get_by_role("button", name="Run step").click()
    result = panel.get_by_role("region", name="Test result")
    expect(result.get_by_text("succeeded")).to_be_visible(timeout=15_000)
    expect(result.locator("code, pre").first).to_have_text("21")
