"""The run view's timeline in Chromium (issue 18, item 7): a step that failed once and was
retried shows both attempts and the backoff between them; an approval that waited two days
between seconds of work is a compressed, labelled gap, and the summary counts the wait as
waiting for people; the chart follows the run live when the approval is decided. On a phone
the page does not scroll sideways."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from engine import transitions
from tests.browser.test_run_view import log_in, show
from tests.engine_kit import FINANCE, build, drive, fn, noop, start, statuses, task_of, workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WAITED = timedelta(days=2, hours=3)


@pytest.fixture
def waiting_run(alice, bob):
    """start > pay (fails once, retried after 5 s) > ask (finance) > done, started 2 d 3 h ago
    and still waiting for finance (bob's group)."""
    graph = build(
        {
            "start": ("trigger.manual",),
            "pay": {
                **fn("flaky", fail_times=1),
                "retry": {"max_attempts": 3, "backoff_s": 5, "jitter": False},
            },
            "ask": ("human.approval", {"title": "Pay it", "assignees": FINANCE}),
            "done": noop(),
        },
        ["start>pay", "pay>ask", "ask.approved>done"],
    )
    wf = workflow(alice, graph, name="Slow approval")
    t0 = timezone.now() - WAITED - timedelta(seconds=20)
    # The engine's own clock, moved: the events carry the times a real run would have had.
    with time_machine.travel(t0, tick=True):
        run = start(wf, actor=alice)
        drive(timezone.now())
    assert statuses(run)["pay"] == "retrying"
    with time_machine.travel(t0 + timedelta(seconds=6), tick=True):
        drive(timezone.now())
    assert statuses(run)["ask"] == "waiting"
    return run


def bar(page, pattern: str):
    return page.get_by_role("img", name=re.compile(pattern))


def test_the_timeline_shows_every_attempt_and_compresses_a_long_wait_for_people(
    page, web_server, alice, bob, waiting_run
):
    run = waiting_run
    log_in(page, web_server, f"/runs/{run.pk}")
    expect(page.get_by_role("status", name="Live updates")).to_have_text("live")
    show(page, "Timeline")

    # Both attempts of pay, and the backoff between them.
    expect(bar(page, r"^pay: failed, attempt 1, [\d.]+ m?s, retried$")).to_be_visible()
    expect(bar(page, r"^pay: retrying, backoff before attempt 2, [56]\.\d s$")).to_be_visible()
    expect(bar(page, r"^pay: succeeded, attempt 2, ")).to_be_visible()
    # The approval still waits: its open bar, and the gap compressed at the chart's end.
    expect(bar(page, r"^ask: waiting for finance, attempt 1, 2 d 3 h so far$")).to_be_visible()
    gaps = page.get_by_role("list", name="Compressed gaps")
    expect(gaps.get_by_role("listitem")).to_have_count(1)
    expect(gaps).to_contain_text(re.compile(r"⋯ 2 d 3 h ⋯\s*waiting for finance"))
    where = page.get_by_label("Where the time went")
    expect(where).to_contain_text(re.compile(r"Waiting for people\s*2 d 3 h"))
    expect(where).to_contain_text(re.compile(r"Waiting for timers and retries\s*[56]\.\d s"))
    expect(where).to_contain_text(re.compile(r"Working\s*[\d.]+ m?s"))
    # Issue 19: the people's wait in its own colour (the theme's grape), whatever the step's
    # status.
    colour = bar(page, r"^ask: waiting for finance").evaluate(
        """(el) => {
            const probe = document.createElement("span");
            probe.style.setProperty("--x", "var(--mantine-color-grape-filled)");
            el.parentElement.append(probe);
            const grape = getComputedStyle(probe).getPropertyValue("--x");
            probe.remove();
            return [getComputedStyle(el).getPropertyValue("--bar"), grape];
        }"""
    )
    assert colour[0] == colour[1] != ""

    # bob approves now: the page follows live, the wait closes and done runs after the gap.
    transitions.do_decide(task_of(run).pk, actor=bob, decision="approve")
    drive()
    expect(page.get_by_label("Run status")).to_have_text("succeeded")
    expect(bar(page, r"^ask: waiting for finance, attempt 1, 2 d 3 h$")).to_be_visible()
    expect(bar(page, r"^done: succeeded, attempt 1, ")).to_be_visible()
    expect(gaps.get_by_role("listitem")).to_have_count(1)
    expect(gaps).to_contain_text("waiting for finance")
    # The break sits between the work before it and done after it.
    done = bar(page, r"^done: succeeded").bounding_box()
    pay = bar(page, r"^pay: succeeded").bounding_box()
    gap = gaps.get_by_role("listitem").bounding_box()
    assert pay["x"] < gap["x"]
    assert gap["x"] + gap["width"] <= done["x"] + 1


def test_on_a_phone_the_timeline_scrolls_in_its_box_not_the_page(
    phone_page, web_server, alice, waiting_run
):
    page = phone_page
    log_in(page, web_server, f"/runs/{waiting_run.pk}")
    show(page, "Timeline")
    expect(bar(page, r"^pay: failed, attempt 1, ")).to_be_attached()
    expect(page.get_by_role("list", name="Compressed gaps")).to_contain_text("2 d 3 h")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
