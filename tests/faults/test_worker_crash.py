"""Fault 1 (issue 10): ``kill -9`` of the whole worker process group at a chosen moment, then a
fresh cluster. The moments are made exact by a local service that holds a request until the
workers die (tests/http_server.py ``hang``): a step is then provably inside its call. After
the restart every run succeeds, no step result is lost (each step's output is there and the
event log has its success once), and the service never received one idempotency key twice,
except for a connection-level retry inside one attempt: an attempt that died with its worker
is failed as ``lost`` by the sweeper and runs again as a new attempt, with a new key."""

from collections import Counter

import pytest
from rest_framework.test import APIClient

from engine.models import HumanTask, RunEvent
from tests.engine_kit import build, fn, noop, start, steps, workflow
from tests.faults.kit import (
    Cluster,
    assert_no_key_twice,
    assert_sound,
    attempt_keys,
    bring_due,
    call,
    children,
    ended,
    keys,
    lost_attempts,
    started_attempts,
)
from tests.helpers import wait_until
from tests.http_server import LocalServer, Reply

pytestmark = pytest.mark.django_db(transaction=True)

# Steps that must survive a crash have a second attempt (docs/runs/index.md, "Crashes"); no
# backoff, so the test does not wait for one.
RETRY = {"max_attempts": 3, "backoff_s": 0}


@pytest.fixture(scope="module")
def cluster(django_db_setup, tmp_path_factory):
    """One cluster for the module: each test kills it and starts the next."""
    running = Cluster(tmp_path_factory.mktemp("crash")).start()
    yield running
    running.stop()


@pytest.fixture
def server():
    with LocalServer() as service:
        yield service


def test_a_function_held_in_a_service_call_when_the_workers_die_calls_again_with_a_new_key(
    cluster, server, alice
):
    # Given a step whose call the service holds, as a slow payment service would.
    server.reply("/charge", Reply(action="hang"), Reply(200, {"charged": 42}))
    graph = build(
        {
            "start": ("trigger.manual",),
            "before": fn("add", a=1, b=2),
            "charge": call(server.url("/charge"), RETRY),
            "after": fn(
                "add", a="{{ steps.charge.output.charged }}", b="{{ steps.before.output }}"
            ),
        },
        ["start>before", "before>charge", "charge>after"],
    )
    run = start(workflow(alice, graph))
    first = f"{run.pk}:charge:1"
    wait_until(lambda: keys(server) == [first], what="the call to reach the service")

    # When the workers die in the middle of it, and come back.
    cluster.crash_and_restart()

    # Then the attempt is lost and a new one, with a new key, finishes the run.
    assert ended(run).status == "succeeded", cluster.log()
    assert_sound(run)
    by_node = steps(run)
    assert (by_node["before"].output, by_node["charge"].output) == (3, {"charged": 42})
    assert by_node["after"].output == 45  # what finished before the crash is used after it
    assert lost_attempts(run, "charge") == [1]
    assert keys(server) == attempt_keys(run, "charge") == [first, f"{run.pk}:charge:2"]
    assert_no_key_twice(server)


def test_an_http_request_cut_off_then_held_when_the_workers_die_is_sent_again_with_a_new_key(
    cluster, server, alice
):
    # Given a service that drops the first connection without a word, then holds the request
    # that http.request sends again at once on a new connection (the same attempt, same key).
    server.reply(
        "/pay", Reply(action="drop"), Reply(action="hang"), Reply(201, {"payment": "P-17"})
    )
    graph = build(
        {
            "start": ("trigger.manual",),
            "pay": {
                "type": "http.request",
                "config": {"method": "POST", "url": server.url("/pay"), "body": {"amount": 42}},
                "retry": RETRY,
            },
            "after": ("data.transform", {"value": "{{ steps.pay.output.body.payment }}"}),
        },
        ["start>pay", "pay>after"],
    )
    run = start(workflow(alice, graph))
    first, second = f"{run.pk}:pay:1", f"{run.pk}:pay:2"
    wait_until(lambda: keys(server) == [first, first], what="the request to be sent again")

    cluster.crash_and_restart()

    assert ended(run).status == "succeeded", cluster.log()
    assert_sound(run)
    assert steps(run)["pay"].output["status"] == 201
    assert steps(run)["after"].output == "P-17"
    assert lost_attempts(run, "pay") == [1]
    assert attempt_keys(run, "pay") == [first, second]
    assert keys(server) == [first, first, second]
    # The one key received twice is the connection-level retry inside attempt 1.
    assert_no_key_twice(server, repeated=[first])


