"""Deciding with an ``Idempotency-Key`` header (docs/human-tasks.md): a client whose answer
was lost retries the same request and gets the task back, decided once; the key never lets
anyone decide twice. Runs driven in-process; tests/faults/test_web_crash.py does it across a
web process killed between the commit and the response."""

import pytest
from rest_framework.test import APIClient

from engine.models import RunEvent, TaskDecision
from tests.engine_kit import approval_graph, drive, form_graph, start, statuses, task_of, workflow

pytestmark = pytest.mark.django_db


def asked(owner, graph=None, **config):
    run = start(workflow(owner, graph or approval_graph(**config)), {"amount": 5}, actor=owner)
    drive()
    return run


def decide(user, task, body, key=None):
    api = APIClient()
    api.force_authenticate(user)
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return api.post(f"/api/approvals/{task.pk}/decide/", body, format="json", **headers)


def decided_events(run):
    return RunEvent.objects.filter(run=run, type="task.decided").count()


def test_a_retry_with_the_same_key_and_body_returns_the_task_decided_once(alice, bob):
    run = asked(alice)
    task = task_of(run)
    body = {"decision": "approve", "comment": "ok"}

    first = decide(bob, task, body, key="bob-approves-1")
    again = decide(bob, task, body, key="bob-approves-1")

    assert first.status_code == 200, first.content
    assert again.status_code == 200, again.content
    assert again.json() == first.json()
    assert again.json()["status"] == "approved"
    assert TaskDecision.objects.filter(task=task).count() == 1
    assert decided_events(run) == 1
    drive()
    assert statuses(run)["yes"] == "succeeded"
    assert RunEvent.objects.filter(run=run, node_id="yes", type="step.started").count() == 1


def test_the_same_key_with_another_decision_is_409_and_changes_nothing(alice, bob):
    run = asked(alice)
    task = task_of(run)
    decide(bob, task, {"decision": "approve"}, key="k1")

    other = decide(bob, task, {"decision": "reject"}, key="k1")
    other_comment = decide(bob, task, {"decision": "approve", "comment": "sure"}, key="k1")

    for response in (other, other_comment):
        assert response.status_code == 409
        assert response.json()["errors"][0]["code"] == "idempotency_key_reused"
    assert list(TaskDecision.objects.values_list("decision", flat=True)) == ["approve"]
    assert decided_events(run) == 1


def test_a_second_decision_without_the_key_or_with_another_is_still_409(alice, bob, dave):
    run = asked(alice, required_approvals=2)
    task = task_of(run)
    decide(bob, task, {"decision": "approve"}, key="k1")

    without = decide(bob, task, {"decision": "approve"})
    another = decide(bob, task, {"decision": "approve"}, key="k2")

    for response in (without, another):
        assert response.status_code == 409
        assert response.json()["errors"][0]["code"] == "already_decided"
    assert TaskDecision.objects.count() == 1


def test_a_key_is_per_person_so_dave_deciding_with_bobs_key_is_a_decision_of_his_own(
    alice, bob, dave
):
    run = asked(alice, required_approvals=2)
    task = task_of(run)

    decide(bob, task, {"decision": "approve"}, key="same")
    response = decide(dave, task, {"decision": "approve"}, key="same")

    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    assert TaskDecision.objects.count() == 2


def test_a_retried_form_submission_is_recorded_once(alice, bob):
    run = asked(alice, graph=form_graph())
    task = task_of(run)
    body = {"data": {"iban": "FR7630006"}, "comment": ""}

    first = decide(bob, task, body, key="form-1")
    again = decide(bob, task, body, key="form-1")
    changed = decide(bob, task, {"data": {"iban": "DE0000000"}}, key="form-1")

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["status"] == "submitted"
    assert changed.status_code == 409
    assert changed.json()["errors"][0]["code"] == "idempotency_key_reused"
    assert TaskDecision.objects.count() == 1


def test_someone_who_may_not_see_the_task_gets_404_whatever_key_they_send(alice, bob, charlie):
    task = task_of(asked(alice))
    decide(bob, task, {"decision": "approve"}, key="k1")

    assert decide(charlie, task, {"decision": "approve"}, key="k1").status_code == 404


@pytest.mark.parametrize("key", ["", "   ", "x" * 201, "tab\there"])
def test_a_bad_idempotency_key_is_400_naming_the_header(alice, bob, key):
    task = task_of(asked(alice))

    response = decide(bob, task, {"decision": "approve"}, key=key)

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "headers.Idempotency-Key"
    assert TaskDecision.objects.count() == 0
