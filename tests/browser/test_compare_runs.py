"""Comparing two runs in Chromium over daphne (issue 18): select two runs in the runs list,
Compare, and see the step that changed with its output diff and the versions' diff; on a phone
(390 x 844) and in dark mode the page does not scroll sideways. The test process plays the
workers."""

import os
import re

import pytest
from playwright.sync_api import expect

from designer.services import do_save_version
from tests.browser.test_inbox import log_in, logged_in
from tests.engine_kit import build, drive, fn, noop, start, workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Set to a folder to keep pictures of the page (light, dark, phone) for a look by eye.
SHOTS = os.environ.get("FLOWDECK_COMPARE_SHOTS")


def adder(b: int, extra: bool = False) -> dict:
    nodes = {
        "start": ("trigger.manual",),
        "calc": fn("add", a="{{ input.x }}", b=b),
        "after": noop(),
    }
    edges = ["start>calc", "calc>after"]
    if extra:
        nodes["notify"] = noop()
        edges.append("after>notify")
    return build(nodes, edges)


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_two_selected_runs_compare_with_their_changed_step_s_output_diff(
    browser, web_server, alice
):
    wf = workflow(alice, adder(1), name="Adder")
    before = start(wf, {"x": 1}, actor=alice)
    do_save_version(actor=alice, workflow=wf, graph=adder(10, extra=True), base_version=1)
    wf.refresh_from_db()
    after = start(wf, {"x": 1}, actor=alice)
    drive()
    context, page = logged_in(browser, web_server, "alice", "/runs")
    try:
        runs = page.get_by_role("table", name="Runs")
        expect(runs.locator(f'tr[data-id="{after.pk}"]')).to_contain_text("succeeded")
        page.get_by_label(f"Select run {after.pk}").check()
        compare = page.get_by_role("toolbar", name="Selected runs").get_by_role(
            "button", name="Compare"
        )
        expect(compare).to_be_disabled()  # one run is not a pair
        page.get_by_label(f"Select run {before.pk}").check()
        compare.click()

        # The older run is A.
        expect(page).to_have_url(re.compile(rf"/runs/compare/{before.pk}/{after.pk}$"))
        expect(page.get_by_role("heading", level=1)).to_have_text(
            f"Run {before.pk} and run {after.pk}"
        )
        expect(page.get_by_text("2 of 4 steps differ")).to_be_visible()
        steps = page.get_by_role("table", name="Steps compared")
        calc = steps.locator('tr[data-id="calc"]')
        expect(calc).to_have_attribute("data-changed", "true")
        expect(calc).to_contain_text("output")
        expect(steps.locator('tr[data-id="after"]')).to_have_attribute("data-changed", "false")
        expect(steps.locator('tr[data-id="notify"]')).to_contain_text("only in B")

        show = page.get_by_role("button", name="the differences of calc")
        if show.get_attribute("aria-expanded") != "true":
            show.click()
        output = page.get_by_role("figure", name="Output diff")
        expect(output.locator(".jsondiffpatch-left-value")).to_have_text("2")
        expect(output.locator(".jsondiffpatch-right-value")).to_have_text("11")
        page.get_by_role("group", name="Output", exact=True).get_by_text("Side by side").click()
        expect(page.get_by_role("figure", name="Output in run B")).to_have_text("11")

        versions = page.get_by_role("region", name="Version 1 → version 2")
        expect(versions).to_contain_text("notify")
        expect(versions).to_contain_text("calc: config.args")
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/compare-light.png", full_page=True)
        path = page.url.removeprefix(web_server.url)
    finally:
        context.close()

    for options, name in (
        ({"color_scheme": "dark", "viewport": {"width": 1280, "height": 900}}, "dark"),
        (
            {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
            "phone",
        ),
    ):
        context = browser.new_context(**options)
        try:
            page = context.new_page()
            page.set_default_timeout(15_000)
            log_in(page, web_server, "alice", path)
            if name == "phone":  # a phone opens no step by itself
                page.get_by_role("button", name="the differences of calc").click()
            expect(page.get_by_role("figure", name="Output diff")).to_be_visible()
            no_sideways_scroll(page)
            if SHOTS:
                page.screenshot(path=f"{SHOTS}/compare-{name}.png", full_page=True)
        finally:
            context.close()
