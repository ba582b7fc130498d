"""GET /api/stats/, its ``human`` section (issue 19, item 5: what approvals cost): known tasks
and decisions in, exact figures out; who sees what; and the figures of a run the engine drove."""

from datetime import timedelta

import pytest
import time_machine

from engine import transitions
from tests import engine_kit as kit
from tests.stats_kit import NOW, make_human_history

H = 3600


@pytest.fixture
def history(alice, bob, dave):
    return make_human_history(alice, bob, dave)


def human(api, user, **params):
    api.force_authenticate(user)
    with time_machine.travel(NOW, tick=False):
        response = api.get("/api/stats/", params)
    assert response.status_code == 200, response.content
    return response.json()["human"]


def test_the_owner_gets_each_approval_steps_cost_exactly(api, alice, history):
    wf, _ = history
    body = human(api, alice)
    approve, form = body["steps"]
    # The approval step: six tasks opened since 12:30 yesterday (one opened two days ago closed
    # today; one closed two days ago is out of the window), five closed, two open.
    assert approve == {
        "workflow": wf.pk, "workflow_name": "payments", "node": "approve", "kind": "approval",
        "opened": 6, "closed": 5, "open": 2,
        "approved": 2, "rejected": 1, "submitted": 0, "timed_out": 1, "cancelled": 1,
        "escalated": 1,
        # Five with a due time; missed: the late rejection, the escalated timeout, and the open
        # one due at 12:15.
        "with_due": 5, "breached": 3, "breach_rate": 0.6,
        # Waits of the decided or timed-out ones: 10 min, 2 h, 4 h, 28 h (not the cancelled).
        "wait_p50_s": 2 * H, "wait_p95_s": 28 * H,
        # Open for 30 min and 1 h.
        "open_age_p50_s": 1800.0, "open_oldest_s": 3600.0,
    }  # fmt: skip
    assert form["node"] == "form" and form["kind"] == "form"
    assert (form["submitted"], form["wait_p50_s"], form["wait_p95_s"]) == (1, 1200.0, 1200.0)
    assert form["breach_rate"] is None  # no due time, nothing to miss
    totals = body["totals"]
    assert (totals["opened"], totals["closed"], totals["open"]) == (7, 6, 2)
    assert (totals["breached"], totals["with_due"], totals["breach_rate"]) == (3, 5, 0.6)
    # 10 min, 20 min, 2 h, 4 h, 28 h: the median is the third, p95 the fifth.
    assert (totals["wait_p50_s"], totals["wait_p95_s"]) == (2 * H, 28 * H)


def test_people_and_groups_get_their_decisions_and_waits(api, alice, history):
    body = human(api, alice)
    # bob decided four times in the window: 10 min, 20 min, 1 h and 28 h after the tasks were
    # asked; dave once (2 h). dave's decision of two days ago is out of the window; bob's on
    # his own workflow and on a test run are not alice's to see.
    assert body["assignees"] == [
        {"user": "bob", "decisions": 4, "approved": 3, "rejected": 0, "submitted": 1,
         "decision_p50_s": 1200.0},
        {"user": "dave", "decisions": 1, "approved": 0, "rejected": 1, "submitted": 0,
         "decision_p50_s": 7200.0},
    ]  # fmt: skip
    assert body["groups"] == [
        # The cancelled task counts as finance's, but not its wait.
        {"group": "finance", "tasks": 6, "open": 1, "closed": 5, "breached": 3,
         "wait_p50_s": 2 * H},
        {"group": "managers", "tasks": 1, "open": 0, "closed": 1, "breached": 1,
         "wait_p50_s": 4 * H},
    ]  # fmt: skip


def test_staff_see_every_workflows_tasks_and_one_workflow_can_be_chosen(api, admin, history):
    wf, other = history
    body = human(api, admin)
    # By tasks (closed and open), then by workflow id: bob's workflow came second.
    assert [(s["workflow_name"], s["node"]) for s in body["steps"]] == [
        ("payments", "approve"), ("payments", "form"), ("bobs", "approve"),
    ]  # fmt: skip
    assert body["totals"]["closed"] == 7
    assert body["assignees"][0] == {
        "user": "bob", "decisions": 5, "approved": 4, "rejected": 0, "submitted": 1,
        "decision_p50_s": 3600.0,
    }  # fmt: skip
    only = human(api, admin, workflow=other.pk)
    assert [(s["workflow"], s["node"], s["approved"]) for s in only["steps"]] == [
        (other.pk, "approve", 1)
    ]
    assert [g["group"] for g in only["groups"]] == ["finance"]


def test_a_week_counts_the_older_tasks_too(api, alice, history):
    [approve, _] = human(api, alice, window="7d")["steps"]
    # With the two tasks of two days ago: one opened, and one opened and closed 1 h later.
    assert (approve["opened"], approve["closed"]) == (8, 6)
    # 10 min, 1 h, 2 h, 4 h, 28 h.
    assert (approve["wait_p50_s"], approve["wait_p95_s"]) == (2 * H, 28 * H)
    assert approve["breach_rate"] == 0.5  # 3 of 6 with a due time


def test_charlie_sees_no_ones_work(api, charlie, history):
    body = human(api, charlie)
    assert body["steps"] == body["assignees"] == body["groups"] == []
    assert body["totals"]["opened"] == body["totals"]["open"] == 0
    assert body["totals"]["breach_rate"] is body["totals"]["wait_p50_s"] is None


def test_a_run_the_engine_drove_counts_its_real_wait(api, alice, bob):
    """From the engine's own rows: asked at 09:00, bob approves at 11:30, due at 10:00."""
    wf = kit.workflow(alice, kit.approval_graph(due_in_s=H), name="real")
    asked = NOW - timedelta(hours=3, minutes=30)
    with time_machine.travel(asked, tick=False):
        run = kit.start(wf, {"amount": 5}, actor=alice)
        kit.drive()
    with time_machine.travel(asked + timedelta(hours=2, minutes=30), tick=False):
        transitions.do_decide(kit.task_of(run).pk, actor=bob, decision="approve")
    body = human(api, alice)
    [ask] = body["steps"]
    assert (ask["node"], ask["opened"], ask["closed"], ask["approved"]) == ("ask", 1, 1, 1)
    assert (ask["wait_p50_s"], ask["wait_p95_s"]) == (9000.0, 9000.0)
    assert (ask["breached"], ask["breach_rate"]) == (1, 1.0)  # decided 1 h 30 min late
    assert body["assignees"] == [
        {"user": "bob", "decisions": 1, "approved": 1, "rejected": 0, "submitted": 0,
         "decision_p50_s": 9000.0}
    ]  # fmt: skip
    assert body["groups"] == [
        {"group": "finance", "tasks": 1, "open": 0, "closed": 1, "breached": 1,
         "wait_p50_s": 9000.0}
    ]  # fmt: skip
