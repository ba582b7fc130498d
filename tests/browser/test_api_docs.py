"""The API reference (/api/docs/) in Chromium: Swagger UI inside Flowdeck's frame (a header in
the app's look, with the way back and the documentation), light or dark as the app is, on a
phone too. axe-core checks our frame only: Swagger UI's own markup nests buttons in its
operation rows and draws its method badges under 4.5:1, which we cannot fix without forking
it."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.axe import assert_accessible
from tests.browser.test_csp import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def rgb(page, selector: str, prop: str = "backgroundColor") -> tuple[int, ...]:
    color = page.evaluate(f"() => getComputedStyle(document.querySelector({selector!r})).{prop}")
    return tuple(int(x) for x in re.findall(r"\d+", color)[:3])


def is_dark(color: tuple[int, ...]) -> bool:
    return sum(color) / 3 < 80


def open_docs(page, server) -> None:
    log_in(page, server, "alice", "/api/docs/")
    # Swagger UI draws once it has the schema, which the server builds per request: seconds on
    # a busy machine.
    title = page.get_by_role("heading", name=re.compile("Flowdeck API"))
    expect(title).to_be_visible(timeout=30_000)


def test_the_api_docs_sit_in_flowdecks_frame(page, live_server, alice):
    open_docs(page, live_server)
    header = page.get_by_role("banner")
    expect(header.get_by_role("heading", level=1, name="API reference")).to_be_visible()
    expect(header.get_by_role("link", name="Flowdeck home")).to_have_attribute("href", "/")
    expect(header.get_by_role("link", name="Documentation")).to_have_attribute("href", "/docs/")
    back = header.get_by_role("link", name="Back to Flowdeck")
    expect(page).to_have_title("API reference · Flowdeck")
    # The theme's page colour and type, not Swagger UI's.
    assert not is_dark(rgb(page, "body"))
    assert "Inter" in page.evaluate(
        "() => getComputedStyle(document.querySelector('.swagger-ui .info .title')).fontFamily"
    )

    back.click()
    expect(page).to_have_url(re.compile(r"/workflows$"))


def test_the_api_docs_are_dark_when_the_system_prefers_dark(dark_page, live_server, alice):
    open_docs(dark_page, live_server)
    # Swagger UI's own dark theme is on, under the app's page colour.
    expect(dark_page.locator("html")).to_have_class(re.compile(r"\bdark-mode\b"))
    assert is_dark(rgb(dark_page, "body"))
    assert is_dark(rgb(dark_page, ".fd-api-header"))
    assert not is_dark(rgb(dark_page, ".swagger-ui .info .title", "color"))

    # The colour scheme menu switches both the frame and Swagger UI, and is remembered.
    dark_page.get_by_role("button", name="Colour scheme: system").click()
    dark_page.get_by_role("menuitemradio", name="Light").click()
    expect(dark_page.locator("html")).not_to_have_class(re.compile(r"\bdark-mode\b"))
    assert not is_dark(rgb(dark_page, "body"))
    dark_page.reload()
    title = dark_page.get_by_role("heading", name=re.compile("Flowdeck API"))
    expect(title).to_be_visible(timeout=30_000)
    assert not is_dark(rgb(dark_page, "body"))


def test_the_api_docs_fit_a_phone(phone_page, live_server, alice):
    open_docs(phone_page, live_server)
    header = phone_page.get_by_role("banner")
    for name in ("Documentation", "Back to Flowdeck"):
        link = header.get_by_role("link", name=name)
        expect(link).to_be_visible()
        box = link.bounding_box()
        assert box["width"] >= 40 and box["height"] >= 40
    assert phone_page.evaluate("() => document.documentElement.scrollWidth") <= 390


def test_the_api_docs_frame_has_no_serious_accessibility_violation(axe_page, live_server, alice):
    open_docs(axe_page, live_server)
    assert_accessible(axe_page, include=".fd-api-header")
