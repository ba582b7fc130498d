"""Circuit breakers in Chromium over daphne: an open breaker is listed on the dashboard with
its failure count, an operator closes it there, and the credentials page shows the
credential's breaker."""

import pytest
from playwright.sync_api import expect

from connectors.credentials import do_create_credential
from engine.breakers import Thresholds, guard, report
from engine.models import BreakerScope, BreakerState, CircuitBreaker
from tests.browser.test_inbox import log_in, toast
from tests.engine_kit import build, drive, start, workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_open_breaker_is_on_the_dashboard_and_an_operator_closes_it(page, web_server, admin):
    start(workflow(admin, build({"start": ("trigger.manual",)}, [])))  # not a fresh install
    drive()
    do_create_credential(actor=admin, name="payments", kind="http_bearer", data={"token": "t0k3n"})
    thresholds = Thresholds(failures=3, window_s=60, open_s=600)
    for _ in range(3):
        permit = guard(BreakerScope.CREDENTIAL, "payments", thresholds)
        report(permit, "failure", {"code": "http_status", "message": "POST /pay answered 503"})
    assert CircuitBreaker.objects.get().state == BreakerState.OPEN

    log_in(page, web_server, "admin", "/dashboard")
    panel = page.get_by_role("region", name="Circuit breakers")
    row = panel.get_by_role("row").filter(has_text="Credential payments")
    expect(row).to_contain_text("Open")
    expect(row).to_contain_text("3 of 3 failures in 60 s")
    expect(row).to_contain_text("POST /pay answered 503")

    page.goto(f"{web_server.url}/credentials")
    credential = page.get_by_role("row").filter(has_text="payments")
    expect(credential.get_by_text("Open", exact=True)).to_be_visible()

    page.goto(f"{web_server.url}/dashboard")
    panel.get_by_role("button", name="Close breaker credential:payments").click()
    expect(toast(page, "Closed Credential payments")).to_be_visible()
    expect(panel.get_by_text("Every breaker is closed")).to_be_visible()
    assert CircuitBreaker.objects.get().state == BreakerState.CLOSED
