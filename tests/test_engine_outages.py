"""The engine through a moment without its broker or its database, in-process: what
tests/faults/test_service_restarts.py found by restarting real Redis and PostgreSQL servers
under real processes (scale-out only), checked here in both modes and in milliseconds."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import OperationalError, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from engine import recovery, tasks, transitions
from engine.models import Run, RunEvent
from tests.engine_kit import build, execute, fn, noop, start, statuses, steps, workflow


def two_steps(work: dict) -> dict:
    return build(
        {"start": ("trigger.manual",), "work": work, "after": noop()}, ["start>work", "work>after"]
    )


def events(run: Run, node: str, type: str) -> int:
    return RunEvent.objects.filter(run=run, node_id=node, type=type).count()


@pytest.mark.django_db(transaction=True)
def test_a_run_started_while_the_broker_is_down_is_201_and_the_sweeper_enqueues_it(
    alice, monkeypatch, caplog
):
    wf = workflow(alice, two_steps(noop()))

    def broker_down(step_id: int, attempt: int, priority: str) -> None:
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(transitions, "enqueue_attempt", broker_down)
    api = APIClient()
    api.force_authenticate(alice)

    response = api.post(f"/api/workflows/{wf.pk}/runs/", {"input": {}}, format="json")

    # Committed, so it is a success: a 500 would make the client start it again.
    assert response.status_code == 201, response.content
    run = Run.objects.get()
    assert statuses(run)["start"] == "queued"
    assert "the sweeper will enqueue it again" in caplog.text
    sent: list[tuple[int, int]] = []
    monkeypatch.setattr(
        transitions, "enqueue_attempt", lambda *args, priority: sent.append((*args, priority))
    )
    later = timezone.now() + timedelta(seconds=settings.FLOWDECK_REQUEUE_AFTER_S + 1)
    assert recovery.requeue_stale(later) == 1
    assert sent == [(steps(run)["start"].pk, 1, "normal")]


@pytest.mark.django_db
def test_a_finished_attempt_is_recorded_once_the_database_answers_again(alice, monkeypatch):
    run = start(workflow(alice, two_steps(fn("add", a=1, b=2))))
    execute(run, "start")
    work = steps(run)["work"]
    real = transitions.do_record
    tries = []

    def connection_lost_at_commit(claimed, outcome, keep=None):
        tries.append((claimed.node_id, claimed.status))
        if len(tries) == 1:
            # The whole recording happens, then its commit fails: nothing is kept, though the
            # claimed step in memory says succeeded and ``keep`` holds the next step.
            with transaction.atomic():
                real(claimed, outcome, keep=keep)
                raise OperationalError("terminating connection due to administrator command")
        return real(claimed, outcome, keep=keep)

    monkeypatch.setattr(transitions, "do_record", connection_lost_at_commit)

    tasks.run_attempt(work.pk, work.attempt)

    # The second try read the step again; then the worker ran the next step itself.
    assert tries == [("work", "running"), ("work", "running"), ("after", "running")]
    assert statuses(run) == {"start": "succeeded", "work": "succeeded", "after": "succeeded"}
    assert steps(run)["work"].output == 3
    assert events(run, "work", "step.succeeded") == 1
    assert events(run, "after", "step.started") == 1


@pytest.mark.django_db
def test_a_lease_that_cannot_be_renewed_for_a_moment_does_not_end_the_attempt(
    alice, monkeypatch, settings
):
    settings.FLOWDECK_LEASE_S = 0.3  # a beat every 0.1 s
    run = start(workflow(alice, two_steps(fn("sleep", seconds=0.5))))
    execute(run, "start")
    failures = [OperationalError("server closed the connection unexpectedly")] * 2
    real = transitions.do_heartbeat

    def database_away_for_two_beats(*args):
        if failures:
            raise failures.pop()
        return real(*args)

    monkeypatch.setattr(transitions, "do_heartbeat", database_away_for_two_beats)

    assert execute(run, "work")

    assert failures == []
    assert statuses(run)["work"] == "succeeded"
    assert steps(run)["work"].attempt == 1
