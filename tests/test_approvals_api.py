"""The approvals API (CONTRACT §5): the inbox, a task, decide, delegate; through DRF's client,
runs driven in-process."""

import threading

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from designer.models import Role, WorkflowGrant
from engine.models import HumanTask, RunEvent
from tests.engine_kit import (
    approval_graph,
    drive,
    form_graph,
    start,
    statuses,
    steps,
    task_of,
    workflow,
)


def asked(owner, graph=None, actor=None, input=None):
    run = start(workflow(owner, graph or approval_graph()), input or {"amount": 5}, actor=actor)
    drive()
    return run


def url(task, action=""):
    return f"/api/approvals/{task.pk}/{action + '/' if action else ''}"


def as_user(api, user):
    api.force_authenticate(user)
    return api


# --- The permission matrix ----------------------------------------------------------------------


def test_every_approvals_endpoint_needs_login(api):
    assert api.get("/api/approvals/").status_code == 401
    assert api.get("/api/approvals/1/").status_code == 401
    assert api.post("/api/approvals/1/decide/", {}, format="json").status_code == 401
    assert api.post("/api/approvals/1/delegate/", {}, format="json").status_code == 401


def test_someone_who_is_not_an_assignee_sees_no_task_at_all(api, alice, bob, charlie):
    task = task_of(asked(alice))
    as_user(api, charlie)

    assert api.get("/api/approvals/").json()["results"] == []
    assert api.get("/api/approvals/?status=all").json()["count"] == 0
    assert api.get(url(task)).status_code == 404
    decide = api.post(url(task, "decide"), {"decision": "approve"}, format="json")
    assert decide.status_code == 404
    assert decide.json()["errors"][0]["message"] == "no such task"
    assert api.post(url(task, "delegate"), {"to": "charlie"}, format="json").status_code == 404
    assert api.get("/api/approvals/999999/").status_code == 404
    assert api.get("/api/approvals/x/").status_code == 404


def test_a_viewer_of_the_workflow_sees_the_task_but_may_not_decide_it(api, alice, bob, charlie):
    run = asked(alice)
    WorkflowGrant.objects.create(workflow=run.workflow, user=charlie, role=Role.VIEWER)
    as_user(api, charlie)

    assert api.get(url(task_of(run))).json()["can_decide"] is False
    response = api.post(url(task_of(run), "decide"), {"decision": "approve"}, format="json")

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "not_assignee"
    assert api.get("/api/approvals/").json()["results"] == []  # not in their inbox


def test_four_eyes_the_requester_gets_a_403_that_says_why(api, alice, bob):
    alice.groups.add(Group.objects.get(name="finance"))
    run = asked(alice, approval_graph(forbid_requester=True), actor=alice)
    as_user(api, alice)

    listed = api.get("/api/approvals/").json()
    response = api.post(url(task_of(run), "decide"), {"decision": "approve"}, format="json")

    assert listed["open"] == 0 and listed["results"] == []  # nothing awaits her
    assert response.status_code == 403
    error = response.json()["errors"][0]
    assert error["code"] == "four_eyes"
    assert "you started this run" in error["message"]
    assert as_user(api, bob).get("/api/approvals/").json()["open"] == 1


def test_a_form_its_requester_is_asked_to_fill_is_in_their_inbox(api, alice, bob):
    # Four eyes is an approval's policy: a form's policy has no such key, which once hid the
    # form from the requester's inbox (a NULL in the SQL of the "not blocked" condition).
    alice.groups.add(Group.objects.get(name="finance"))
    run = asked(alice, form_graph(), actor=alice)
    as_user(api, alice)

    listed = api.get("/api/approvals/").json()

    assert listed["open"] == 1
    assert [t["id"] for t in listed["results"]] == [task_of(run).pk]
    assert listed["results"][0]["can_decide"] is True


# --- The inbox ----------------------------------------------------------------------------------


