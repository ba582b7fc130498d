"""GET /api/stats/: known runs in, exact figures out (both database modes), and who sees what."""

import pytest
import time_machine

from tests.stats_kit import NOW, make_history


@pytest.fixture
def history(alice, bob):
    return make_history(alice, bob)


def get_stats(api, user, **params):
    api.force_authenticate(user)
    with time_machine.travel(NOW, tick=False):
        return api.get("/api/stats/", params)


def test_the_owner_gets_exact_figures_of_the_last_24_hours(api, alice, history):
    wf, _ = history
    response = get_stats(api, alice)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["window"] == {
        "since": "2026-01-09T12:30:00Z",
        "until": "2026-01-10T12:30:00Z",
        "hours": 24,
    }
    assert body["interval"] == "1h"
    assert body["workflow"] is None
    series = {b["t"]: b for b in body["series"]}
    assert len(series) == 25  # 12:00 yesterday (partly in the window) to 12:00 today
    assert series["2026-01-10T10:00:00Z"] == {
        "t": "2026-01-10T10:00:00Z", "started": 2, "succeeded": 1, "failed": 1, "cancelled": 0
    }  # fmt: skip
    assert series["2026-01-10T11:00:00Z"] == {
        "t": "2026-01-10T11:00:00Z", "started": 2, "succeeded": 1, "failed": 0, "cancelled": 1
    }  # fmt: skip
    assert series["2026-01-10T12:00:00Z"]["started"] == 1
    assert body["totals"] == {"started": 5, "succeeded": 2, "failed": 1, "cancelled": 1}
    assert body["failure_rate"] == 0.25
    # Durations 10 s, 30 s, 20 s (the cancelled run never started): nearest-rank p95 is 30 s,
    # the median 20 s.
    assert body["duration_s"] == {"count": 3, "avg": 20.0, "p50": 20.0, "p95": 30.0}
    # Three steps ended in the window, with 1 + 3 + 1 attempts: two beyond the first.
    assert body["retries"] == {"step_runs": 3, "extra_attempts": 2, "rate": 0.6667}
    assert body["queue"] == {"depth": 1, "oldest_age_s": 600.0}
    assert body["tasks"] == {"waiting": 2, "overdue": 1}
    assert body["busiest_steps"] == [
        {"workflow": wf.pk, "workflow_name": "payments", "node": "a", "attempts": 5,
         "step_runs": 3},
    ]  # fmt: skip
    # Step a ran 4 s, 10 s and 2 s (b has not finished).
    [slow] = body["slowest_steps"]
    assert slow == {
        "workflow": wf.pk, "workflow_name": "payments", "node": "a", "count": 3,
        "mean_s": pytest.approx(16 / 3, abs=0.001), "p95_s": 10.0,
    }  # fmt: skip
    assert body["failing_workflows"] == [
        {"workflow": wf.pk, "workflow_name": "payments", "failed": 1, "completed": 4,
         "failure_rate": 0.25}
    ]  # fmt: skip


def test_staff_see_every_workflow(api, admin, history):
    wf, other = history
    body = get_stats(api, admin).json()
    assert body["totals"] == {"started": 6, "succeeded": 2, "failed": 2, "cancelled": 1}
    assert [f["workflow"] for f in body["failing_workflows"]] == [wf.pk, other.pk]
    assert body["failure_rate"] == 0.4


def test_a_week_by_day_and_one_workflow(api, alice, history):
    wf, _ = history
    body = get_stats(api, alice, window="7d", interval="auto", workflow=wf.pk).json()
    assert body["interval"] == "1d"
    assert body["workflow"] == wf.pk
    assert len(body["series"]) == 8
    days = {b["t"][:10]: b["started"] for b in body["series"]}
    assert days["2026-01-09"] == 1 and days["2026-01-10"] == 5
    assert body["duration_s"]["count"] == 4  # with yesterday's one-hour run
    assert body["duration_s"]["p95"] == 3600.0


def test_charlie_sees_nothing_and_cannot_name_alices_workflow(api, charlie, history):
    wf, _ = history
    body = get_stats(api, charlie).json()
    assert body["totals"] == {"started": 0, "succeeded": 0, "failed": 0, "cancelled": 0}
    assert body["queue"] == {"depth": 0, "oldest_age_s": None}
    assert body["tasks"] == {"waiting": 0, "overdue": 0}
    assert body["failure_rate"] is None
    assert body["busiest_steps"] == body["slowest_steps"] == body["failing_workflows"] == []
    response = get_stats(api, charlie, workflow=wf.pk)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "workflow"


def test_anonymous_gets_401(api, db):
    assert api.get("/api/stats/").status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"window": "1y"}, "window"),
        ({"window": "0h"}, "window"),
        ({"window": "1000d"}, "window"),
        ({"interval": "5m"}, "interval"),
        ({"window": "90d", "interval": "1h"}, "interval"),
        ({"workflow": "x"}, "workflow"),
    ],
)
def test_bad_parameters_get_400_naming_the_field(api, alice, params, field):
    response = get_stats(api, alice, **params)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field
