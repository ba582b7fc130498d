"""Step tests in the designer, in Chromium (issue 18): the workflow panel's Tests run every
case against the draft on real workers and show which passed (✓) and which failed (✗, why)."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_shell import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def totals_with_two_tests(alice):
    """start > fetch > shape (fetch's a + 1), with a test that passes and one that fails."""
    from designer.models import StepTest
    from designer.services import do_create_workflow
    from tests.engine_kit import build, fn

    graph = build(
        {
            "start": {"type": "trigger.manual", "position": {"x": 0, "y": 0}},
            "fetch": {**fn("noop"), "position": {"x": 260, "y": 0}},
            "shape": {
                "type": "data.transform",
                "position": {"x": 520, "y": 0},
                "config": {"value": {"total": "{{ steps.fetch.output.a + 1 }}"}},
            },
        },
        ["start>fetch", "fetch>shape"],
    )
    wf = do_create_workflow(actor=alice, name="Totals", graph=graph)
    data = {"fetch": {"a": 41}}
    StepTest.objects.create(
        workflow=wf,
        name="adds one",
        node="shape",
        data=data,
        expect=[{"kind": "equals", "value": {"total": 42}}],
    )
    StepTest.objects.create(
        workflow=wf,
        name="is big",
        node="shape",
        data=data,
        expect=[{"kind": "expression", "expression": "output.total > 100"}],
    )
    return wf


def test_run_all_tests_shows_a_pass_and_a_fail_with_its_reason(workers, page, live_server, alice):
    wf = totals_with_two_tests(alice)
    log_in(page, live_server, "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/designer/{wf.pk}")

    tests = page.get_by_role("region", name="Step tests")
    expect(tests.get_by_role("listitem", name="Test adds one: not run")).to_be_visible()
    tests.get_by_role("button", name="Run all tests").click()

    passed = tests.get_by_role("listitem", name="Test adds one: passed")
    failed = tests.get_by_role("listitem", name="Test is big: failed")
    expect(passed).to_contain_text("✓adds one", timeout=30_000)
    expect(failed).to_contain_text("✗is big")
    expect(failed).to_contain_text("'output.total > 100' is false, not true")
    expect(tests.get_by_role("status")).to_have_text("1 of 2 passed")
    link = failed.get_by_role("link", name=re.compile(r"^Test run \d+$"))
    expect(link).to_have_attribute("href", re.compile(r"^/runs/\d+$"))