def test_a_retry_backoff_pending_when_the_workers_die_fires_once_after_a_restart(
    cluster, server, alice
):
    # The service asks for a minute's pause (Retry-After): the backoff cannot end before the
    # workers die.
    server.reply("/pay", Reply(503, "busy", {"Retry-After": "60"}), Reply(200, {"payment": "P-18"}))
    graph = build(
        {
            "start": ("trigger.manual",),
            "pay": {
                "type": "http.request",
                "config": {"method": "POST", "url": server.url("/pay")},
                "retry": {"max_attempts": 3, "backoff_s": 0},
            },
        },
        ["start>pay"],
    )
    run = start(workflow(alice, graph))
    wait_until(lambda: steps(run)["pay"].status == "retrying", what="the backoff")

    cluster.current.kill()
    # The minute passes while no worker is alive: the timer is a row, not a sleeping worker.
    bring_due(run, "pay")
    cluster.start()

    assert ended(run).status == "succeeded", cluster.log()
    assert_sound(run)
    assert steps(run)["pay"].output["body"] == {"payment": "P-18"}
    retrying = RunEvent.objects.get(run=run, node_id="pay", type="step.retrying")
    assert retrying.data["error"]["code"] == "http_status"
    # The timer fired once: one step.queued out of retrying.
    fired = RunEvent.objects.filter(run=run, node_id="pay", type="step.queued")
    assert [e.old_status for e in fired.order_by("id")] == ["pending", "retrying"]
    assert keys(server) == attempt_keys(run, "pay") == [f"{run.pk}:pay:1", f"{run.pk}:pay:2"]


def test_a_child_run_working_when_the_workers_die_completes_and_so_does_its_parent_step(
    cluster, server, alice
):
    server.reply("/child", Reply(action="hang"), Reply(200, {"charged": 7}))
    child = workflow(
        alice,
        build(
            {"start": ("trigger.manual",), "work": call(server.url("/child"), RETRY)},
            ["start>work"],
            output={"charged": "{{ steps.work.output.charged }}"},
        ),
        name="charge",
    )
    parent = workflow(
        alice,
        build(
            {
                "start": ("trigger.manual",),
                "call": ("flow.subworkflow", {"workflow": {"id": child.pk}}),
                "after": fn("add", a="{{ steps.call.output.charged }}", b=1),
            },
            ["start>call", "call>after"],
        ),
        name="order",
    )
    run = start(parent)
    wait_until(lambda: len(server.requests) == 1, what="the child's call to reach the service")
    assert steps(run)["call"].status == "waiting"

    cluster.crash_and_restart()

    assert ended(run).status == "succeeded", cluster.log()
    assert_sound(run)  # the child run too
    [kid] = children(run)
    assert kid.output == steps(run)["call"].output == {"charged": 7}
    assert steps(run)["after"].output == 8
    assert started_attempts(run, "call") == [1]  # the parent step waited through the crash
    assert lost_attempts(kid, "work") == [1]
    assert keys(server) == attempt_keys(kid, "work") == [f"{kid.pk}:work:1", f"{kid.pk}:work:2"]


def test_a_map_with_items_done_and_items_running_when_the_workers_die_runs_each_item_once(
    cluster, server, alice
):
    # Items 1 and 2 are held by the service; 0 answers at once (so 2 can start: concurrency
    # 2), and 3 has not started when the workers die.
    for i in (0, 3):
        server.reply(f"/item/{i}", Reply(200, {"item": i}))
    for i in (1, 2):
        server.reply(f"/item/{i}", Reply(action="hang"), Reply(200, {"item": i}))
    item = workflow(
        alice,
        build(
            {
                "start": ("trigger.manual",),
                "work": call(server.url("/item/") + "{{ input.i }}", RETRY),
            },
            ["start>work"],
            input_schema={"type": "object", "properties": {"i": {"type": "integer"}}},
            output={"item": "{{ steps.work.output.item }}"},
        ),
        name="item",
    )
    graph = build(
        {
            "start": ("trigger.manual",),
            "each": (
                "flow.map",
                {
                    "items": "{{ input['items'] }}",
                    "workflow": {"id": item.pk},
                    "input": {"i": "{{ item }}"},
                    "concurrency": 2,
                },
            ),
            "after": noop(),
        },
        ["start>each", "each>after"],
    )
    run = start(workflow(alice, graph, name="batch"), {"items": [0, 1, 2, 3]})
    held = {"/item/1", "/item/2"}
    wait_until(lambda: held <= {r.path for r in server.requests}, what="items 1 and 2 to run")
    assert [k.status for k in children(run)] == ["succeeded", "running", "running"]

    cluster.crash_and_restart()

    assert ended(run).status == "succeeded", cluster.log()
    assert_sound(run)
    assert steps(run)["each"].output == [{"item": i} for i in range(4)]
    kids = children(run)
    assert [k.parent_index for k in kids] == [0, 1, 2, 3]  # one child run per item
    for i, kid in enumerate(kids):
        expected = [1, 2] if i in (1, 2) else [1]
        assert started_attempts(kid, "work") == expected
        assert keys(server, f"/item/{i}") == attempt_keys(kid, "work")
    assert_no_key_twice(server)


