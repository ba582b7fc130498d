"""The schedules API: a workflow's schedule (viewer reads, runner pauses and resumes) and the
preview of a cron expression's next fire times, with the permission matrix."""

import pytest
import time_machine
from django.utils import timezone

from designer.models import Role, WorkflowGrant
from engine.schedules import fire_due_schedules
from tests.engine_kit import build, workflow
from tests.schedule_kit import T0, at, schedule_of, scheduled, scheduled_runs


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: None)


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def wf(alice, clock):
    return scheduled(alice, "0 9 * * 1-5", timezone="Europe/Paris", input={"report": "daily"})


def url(wf) -> str:
    return f"/api/workflows/{wf.pk}/schedule/"


def grant(wf, user, role: Role) -> None:
    WorkflowGrant.objects.create(workflow=wf, user=user, role=role)


PREVIEW = "/api/schedules/preview/"


# --- The permission matrix -----------------------------------------------------------------------


def test_every_schedule_endpoint_needs_login(api, wf):
    assert api.get(url(wf)).status_code == 401
    assert api.patch(url(wf), {"paused": True}, format="json").status_code == 401
    assert api.post(PREVIEW, {"cron": "* * * * *"}, format="json").status_code == 401


def test_someone_without_a_role_gets_404_for_a_schedule(api, charlie, wf):
    api.force_authenticate(charlie)

    assert api.get(url(wf)).status_code == 404
    assert api.patch(url(wf), {"paused": True}, format="json").status_code == 404
    assert not schedule_of(wf).paused


def test_a_viewer_reads_the_schedule_but_may_not_pause_it(api, bob, wf):
    grant(wf, bob, Role.VIEWER)
    api.force_authenticate(bob)

    assert api.get(url(wf)).status_code == 200
    response = api.patch(url(wf), {"paused": True}, format="json")

    assert response.status_code == 403
    assert not schedule_of(wf).paused


def test_a_workflow_without_a_schedule_or_an_unknown_one_is_404(api, alice, clock):
    manual = workflow(alice, build({"start": ("trigger.manual",)}, []))
    api.force_authenticate(alice)

    assert api.get(url(manual)).status_code == 404
    assert api.get("/api/workflows/999999/schedule/").status_code == 404
    assert api.get("/api/workflows/abc/schedule/").status_code == 404


# --- Reading -------------------------------------------------------------------------------------


def test_the_schedule_shows_its_policies_and_next_five_fire_times_in_its_zone(api, alice, wf):
    api.force_authenticate(alice)

    body = api.get(url(wf)).json()

    assert {k: body[k] for k in ["cron", "timezone", "enabled", "paused", "state"]} == {
        "cron": "0 9 * * 1-5",
        "timezone": "Europe/Paris",
        "enabled": True,
        "paused": False,
        "state": "active",
    }
    assert (body["catch_up"], body["catch_up_limit"], body["overlap"]) == ("skip", 10, "allow")
    assert (body["workflow"], body["version"], body["node"]) == (wf.pk, 1, "start")
    assert body["input"] == {"report": "daily"}
    # Monday 2 March 2026, 08:30 UTC (09:30 in Paris): the next weekday mornings.
    assert body["next_fire_times"] == [
        "2026-03-03T09:00:00+01:00",
        "2026-03-04T09:00:00+01:00",
        "2026-03-05T09:00:00+01:00",
        "2026-03-06T09:00:00+01:00",
        "2026-03-09T09:00:00+01:00",
    ]
    assert body["next_fire_at"] == "2026-03-03T08:00:00Z"
    assert body["last_fired_at"] is None
    assert body["last_skipped"] is None
    assert body["last_error"] is None


def test_the_schedule_shows_the_last_fire_skip_and_error(api, alice, clock):
    wf = scheduled(
        alice,
        overlap="skip",
        input={"n": "one"},
        input_schema={"type": "object", "properties": {"n": {"type": "string"}}},
    )
    clock.move_to(at(9, 0, 1))
    fire_due_schedules(timezone.now())
    clock.move_to(at(10, 0, 1))
    fire_due_schedules(timezone.now())  # 09:00's run is still running
    api.force_authenticate(alice)

    body = api.get(url(wf)).json()

    assert body["last_fired_at"] == "2026-03-02T09:00:00Z"
    assert body["last_run"] == scheduled_runs(wf)[0].pk
    assert body["last_skipped"]["reason"] == "overlap"
    assert body["last_skipped"]["slot"] == "2026-03-02T10:00:00Z"


def test_a_bad_input_shows_as_the_last_error(api, alice, clock):
    wf = scheduled(
        alice,
        input={},
        input_schema={"type": "object", "required": ["amount"]},
    )
    api.force_authenticate(alice)

    error = api.get(url(wf)).json()["last_error"]

    assert error["code"] == "invalid_input"
    assert error["errors"][0]["field"] == "input"
    assert "amount" in error["message"]


# --- Pause and resume ----------------------------------------------------------------------------


