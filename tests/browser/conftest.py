"""Real Chromium (Debian's /usr/bin/chromium) driven by Playwright against a live server."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = os.environ.get("FLOWDECK_CHROMIUM", "/usr/bin/chromium")
# Without the networking flags Chromium keeps calling outside hosts, which this machine refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not Path(CHROMIUM).exists():
        _missing(f"{CHROMIUM} is missing (apt-get install -y chromium; test.sh does it)")
    if not (Path(settings.FRONTEND_DIST) / ".vite" / "manifest.json").exists():
        _missing("the front end is not built (cd frontend && npm run build; test.sh does it)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread while the browser lives; Django's
    # ORM refuses to run beside one unless told this thread is safe (it is: the loop only drives
    # the browser). Set for this module's browser only, then restored.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser) -> Iterator:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture(scope="module")
def web_server(django_db_setup, tmp_path_factory) -> Iterator:
    """daphne on the test database, for pages that need websockets (``live_server`` is WSGI).
    Tests that use it need ``django_db(transaction=True)``: the server sees only commits."""
    from tests.helpers import free_port
    from tests.workers import WebServer

    server = WebServer(tmp_path_factory.mktemp("daphne") / "daphne.log", free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def axe_page(browser) -> Iterator:
    """A page whose context ignores the Content-Security-Policy, so that axe-core can be
    injected (tests/browser/axe.py). Only for accessibility checks: every other test runs
    under the policy, as users do."""
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def dark_page(browser) -> Iterator:
    """A page in a browser whose system prefers a dark colour scheme."""
    context = browser.new_context(color_scheme="dark")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser) -> Iterator:
    """A page on a phone's screen: 390 x 844 CSS pixels, touch, a phone's user agent."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
