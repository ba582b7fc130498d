"""Deadlines people can see (issue 19): what a countdown needs from the approvals API and the
run's detail (due time, the SLA window it counts on, escalation), the inbox by time left, the
breach as an event before what the timeout rule does, and the server's clock on every
response. Through DRF's client; runs driven in-process, time moved with ``time_machine``."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from engine import transitions
from engine.models import HumanTask, RunEvent
from tests.engine_kit import (
    approval_graph,
    build,
    drive,
    form_graph,
    noop,
    start,
    statuses,
    task_of,
    workflow,
)

ESCALATING = {
    "due_in_s": 3600,
    "on_timeout": "escalate",
    "escalate_to": {"groups": ["finance-leads"], "due_in_s": 7200},
}


@pytest.fixture
def lena(db) -> User:
    """A member of finance-leads, the group late tasks escalate to."""
    user = User.objects.create_user("lena", password="lena-pass-123")
    user.groups.add(Group.objects.get_or_create(name="finance-leads")[0])
    return user


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now().replace(microsecond=0), tick=False) as traveller:
        yield traveller


def asked(owner, graph=None, **config):
    run = start(workflow(owner, graph or approval_graph(**config)), {"amount": 5}, actor=owner)
    drive(timezone.now())
    return run


def task_types(run) -> list[str]:
    return list(
        RunEvent.objects.filter(run=run, type__startswith="task.")
        .order_by("id")
        .values_list("type", flat=True)
    )


def iso(when) -> str:
    return when.isoformat().replace("+00:00", "Z")


# --- What a countdown needs ---------------------------------------------------------------------


def test_a_task_with_a_due_time_gives_its_window_and_after_an_escalation_the_new_one(
    api, alice, bob, lena, clock
):
    t0 = timezone.now()
    run = asked(alice, **ESCALATING)
    api.force_authenticate(bob)

    before = api.get(f"/api/approvals/{task_of(run).pk}/").json()
    clock.shift(timedelta(hours=1))
    drive(timezone.now())
    after = api.get(f"/api/approvals/{task_of(run).pk}/").json()

    assert {k: before[k] for k in ("due_at", "due_from", "escalation_level", "escalated_to")} == {
        "due_at": iso(t0 + timedelta(hours=1)),
        "due_from": iso(t0),
        "escalation_level": 0,
        "escalated_to": [],
    }
    assert before["breached_at"] is None
    # The escalation group's own window: two hours from the escalation.
    assert {k: after[k] for k in ("due_at", "due_from", "escalation_level", "escalated_to")} == {
        "due_at": iso(t0 + timedelta(hours=3)),
        "due_from": iso(t0 + timedelta(hours=1)),
        "escalation_level": 1,
        "escalated_to": ["finance-leads"],
    }
    assert after["breached_at"] == iso(t0 + timedelta(hours=1))
    assert after["assignees"]["groups"] == ["finance", "finance-leads"]
    # lena's inbox has it now, with the same countdown.
    api.force_authenticate(lena)
    listed = api.get("/api/approvals/").json()["results"]
    assert [(t["id"], t["escalated_to"]) for t in listed] == [(after["id"], ["finance-leads"])]


def test_a_task_without_a_due_time_has_no_window(api, alice, bob):
    run = asked(alice, graph=form_graph())

    task = api.force_authenticate(bob) or api.get(f"/api/approvals/{task_of(run).pk}/").json()

    assert (task["due_at"], task["due_from"], task["breached_at"]) == (None, None, None)
    assert task["escalated_to"] == []


def test_a_task_made_before_due_from_existed_counts_its_window_from_its_creation(
    api, alice, bob, clock
):
    run = asked(alice, due_in_s=600)
    HumanTask.objects.filter(run=run).update(due_from=None)  # as the migration leaves old rows

    task = api.force_authenticate(bob) or api.get(f"/api/approvals/{task_of(run).pk}/").json()

    assert task["due_from"] == iso(task_of(run).created_at)


# --- Breaches are events ------------------------------------------------------------------------


def test_an_overdue_task_records_its_breach_before_the_escalation(alice, bob, lena, clock):
    run = asked(alice, **ESCALATING)
    clock.shift(timedelta(seconds=3599))
    drive(timezone.now())
    assert task_types(run) == ["task.created"]  # not yet due

    clock.shift(timedelta(seconds=1))
    drive(timezone.now())

    assert task_types(run) == ["task.created", "task.overdue", "task.escalated"]
    overdue = RunEvent.objects.get(run=run, type="task.overdue")
    assert (overdue.node_id, overdue.actor) == ("ask", None)
    assert overdue.data == {
        "task": task_of(run).pk,
        "kind": "approval",
        "status": "open",
        "due_at": (timezone.now()).isoformat(),
        "level": 0,
        "on_timeout": "escalate",
        "late_s": 0,
    }
    escalated = RunEvent.objects.get(run=run, type="task.escalated")
    assert escalated.data["due_from"] == timezone.now().isoformat()


def test_a_breach_of_the_escalation_is_a_second_event_then_the_step_fails(alice, bob, lena, clock):
    run = asked(alice, **ESCALATING)
    clock.shift(timedelta(hours=1))
    drive(timezone.now())
    # The sweeper comes late: the breach says by how much.
    clock.shift(timedelta(hours=2, seconds=30))
    drive(timezone.now())

    assert task_types(run) == [
        "task.created",
        "task.overdue",
        "task.escalated",
        "task.overdue",
        "task.closed",
    ]
    second = RunEvent.objects.filter(run=run, type="task.overdue").order_by("id").last()
    assert (second.data["level"], second.data["on_timeout"], second.data["late_s"]) == (
        1,
        "fail",
        30,
    )
    assert statuses(run)["ask"] == "failed"
    assert task_of(run).breached_at == timezone.now()


@pytest.mark.parametrize("rule", ["approve", "reject", "fail"])
def test_every_timeout_rule_is_preceded_by_the_breach(alice, bob, clock, rule):
    run = asked(alice, due_in_s=60, on_timeout=rule)
    clock.shift(timedelta(seconds=60))
    drive(timezone.now())

    assert task_types(run) == ["task.created", "task.overdue", "task.closed"]
    assert RunEvent.objects.get(run=run, type="task.overdue").data["on_timeout"] == rule


def test_a_timer_that_rolls_back_leaves_no_breach(alice, bob, lena, clock, monkeypatch):
    run = asked(alice, **ESCALATING)
    clock.shift(timedelta(hours=1))

    def crash(*args, **kwargs):
        raise RuntimeError("the sweeper died mid-transaction")

    monkeypatch.setattr("engine.events.record_task_escalated", crash)
    with pytest.raises(RuntimeError):
        transitions.do_fire_timer(task_of(run).step_id, timezone.now())

    assert task_types(run) == ["task.created"]
    assert task_of(run).breached_at is None


# --- The inbox by time left ---------------------------------------------------------------------


def test_the_inbox_orders_by_time_left_with_tasks_without_a_due_time_last(api, alice, bob, clock):
    later = asked(alice, due_in_s=7200)
    never = asked(alice)
    sooner = asked(alice, due_in_s=3600)
    late = asked(alice, due_in_s=60, on_timeout="escalate", escalate_to={"groups": ["finance"]})
    never_again = asked(alice)
    clock.shift(timedelta(seconds=61))
    drive(timezone.now())  # late escalates, with no second due time: it waits without one
    overdue = asked(alice, due_in_s=600)
    HumanTask.objects.filter(run=overdue).update(due_at=timezone.now() - timedelta(minutes=5))
    api.force_authenticate(bob)

    def runs(query: str) -> list[int]:
        return [t["run"] for t in api.get(f"/api/approvals/{query}").json()["results"]]

    assert runs("?ordering=due") == [
        overdue.pk,
        sooner.pk,
        later.pk,
        never_again.pk,
        late.pk,
        never.pk,
    ]
    newest = [overdue.pk, never_again.pk, late.pk, sooner.pk, never.pk, later.pk]
    assert runs("") == runs("?ordering=newest") == newest
    assert runs("?ordering=due&status=all&kind=approval")[0] == overdue.pk


@pytest.mark.parametrize("value", ["due_at", "-due", "", "DUE"])
def test_an_unknown_ordering_is_a_400_naming_it(api, bob, value):
    response = api.force_authenticate(bob) or api.get(f"/api/approvals/?ordering={value}")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "ordering"


# --- The run's waiting steps --------------------------------------------------------------------


def test_a_runs_waiting_approval_step_carries_its_tasks_countdown(api, alice, bob, lena, clock):
    t0 = timezone.now()
    run = asked(alice, **ESCALATING)
    clock.shift(timedelta(hours=1))
    drive(timezone.now())
    api.force_authenticate(alice)

    steps = {s["node"]: s for s in api.get(f"/api/runs/{run.pk}/").json()["steps"]}

    assert steps["ask"]["task"] == {
        "id": task_of(run).pk,
        "due_at": iso(t0 + timedelta(hours=3)),
        "due_from": iso(t0 + timedelta(hours=1)),
        "escalation_level": 1,
        "escalated_to": ["finance-leads"],
        "breached_at": iso(t0 + timedelta(hours=1)),
    }
    assert steps["start"]["task"] is None and steps["yes"]["task"] is None


def test_a_decided_approval_step_carries_no_task(api, alice, bob):
    run = asked(alice, due_in_s=600)
    transitions.do_decide(task_of(run).pk, actor=bob, decision="approve")
    api.force_authenticate(alice)

    steps = {s["node"]: s for s in api.get(f"/api/runs/{run.pk}/").json()["steps"]}

    assert steps["ask"]["status"] == "succeeded" and steps["ask"]["task"] is None


def test_the_run_costs_the_same_queries_for_one_waiting_approval_or_many(api, alice, bob):
    def approvals(count: int) -> dict:
        ask = {"title": "Pay", "assignees": {"groups": ["finance"]}, "due_in_s": 600}
        nodes = {"start": ("trigger.manual",), "end": noop()}
        nodes |= {f"ask{i}": ("human.approval", ask) for i in range(count)}
        edges = [f"start>ask{i}" for i in range(count)] + [
            f"ask{i}.approved>end" for i in range(count)
        ]
        return build(nodes, edges)

    api.force_authenticate(alice)

    def queries(run) -> int:
        with CaptureQueriesContext(connection) as captured:
            body = api.get(f"/api/runs/{run.pk}/").json()
        assert all(s["task"]["due_at"] for s in body["steps"] if s["node"].startswith("ask"))
        return len(captured)

    assert queries(asked(alice, graph=approvals(1))) == queries(asked(alice, graph=approvals(4)))


# --- The server's clock -------------------------------------------------------------------------


def test_every_response_carries_the_servers_clock_in_milliseconds(api, bob, clock):
    expected = str(round(timezone.now().timestamp() * 1000))

    anonymous = api.get("/api/approvals/")
    api.force_authenticate(bob)
    listed = api.get("/api/approvals/")
    missing = api.get("/api/approvals/999999/")

    assert anonymous.status_code == 401
    assert [r["X-Server-Time"] for r in (anonymous, listed, missing)] == [expected] * 3
    clock.shift(timedelta(milliseconds=1500))
    later = api.get("/api/approvals/")["X-Server-Time"]
    assert int(later) - int(expected) == 1500
