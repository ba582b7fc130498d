"""Replay a failed run on a fixed version (issue 18): the failed step runs on the new version,
the steps that finished are not run again, both event logs record who, why and which version,
and a version without a finished step's id is refused with 409."""

import pytest

from designer.services import do_save_version
from engine.models import Run, RunEvent
from tests.engine_kit import build, drive, fn, start, steps, workflow

pytestmark = pytest.mark.django_db


def graph(fail_times: int) -> dict:
    """start > fetch > charge > receipt, and start > audit beside them."""
    return build(
        {
            "start": ("trigger.manual",),
            "fetch": fn("echo", n="{{ input.n }}"),
            "audit": fn("noop"),
            "charge": fn("flaky", fail_times=fail_times, retryable=False),
            "receipt": fn("add", a="{{ steps.charge.output.attempt }}", b=10),
        },
        ["start>fetch", "start>audit", "fetch>charge", "charge>receipt"],
    )


@pytest.fixture
def failed(alice):
    wf = workflow(alice, graph(fail_times=9))
    run = start(wf, {"n": 3}, actor=alice)
    drive()
    run.refresh_from_db()
    assert run.status == "failed" and steps(run)["charge"].status == "failed"
    return wf, run


def replay(api, run, **body):
    return api.post(
        f"/api/runs/{run.pk}/replay/", {"reason": "fixed charge", **body}, format="json"
    )


def test_the_failed_step_runs_on_the_fixed_version_and_the_finished_ones_do_not(api, alice, failed):
    wf, run = failed
    do_save_version(actor=alice, workflow=wf, graph=graph(fail_times=0), base_version=1)
    api.force_authenticate(alice)

    response = replay(api, run)
    drive()

    assert response.status_code == 201, response.json()
    new = Run.objects.get(pk=response.json()["id"])
    rows = steps(new)
    assert new.status == "succeeded" and new.version.number == 2 and new.input == {"n": 3}
    assert {n: rows[n].attempt for n in ("start", "fetch", "audit")} == dict.fromkeys(
        ("start", "fetch", "audit"), 0
    )
    assert rows["fetch"].output == steps(run)["fetch"].output
    assert rows["charge"].attempt == 1 and rows["receipt"].output == 11
    assert response.json()["replay_of"] == run.pk
    assert api.get(f"/api/runs/{run.pk}/").json()["replays"] == [new.pk]


def test_both_event_logs_record_who_why_and_which_version(api, alice, failed):
    wf, run = failed
    do_save_version(actor=alice, workflow=wf, graph=graph(fail_times=0), base_version=1)
    api.force_authenticate(alice)

    new_id = replay(api, run).json()["id"]

    old = RunEvent.objects.get(run=run, type="run.replayed")
    assert (old.actor, old.data) == (
        alice,
        {"replay": new_id, "version": 2, "reason": "fixed charge"},
    )
    created = RunEvent.objects.get(run_id=new_id, type="run.created")
    assert created.data["replay_of"] == run.pk and created.actor == alice
    reused = RunEvent.objects.filter(run_id=new_id, type="step.reused").values_list(
        "node_id", flat=True
    )
    assert sorted(reused) == ["audit", "fetch", "start"]


def test_a_version_without_a_finished_step_is_refused_with_409(api, alice, failed):
    wf, run = failed
    fixed = graph(fail_times=0)
    fixed["nodes"] = [n for n in fixed["nodes"] if n["id"] != "audit"]
    fixed["edges"] = [e for e in fixed["edges"] if e["target"] != "audit"]
    do_save_version(actor=alice, workflow=wf, graph=fixed, base_version=1)
    api.force_authenticate(alice)

    response = replay(api, run)

    assert response.status_code == 409
    error = response.json()["errors"][0]
    assert (error["code"], error["node"]) == ("finished_step_missing", "audit")
    assert Run.objects.count() == 1 and not RunEvent.objects.filter(type="run.replayed").exists()


def test_a_run_still_going_and_a_runner_less_caller_are_refused(api, alice, charlie):
    wf = workflow(alice, graph(fail_times=9))
    run = start(wf, {"n": 1}, actor=alice)  # queued steps: not ended
    api.force_authenticate(alice)
    going = replay(api, run)
    api.force_authenticate(charlie)
    hidden = replay(api, run)

    assert going.status_code == 409 and going.json()["errors"][0]["code"] == "run_not_ended"
    assert hidden.status_code == 404


def test_replay_from_a_chosen_step_runs_it_and_what_is_below(api, alice):
    wf = workflow(alice, graph(fail_times=0))
    run = start(wf, {"n": 1}, actor=alice)
    drive()
    api.force_authenticate(alice)

    response = replay(api, run, start=["charge"], version=1)
    drive()

    rows = steps(Run.objects.get(pk=response.json()["id"]))
    assert response.status_code == 201
    assert (rows["fetch"].attempt, rows["charge"].attempt, rows["receipt"].attempt) == (0, 1, 1)
    unknown = replay(api, run, start=["nowhere"])
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "start"