def test_a_runner_pauses_and_resumes_without_a_new_version(api, bob, wf, clock):
    grant(wf, bob, Role.RUNNER)
    api.force_authenticate(bob)

    paused = api.patch(url(wf), {"paused": True}, format="json")

    assert paused.status_code == 200
    body = paused.json()
    assert (body["paused"], body["state"], body["paused_by"]) == (True, "paused", "bob")
    assert body["next_fire_times"] == []
    assert body["next_fire_at"] is None
    clock.move_to(at(8, 0, 1, day=3))
    assert fire_due_schedules(timezone.now()) == 0

    resumed = api.patch(url(wf), {"paused": False}, format="json").json()

    assert (resumed["paused"], resumed["state"], resumed["paused_by"]) == (False, "active", None)
    assert resumed["next_fire_times"][0] == "2026-03-04T09:00:00+01:00"
    assert resumed["version"] == 1
    assert scheduled_runs(wf) == []


def test_pausing_needs_a_boolean(api, alice, wf):
    api.force_authenticate(alice)

    response = api.patch(url(wf), {"paused": "perhaps"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "paused"
    assert api.patch(url(wf), {}, format="json").json()["errors"][0]["field"] == "paused"


# --- Preview -------------------------------------------------------------------------------------


def test_the_preview_lists_the_next_five_fire_times_in_the_zone(api, charlie, clock):
    api.force_authenticate(charlie)  # any logged-in user: it reads no workflow

    clock.move_to(at(12, day=27))

    response = api.post(PREVIEW, {"cron": "30 2 * * *", "timezone": "Europe/Paris"}, format="json")

    assert response.status_code == 200
    body = response.json()
    # 29 March: 02:30 does not exist in Paris; it fires when the gap ends.
    assert body["next_fire_times"] == [
        "2026-03-28T02:30:00+01:00",
        "2026-03-29T03:00:00+02:00",
        "2026-03-30T02:30:00+02:00",
        "2026-03-31T02:30:00+02:00",
        "2026-04-01T02:30:00+02:00",
    ]
    assert (body["cron"], body["timezone"]) == ("30 2 * * *", "Europe/Paris")


def test_the_preview_reads_utc_without_a_zone(api, alice, clock):
    api.force_authenticate(alice)

    body = api.post(PREVIEW, {"cron": "0 12 * * *"}, format="json").json()

    assert body["timezone"] == "UTC"
    assert body["next_fire_times"][0] == "2026-03-02T12:00:00+00:00"


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"cron": "61 * * * *"}, "cron", "invalid_format"),
        ({"cron": "every day"}, "cron", "invalid_format"),
        ({"cron": "* * * * * *"}, "cron", "invalid_format"),
        ({"cron": "0 0 30 2 *"}, "cron", "never_fires"),
        ({"cron": "* * * * *", "timezone": "Mars/Olympus_Mons"}, "timezone", "invalid_format"),
        ({}, "cron", "required"),
        ({"cron": ""}, "cron", "blank"),
    ],
)
def test_a_bad_cron_or_zone_is_a_400_naming_the_field(api, alice, data, field, code):
    api.force_authenticate(alice)

    response = api.post(PREVIEW, data, format="json")

    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert (error["field"], error["code"]) == (field, code)
    assert error["message"]


# --- Running a scheduled workflow by hand ---------------------------------------------------------


def echo_graph(**schedule: object) -> dict:
    """A schedule whose ``work`` step outputs the report the input names (failing without one,
    as the "Nightly report" example did when run by hand)."""
    return build(
        {
            "start": ("trigger.schedule", {"cron": "0 2 * * *", **schedule}),
            "work": ("data.transform", {"value": "{{ input.report }}"}),
        },
        ["start>work"],
        output={"report": "{{ steps.work.output }}"},
    )


@pytest.fixture
def nightly(alice, clock):
    return workflow(alice, echo_graph(input={"report": "daily"}), name="nightly")


def test_a_manual_run_without_input_gets_the_schedules_input(api, alice, nightly):
    api.force_login(alice)

    response = api.post(f"/api/workflows/{nightly.pk}/runs/", {}, format="json")

    assert response.status_code == 201, response.data
    assert response.data["input"] == {"report": "daily"}
    assert response.data["trigger"] == "manual"


def test_a_manual_run_with_input_keeps_it_even_an_empty_one(api, alice, nightly):
    api.force_login(alice)

    weekly = api.post(
        f"/api/workflows/{nightly.pk}/runs/", {"input": {"report": "weekly"}}, format="json"
    )
    empty = api.post(f"/api/workflows/{nightly.pk}/runs/", {"input": {}}, format="json")

    assert weekly.data["input"] == {"report": "weekly"}
    assert empty.data["input"] == {}


def test_a_schedules_input_is_checked_like_any_input_when_run_by_hand(api, alice, clock):
    schema = {"type": "object", "required": ["report"], "properties": {"report": {"enum": ["a"]}}}
    graph = {**echo_graph(input={"report": "b"}), "input_schema": schema}
    wf = workflow(alice, graph, name="strict")
    api.force_login(alice)

    response = api.post(f"/api/workflows/{wf.pk}/runs/", {}, format="json")

    assert response.status_code == 400
    assert [e["field"] for e in response.data["errors"]] == ["input.report"]


def test_the_cli_runs_a_scheduled_workflow_with_its_schedules_input(alice, nightly, capsys):
    from django.core.management import call_command

    from engine.models import Run

    call_command("flowdeck", "run", "nightly", "--as", "alice")

    run = Run.objects.get(workflow=nightly)
    assert (run.input, run.trigger) == ({"report": "daily"}, "cli")
    assert "started" in capsys.readouterr().out
