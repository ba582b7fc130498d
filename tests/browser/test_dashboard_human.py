"""The dashboard's "Human work" view in Chromium (issue 19, item 5: what approvals cost):
approvals the engine ran, decided hours later by bob and dave, are counted per step, person and
group with their waits and missed due times, charted in the theme's colours; the window
selector applies; an install without tasks says so; it reads in the dark scheme and fits a
phone."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from engine import transitions
from tests.browser.axe import assert_accessible
from tests.browser.test_dashboard import figure, luminance
from tests.browser.test_inbox import log_in, logged_in
from tests.engine_kit import approval_graph, build, drive, start, task_of, workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def approvals(alice, bob, dave):
    """Three approvals due an hour after they were asked: bob approved one after 2 h (late),
    dave rejected one after 30 min, one asked just now is open."""
    wf = workflow(alice, approval_graph(due_in_s=3600), name="Approvals")
    t0 = timezone.now() - timedelta(hours=5)
    runs = []
    for delay, who, decision in ((2, bob, "approve"), (0.5, dave, "reject")):
        with time_machine.travel(t0, tick=False):
            run = start(wf, {"amount": 10}, actor=alice)
            drive()
        with time_machine.travel(t0 + timedelta(hours=delay), tick=False):
            transitions.do_decide(task_of(run).pk, actor=who, decision=decision)
        runs.append(run)
    start(wf, {"amount": 10}, actor=alice)
    drive()
    return wf


def shade(page, colour: str) -> str:
    """The rgb() of a theme colour's shade (``grape-4``) on the page now."""
    return page.evaluate(
        """(colour) => {
            const probe = document.createElement("span");
            probe.style.color = `var(--mantine-color-${colour})`;
            document.body.append(probe);
            const rgb = getComputedStyle(probe).color;
            probe.remove();
            return rgb;
        }""",
        colour,
    )


def human_work(page):
    return page.get_by_role("region", name="Human work")


def test_the_human_work_view_counts_tasks_waits_and_missed_due_times(
    browser, web_server, approvals
):
    context, page = logged_in(browser, web_server, "alice", "/dashboard")
    try:
        view = human_work(page)
        # The first figures of a cold server on a busy machine may take a while.
        expect(figure(view, "Tasks asked")).to_have_text("3", timeout=20_000)
        expect(view.get_by_role("group", name="Tasks asked")).to_contain_text("2 closed · 1 open")
        # Waits of 30 min and 2 h: the median (nearest rank) is the first.
        expect(figure(view, "Time to decide")).to_have_text("30 min 0 s")
        expect(view.get_by_role("group", name="Time to decide")).to_contain_text("p95 2 h 0 min")
        expect(figure(view, "SLA missed")).to_have_text("33.3 %")
        expect(figure(view, "Rejected")).to_have_text("1")

        steps = view.get_by_role("table", name="Human work per step")
        row = steps.locator("tbody tr").filter(has_text="ask")
        cells = [c.strip() for c in row.locator("td").all_inner_texts()]
        assert cells[1:] == ["3", "2", "1", "30 min 0 s", "2 h 0 min", "33.3 %", "0", "1"]
        people = view.get_by_role("table", name="Decisions per person")
        expect(people.locator("tbody tr")).to_have_count(2)
        expect(people.locator("tbody tr").filter(has_text="bob")).to_contain_text("2 h 0 min")
        expect(people.locator("tbody tr").filter(has_text="dave")).to_contain_text("30 min 0 s")
        groups = view.get_by_role("table", name="Tasks per group")
        expect(groups.locator("tbody tr").filter(has_text="finance")).to_contain_text("3")

        # The waits' bars, median and p95, in the theme's grape.
        chart = view.get_by_role("figure", name="Waiting for people per step")
        expect(chart).to_contain_text("in hours")
        bars = chart.locator(".recharts-bar-rectangle path")
        expect(bars).to_have_count(2)
        fills = set(bars.evaluate_all("(paths) => paths.map((p) => getComputedStyle(p).fill)"))
        assert fills == {shade(page, "grape-4"), shade(page, "grape-8")}

        # The window selector applies: 7 days hold the same tasks.
        page.get_by_role("search", name="Dashboard filters").get_by_text("7 days").click()
        expect(figure(view, "Tasks asked")).to_have_text("3")
    finally:
        context.close()


def test_without_tasks_the_view_says_so(browser, web_server, alice):
    wf = workflow(alice, build({"start": ("trigger.manual",)}, []), name="No people")
    start(wf, actor=alice)
    drive()
    context, page = logged_in(browser, web_server, "alice", "/dashboard")
    try:
        expect(page.get_by_role("region", name="No human work in this window")).to_be_visible()
        expect(human_work(page).get_by_role("table")).to_have_count(0)
    finally:
        context.close()


def test_the_human_work_view_reads_in_the_dark_and_fits_a_phone(
    dark_page, phone_page, web_server, approvals
):
    log_in(dark_page, web_server, "alice", "/dashboard")
    chart = human_work(dark_page).get_by_role("figure", name="Waiting for people per step")
    ticks = chart.locator(".recharts-cartesian-axis-tick-value")
    expect(ticks.first).to_be_visible(timeout=20_000)
    assert luminance(chart.evaluate("(el) => getComputedStyle(el).backgroundColor")) < 0.25
    assert luminance(ticks.first.evaluate("(el) => getComputedStyle(el).fill")) > 0.5

    log_in(phone_page, web_server, "alice", "/dashboard")
    view = human_work(phone_page)
    expect(figure(view, "Tasks asked")).to_have_text("3", timeout=20_000)
    view.get_by_role("table", name="Human work per step").scroll_into_view_if_needed()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_human_work_view_has_no_serious_accessibility_violation(
    axe_page, web_server, approvals
):
    log_in(axe_page, web_server, "alice", "/dashboard")
    view = human_work(axe_page)
    expect(figure(view, "Tasks asked")).to_have_text("3", timeout=20_000)
    expect(view.locator(".recharts-bar-rectangle path").first).to_be_visible()
    assert_accessible(axe_page)