def test_a_pending_delay_fires_after_the_workers_come_back(cluster, alice):
    graph = build(
        {"start": ("trigger.manual",), "wait": ("flow.delay", {"seconds": 3600}), "after": noop()},
        ["start>wait", "wait>after"],
    )
    run = start(workflow(alice, graph))
    wait_until(lambda: steps(run)["wait"].status == "waiting", timeout=20, what="the delay")

    cluster.current.kill()
    bring_due(run, "wait")  # the hour passes while no worker is alive
    cluster.start()

    assert ended(run).status == "succeeded", cluster.log()
    assert_sound(run)
    assert started_attempts(run, "wait") == [1]
    assert started_attempts(run, "after") == [1]


def test_a_decision_made_while_the_workers_are_dead_is_carried_out_after_a_restart(
    cluster, alice, bob
):
    graph = build(
        {
            "start": ("trigger.manual",),
            "ask": ("human.approval", {"title": "Go?", "assignees": {"groups": ["finance"]}}),
            "after": fn("add", a=1, b=1),
        },
        ["start>ask", "ask.approved>after"],
    )
    run = start(workflow(alice, graph))
    wait_until(lambda: HumanTask.objects.filter(run=run).exists(), timeout=20, what="the task")

    cluster.current.kill()
    api = APIClient()
    api.force_authenticate(bob)
    task = HumanTask.objects.get(run=run)
    # Committed with the step's end and the next step queued; the broker keeps the task.
    assert api.post(f"/api/approvals/{task.pk}/decide/", {"decision": "approve"}).status_code == 200
    assert steps(run)["after"].status == "queued"
    cluster.start()

    assert ended(run).status == "succeeded", cluster.log()
    assert_sound(run)
    assert steps(run)["after"].output == 2
    assert RunEvent.objects.filter(run=run, type="task.decided").count() == 1


def test_a_compensation_held_when_the_workers_die_is_recorded_once_and_the_saga_goes_on(
    cluster, server, alice
):
    # Given a saga rolled back after a and b succeeded, whose undo of b the service holds.
    server.reply("/a", Reply(200, {"id": "A1"}))
    server.reply("/b", Reply(200, {"id": "B2"}))
    server.reply("/undo/b", Reply(action="hang"), Reply(200, {"undone": "B2"}))
    server.reply("/undo/a", Reply(200, {"undone": "A1"}))
    undo = {"id": "{{ compensating.output.id }}"}
    graph = build(
        {
            "start": ("trigger.manual",),
            "a": call(server.url("/a"), RETRY),
            "b": call(server.url("/b"), RETRY),
            "stop": ("flow.rollback", {"message": "changed my mind"}),
            "ua": call(server.url("/undo/a"), RETRY),
            "ub": call(server.url("/undo/b"), RETRY),
        },
        ["start>a", "a>b", "b>stop", "a.compensate>ua", "b.compensate>ub"],
    )
    for node in graph["nodes"]:
        if node["id"] in ("ua", "ub"):
            node["config"]["args"]["body"] = undo
    run = start(workflow(alice, graph))
    first = f"{run.pk}:ub:1"
    wait_until(lambda: keys(server, "/undo/b") == [first], what="the undo to reach the service")
    assert RunEvent.objects.filter(run=run, type="run.compensating").count() == 1

    # When the workers die in the middle of it, and come back.
    cluster.crash_and_restart()

    # Then the lost attempt runs again with a new key, and each compensation is recorded once.
    run = ended(run)
    assert run.status == "failed", cluster.log()
    assert run.error["code"] == "rolled_back"
    assert lost_attempts(run, "ub") == [1]
    assert keys(server, "/undo/b") == attempt_keys(run, "ub") == [first, f"{run.pk}:ub:2"]
    assert keys(server, "/undo/a") == [f"{run.pk}:ua:1"]
    assert [r.json() for r in server.requests if r.path.startswith("/undo/")] == [
        {"id": "B2"},
        {"id": "B2"},
        {"id": "A1"},
    ]
    assert_no_key_twice(server)
    events = list(RunEvent.objects.filter(run=run).order_by("id"))
    count = Counter((e.type, e.node_id) for e in events)
    assert count[("compensation.succeeded", "ub")] == count[("compensation.succeeded", "ua")] == 1
    assert count[("compensation.started", "ub")] == count[("compensation.started", "ua")] == 1
    assert count[("step.succeeded", "ub")] == count[("step.succeeded", "ua")] == 1
    assert count[("run.compensated", "")] == count[("run.failed", "")] == 1
    assert [e.type for e in events][-2:] == ["run.compensated", "run.failed"]
    by_node = steps(run)
    assert (by_node["ub"].attempt, by_node["ub"].output) == (2, {"undone": "B2"})
