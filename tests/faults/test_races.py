"""Fault 4 (issue 10): two worker clusters, as on two machines, each with its sweeper (timers,
lost work) and its scheduler, on one database and one queue, racing for the same work, with
deliveries doubled on purpose. The event log is the judge: one run per schedule slot and per
idempotency key, each attempt queued and started once, each step's success once, each timer
fired once, and a service that never receives one key twice."""

import threading
from collections import Counter
from datetime import UTC
from itertools import islice

import pytest
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from engine import transitions
from engine.models import HumanTask, Run, RunEvent, StepRun, WorkflowSchedule
from engine.schedules import fire_due_schedules, slot_key, slots_until
from tests.engine_kit import build, execute, fn, start, steps, workflow
from tests.faults.kit import (
    Cluster,
    assert_no_key_twice,
    assert_sound,
    attempt_keys,
    call,
    ended,
    keys,
    lost_attempts,
)
from tests.helpers import wait_until
from tests.http_server import LocalServer, Reply
from tests.schedule_kit import scheduled_graph

pytestmark = pytest.mark.django_db(transaction=True)

RUNS = 12


@pytest.fixture(scope="module")
def clusters(django_db_setup, tmp_path_factory):
    """Two clusters on the same database and queue. Without the inline budget every step goes
    through the broker, so the clusters race for every hop, not only for a run's first step."""
    logs = tmp_path_factory.mktemp("races")
    started: list[Cluster] = []
    try:
        for name in ("east", "west"):
            env = {"FLOWDECK_WORKERS": "2", "FLOWDECK_INLINE_BUDGET_S": "0"}
            started.append(Cluster(logs, name, **env).start())
        yield started
    finally:
        for cluster in started:
            cluster.stop()


@pytest.fixture
def server():
    with LocalServer() as service:
        yield service


def logs(clusters: list[Cluster]) -> str:
    return "\n".join(c.log() for c in clusters)


def all_ended(runs: list[Run]) -> bool:
    return (
        not Run.objects.filter(pk__in=[r.pk for r in runs])
        .exclude(status__in=["succeeded", "failed", "cancelled"])
        .exists()
    )


def test_two_clusters_racing_for_every_hop_with_doubled_deliveries_do_nothing_twice(
    clusters, server, alice
):
    # Given a fan-out to a service call, a step that fails once (its backoff is a timer), a
    # delay (a timer) and a quick step, and a join of all four.
    server.reply("/svc", Reply(200, {"ok": 1}))
    graph = build(
        {
            "start": ("trigger.manual",),
            "call": call(server.url("/svc"), {"max_attempts": 2, "backoff_s": 0}),
            "flaky": {
                **fn("flaky", fail_times=1),
                "retry": {"max_attempts": 2, "backoff_s": 0.2, "jitter": False},
            },
            "wait": ("flow.delay", {"seconds": 3600}),
            "shape": ("data.transform", {"value": "{{ run.id }}"}),
            "join": (
                "data.transform",
                {
                    "value": {
                        "call": "{{ steps.call.output.ok }}",
                        "shape": "{{ steps.shape.output }}",
                    }
                },
            ),
        },
        [f"start>{n}" for n in ("call", "flaky", "wait", "shape")]
        + [f"{n}>join" for n in ("call", "flaky", "wait", "shape")],
    )
    wf = workflow(alice, graph)

    # When runs start and every attempt is delivered again, as often as the test sees it
    # queued (a broker that delivers twice, a sweeper that re-enqueues): the first step of
    # each run three times, from its commit on.
    with transaction.atomic():
        runs = [start(wf) for _ in range(RUNS)]
        firsts = StepRun.objects.filter(run__in=runs, node_id="start")
        for step in firsts:
            for _ in range(2):
                transaction.on_commit(lambda s=step: transitions.enqueue_attempt(s.pk, 1))
    doubled: set[tuple[int, int]] = {(s.pk, 1) for s in firsts}

    def double_what_is_queued() -> None:
        for pair in StepRun.objects.filter(run__in=runs, status="queued").values_list(
            "pk", "attempt"
        ):
            if pair not in doubled:
                doubled.add(pair)
                transitions.enqueue_attempt(*pair)

    def delays_waiting() -> bool:
        double_what_is_queued()
        waiting = StepRun.objects.filter(run__in=runs, node_id="wait", status="waiting")
        return waiting.count() == RUNS

    wait_until(delays_waiting, timeout=60, what="every run's delay to wait")
    # Late copies too, while the delays end and the joins run: every attempt that has run
    # is delivered once more (a broker redelivering what a worker took before it died).
    for pk, last in (
        StepRun.objects.filter(run__in=runs)
        .exclude(node_id__in=["wait", "join"])
        .values_list("pk", "attempt")
    ):
        for attempt in range(1, last + 1):
            transitions.enqueue_attempt(pk, attempt)
    # Every delay is due at one instant; both sweepers find all of them.
    assert (
        StepRun.objects.filter(run__in=runs, node_id="wait").update(wake_at=timezone.now()) == RUNS
    )

    def done() -> bool:
        double_what_is_queued()
        return all_ended(runs)

    wait_until(done, timeout=90, what="the runs to end")

    # Then each run did each thing once, though both clusters took part.
    for run in runs:
        assert_sound(run)
        assert steps(run)["join"].output == {"call": 1, "shape": run.pk}
        assert steps(run)["flaky"].attempt == 2
        # Each timer fired once: the backoff queued attempt 2 once, the delay ended once.
        fired = RunEvent.objects.filter(run=run, type="step.queued", old_status="retrying")
        assert [e.node_id for e in fired] == ["flaky"]
    assert sorted(keys(server)) == sorted(k for run in runs for k in attempt_keys(run, "call"))
    assert_no_key_twice(server)
    workers = {
        int(e.data["worker"].split(":")[1])
        for e in RunEvent.objects.filter(run__in=runs, type="step.started")
        if e.data.get("worker")
    }
    took_part = [c.name for c in clusters if workers & c.worker_pids()]
    assert took_part == ["east", "west"], logs(clusters)


