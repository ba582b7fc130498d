"""A run page open in Chromium follows the run live (daphne, the run's websocket): steps and
status change on the page while the test process moves the run on, without a reload, and
after the server goes away and comes back the page resumes where it was."""

import re

import pytest
from playwright.sync_api import expect

from tests.engine_kit import build, execute, noop, start, workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_run(page, server, run) -> None:
    page.goto(f"{server.url}/login/?next=/runs/{run.pk}")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("alice-pass-123")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(rf"/runs/{run.pk}$"))


def step_status(page, node: str):
    """The status badge in the step's row of the Steps table."""
    return page.get_by_role("table", name="Steps").locator(f'tr[data-id="{node}"] td [data-status]')


def test_the_run_page_shows_the_run_moving_on_without_a_reload(page, web_server, alice):
    graph = build({"start": ("trigger.manual",), "a": noop(), "b": noop()}, ["start>a", "a>b"])
    run = start(workflow(alice, graph, name="Live"), actor=alice)
    open_run(page, web_server, run)
    live = page.get_by_role("status", name="Live updates")
    expect(live).to_have_text(re.compile("live"))
    expect(page.get_by_label("Run status")).to_have_text("running")
    expect(step_status(page, "start")).to_have_text("queued")
    # A reload would lose this.
    page.evaluate("window.__sameDocument = true")

    execute(run, "start")
    expect(step_status(page, "start")).to_have_text("succeeded")
    expect(step_status(page, "a")).to_have_text("queued")

    # The server goes away: the page says so, and the run moves on meanwhile.
    web_server.stop()
    expect(live).to_have_text("reconnecting…")
    execute(run, "a")
    web_server.start()
    expect(live).to_have_text(re.compile("live"), timeout=20_000)
    expect(step_status(page, "a")).to_have_text("succeeded")

    execute(run, "b")
    expect(page.get_by_label("Run status")).to_have_text("succeeded")
    expect(step_status(page, "b")).to_have_text("succeeded")
    assert page.evaluate("window.__sameDocument") is True
