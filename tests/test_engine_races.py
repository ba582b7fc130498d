"""Races between real threads with their own database connections: the compare-and-set
lets exactly one win, and the loser writes nothing."""

import threading

import pytest
from django.db import connection

from engine import transitions
from engine.models import RunEvent, StepRun
from engine.steps.base import StepResult
from tests.engine_kit import build, execute, start, workflow

pytestmark = pytest.mark.django_db(transaction=True)


def race(n: int, action) -> list:
    """Run ``action(i)`` in n threads released at the same moment; return their results."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def worker(i: int) -> None:
        try:
            barrier.wait()
            results[i] = action(i)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def running_step(alice):
    graph = build(
        {"start": ("trigger.manual",), "a": ("data.transform", {"value": 1})}, ["start>a"]
    )
    run = start(workflow(alice, graph))
    execute(run, "start")
    step = StepRun.objects.get(run=run, node_id="a")
    assert transitions.do_claim_attempt(step.pk, step.attempt, "w:1:1") is not None
    return run, step


def test_two_workers_completing_the_same_attempt_one_wins_with_one_event(alice):
    run, step = running_step(alice)

    results = race(
        2, lambda i: transitions.do_complete_attempt(step.pk, step.attempt, StepResult(output=i))
    )

    assert sorted(results) == [False, True]
    winner = results.index(True)
    step.refresh_from_db()
    assert step.output == winner
    assert RunEvent.objects.filter(run=run, node_id="a", type="step.succeeded").count() == 1
    assert RunEvent.objects.filter(run=run, type="run.succeeded").count() == 1


def test_many_workers_claiming_one_delivery_one_claims_it(alice):
    graph = build({"start": ("trigger.manual",)}, [])
    run = start(workflow(alice, graph))
    step = StepRun.objects.get(run=run)

    results = race(4, lambda i: transitions.do_claim_attempt(step.pk, 1, f"w:{i}:1"))

    assert sum(r is not None for r in results) == 1
    assert RunEvent.objects.filter(run=run, type="step.started").count() == 1


def test_a_complete_racing_a_cancel_leaves_one_consistent_outcome(alice):
    run, step = running_step(alice)

    results = race(
        2,
        lambda i: (
            transitions.do_complete_attempt(step.pk, step.attempt, StepResult(output=1))
            if i == 0
            else transitions.do_cancel_run(run.pk, actor=None)
        ),
    )

    run.refresh_from_db()
    step.refresh_from_db()
    if run.status == "succeeded":
        assert results == [True, False] and step.status == "succeeded"
    else:
        assert run.status == "cancelled"
        assert results == [False, True] and step.status == "cancelled"
    assert (
        RunEvent.objects.filter(
            run=run, node_id="a", new_status__in=["succeeded", "cancelled"]
        ).count()
        == 1
    )