def test_map_items_ending_together_on_two_clusters_start_each_next_item_once(
    clusters, server, alice
):
    # Given a map whose items end at the same moments on both clusters: each child's end
    # locks the parent run, records the item and starts the next one.
    server.reply("/item", Reply(200, {"ok": 1}))
    item = workflow(
        alice,
        build(
            {"start": ("trigger.manual",), "work": call(server.url("/item"))},
            ["start>work"],
            output={"n": "{{ input.n }}"},
        ),
        name="item",
    )
    items = list(range(16))
    graph = build(
        {
            "start": ("trigger.manual",),
            "each": (
                "flow.map",
                {
                    "items": "{{ input['items'] }}",
                    "workflow": {"id": item.pk},
                    "input": {"n": "{{ item }}"},
                    "concurrency": 4,
                },
            ),
        },
        ["start>each"],
    )
    run = start(workflow(alice, graph, name="batch"), {"items": items})

    assert ended(run, timeout=90).status == "succeeded", logs(clusters)
    assert_sound(run)  # and each child
    assert steps(run)["each"].output == [{"n": n} for n in items]
    kids = Run.objects.filter(parent_run=run)
    assert sorted(kids.values_list("parent_index", flat=True)) == items  # one run per item
    assert sorted(keys(server)) == sorted(k for kid in kids for k in attempt_keys(kid, "work"))
    assert_no_key_twice(server)


def test_approvals_overdue_at_one_instant_time_out_once_each(clusters, alice, bob):
    # Given approvals due in an hour that approve themselves when nobody acts.
    graph = build(
        {
            "start": ("trigger.manual",),
            "ask": (
                "human.approval",
                {
                    "title": "Go?",
                    "assignees": {"groups": ["finance"]},
                    "due_in_s": 3600,
                    "on_timeout": "approve",
                },
            ),
            "after": fn("add", a=1, b=1),
        },
        ["start>ask", "ask.approved>after"],
    )
    wf = workflow(alice, graph)
    runs = [start(wf) for _ in range(RUNS)]
    tasks = HumanTask.objects.filter(run__in=runs)
    wait_until(lambda: tasks.count() == RUNS, timeout=60, what="every approval to be asked")

    # When the hour passes for all of them at once (the step's timer and the task's due
    # time, as the hour would move them): both clusters' sweepers find every one.
    now = timezone.now()
    with transaction.atomic():
        assert tasks.update(due_at=now) == RUNS
        assert StepRun.objects.filter(run__in=runs, node_id="ask").update(wake_at=now) == RUNS

    wait_until(lambda: all_ended(runs), timeout=60, what="the runs to end")
    for run in runs:
        assert_sound(run)
        assert steps(run)["ask"].output["timed_out"] is True
        assert steps(run)["after"].output == 2
        closed = RunEvent.objects.filter(run=run, type="task.closed")
        assert [e.data["reason"] for e in closed] == ["timeout"]  # closed once, by one sweeper
    assert set(tasks.values_list("status", flat=True)) == {"approved"}


