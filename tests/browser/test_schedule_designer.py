"""The schedule trigger in the designer, in Chromium: its panel shows the next fire times of
the cron expression being typed (asked of the server), and what is wrong with a bad one."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_designer_editing import new_workflow, node

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_typing_a_cron_expression_shows_its_next_fire_times_and_a_bad_one_its_error(
    page, live_server, alice
):
    toolbar, palette = new_workflow(page, live_server, "Every morning")
    palette.get_by_role("button", name="Schedule").click()
    node(page, "schedule").click()
    panel = page.get_by_role("complementary", name="Configure schedule")
    preview = panel.get_by_role("region", name="Next fire times")
    expect(preview).to_contain_text("Enter a cron expression")

    panel.get_by_label("Time zone").fill("Asia/Tokyo")
    panel.get_by_label("Cron expression").fill("0 9 * * *")

    times = preview.get_by_role("listitem")
    expect(times).to_have_count(5)
    for index in range(5):
        expect(times.nth(index)).to_have_text(
            re.compile(r"^\w{3} \d{4}-\d\d-\d\d 09:00 \(UTC\+09:00\)$")
        )
    expect(preview).to_contain_text("Asia/Tokyo")

    panel.get_by_label("Cron expression").fill("61 * * * *")
    expect(preview.get_by_role("alert")).to_contain_text("not a valid cron expression")
    expect(preview.get_by_role("listitem")).to_have_count(0)

    panel.get_by_label("Time zone").fill("Mars/Olympus_Mons")
    panel.get_by_label("Cron expression").fill("*/15 * * * *")
    expect(preview.get_by_role("alert")).to_contain_text("Time zone:")
    panel.get_by_label("Time zone").fill("UTC")
    expect(times).to_have_count(5)
    expect(times.first).to_have_text(re.compile(r":(00|15|30|45) \(UTC\)$"))
