"""Bulk decisions and out of office with real django-q2 workers: the workers park the runs on
their tasks, people decide through the API, and the workers carry the runs on. The workers
are other processes, so the absence here is one that lasts now (time_machine does not reach
them; tests/test_absences.py moves time in-process)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from engine.models import HumanTask, Run, TaskDelegation
from people.absences import do_create_absence
from tests.engine_kit import build, fn, start, statuses, workflow
from tests.helpers import wait_until
from tests.test_approvals_workers import client, ended

pytestmark = pytest.mark.django_db(transaction=True)


def invoice_graph(assignees):
    ask = {"title": "Pay invoice {{ input.invoice }}", "assignees": assignees}
    return build(
        {
            "start": ("trigger.manual",),
            "ask": ("human.approval", ask),
            "pay": fn("add", a="{{ input.amount }}", b=0),
        },
        ["start>ask", "ask.approved>pay"],
    )


def parked(run: Run) -> HumanTask:
    return wait_until(
        lambda: HumanTask.objects.filter(run=run, status="open").first(),
        timeout=20,
        what=f"the approval task of run {run.pk}",
    )


def test_bob_bulk_approves_the_tasks_of_three_runs_and_all_three_go_on(workers, alice, bob):
    wf = workflow(alice, invoice_graph({"groups": ["finance"]}))
    runs = [start(wf, {"invoice": f"F-{n}", "amount": n}, actor=alice) for n in (1, 2, 3)]
    tasks = [parked(run) for run in runs]

    response = client(bob).post(
        "/api/approvals/bulk-decide/",
        {"tasks": [t.pk for t in tasks], "decision": "approve", "comment": "month end"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["decided"] == 3
    for n, run in zip((1, 2, 3), runs, strict=True):
        run = ended(run)
        assert run.status == "succeeded", workers.log()
        assert statuses(run)["pay"] == "succeeded"
        assert run.steps.get(node_id="pay").output == n


def test_an_approval_for_an_absent_user_lands_with_the_deputy_who_moves_the_run_on(
    workers, alice, bob, dave
):
    now = timezone.now()
    do_create_absence(
        actor=bob,
        user=bob,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=1),
        deputy="dave",
    )
    run = start(workflow(alice, invoice_graph({"users": ["bob"]})), {"invoice": "F-9", "amount": 9})
    task = parked(run)

    # Recorded by the worker that created the task: dave has it, bob sees it handed over.
    delegation = TaskDelegation.objects.get(task=task)
    assert (delegation.from_user, delegation.to_user, delegation.reason) == (bob, dave, "absence")
    assert client(bob).get("/api/approvals/").json()["count"] == 0
    inbox = client(dave).get("/api/approvals/").json()["results"]
    assert [t["id"] for t in inbox] == [task.pk]

    response = client(dave).post(f"/api/approvals/{task.pk}/decide/", {"decision": "approve"})

    assert response.status_code == 200, response.json()
    run = ended(run)
    assert run.status == "succeeded", workers.log()
    assert run.steps.get(node_id="ask").output["decided_by"] == "dave"
