"""A compensated run in Chromium, live, on the real engine (the test process plays the
workers): a saga's third step fails, the run turns compensating, the compensation of the
second step and then of the first run, and the page follows: the run's status, the orange
compensation nodes saying what they undo, the undone steps saying by what, the timeline's
compensation bars, and the run ending failed with its original error."""

import re

import pytest
from playwright.sync_api import expect

from engine.models import RunEvent
from tests.browser.test_run_view import log_in, node_of, show
from tests.engine_kit import build, drive, execute, fn, noop, start, statuses, workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def saga(owner):
    graph = build(
        {
            "start": ("trigger.manual",),
            "reserve": noop(label="Reserve the room"),
            "charge": noop(label="Charge the card"),
            "ship": {**fn("flaky", fail_times=5, retryable=False), "label": "Ship"},
            "release": {**fn("echo", undone="{{ compensating.node }}"), "label": "Release"},
            "refund": {**fn("echo", undone="{{ compensating.node }}"), "label": "Refund"},
        },
        [
            "start>reserve",
            "reserve>charge",
            "charge>ship",
            "reserve.compensate>release",
            "charge.compensate>refund",
        ],
    )
    return workflow(owner, graph, name="Saga")


def test_a_failing_saga_is_watched_compensating_then_failed(page, web_server, alice):
    run = start(saga(alice), actor=alice)
    for node in ("start", "reserve", "charge"):
        execute(run, node)
    log_in(page, web_server, f"/runs/{run.pk}")
    expect(page.get_by_role("status", name="Live updates")).to_have_text(re.compile("live"))
    expect(node_of(page, "charge")).to_have_attribute("data-status", "succeeded")
    # Drawn as compensations before they run.
    for node in ("release", "refund"):
        expect(node_of(page, node)).to_have_attribute("data-compensation", "true")

    execute(run, "ship")  # fails for good: the run compensates, refund first

    status = page.get_by_role("status", name="Run status")
    expect(status).to_contain_text(re.compile("compensating", re.I))
    expect(node_of(page, "ship")).to_have_attribute("data-status", "failed")
    expect(node_of(page, "refund")).to_have_attribute("data-status", "queued")
    expect(node_of(page, "release")).to_have_attribute("data-status", "pending")

    drive()

    assert statuses(run)["release"] == statuses(run)["refund"] == "succeeded"
    expect(status).to_contain_text(re.compile("failed", re.I))
    expect(node_of(page, "release")).to_have_attribute("data-status", "succeeded")
    expect(node_of(page, "refund").get_by_label("Undoes charge")).to_be_visible()
    expect(node_of(page, "charge").get_by_label("Undone by refund")).to_be_visible()
    order = list(
        RunEvent.objects.filter(run=run, type="compensation.succeeded")
        .order_by("id")
        .values_list("node_id", flat=True)
    )
    assert order == ["refund", "release"]

    node_of(page, "release").click()
    inspector = page.get_by_role("region", name="Step release details")
    expect(inspector).to_contain_text(re.compile(r"Undoes\s*reserve|Undoes\s*Reserve the room"))
    show(page, "Events")
    events = page.get_by_role("table", name="Events")
    expect(events).to_contain_text("run.compensated")
