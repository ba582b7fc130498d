"""Bulk decisions (issue 19, item 3): POST /api/approvals/bulk-decide/ approves or rejects
several approvals with one comment, each its own exactly-once decision; through DRF's client,
runs driven in-process."""

import pytest
from django.contrib.auth.models import Group

from engine.models import RunEvent, TaskDecision
from tests.engine_kit import approval_graph, drive, form_graph, start, statuses, task_of, workflow

BULK = "/api/approvals/bulk-decide/"


def asked(owner, graph=None, actor=None, amount=5):
    run = start(workflow(owner, graph or approval_graph()), {"amount": amount}, actor=actor)
    drive()
    return run


def bulk(api, user, tasks, decision="approve", comment="ok", **headers):
    api.force_authenticate(user)
    body = {"tasks": [t if isinstance(t, int) else t.pk for t in tasks], "decision": decision}
    body["comment"] = comment
    return api.post(BULK, body, format="json", **headers)


def by_id(response):
    return {r["id"]: r for r in response.json()["results"]}


def test_bulk_decide_needs_login(api):
    response = api.post(BULK, {"tasks": [1], "decision": "approve"}, format="json")

    assert response.status_code == 401


def test_bob_approves_three_tasks_with_one_comment_and_all_three_runs_go_on(api, alice, bob):
    runs = [asked(alice, amount=n) for n in (1, 2, 3)]
    tasks = [task_of(run) for run in runs]

    response = bulk(api, bob, tasks, comment="all fine")

    assert response.status_code == 200
    body = response.json()
    assert (body["decided"], body["failed"]) == (3, 0)
    assert [r["id"] for r in body["results"]] == [t.pk for t in tasks]  # in the order sent
    assert all(r["ok"] and r["status"] == 200 for r in body["results"])
    assert {r["task"]["status"] for r in body["results"]} == {"approved"}
    drive()
    for run in runs:
        assert statuses(run)["yes"] == "succeeded"
        decision = TaskDecision.objects.get(task=task_of(run))
        assert (decision.user, decision.decision, decision.comment) == (bob, "approve", "all fine")


def test_mixed_success_and_failure_is_reported_per_task(api, alice, bob, charlie):
    mine = task_of(asked(alice))
    closed = task_of(asked(alice))
    not_mine = task_of(asked(alice, approval_graph(assignees={"users": ["alice"]})))
    form = task_of(asked(alice, form_graph()))
    bulk(api, bob, [closed])  # closed before the bulk request

    response = bulk(api, bob, [mine, closed, not_mine, form, 999999], decision="reject")

    assert response.status_code == 200
    results = by_id(response)
    assert response.json()["decided"] == 1
    assert results[mine.pk]["ok"] is True
    assert results[mine.pk]["task"]["status"] == "rejected"
    assert (results[closed.pk]["status"], results[closed.pk]["errors"][0]["code"]) == (
        409,
        "task_closed",
    )
    # alice's own task is invisible to bob: the same 404 a single decide gives.
    assert results[not_mine.pk]["status"] == 404
    assert results[form.pk]["status"] == 400
    assert results[form.pk]["errors"][0]["code"] == "form"
    assert "form" in results[form.pk]["errors"][0]["message"]
    assert results[999999]["status"] == 404
    assert "task" not in results[999999]
    # The failures undid nothing: bob's rejection is kept.
    assert TaskDecision.objects.filter(task=mine, user=bob).count() == 1


def test_someone_who_sees_a_task_but_is_no_assignee_gets_403_for_it(api, alice, bob, charlie):
    task = task_of(asked(alice))
    # alice owns the workflow: she sees its tasks but is not in finance.

    response = bulk(api, alice, [task])

    result = response.json()["results"][0]
    assert (result["ok"], result["status"]) == (False, 403)
    assert result["errors"][0]["code"] == "not_assignee"


def test_four_eyes_the_requester_gets_403_for_their_own_run_and_the_others_are_decided(
    api, alice, bob
):
    alice.groups.add(Group.objects.get(name="finance"))
    own = task_of(asked(alice, approval_graph(forbid_requester=True), actor=alice))
    other = task_of(asked(alice, approval_graph(forbid_requester=True), actor=bob))

    response = bulk(api, alice, [own, other])

    results = by_id(response)
    assert (results[own.pk]["status"], results[own.pk]["errors"][0]["code"]) == (403, "four_eyes")
    assert results[other.pk]["ok"] is True


def test_a_retry_with_the_same_idempotency_key_answers_as_the_first_time(api, alice, bob, dave):
    first = task_of(asked(alice))
    second = task_of(asked(alice))
    headers = {"HTTP_IDEMPOTENCY_KEY": "bulk-42"}

    once = bulk(api, bob, [first, second], **headers)
    again = bulk(api, bob, [first, second], **headers)

    assert [r["status"] for r in once.json()["results"]] == [200, 200]
    assert [r["status"] for r in again.json()["results"]] == [200, 200]
    assert by_id(again)[first.pk]["task"]["status"] == "approved"
    assert TaskDecision.objects.filter(user=bob).count() == 2
    assert set(TaskDecision.objects.values_list("idempotency_key", flat=True)) == {
        f"bulk-42:{first.pk}",
        f"bulk-42:{second.pk}",
    }
    assert RunEvent.objects.filter(type="task.decided").count() == 2
    # Without the key, the second time is a conflict per task.
    plain = bulk(api, bob, [first])
    assert plain.json()["results"][0]["status"] == 409


def test_a_retry_after_a_partial_failure_decides_only_what_is_left(api, alice, bob, dave):
    first = task_of(asked(alice))
    second = task_of(asked(alice))
    headers = {"HTTP_IDEMPOTENCY_KEY": "bulk-43"}
    bulk(api, bob, [first], **headers)  # the first request got only this far

    retry = bulk(api, bob, [first, second], **headers)

    assert [r["ok"] for r in retry.json()["results"]] == [True, True]
    assert TaskDecision.objects.filter(user=bob).count() == 2


def test_a_long_idempotency_key_is_hashed_per_task_to_fit(api, alice, bob):
    task = task_of(asked(alice))
    key = "k" * 200

    once = bulk(api, bob, [task], HTTP_IDEMPOTENCY_KEY=key)
    again = bulk(api, bob, [task], HTTP_IDEMPOTENCY_KEY=key)

    assert once.json()["results"][0]["ok"] and again.json()["results"][0]["ok"]
    assert TaskDecision.objects.get().idempotency_key.startswith("sha256:")


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"decision": "approve"}, "tasks", "required"),
        ({"tasks": [], "decision": "approve"}, "tasks", "min_length"),
        ({"tasks": list(range(1, 102)), "decision": "approve"}, "tasks", "max_length"),
        ({"tasks": ["x"], "decision": "approve"}, "tasks.0", "invalid"),
        ({"tasks": [1, 2, 1], "decision": "approve"}, "tasks.2", "duplicate"),
        ({"tasks": [1]}, "decision", "required"),
        ({"tasks": [1], "decision": "submit"}, "decision", "invalid_choice"),
        ({"tasks": "1", "decision": "approve"}, "tasks", "not_a_list"),
    ],
)
def test_a_bad_bulk_body_is_a_400_naming_the_field(api, bob, body, field, code):
    api.force_authenticate(bob)

    response = api.post(BULK, body, format="json")

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert (error["field"], error["code"]) == (field, code)


def test_the_route_is_not_taken_for_a_task_id(api, alice, bob):
    api.force_authenticate(bob)

    assert api.get(BULK).status_code == 405
