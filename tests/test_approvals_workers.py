"""Approvals with real django-q2 workers (``manage.py flowdeck_worker``): people decide through
the API while the workers hold nothing for the waiting step; a decision is kept exactly once,
whatever crashes around it. On the embedded default and, in test.sh's second pass, on
PostgreSQL and Redis."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from engine import transitions
from engine.models import HumanTask, Run, RunEvent, TaskDecision
from tests.engine_kit import build, fn, start, statuses, steps, workflow
from tests.helpers import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def invoice_graph():
    """Approve, then pay (a function); a rejection ends the run as failed."""
    ask = {
        "title": "Pay invoice {{ input.invoice }}",
        "assignees": {"groups": ["finance"]},
        "forbid_requester": True,
    }
    return build(
        {
            "start": ("trigger.manual",),
            "ask": ("human.approval", ask),
            "pay": fn("add", a="{{ input.amount }}", b=0),
            "refuse": ("flow.fail", {"message": "refused by {{ steps.ask.output.decided_by }}"}),
        },
        ["start>ask", "ask.approved>pay", "ask.rejected>refuse"],
    )


def waiting_task(alice) -> HumanTask:
    """A run of the invoice workflow started by alice, once the workers parked it on its task."""
    run = start(workflow(alice, invoice_graph()), {"invoice": "F-1", "amount": 120}, actor=alice)
    return wait_until(
        lambda: HumanTask.objects.filter(run=run, status="open").first(),
        timeout=20,
        what="the approval task",
    )


def ended(run: Run, timeout: float = 30) -> Run:
    def done() -> Run | None:
        run.refresh_from_db()
        return run if run.is_terminal else None

    return wait_until(done, timeout=timeout, what=f"run {run.pk} to end")


def client(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def decide_url(task: HumanTask) -> str:
    return f"/api/approvals/{task.pk}/decide/"


def started(run: Run, node: str) -> int:
    return RunEvent.objects.filter(run=run, node_id=node, type="step.started").count()


def test_bob_approves_through_the_api_and_the_run_goes_on_by_that_handle(
    workers, alice, bob, charlie
):
    task = waiting_task(alice)
    run = task.run
    ask = steps(run)["ask"]
    assert (ask.status, ask.lease_owner, ask.lease_expires_at) == ("waiting", "", None)
    run.refresh_from_db()
    assert run.status == "waiting"

    # charlie may neither see nor decide it; alice started the run (four eyes).
    assert client(charlie).get("/api/approvals/").json()["count"] == 0
    assert client(charlie).post(decide_url(task), {"decision": "approve"}).status_code == 404
    assert client(alice).post(decide_url(task), {"decision": "approve"}).status_code == 403
    assert client(bob).get("/api/approvals/").json()["results"][0]["id"] == task.pk

    response = client(bob).post(decide_url(task), {"decision": "approve", "comment": "ok"})

    assert response.status_code == 200, response.json()
    run = ended(run)
    assert run.status == "succeeded", workers.log()
    assert (statuses(run)["pay"], statuses(run)["refuse"]) == ("succeeded", "skipped")
    assert steps(run)["pay"].output == 120
    assert steps(run)["ask"].output["decided_by"] == "bob"
    second = client(bob).post(decide_url(task), {"decision": "reject"})
    assert second.status_code == 409
    assert started(run, "pay") == 1


def test_a_rejection_through_the_api_takes_the_rejected_handle(workers, alice, bob):
    task = waiting_task(alice)

    client(bob).post(decide_url(task), {"decision": "reject"})

    run = ended(task.run)
    assert (run.status, run.error["message"]) == ("failed", "refused by bob")
    assert statuses(run)["pay"] == "skipped"


def test_two_deciders_racing_have_exactly_one_winner_and_the_run_continues_once(
    workers, alice, bob, dave
):
    task = waiting_task(alice)
    barrier = threading.Barrier(2)
    codes: dict[str, int] = {}

    def decide(user) -> None:
        api = client(user)
        try:
            barrier.wait()
            codes[user.username] = api.post(decide_url(task), {"decision": "approve"}).status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(user,)) for user in (bob, dave)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(codes.values()) == [200, 409]
    run = ended(task.run)
    assert run.status == "succeeded"
    winner = next(name for name, code in codes.items() if code == 200)
    assert steps(run)["ask"].output["decided_by"] == winner
    assert TaskDecision.objects.filter(task=task).count() == 1
    assert started(run, "pay") == 1
    assert RunEvent.objects.filter(run=run, type="task.closed").count() == 1


def test_a_decision_whose_enqueue_is_lost_is_recovered_by_the_sweeper(
    workers, alice, bob, monkeypatch
):
    """The web process dies right after the commit, before it hands the next step to the
    broker: the decision and the queued next step are committed, and the workers' sweeper
    enqueues the step again (FLOWDECK_REQUEUE_AFTER_S)."""
    task = waiting_task(alice)
    lost = []
    monkeypatch.setattr(transitions, "enqueue_attempt", lambda *args, **kw: lost.append(args))

    assert client(bob).post(decide_url(task), {"decision": "approve"}).status_code == 200
    monkeypatch.undo()

    assert len(lost) == 1  # the step pay, never handed to the broker
    assert statuses(task.run)["pay"] == "queued"
    run = ended(task.run, timeout=40)
    assert run.status == "succeeded", workers.log()
    assert started(run, "pay") == 1
    assert TaskDecision.objects.filter(task=task).count() == 1


def test_a_crash_inside_the_decision_keeps_nothing_and_the_decision_can_be_made_again(
    workers, alice, bob, monkeypatch
):
    """The transaction dies after the decision's row and before the step's completion: all of
    it rolls back (no half-decided task, no run continued), and deciding again works."""
    task = waiting_task(alice)

    def crash(*args, **kwargs):
        raise RuntimeError("the web process died here")

    monkeypatch.setattr("engine.events.record_step_succeeded", crash)
    with pytest.raises(RuntimeError):
        transitions.do_decide(task.pk, actor=bob, decision="approve")
    monkeypatch.undo()

    task.refresh_from_db()
    assert (task.status, task.decisions.count()) == ("open", 0)
    assert statuses(task.run)["ask"] == "waiting"
    assert not RunEvent.objects.filter(run=task.run, type__startswith="task.decided").exists()

    assert client(bob).post(decide_url(task), {"decision": "approve"}).status_code == 200
    run = ended(task.run)
    assert run.status == "succeeded"
    assert started(run, "pay") == 1
