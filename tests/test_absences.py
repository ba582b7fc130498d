"""Out of office (issue 19, item 4): a user's absence sends the tasks assigned to them by name
in its window to their deputy, as a recorded delegation. The account API through DRF's client;
runs driven in-process, time moved with ``time_machine``."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group, User

from engine.models import RunEvent, TaskDelegation
from people.absences import do_create_absence
from people.models import Absence
from tests.engine_kit import approval_graph, drive, start, statuses, task_of, workflow

ABSENCES = "/api/account/absences/"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def away(user, deputy, starts=NOW, ends=NOW + 7 * DAY):
    return do_create_absence(
        actor=user, user=user, starts_at=starts, ends_at=ends, deputy=deputy.username
    )


def asked_of(owner, users=(), groups=(), actor=None, **config):
    assignees = {"users": list(users), "groups": list(groups)}
    graph = approval_graph(assignees=assignees, **config)
    run = start(workflow(owner, graph), {"amount": 5}, actor=actor)
    drive()
    return run


def assigned(task):
    task.refresh_from_db()
    return task.assignee_names()


def plan(api, caller, **body):
    api.force_authenticate(caller)
    return api.post(ABSENCES, body, format="json")


def iso(at):
    return at.isoformat()


# --- The account API ----------------------------------------------------------------------------


def test_absences_need_login(api):
    assert api.get(ABSENCES).status_code == 401
    assert api.post(ABSENCES, {}, format="json").status_code == 401
    assert api.delete(f"{ABSENCES}1/").status_code == 401


def test_alice_plans_an_absence_and_lists_it_as_current(api, clock, alice, dave):
    response = plan(
        api, alice, starts_at=iso(NOW - DAY), ends_at=iso(NOW + DAY), deputy="dave", note="skiing"
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["user"], body["deputy"], body["note"], body["current"]) == (
        "alice",
        "dave",
        "skiing",
        True,
    )
    listed = api.get(ABSENCES).json()
    assert [a["id"] for a in listed] == [body["id"]]


def test_a_planned_absence_is_not_current_and_an_ended_one_is_listed_only_with_past(
    api, clock, alice, dave
):
    plan(api, alice, starts_at=iso(NOW + DAY), ends_at=iso(NOW + 2 * DAY), deputy="dave")
    Absence.objects.create(
        user=alice, starts_at=NOW - 9 * DAY, ends_at=NOW - 8 * DAY, deputy=dave
    )  # ended: written directly, the API refuses an absence in the past

    assert [a["current"] for a in api.get(ABSENCES).json()] == [False]
    assert len(api.get(f"{ABSENCES}?past=true").json()) == 2


def window(starts, ends, deputy="dave"):
    return {"starts_at": starts, "ends_at": ends, "deputy": deputy}


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        (window(iso(NOW + DAY), iso(NOW)), "ends_at", "before_start"),
        (window(iso(NOW - 2 * DAY), iso(NOW - DAY)), "ends_at", "past"),
        (window(iso(NOW), iso(NOW + DAY), "nobody"), "deputy", "unknown_user"),
        (window(iso(NOW), iso(NOW + DAY), "alice"), "deputy", "self"),
        (window("soon", iso(NOW + DAY)), "starts_at", "invalid"),
        ({"starts_at": iso(NOW), "ends_at": iso(NOW + DAY)}, "deputy", "required"),
    ],
)
def test_a_bad_absence_is_a_400_naming_the_field(api, clock, alice, dave, body, field, code):
    response = plan(api, alice, **body)

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert (error["field"], error["code"]) == (field, code)


def test_a_deactivated_deputy_is_refused(api, clock, alice, dave):
    dave.is_active = False
    dave.save()

    response = plan(api, alice, starts_at=iso(NOW), ends_at=iso(NOW + DAY), deputy="dave")

    assert response.json()["errors"][0]["field"] == "deputy"


def test_absences_of_one_user_may_not_overlap(api, clock, alice, bob, dave):
    plan(api, alice, starts_at=iso(NOW), ends_at=iso(NOW + 3 * DAY), deputy="dave")

    overlapping = plan(
        api, alice, starts_at=iso(NOW + DAY), ends_at=iso(NOW + 5 * DAY), deputy="bob"
    )
    after = plan(api, alice, starts_at=iso(NOW + 3 * DAY), ends_at=iso(NOW + 5 * DAY), deputy="bob")

    assert overlapping.status_code == 400
    assert overlapping.json()["errors"][0]["code"] == "overlap"
    assert after.status_code == 201  # the first ends as the second starts


def test_a_loop_of_deputies_at_some_moment_is_refused(api, clock, alice, bob, dave):
    away(dave, bob, NOW + DAY, NOW + 4 * DAY)
    away(bob, alice, NOW + 3 * DAY, NOW + 9 * DAY)

    # alice -> dave -> bob -> alice on day 3: nobody would be left.
    looping = plan(
        api, alice, starts_at=iso(NOW + 2 * DAY), ends_at=iso(NOW + 5 * DAY), deputy="dave"
    )
    # Day 5 on: dave is back, so no loop.
    fine = plan(api, alice, starts_at=iso(NOW + 5 * DAY), ends_at=iso(NOW + 6 * DAY), deputy="dave")

    assert looping.status_code == 400
    assert (looping.json()["errors"][0]["field"], looping.json()["errors"][0]["code"]) == (
        "deputy",
        "loop",
    )
    assert fine.status_code == 201


def test_charlie_can_neither_see_nor_delete_alices_absences(api, clock, alice, charlie, dave):
    absence = away(alice, dave)
    api.force_authenticate(charlie)

    assert api.get(ABSENCES).json() == []
    assert api.get(f"{ABSENCES}?user=alice").status_code == 403
    assert (
        plan(
            api, charlie, starts_at=iso(NOW), ends_at=iso(NOW + DAY), deputy="dave", user="alice"
        ).status_code
        == 403
    )
    assert api.delete(f"{ABSENCES}{absence.pk}/").status_code == 404
    assert Absence.objects.filter(pk=absence.pk).exists()


def test_staff_read_plan_and_delete_anyones_absences(api, clock, admin, alice, dave):
    made = plan(api, admin, starts_at=iso(NOW), ends_at=iso(NOW + DAY), deputy="dave", user="alice")

    assert made.status_code == 201
    assert made.json()["user"] == "alice"
    assert [a["user"] for a in api.get(f"{ABSENCES}?user=alice").json()] == ["alice"]
    assert api.get(f"{ABSENCES}?user=nobody").status_code == 400
    assert api.delete(f"{ABSENCES}{made.json()['id']}/").status_code == 204
    assert not Absence.objects.exists()


def test_alice_deletes_her_own_absence(api, clock, alice, dave):
    absence = away(alice, dave)
    api.force_authenticate(alice)

    assert api.delete(f"{ABSENCES}{absence.pk}/").status_code == 204
    assert api.delete(f"{ABSENCES}{absence.pk}/").status_code == 404


# --- Assignment ---------------------------------------------------------------------------------


def test_a_task_assigned_by_name_in_the_window_goes_to_the_deputy(api, clock, alice, bob, dave):
    away(bob, dave)

    task = task_of(asked_of(alice, users=["bob"]))

    assert assigned(task) == {"users": ["dave"], "groups": []}
    delegation = TaskDelegation.objects.get(task=task)
    assert (delegation.from_user, delegation.to_user, delegation.reason) == (bob, dave, "absence")
    assert delegation.comment == "out of office until 2026-12-08 09:00 UTC"
    event = RunEvent.objects.get(type="task.delegated")
    assert event.actor is None
    assert event.data["out_of_office"] is True
    assert (event.data["from"], event.data["to"]) == ("bob", "dave")
    # dave has it to do; bob sees it in his history, handed over.
    api.force_authenticate(dave)
    assert [t["id"] for t in api.get("/api/approvals/").json()["results"]] == [task.pk]
    api.force_authenticate(bob)
    assert api.get("/api/approvals/").json()["results"] == []
    handed = api.get("/api/approvals/?status=all").json()["results"][0]
    assert handed["delegations"][0]["reason"] == "absence"


def test_outside_the_window_the_task_stays_with_the_assignee(clock, alice, bob, dave):
    away(bob, dave, NOW + DAY, NOW + 2 * DAY)

    before = task_of(asked_of(alice, users=["bob"]))
    clock.move_to(NOW + 2 * DAY)  # the absence ends as this instant begins
    after = task_of(asked_of(alice, users=["bob"]))

    assert assigned(before)["users"] == ["bob"]
    assert assigned(after)["users"] == ["bob"]
    assert not TaskDelegation.objects.exists()


def test_in_the_window_after_travelling_there_the_task_is_redirected(clock, alice, bob, dave):
    away(bob, dave, NOW + DAY, NOW + 2 * DAY)
    clock.move_to(NOW + DAY + timedelta(hours=1))

    task = task_of(asked_of(alice, users=["bob"]))

    assert assigned(task)["users"] == ["dave"]


def test_a_group_assignment_is_untouched(clock, alice, bob, dave):
    away(bob, alice)

    task = task_of(asked_of(alice, groups=["finance"]))

    assert assigned(task) == {"users": [], "groups": ["finance"]}
    assert not TaskDelegation.objects.exists()
    assert not RunEvent.objects.filter(type__in=["task.delegated", "task.kept"]).exists()


def test_an_absent_deputy_passes_the_task_on_to_their_own_deputy(clock, alice, bob, charlie, dave):
    away(bob, dave)
    away(dave, charlie, NOW, NOW + 2 * DAY)

    task = task_of(asked_of(alice, users=["bob"]))

    assert assigned(task)["users"] == ["charlie"]
    delegation = TaskDelegation.objects.get(task=task)
    assert (delegation.from_user, delegation.to_user) == (bob, charlie)


def test_a_loop_of_absent_deputies_keeps_the_task_and_says_why(clock, alice, bob, dave):
    away(bob, dave)
    # A loop the API refuses, made anyway (as a race or an old row could).
    Absence.objects.create(user=dave, starts_at=NOW, ends_at=NOW + DAY, deputy=bob)

    task = task_of(asked_of(alice, users=["bob"]))

    assert assigned(task)["users"] == ["bob"]
    kept = RunEvent.objects.get(type="task.kept")
    assert kept.data["user"] == "bob"
    assert "bob → dave → bob" in kept.data["why"]


def test_a_deactivated_deputy_keeps_the_task_and_says_why(clock, alice, bob, dave):
    away(bob, dave)
    User.objects.filter(pk=dave.pk).update(is_active=False)

    task = task_of(asked_of(alice, users=["bob"]))

    assert assigned(task)["users"] == ["bob"]
    assert "deactivated" in RunEvent.objects.get(type="task.kept").data["why"]


def test_four_eyes_a_deputy_who_started_the_run_is_not_used(clock, alice, bob, dave):
    away(bob, alice)

    task = task_of(asked_of(alice, users=["bob"], actor=alice, forbid_requester=True))

    assert assigned(task)["users"] == ["bob"]
    assert "four eyes" in RunEvent.objects.get(type="task.kept").data["why"]
    assert not TaskDelegation.objects.exists()


def test_a_deputy_already_assigned_keeps_the_absent_users_place(clock, alice, bob, dave):
    away(bob, dave)

    task = task_of(asked_of(alice, users=["bob", "dave"], required_approvals=2))

    assert assigned(task)["users"] == ["bob", "dave"]
    assert "already an assignee" in RunEvent.objects.get(type="task.kept").data["why"]


def test_only_the_absent_of_several_named_users_is_replaced(clock, alice, bob, charlie, dave):
    away(bob, charlie)

    task = task_of(asked_of(alice, users=["bob", "dave"], groups=["finance"]))

    assert assigned(task) == {"users": ["charlie", "dave"], "groups": ["finance"]}


def test_the_deputy_approves_and_the_run_goes_on(api, clock, alice, bob, dave):
    away(bob, dave)
    run = asked_of(alice, users=["bob"])
    api.force_authenticate(dave)

    response = api.post(
        f"/api/approvals/{task_of(run).pk}/decide/", {"decision": "approve"}, format="json"
    )
    drive()

    assert response.status_code == 200
    assert statuses(run)["yes"] == "succeeded"


def test_delegating_to_an_absent_person_is_refused_naming_their_deputy(
    api, clock, alice, bob, charlie, dave
):
    away(dave, charlie)
    task = task_of(asked_of(alice, users=["bob"]))
    api.force_authenticate(bob)

    response = api.post(f"/api/approvals/{task.pk}/delegate/", {"to": "dave"}, format="json")

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert (error["field"], error["code"]) == ("to", "out_of_office")
    assert "charlie" in error["message"]


def test_a_test_run_asks_its_tester_even_when_they_are_away(clock, alice, dave):
    away(alice, dave)
    Group.objects.get_or_create(name="finance")
    run = start(workflow(alice, approval_graph()), {"amount": 5}, actor=alice)
    run.test = True
    run.save(update_fields=["test"])
    drive()

    assert assigned(task_of(run))["users"] == ["alice"]
