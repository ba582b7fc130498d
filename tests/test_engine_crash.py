"""Crashes: ``kill -9`` of the whole worker process group mid-run, then a restart. The run
finishes, no step result is lost and no attempt is recorded twice."""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from engine.models import HumanTask, Run, RunEvent
from tests.engine_kit import build, fn, noop, start, steps, workflow
from tests.helpers import wait_until
from tests.workers import Workers

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def crashable(django_db_setup, tmp_path):
    """Start workers as often as a test likes; all are stopped at the end."""
    started: list[Workers] = []

    def start_workers() -> Workers:
        workers = Workers(tmp_path / f"worker-{len(started)}.log").start()
        started.append(workers)
        return workers

    yield start_workers
    for workers in started:
        workers.stop()


def ended(run: Run, timeout: float) -> Run:
    def done() -> Run | None:
        run.refresh_from_db()
        return run if run.is_terminal else None

    return wait_until(done, timeout=timeout, what=f"run {run.pk} to end")


def started_attempts(run: Run, node: str) -> list[int]:
    events = RunEvent.objects.filter(run=run, node_id=node, type="step.started").order_by("id")
    return [e.attempt for e in events]


def test_a_step_running_when_the_workers_die_runs_again_after_a_restart(crashable, alice):
    graph = build(
        {
            "start": ("trigger.manual",),
            "before": fn("add", a=1, b=2),
            "slow": {**fn("sleep", seconds=3), "retry": {"max_attempts": 3, "backoff_s": 0}},
            "after": fn("add", a="{{ steps.before.output }}", b=10),
        },
        ["start>before", "before>slow", "slow>after"],
    )
    workers = crashable()
    run = start(workflow(alice, graph))
    wait_until(lambda: steps(run)["slow"].status == "running", timeout=20, what="slow to run")

    workers.kill()
    crashable()  # a fresh cluster; its sweeper finds the dead worker's lease expired

    run = ended(run, timeout=60)
    assert run.status == "succeeded", steps(run)["slow"].error
    by_node = steps(run)
    # What finished before the crash is kept, and used after it.
    assert by_node["before"].output == 3
    assert by_node["after"].output == 13
    assert started_attempts(run, "before") == [1]
    assert started_attempts(run, "slow") == [1, 2]
    assert started_attempts(run, "after") == [1]
    lost = RunEvent.objects.get(run=run, node_id="slow", type="step.retrying")
    assert lost.data["error"]["code"] == "lost"


def test_a_pending_delay_fires_after_the_workers_come_back(crashable, alice):
    graph = build(
        {"start": ("trigger.manual",), "wait": ("flow.delay", {"seconds": 2}), "after": noop()},
        ["start>wait", "wait>after"],
    )
    workers = crashable()
    run = start(workflow(alice, graph))
    wait_until(lambda: steps(run)["wait"].status == "waiting", timeout=20, what="the delay")

    workers.kill()
    due = steps(run)["wait"].wake_at
    wait_until(lambda: timezone.now() > due, timeout=10, what="the timer to be due")
    crashable()

    run = ended(run, timeout=30)
    assert run.status == "succeeded"
    assert started_attempts(run, "wait") == [1]
    assert started_attempts(run, "after") == [1]
    assert RunEvent.objects.filter(run=run, node_id="wait", type="step.succeeded").count() == 1


def test_a_decision_made_while_the_workers_are_dead_is_carried_out_after_a_restart(
    crashable, alice, bob
):
    graph = build(
        {
            "start": ("trigger.manual",),
            "ask": ("human.approval", {"title": "Go?", "assignees": {"groups": ["finance"]}}),
            "after": fn("add", a=1, b=1),
        },
        ["start>ask", "ask.approved>after"],
    )
    workers = crashable()
    run = start(workflow(alice, graph))
    wait_until(lambda: HumanTask.objects.filter(run=run).exists(), timeout=20, what="the task")

    workers.kill()
    api = APIClient()
    api.force_authenticate(bob)
    task = HumanTask.objects.get(run=run)
    # Committed with the step's end and the next step queued; the broker keeps the task.
    assert api.post(f"/api/approvals/{task.pk}/decide/", {"decision": "approve"}).status_code == 200
    assert steps(run)["after"].status == "queued"
    crashable()

    run = ended(run, timeout=30)
    assert run.status == "succeeded"
    assert steps(run)["after"].output == 2
    assert started_attempts(run, "after") == [1]
    assert RunEvent.objects.filter(run=run, type="task.decided").count() == 1
