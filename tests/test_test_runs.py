"""Test runs of a draft (issue 18): "run step" and "run up to here" from the designer, pins,
what a test run is given instead of running, and where test runs are left out.

The attempts are executed in the test's process (``drive``); tests/test_test_runs_workers.py
runs the same through real worker processes."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from designer.models import WorkflowVersion
from engine.metrics import collector
from engine.models import Run, RunEvent
from engine.testruns import delete_expired_test_runs, plan_test_run
from tests.engine_kit import build, drive, fn, start, steps, workflow

pytestmark = pytest.mark.django_db


def chain():
    """start > fetch > shape > notify: ``shape`` adds 1 to what ``fetch`` echoed."""
    return build(
        {
            "start": ("trigger.manual",),
            "fetch": fn("echo", n="{{ input.n }}"),
            "shape": fn("add", a="{{ steps.fetch.output['values']['n'] }}", b=1),
            "notify": (
                "notify.email",
                {
                    "to": ["ops@example.com"],
                    "subject": "n is {{ steps.shape.output }}",
                    "body": "x",
                },
            ),
        },
        ["start>fetch", "fetch>shape", "shape>notify"],
    )


def try_step(api, wf, node, **body):
    graph = body.pop("graph", None) or wf.versions.get(number=wf.latest_version).graph
    return api.post(
        f"/api/workflows/{wf.pk}/test-runs/", {"graph": graph, "node": node, **body}, format="json"
    )


def ran(response) -> Run:
    assert response.status_code == 201, response.json()
    drive()
    return Run.objects.get(pk=response.json()["id"])


# --- What runs and what is given ----------------------------------------------------------------


def test_a_pinned_upstream_step_is_not_run_and_its_pin_is_the_output_below(api, alice):
    wf = workflow(alice, chain())
    api.force_authenticate(alice)
    assert (
        api.put(
            f"/api/workflows/{wf.pk}/pins/fetch/", {"output": {"values": {"n": 41}}}, format="json"
        ).status_code
        == 200
    )

    run = ran(try_step(api, wf, "shape"))

    rows = steps(run)
    assert run.status == "succeeded" and run.test
    assert (rows["fetch"].status, rows["fetch"].attempt) == ("succeeded", 0)
    assert rows["shape"].output == 42 and rows["shape"].attempt == 1
    # Above the pin nothing is needed: the trigger did not run either.
    assert (rows["start"].status, rows["start"].attempt) == ("skipped", 0)
    # The draft's steps below the tested one are not part of the test.
    assert "notify" not in rows
    reused = {
        e.node_id: e.data["source"] for e in RunEvent.objects.filter(run=run, type="step.reused")
    }
    assert reused == {"fetch": "pin", "start": "unneeded"}


def test_run_step_takes_upstream_outputs_from_the_newest_run_and_up_to_here_runs_them(api, alice):
    wf = workflow(alice, chain())
    real = start(wf, {"n": 1})
    drive()
    api.force_authenticate(alice)

    one = ran(try_step(api, wf, "shape", input={"n": 5}))
    upto = ran(try_step(api, wf, "shape", mode="upto", input={"n": 5}))

    assert steps(one)["fetch"].attempt == 0 and steps(one)["shape"].output == 2  # run's n=1
    event = RunEvent.objects.get(run=one, node_id="fetch", type="step.reused")
    assert event.data == {"source": "run", "run": real.pk, "handle": "out"}
    assert steps(upto)["fetch"].attempt == 1 and steps(upto)["shape"].output == 6  # ran: n=5


def test_typed_outputs_come_before_pins_and_must_be_for_steps_above(api, alice):
    wf = workflow(alice, chain())
    api.force_authenticate(alice)
    api.put(f"/api/workflows/{wf.pk}/pins/fetch/", {"output": {"values": {"n": 1}}}, format="json")

    run = ran(try_step(api, wf, "shape", data={"fetch": {"values": {"n": 99}}}))
    refused = try_step(api, wf, "shape", data={"notify": {}})
    unknown = try_step(api, wf, "nowhere")

    assert steps(run)["shape"].output == 100
    assert refused.status_code == 400
    assert refused.json()["errors"][0] | {"message": ""} == {
        "node": "notify",
        "edge": None,
        "field": "data.notify",
        "code": "not_upstream",
        "message": "",
    }
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "node"


def test_the_draft_is_tested_as_it_is_not_as_saved(api, alice):
    wf = workflow(alice, chain())
    draft = wf.versions.get().graph
    shape = next(n for n in draft["nodes"] if n["id"] == "shape")
    shape["config"]["args"]["b"] = 1000
    api.force_authenticate(alice)

    run = ran(try_step(api, wf, "shape", graph=draft, data={"fetch": {"values": {"n": 1}}}))

    assert steps(run)["shape"].output == 1001
    # The snapshot is no version: a row without a number, never listed.
    assert wf.versions.filter(number__isnull=False).count() == 1
    assert api.get(f"/api/workflows/{wf.pk}/versions/").json()["count"] == 1


def test_an_invalid_snapshot_gets_400_naming_the_node(api, alice):
    wf = workflow(alice, chain())
    draft = wf.versions.get().graph
    next(n for n in draft["nodes"] if n["id"] == "shape")["config"] = {"function": 7}
    api.force_authenticate(alice)

    response = try_step(api, wf, "shape", graph=draft)

    assert response.status_code == 400
    assert any(e["node"] == "shape" for e in response.json()["errors"])


def test_plan_skips_only_what_nothing_below_needs():
    graph = build(
        {"start": ("trigger.manual",), "a": fn("noop"), "b": fn("noop"), "c": fn("noop")},
        ["start>a", "start>b", "a>c", "b>c"],
    )
    from designer.models import Workflow

    _, given, running = plan_test_run(
        workflow=Workflow(pins={"a": {"output": 1}}), graph=graph, node="c", mode="upto"
    )

    assert running == {"c", "b", "start"}
    assert {n: g.status for n, g in given.items()} == {"a": "succeeded"}


# --- Steps with effects outside -----------------------------------------------------------------


def test_an_email_is_captured_in_a_test_run_not_sent(api, alice, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    wf = workflow(alice, chain())
    api.force_authenticate(alice)

    run = ran(try_step(api, wf, "notify", data={"shape": 7}))

    output = steps(run)["notify"].output
    assert run.status == "succeeded" and mail.outbox == []
    assert output["captured"] is True
    assert output["message"]["subject"] == "n is 7" and output["to"] == ["ops@example.com"]


def test_a_step_that_changes_things_outside_asks_first(api, alice, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    post = {"type": "http.request", "config": {"url": "https://pay.example/", "method": "POST"}}
    wf = workflow(alice, build({"start": ("trigger.manual",), "pay": post}, ["start>pay"]))
    api.force_authenticate(alice)

    refused = try_step(api, wf, "pay")
    email = try_step(api, workflow(alice, chain()), "notify", capture_email=False)

    assert refused.status_code == 409
    assert [(e["node"], e["code"]) for e in refused.json()["errors"]] == [
        ("pay", "confirm_effects")
    ]
    assert email.status_code == 409 and email.json()["errors"][0]["node"] == "notify"
    assert Run.objects.count() == 0


# --- Left out of the lists, the figures and the feed; expiry ------------------------------------


def test_test_runs_are_left_out_of_the_runs_lists_stats_and_metrics(api, client, alice, admin):
    collector.reset()
    wf = workflow(alice, chain())
    api.force_authenticate(alice)
    test = ran(try_step(api, wf, "shape", data={"fetch": {"values": {"n": 1}}}))
    other = workflow(alice, chain(), name="real")
    real = start(other, {"n": 1})
    drive()

    assert [r["id"] for r in api.get("/api/runs/").json()["results"]] == [real.pk]
    assert api.get(f"/api/workflows/{wf.pk}/runs/").json()["results"] == []
    assert [r["id"] for r in api.get("/api/runs/?test=true").json()["results"]] == [test.pk]
    listed = api.get(f"/api/workflows/{wf.pk}/runs/?test=true").json()["results"]
    assert listed[0]["test"] is True and listed[0]["version"] is None
    last_runs = {w["id"]: w["last_run"] for w in api.get("/api/workflows/").json()["results"]}
    assert last_runs[wf.pk] is None and last_runs[other.pk]["id"] == real.pk
    stats = api.get("/api/stats/?window=24h").json()
    assert stats["totals"]["started"] == 1 and stats["retries"]["step_runs"] == 4
    client.force_login(admin)
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        metrics = client.get("/metrics").content.decode()
    started = [line for line in metrics.splitlines() if line.startswith("flowdeck_runs_started")]
    assert started == [f'flowdeck_runs_started_total{{workflow="{other.pk}"}} 1.0']
    collector.reset()


def test_test_runs_expire_with_their_snapshots(alice, api, settings):
    settings.FLOWDECK_TEST_RUN_DAYS = 7
    wf = workflow(alice, chain())
    real = start(wf, {"n": 1})
    api.force_authenticate(alice)
    test = ran(try_step(api, wf, "shape"))
    drive()
    snapshot = test.version_id

    assert delete_expired_test_runs(timezone.now() + timedelta(days=6)) == 0
    assert delete_expired_test_runs(timezone.now() + timedelta(days=8)) == 1

    assert not Run.objects.filter(pk=test.pk).exists()
    assert not WorkflowVersion.objects.filter(pk=snapshot).exists()
    assert Run.objects.filter(pk=real.pk).exists() and wf.versions.get().number == 1


# --- Pins ---------------------------------------------------------------------------------------


def test_pins_are_kept_with_the_workflow_and_used_by_the_preview(api, alice):
    wf = workflow(alice, chain())
    api.force_authenticate(alice)

    put = api.put(
        f"/api/workflows/{wf.pk}/pins/fetch/", {"output": {"values": {"n": 3}}}, format="json"
    )
    preview = api.post(
        f"/api/workflows/{wf.pk}/preview/",
        {"source": "steps.fetch.output['values']['n'] * 2", "mode": "expression"},
        format="json",
    ).json()
    listed = api.get(f"/api/workflows/{wf.pk}/pins/").json()["pins"]
    deleted = api.delete(f"/api/workflows/{wf.pk}/pins/fetch/")

    assert put.status_code == 200 and put.json()["pinned_by"] == "alice"
    assert preview == {"run": None, "pinned": ["fetch"], "value": 6, "error": None}
    assert listed["fetch"]["output"] == {"values": {"n": 3}}
    assert deleted.status_code == 204 and api.get(f"/api/workflows/{wf.pk}/pins/").json() == {
        "pins": {}
    }
    assert wf.versions.count() == 1  # pinning saves no version


def test_a_pin_over_the_output_limit_gets_400(api, alice, settings):
    settings.FLOWDECK_MAX_OUTPUT_BYTES = 100
    wf = workflow(alice, chain())
    api.force_authenticate(alice)

    response = api.put(f"/api/workflows/{wf.pk}/pins/fetch/", {"output": "x" * 200}, format="json")

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert (error["code"], error["field"], error["node"]) == ("too_large", "output", "fetch")


def test_without_a_run_the_preview_takes_the_sample_input_a_test_would(api, alice):
    graph = chain() | {
        "input_schema": {"type": "object", "examples": [{"n": 4}]},
    }
    wf = workflow(alice, graph)
    api.force_authenticate(alice)
    api.put(f"/api/workflows/{wf.pk}/pins/fetch/", {"output": {"values": {"n": 3}}}, format="json")

    answer = api.post(
        f"/api/workflows/{wf.pk}/preview/",
        {"source": "{{ input.n }} and {{ steps.fetch.output['values']['n'] }}"},
        format="json",
    ).json()

    assert answer == {"run": None, "pinned": ["fetch"], "value": "4 and 3", "error": None}


def test_a_body_that_is_not_shaped_like_a_graph_gets_400_not_a_500(api, alice):
    wf = workflow(alice, chain())
    api.force_authenticate(alice)

    response = try_step(api, wf, "shape", graph={"nodes": 4.5, "edges": [{"source": "@"}]})

    assert response.status_code == 400 and response.json()["errors"]


def test_the_sweeper_deletes_what_expired_once_a_minute(alice, api, settings, monkeypatch):
    from engine import recovery

    wf = workflow(alice, chain())
    api.force_authenticate(alice)
    ran(try_step(api, wf, "shape", data={"fetch": {"values": {"n": 1}}}))
    later = timezone.now() + timedelta(days=settings.FLOWDECK_TEST_RUN_DAYS + 1)
    monkeypatch.setattr(recovery, "_next_clean_up", 0.0)

    assert recovery.sweep_once(later)["deleted"] == 1
    assert not Run.objects.exists()
    ran(try_step(api, wf, "shape", data={"fetch": {"values": {"n": 1}}}))
    assert recovery.sweep_once(later)["deleted"] == 0  # not again within the minute
    assert Run.objects.count() == 1


def test_a_test_of_an_approval_asks_the_tester_alone(api, alice, bob):
    from engine.models import HumanTask

    ask = {
        "title": "Pay {{ input.n }}",
        "assignees": {"groups": ["finance"], "users": ["bob"]},
        "forbid_requester": True,
        "required_approvals": 2,
        "due_in_s": 60,
    }
    graph = build({"start": ("trigger.manual",), "ask": ("human.approval", ask)}, ["start>ask"])
    wf = workflow(alice, graph)
    api.force_authenticate(alice)

    run = ran(try_step(api, wf, "ask", input={"n": 5}, mode="upto"))

    task = HumanTask.objects.get(run=run)
    assert task.title == "[test] Pay 5" and task.policy == {} and task.due_at is None
    assert list(task.assigned_users.all()) == [alice] and not task.assigned_groups.exists()
    api.force_authenticate(bob)
    assert api.get("/api/approvals/?status=pending").json()["results"] == []
    api.force_authenticate(alice)
    decided = api.post(f"/api/approvals/{task.pk}/decide/", {"decision": "approve"}, format="json")
    assert decided.status_code == 200, decided.json()
    drive()
    run.refresh_from_db()
    assert run.status == "succeeded"


def test_a_debugged_runs_results_keep_the_branch_it_took_and_its_input(api, alice):
    graph = build(
        {
            "start": ("trigger.manual",),
            "big": ("logic.condition", {"expression": "input.n > 10"}),
            "large": fn("noop"),
            "small": fn("add", a="{{ input.n }}", b=1),
        },
        ["start>big", "big.true>large", "big.false>small"],
    )
    wf = workflow(alice, graph)
    earlier = start(wf, {"n": 3})
    drive()
    start(wf, {"n": 30})  # newer: big chose true, small was skipped
    drive()
    api.force_authenticate(alice)

    run = ran(try_step(api, wf, "small", run=earlier.pk))
    unknown = try_step(api, wf, "small", run=earlier.pk + 100)

    rows = steps(run)
    assert run.input == {"n": 3}
    big = rows["big"]
    assert (big.status, big.handle, big.attempt) == ("succeeded", "false", 0)
    assert (rows["small"].output, rows["small"].attempt) == (4, 1)
    # Without the run, the newest run's big (true) would leave small skipped.
    assert steps(ran(try_step(api, wf, "small")))["small"].status == "skipped"
    assert unknown.status_code == 404


def test_a_pin_keeps_the_branch_its_step_chose(api, alice):
    graph = build(
        {
            "start": ("trigger.manual",),
            "big": ("logic.condition", {"expression": "input.n > 10"}),
            "large": fn("add", a=1, b=1),
        },
        ["start>big", "big.true>large"],
    )
    wf = workflow(alice, graph)
    api.force_authenticate(alice)

    api.put(f"/api/workflows/{wf.pk}/pins/big/", {"output": True, "handle": "true"}, format="json")
    taken = ran(try_step(api, wf, "large"))
    api.put(
        f"/api/workflows/{wf.pk}/pins/big/", {"output": False, "handle": "false"}, format="json"
    )
    not_taken = ran(try_step(api, wf, "large"))

    assert steps(taken)["large"].output == 2
    assert steps(not_taken)["large"].status == "skipped"
