"""The documentation at /docs/ in Chromium, under Flowdeck's Content-Security-Policy: the theme's
pages load with no violation and no script error (scripts/mkdocs_hooks.py moved its inline
scripts into files), search finds a page through its web worker, the colour scheme follows the
system and its toggle works, and the 404 page is styled at any depth."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import expect

from tests.docs_kit import built_site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def real_site(tmp_path_factory) -> Path:
    return built_site(tmp_path_factory.mktemp("docs"))


@pytest.fixture
def docs(settings, real_site, live_server, alice) -> str:
    settings.DOCS_SITE_DIR = real_site
    return f"{live_server.url}/docs/"


@pytest.fixture
def problems(page, live_server, alice) -> Iterator[list[str]]:
    """Logged in as alice (her session's cookie, whatever the login page looks like); what
    Chromium reports of the policy, and script errors."""
    client = Client()
    client.force_login(alice)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    seen: list[str] = []
    page.on(
        "console",
        lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.on("pageerror", lambda error: seen.append(f"script error: {error}"))
    yield seen


def test_a_page_loads_under_the_policy_and_search_finds_another(page, docs, problems):
    page.goto(docs)
    expect(page.get_by_role("heading", level=1, name="Flowdeck")).to_be_visible()

    # The search runs in a web worker that fetches the index: both from Flowdeck's origin.
    page.get_by_role("textbox", name="Search").click()
    page.get_by_role("textbox", name="Search").fill("signature timestamp")
    result = page.locator(".md-search-result__item").filter(has_text="Webhooks").first
    # The worker builds its index of every page (the API reference too) first: seconds on a
    # busy machine.
    expect(result).to_be_visible(timeout=30_000)
    result.locator("a").first.click()
    expect(page).to_have_url(re.compile(r"/docs/connectors/webhooks/"))
    expect(page.get_by_role("heading", level=1, name="Webhooks")).to_be_visible()

    assert problems == []


def test_the_colour_scheme_follows_the_system_and_its_toggle(page, docs, problems):
    page.emulate_media(color_scheme="dark")
    page.goto(docs + "getting-started/")
    body = page.locator("body")
    expect(body).to_have_attribute("data-md-color-scheme", "slate")
    # The first toggle ("follow the system") switches to light; the choice is remembered.
    page.locator("label.md-header__button[for^='__palette']:visible").click()
    expect(body).to_have_attribute("data-md-color-scheme", "default")
    page.goto(docs + "runs/")
    expect(body).to_have_attribute("data-md-color-scheme", "default")
    assert problems == []


def test_the_404_page_is_styled_at_any_depth(page, docs, problems):
    response = page.goto(docs + "no/such/page/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="404 - Not found")).to_be_visible()
    # The theme's stylesheet applied (absolute links from /docs/): the header bar is fixed.
    assert page.locator("header.md-header").evaluate("e => getComputedStyle(e).position") in (
        "sticky",
        "fixed",
    )
    assert problems == []


def test_the_api_reference_renders_from_the_schema(page, docs, problems):
    page.goto(docs + "api/reference/")
    # Playwright's role selector takes no "/" in a pattern: \S stands for them.
    start_a_run = re.compile(r"^POST \S+workflows\S\{workflow_id\}\Sruns\S ")
    heading = page.get_by_role("heading", name=start_a_run)
    expect(heading.first).to_be_visible()
    assert problems == []
