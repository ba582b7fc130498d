"""Run priorities (issue 20, section 3): where a run's priority comes from, the broker's lists
and its share, and real workers taking an urgent run before a backlog and a low one before the
backlog ends. In both test passes: the ORM broker on SQLite, the Redis broker in scale-out."""

from collections import Counter

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django_q.brokers import get_broker
from rest_framework.test import APIClient

from designer.validation import GRAPH_SCHEMA
from engine import transitions
from engine.models import Run, StepRun, Trigger
from engine.priority import DESCENDING, TAKE_ORDER, take_order
from engine.states import Priority
from tests.engine_kit import build, drive, fn, noop, start, workflow
from tests.helpers import wait_until
from tests.test_webhooks import hook_graph, url_of

# --- The share -----------------------------------------------------------------------------------


def test_of_fifteen_takes_eight_look_at_urgent_first_four_high_two_normal_one_low():
    assert Counter(TAKE_ORDER) == {"urgent": 8, "high": 4, "normal": 2, "low": 1}
    # Interleaved, not bunched: urgent never has more than two turns in a row.
    runs = "".join(p[0] for p in TAKE_ORDER * 2)
    assert "uuu" not in runs


def test_a_take_looks_at_its_share_first_then_from_the_top():
    for turn in range(len(TAKE_ORDER)):
        order = take_order(turn)
        assert order[0] == TAKE_ORDER[turn]
        assert sorted(order) == sorted(DESCENDING)
        rest = [p for p in DESCENDING if p != order[0]]
        assert list(order[1:]) == rest


def test_the_graphs_priorities_are_the_runs():
    assert GRAPH_SCHEMA["properties"]["priority"]["enum"] == list(Priority.values)


# --- The broker's lists, on this pass's broker ----------------------------------------------------


@pytest.fixture
def queue(db):
    broker = get_broker()
    broker.purge_queue()
    yield broker
    broker.purge_queue()


def enqueue(priority: str, payload: str) -> None:
    transitions.broker_for(priority).enqueue(payload)


def take(broker, count: int) -> list[str]:
    taken = []
    for _ in range(count * 3):
        got = broker.dequeue() or []
        # Redis gives bytes back, the ORM broker what it stored.
        taken += [p.decode() if isinstance(p, bytes) else p for _, p in got]
        if len(taken) >= count:
            break
    return taken


def test_an_urgent_task_is_taken_before_a_backlog_and_the_backlog_stays_in_order(queue):
    for n in range(30):
        enqueue("normal", f"n{n}")
    enqueue("urgent", "u")
    assert queue.queue_size() == 31

    taken = take(queue, 31)

    assert taken.index("u") <= 2  # at most the normal share's turn before it
    assert [p for p in taken if p != "u"] == [f"n{n}" for n in range(30)]
    assert queue.queue_size() == 0


def test_a_low_task_gets_its_share_while_urgent_and_normal_ones_keep_coming(queue):
    for n in range(40):
        enqueue("urgent", f"u{n}")
        enqueue("normal", f"n{n}")
    enqueue("low", "low")

    taken = take(queue, 20)

    assert "low" in taken[: len(TAKE_ORDER)]
    assert sum(p.startswith("n") for p in taken[:15]) >= 2


# --- Where a run's priority comes from ---------------------------------------------------------


def one_step(**extra) -> dict:
    return build({"start": ("trigger.manual",), "work": noop()}, ["start>work"], **extra)