def test_attempts_left_by_a_dead_worker_are_found_by_both_sweepers_and_retried_once(
    clusters, server, alice, settings
):
    # Given runs whose service call was claimed by a worker that died before calling (its
    # lease of one second runs out while both clusters' sweepers look every 0.2 s).
    settings.FLOWDECK_LEASE_S = 1
    server.reply("/svc", Reply(200, {"ok": 1}))
    graph = build(
        {
            "start": ("trigger.manual",),
            "call": call(server.url("/svc"), {"max_attempts": 2, "backoff_s": 0}),
        },
        ["start>call"],
    )
    wf = workflow(alice, graph)
    with transaction.atomic():  # committed together: no live worker gets there first
        runs = [start(wf) for _ in range(RUNS)]
        for run in runs:
            execute(run, "start")
            step = StepRun.objects.get(run=run, node_id="call")
            assert transitions.do_claim_attempt(step.pk, 1, "dead-host:1:1") is not None

    wait_until(lambda: all_ended(runs), timeout=60, what="the runs to end")

    for run in runs:
        assert_sound(run)
        assert lost_attempts(run, "call") == [1]  # one sweeper failed it; the other saw it done
        lost = RunEvent.objects.get(run=run, node_id="call", type="step.retrying")
        assert "dead-host:1:1" in lost.data["error"]["message"]
    # Only the second attempts called: the first died before its call.
    assert sorted(keys(server)) == sorted(f"{run.pk}:call:2" for run in runs)
    assert_no_key_twice(server)


def test_schedule_slots_due_together_start_one_run_each_with_three_schedulers(clusters, alice):
    # Given three schedules each three yearly slots behind (workers down for years), one of
    # which queues a slot while its previous run goes on.
    cron = "0 6 1 1 *"
    due = list(islice(slots_until(cron, UTC, timezone.now()), 3))[::-1]
    workflows = []
    for overlap in ("allow", "allow", "queue"):
        graph = scheduled_graph(
            cron, work=fn("echo"), catch_up="all", catch_up_limit=3, overlap=overlap
        )
        wf = workflow(alice, graph, name=f"yearly-{overlap}-{len(workflows)}")
        workflows.append(wf)
    # All due at once: the two clusters' sweepers and this test's own loop race for them.
    WorkflowSchedule.objects.filter(workflow__in=workflows).update(next_fire_at=due[0])

    def fired() -> bool:
        fire_due_schedules(timezone.now())
        runs = Run.objects.filter(workflow__in=workflows)
        return runs.count() == 9 and not runs.exclude(status="succeeded").exists()

    wait_until(fired, timeout=60, what="every slot's run to start and end")

    expected = [f"schedule:{slot_key(slot)}" for slot in due]
    for wf in workflows:
        runs = list(Run.objects.filter(workflow=wf).order_by("id"))
        assert [r.idempotency_key for r in runs] == expected  # one run per slot, in order
        for run in runs:
            assert_sound(run)
        if wf.name.startswith("yearly-queue"):
            # Queued slots started one after the other, never overlapping.
            for before, after in zip(runs, runs[1:], strict=False):
                assert after.created_at >= before.finished_at
        schedule = WorkflowSchedule.objects.get(workflow=wf)
        assert schedule.pending_slots == [] and schedule.last_run_id == runs[-1].pk
        assert schedule.next_fire_at > timezone.now()


def test_one_idempotency_key_sent_by_many_clients_at_once_starts_one_run(clusters, alice):
    graph = build({"start": ("trigger.manual",), "work": fn("add", a=1, b=2)}, ["start>work"])
    wf = workflow(alice, graph)
    clients = 6
    barrier = threading.Barrier(clients)
    answers: list[tuple[int, int] | None] = [None] * clients

    def client(i: int) -> None:
        api = APIClient()
        api.force_authenticate(alice)
        try:
            barrier.wait()
            response = api.post(
                f"/api/workflows/{wf.pk}/runs/",
                {"input": {}, "idempotency_key": "order-42"},
                format="json",
            )
            answers[i] = (response.status_code, response.json()["id"])
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    [run] = Run.objects.filter(workflow=wf)
    assert Counter(status for status, _ in answers) == {201: 1, 200: clients - 1}
    assert {run_id for _, run_id in answers} == {run.pk}
    assert ended(run).status == "succeeded", logs(clusters)
    assert_sound(run)
    assert steps(run)["work"].output == 3
