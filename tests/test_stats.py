"""GET /api/stats/: known runs in, exact figures out (both database modes), and who sees what."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from engine.models import HumanTask, Run, StepRun, TaskKind
from engine.states import RunStatus, StepStatus
from tests import engine_kit as kit

NOW = datetime(2026, 1, 10, 12, 30, tzinfo=UTC)
S = timedelta(seconds=1)


def at(hh: int, mm: int = 0, ss: int = 0, day: int = 10) -> datetime:
    return datetime(2026, 1, day, hh, mm, ss, tzinfo=UTC)


GRAPH = kit.build(
    {"start": ("trigger.manual",), "a": kit.noop(), "b": kit.noop()}, ["start>a", "a>b"]
)


def make_run(wf, status, created, started=None, finished=None, steps=()) -> Run:
    """A run with fixed times (auto_now_add is overwritten by an update) and its steps, each
    ``(node, status, attempt, queued_at, started_at, finished_at)``."""
    run = Run.objects.create(workflow=wf, version=wf.versions.get(), status=status, input={})
    Run.objects.filter(pk=run.pk).update(
        created_at=created, started_at=started, finished_at=finished
    )
    for node, step_status, attempt, queued, begun, ended in steps:
        StepRun.objects.create(
            run=run,
            node_id=node,
            type="code.function",
            status=step_status,
            attempt=attempt,
            queued_at=queued,
            started_at=begun,
            finished_at=ended,
        )
    return run


@pytest.fixture
def history(alice, bob):
    """Alice's workflow: five runs in the last 24 h and one older; Bob's: one failed run."""
    wf = kit.workflow(alice, GRAPH, name="payments")
    other = kit.workflow(bob, GRAPH, name="bobs")
    ok = StepStatus.SUCCEEDED
    make_run(wf, RunStatus.SUCCEEDED, at(10, 30), at(10, 30), at(10, 30, 10),
             [("a", ok, 1, at(10, 30), at(10, 30), at(10, 30, 4))])  # fmt: skip
    make_run(wf, RunStatus.FAILED, at(10, 35), at(10, 35), at(10, 35, 30),
             [("a", StepStatus.FAILED, 3, at(10, 35), at(10, 35), at(10, 35, 10))])  # fmt: skip
    make_run(wf, RunStatus.SUCCEEDED, at(11), at(11), at(11, 0, 20),
             [("a", ok, 1, at(11), at(11), at(11, 0, 2))])  # fmt: skip
    make_run(wf, RunStatus.CANCELLED, at(11, 10), None, at(11, 15))
    waiting = make_run(wf, RunStatus.RUNNING, at(12), at(12), None,
                       [("a", StepStatus.QUEUED, 1, at(12, 20), None, None),
                        ("b", StepStatus.WAITING, 2, at(12), at(12), None)])  # fmt: skip
    make_run(wf, RunStatus.SUCCEEDED, at(6, day=9), at(6, day=9), at(7, day=9),
             [("a", ok, 4, at(6, day=9), at(6, day=9), at(7, day=9))])  # fmt: skip
    make_run(other, RunStatus.FAILED, at(11, 30), at(11, 30), at(11, 31))
    step_b = StepRun.objects.get(run=waiting, node_id="b")
    for attempt, due in ((1, at(12)), (2, at(13))):  # one overdue, one not
        HumanTask.objects.create(
            run=waiting, step=step_b, attempt=attempt, kind=TaskKind.APPROVAL, title="t", due_at=due
        )
    return wf, other


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
    # Durations 10 s, 30 s, 20 s (the cancelled run never started): nearest-rank p95 is 30 s.
    assert body["duration_s"] == {"count": 3, "avg": 20.0, "p95": 30.0}
    # Five attempted steps with 1 + 3 + 1 + 1 + 2 attempts: three beyond the first.
    assert body["retries"] == {"step_runs": 5, "extra_attempts": 3, "rate": 0.6}
    assert body["queue"] == {"depth": 1, "oldest_age_s": 600.0}
    assert body["tasks"] == {"waiting": 2, "overdue": 1}
    assert body["busiest_steps"] == [
        {"workflow": wf.pk, "workflow_name": "payments", "node": "a", "attempts": 6,
         "step_runs": 4},
        {"workflow": wf.pk, "workflow_name": "payments", "node": "b", "attempts": 2,
         "step_runs": 1},
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