def test_a_run_takes_its_workflows_priority_and_a_start_may_ask_for_another(alice):
    assert start(workflow(alice, one_step(), name="plain")).priority == "normal"
    wf = workflow(alice, one_step(priority="high"), name="high")
    assert start(wf).priority == "high"
    api = APIClient()
    api.force_authenticate(alice)

    response = api.post(
        f"/api/workflows/{wf.pk}/runs/", {"input": {}, "priority": "urgent"}, format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["priority"] == "urgent"
    assert Run.objects.get(pk=response.json()["id"]).priority == "urgent"
    listed = api.get("/api/runs/").json()["results"]
    assert {r["priority"] for r in listed} == {"normal", "high", "urgent"}


def test_a_bad_priority_is_a_400_naming_the_field(alice):
    wf = workflow(alice, one_step(), name="plain")
    api = APIClient()
    api.force_authenticate(alice)

    response = api.post(f"/api/workflows/{wf.pk}/runs/", {"priority": "asap"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "priority"
    graph = one_step(priority="asap")
    saved = api.post("/api/workflows/validate/", {"graph": graph}, format="json")
    assert saved.status_code == 200
    assert {e["field"] for e in saved.json()["errors"]} == {"priority"}


def test_a_schedules_trigger_may_set_the_priority_of_its_runs(alice):
    graph = build(
        {
            "start": ("trigger.schedule", {"cron": "0 9 * * *", "priority": "low"}),
            "work": noop(),
        },
        ["start>work"],
        priority="high",
    )
    wf = workflow(alice, graph, name="nightly")
    version = wf.versions.get(number=wf.latest_version)

    scheduled, _ = transitions.do_start_run(
        version=version, input={}, trigger=Trigger.SCHEDULE, actor=None
    )
    by_hand = start(wf)

    assert (scheduled.priority, by_hand.priority) == ("low", "high")


def test_a_webhooks_trigger_sets_the_priority_of_the_runs_it_starts(alice):
    wf = workflow(alice, hook_graph({"priority": "urgent"}), name="hook")

    response = Client(enforce_csrf_checks=True).post(
        url_of(wf), {"order": 1}, content_type="application/json"
    )

    assert response.status_code == 202, response.content
    assert Run.objects.get(pk=response.json()["run_id"]).priority == "urgent"


def test_a_child_run_takes_its_parents_priority(alice):
    child = workflow(alice, one_step(), name="child")
    parent = build(
        {
            "start": ("trigger.manual",),
            "call": ("flow.subworkflow", {"workflow": {"name": child.name}}),
        },
        ["start>call"],
    )
    run = start(workflow(alice, parent, name="parent"), priority="urgent")

    drive()

    kids = Run.objects.filter(parent_run=run)
    assert kids.count() == 1 and kids.get().priority == "urgent"


# --- Real workers ------------------------------------------------------------------------------

BACKLOG = 200


def backlog_graph() -> dict:
    nodes = {"start": ("trigger.manual",)}
    nodes |= {f"b{n}": fn("sleep", seconds=0.05) for n in range(BACKLOG)}
    return build(nodes, [f"start>b{n}" for n in range(BACKLOG)])


def queued_backlog(owner: User) -> Run:
    run = start(workflow(owner, backlog_graph(), name="backlog"))
    wait_until(
        lambda: (
            StepRun.objects.filter(run=run, status__in=["queued", "running", "succeeded"])
            .exclude(node_id="start")
            .count()
            == BACKLOG
        ),
        timeout=60,
        what="the backlog to be queued",
    )
    return run


def started_after(backlog: Run, run: Run) -> int:
    """How many of the backlog's steps started after ``run``'s work step did."""
    wait_until(lambda: Run.objects.get(pk=run.pk).is_terminal, timeout=120, what="the run")
    wait_until(lambda: Run.objects.get(pk=backlog.pk).is_terminal, timeout=120, what="backlog")
    mark = StepRun.objects.get(run=run, node_id="work").started_at
    return StepRun.objects.filter(run=backlog, started_at__gt=mark).count()


@pytest.mark.django_db(transaction=True)
def test_an_urgent_run_overtakes_a_backlog_of_normal_steps(workers, alice):
    backlog = queued_backlog(alice)
    urgent = start(workflow(alice, one_step(), name="urgent"), priority="urgent")

    overtaken = started_after(backlog, urgent)

    # Without priorities it would start after all of them (first in, first out).
    assert overtaken >= BACKLOG * 3 // 4, workers.log()


@pytest.mark.django_db(transaction=True)
def test_a_low_run_is_not_starved_by_a_backlog_of_normal_steps(workers, alice):
    backlog = queued_backlog(alice)
    low = start(workflow(alice, one_step(), name="low"), priority="low")

    overtaken = started_after(backlog, low)

    assert overtaken >= BACKLOG // 2, workers.log()
    assert Run.objects.get(pk=low.pk).status == "succeeded"


def test_the_cli_starts_a_run_at_a_priority(alice):
    from django.core.management import call_command

    wf = workflow(alice, one_step(), name="nightly")

    call_command("flowdeck", "run", "nightly", "--priority", "high")

    assert Run.objects.get(workflow=wf).priority == "high"


def test_a_replay_keeps_the_priority_of_the_run_it_replays(alice):
    wf = workflow(
        alice,
        build({"start": ("trigger.manual",), "boom": fn("flaky", fail_times=9)}, ["start>boom"]),
        name="flaky",
    )
    run = start(wf, priority="urgent")
    drive()
    run.refresh_from_db()
    assert run.status == "failed"

    replay = transitions.do_replay_run(
        run.pk, actor=alice, version=wf.versions.get(), reason="fixed upstream"
    )

    assert replay.priority == "urgent"
