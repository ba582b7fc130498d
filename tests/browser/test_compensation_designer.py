"""Compensation in the designer (issue 20): a step's compensate handle dragged to the step that
undoes it makes a dashed orange "undo" connection, the compensation wears an "undo" badge, and
the graph the page saves has the edge from handle "compensate". The save itself is caught on
its way out: the server learns the handle with the back end's half."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_designer import drag
from tests.browser.test_shell import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def a_payment_and_its_refund(page, live_server):
    """A new workflow: a trigger leading to `transform`, and `transform_2` not connected."""
    log_in(page, live_server, "alice", "alice-pass-123")
    expect(page).to_have_url(re.compile(r"/workflows$"))
    page.get_by_role("link", name="New workflow").click()
    palette = page.get_by_role("complementary", name="Steps")
    size = page.get_by_label("Graph size")
    page.get_by_role("toolbar", name="Edit").get_by_label("Workflow name").fill("Pay and refund")
    palette.get_by_role("button", name="Manual start").click()
    palette.get_by_role("button", name="Transform").click()
    palette.get_by_role("button", name="Transform").click()
    expect(size).to_have_text("3 steps, 0 connections")
    transform = page.locator('.react-flow__node[data-id="transform"]')
    refund = page.locator('.react-flow__node[data-id="transform_2"]')
    drag(
        page, page.get_by_label("manual output out"), transform.locator(".react-flow__handle-left")
    )
    expect(size).to_have_text("3 steps, 1 connections")
    return transform, refund


def test_a_user_names_the_step_that_undoes_another_by_dragging_its_compensate_handle(
    page, live_server, alice
):
    transform, refund = a_payment_and_its_refund(page, live_server)
    toolbar = page.get_by_role("toolbar", name="Edit")
    size = page.get_by_label("Graph size")

    # Every step has the compensate handle, named like the others and saying what it is for.
    handle = page.get_by_label("transform output compensate")
    expect(handle).to_have_attribute("title", "Drag to the step that undoes this one")
    drag(page, handle, refund.locator(".react-flow__handle-left"))
    expect(size).to_have_text("3 steps, 2 connections")

    # The connection is dashed orange with an "undo" label; the compensation wears its badge.
    edge = page.locator(
        '.react-flow__edge[aria-label="Compensation: transform_2 undoes transform"]'
    )
    expect(edge).to_be_visible()
    path = edge.locator(".react-flow__edge-path")
    assert path.evaluate("p => getComputedStyle(p).strokeDasharray") not in ("", "none")
    expect(page.locator('.react-flow__edgelabel-renderer [data-kind="compensate"]')).to_have_text(
        "undo"
    )
    expect(refund.get_by_label("Undoes Transform")).to_be_visible()
    expect(transform.get_by_label(re.compile("^Undoes"))).to_have_count(0)

    # The step's panel names its compensation, and the compensation the step it undoes.
    transform.click()
    panel = page.get_by_role("complementary", name="Configure transform")
    expect(panel.get_by_test_id("compensation-link")).to_have_text("Compensation: Transform")
    panel.get_by_test_id("compensation-link").get_by_role("button").click()
    panel = page.get_by_role("complementary", name="Configure transform_2")
    expect(panel.get_by_test_id("compensation-link")).to_have_text("Undoes Transform")

    # A normal connection into the compensation is refused while dragged.
    drag(page, page.get_by_label("manual output out"), refund.locator(".react-flow__handle-left"))
    expect(size).to_have_text("3 steps, 2 connections")

    # The graph the page saves has the edge, from handle "compensate" (caught, not sent).
    page.route(
        "**/api/workflows/",
        lambda route: route.fulfill(status=503, content_type="application/json", body="{}"),
    )
    with page.expect_request(
        lambda r: r.method == "POST" and r.url.endswith("/api/workflows/")
    ) as saved:
        toolbar.get_by_role("button", name="Save", exact=True).click()
    edges = saved.value.post_data_json["graph"]["edges"]
    undo = [e for e in edges if e["target"] == "transform_2"]
    assert len(undo) == 1
    assert undo[0]["source"] == "transform"
    assert undo[0]["source_handle"] == "compensate"


def test_the_designer_with_a_compensation_has_no_serious_accessibility_violation(
    axe_page, live_server, alice
):
    from tests.browser.axe import assert_accessible

    page = axe_page
    transform, refund = a_payment_and_its_refund(page, live_server)
    drag(
        page,
        page.get_by_label("transform output compensate"),
        refund.locator(".react-flow__handle-left"),
    )
    expect(refund.get_by_label("Undoes Transform")).to_be_visible()
    transform.click()
    expect(page.get_by_test_id("compensation-link")).to_be_visible()
    assert_accessible(page)