def test_an_assignee_sees_the_task_in_the_inbox_with_everything_to_decide_it(api, alice, bob):
    run = asked(alice, actor=alice, input={"amount": 1200})
    task = task_of(run)

    page = as_user(api, bob).get("/api/approvals/").json()

    assert (page["count"], page["open"], page["next"], page["previous"]) == (1, 1, None, None)
    item = page["results"][0]
    assert item == {
        "id": task.pk,
        "kind": "approval",
        "status": "open",
        "title": "Pay 1200 EUR",
        "description": "",
        "run": run.pk,
        "node": "ask",
        "attempt": 1,
        "workflow": run.workflow_id,
        "workflow_name": "wf",
        "requester": "alice",
        "assignees": {"users": [], "groups": ["finance"], "emails": []},
        "policy": {
            "required_approvals": 1,
            "reject_on_first_rejection": True,
            "forbid_requester": False,
            "require_comment_on_reject": False,
            "on_timeout": "fail",
            "allow_delegation": True,
            "reminder_every_s": None,
            "escalate_to": None,
            "email_links": "login",
        },
        "form_schema": None,
        "escalation_level": 0,
        "escalated_to": [],
        "due_at": None,
        "due_from": None,
        "breached_at": None,
        "created_at": item["created_at"],
        "closed_at": None,
        "approvals": 0,
        "decisions": [],
        "delegations": [],
        "result": None,
        "can_decide": True,
        "can_delegate": True,
    }
    assert api.get(url(task)).json() == item


def test_the_inbox_filters_by_status_kind_and_run(api, alice, bob):
    approval = asked(alice)
    form = asked(alice, form_graph())
    done = asked(alice)
    as_user(api, bob)
    api.post(url(task_of(done), "decide"), {"decision": "reject"}, format="json")

    def ids(query):
        page = api.get(f"/api/approvals/{query}").json()
        return [t["run"] for t in page["results"]], page["open"]

    assert ids("") == ([form.pk, approval.pk], 2)
    assert ids("?status=pending") == ([form.pk, approval.pk], 2)  # the contract's name
    assert ids("?status=closed") == ([done.pk], 2)
    assert ids("?status=all") == ([done.pk, form.pk, approval.pk], 2)
    assert ids("?status=all&kind=form") == ([form.pk], 1)
    assert ids(f"?status=all&run={approval.pk}") == ([approval.pk], 1)
    for bad in ["?status=done", "?kind=poll", "?run=x"]:
        response = api.get(f"/api/approvals/{bad}")
        assert response.status_code == 400, bad
        assert response.json()["errors"][0]["field"] == bad[1:].split("=")[0]


def test_an_approval_of_n_leaves_the_inbox_of_who_approved_but_stays_open(api, alice, bob, dave):
    run = asked(alice, approval_graph(required_approvals=2))
    as_user(api, bob)

    decided = api.post(url(task_of(run), "decide"), {"decision": "approve"}, format="json").json()

    assert (decided["status"], decided["approvals"], decided["can_decide"]) == ("open", 1, False)
    assert api.get("/api/approvals/").json()["count"] == 0
    assert api.get("/api/approvals/?status=all").json()["results"][0]["approvals"] == 1
    assert as_user(api, dave).get("/api/approvals/").json()["open"] == 1


# --- Deciding -----------------------------------------------------------------------------------


def test_deciding_through_the_api_continues_the_run_and_a_second_decision_is_409(api, alice, bob):
    run = asked(alice)
    task = task_of(run)
    as_user(api, bob)

    response = api.post(
        url(task, "decide"), {"decision": "approve", "comment": "ok"}, format="json"
    )
    drive()

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["can_decide"], body["closed_at"] is not None) == (
        "approved",
        False,
        True,
    )
    assert body["decisions"] == [
        {
            "user": "bob",
            "email": "",
            "via": "api",
            "decision": "approve",
            "comment": "ok",
            "data": None,
            "created_at": body["decisions"][0]["created_at"],
        }
    ]
    assert body["result"] == steps(run)["ask"].output
    assert statuses(run)["yes"] == "succeeded"
    again = api.post(url(task, "decide"), {"decision": "reject"}, format="json")
    assert again.status_code == 409
    assert again.json()["errors"][0]["code"] == "task_closed"
    assert RunEvent.objects.filter(run=run, type="task.decided").count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "decision"),
        ({"decision": "maybe"}, "decision"),
        ({"decision": "approve", "data": {"x": 1}}, "data"),
        ({"decision": "approve", "comment": "x" * 10_001}, "comment"),
    ],
)
def test_a_bad_decision_body_is_a_400_naming_the_field(api, alice, bob, body, field):
    task = task_of(asked(alice))

    response = as_user(api, bob).post(url(task, "decide"), body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field
    assert HumanTask.objects.get(pk=task.pk).status == "open"


def test_a_form_is_submitted_with_data_checked_against_its_schema(api, alice, bob):
    run = asked(alice, form_graph())
    task = task_of(run)
    as_user(api, bob)

    bad = api.post(url(task, "decide"), {"data": {"iban": 7, "note": 1}}, format="json")
    good = api.post(url(task, "decide"), {"data": {"iban": "NL12345"}}, format="json")

    assert bad.status_code == 400
    assert [(e["field"], e["code"]) for e in bad.json()["errors"]] == [
        ("data.iban", "type"),
        ("data.note", "type"),
    ]
    assert set(bad.json()["errors"][0]) == {"node", "edge", "field", "code", "message"}
    assert good.status_code == 200
    assert (good.json()["status"], good.json()["form_schema"]["required"]) == (
        "submitted",
        ["iban"],
    )
    assert steps(run)["ask"].output["data"] == {"iban": "NL12345"}


# --- Delegating ---------------------------------------------------------------------------------


def test_delegating_hands_the_task_to_another_user(api, alice, bob, charlie):
    run = asked(alice, approval_graph(assignees={"users": ["bob"]}))
    task = task_of(run)
    as_user(api, bob)

    unknown = api.post(url(task, "delegate"), {"to": "nobody"}, format="json")
    response = api.post(url(task, "delegate"), {"to": "charlie", "comment": "away"}, format="json")

    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["field"] == "to"
    assert response.status_code == 200
    body = response.json()
    assert body["assignees"] == {"users": ["charlie"], "groups": [], "emails": []}
    assert body["delegations"] == [
        {
            "from_user": "bob",
            "to_user": "charlie",
            "comment": "away",
            "reason": "",  # by hand, not out of office
            "created_at": body["delegations"][0]["created_at"],
        }
    ]
    assert body["can_decide"] is False
    # bob keeps it in his history, charlie has it to do.
    assert api.get("/api/approvals/").json()["count"] == 0
    assert api.get("/api/approvals/?status=all").json()["count"] == 1
    assert api.post(url(task, "decide"), {"decision": "approve"}, format="json").status_code == 403
    as_user(api, charlie)
    assert api.get("/api/approvals/").json()["results"][0]["id"] == task.pk
    assert api.post(url(task, "decide"), {"decision": "approve"}, format="json").status_code == 200


def test_delegation_turned_off_is_a_403(api, alice, bob):
    task = task_of(asked(alice, approval_graph(allow_delegation=False)))

    response = as_user(api, bob).post(url(task, "delegate"), {"to": "alice"}, format="json")

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "no_delegation"


# --- Races --------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_deciders_at_the_same_moment_one_wins_and_the_other_gets_409(alice, bob, dave):
    run = asked(alice)
    task = task_of(run)
    barrier = threading.Barrier(2)
    codes: dict[str, int] = {}

    def decide(user) -> None:
        client = APIClient()
        client.force_authenticate(user)
        try:
            barrier.wait()
            response = client.post(url(task, "decide"), {"decision": "approve"}, format="json")
            codes[user.username] = response.status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(user,)) for user in (bob, dave)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(codes.values()) == [200, 409]
    winner = next(name for name, code in codes.items() if code == 200)
    assert steps(run)["ask"].output["decided_by"] == winner
    assert task.decisions.count() == 1
    assert RunEvent.objects.filter(run=run, node_id="ask", type="step.succeeded").count() == 1
    assert RunEvent.objects.filter(run=run, type="task.closed").count() == 1


def test_the_inbox_costs_the_same_queries_for_one_task_or_many(api, alice, bob, charlie):
    wf = workflow(alice, approval_graph(assignees={"users": ["bob"], "groups": ["finance"]}))
    as_user(api, bob)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get("/api/approvals/?status=all").status_code == 200
        return len(captured)

    start(wf, {"amount": 1})
    drive()
    one = queries()
    for amount in range(5):
        start(wf, {"amount": amount})
    drive()
    api.post(url(HumanTask.objects.first(), "decide"), {"decision": "approve"}, format="json")
    api.post(url(HumanTask.objects.last(), "delegate"), {"to": "charlie"}, format="json")

    assert queries() == one
