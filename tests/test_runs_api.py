"""The runs API (CONTRACT §5) through DRF's client; runs are driven in-process."""

from datetime import UTC, timedelta, timezone

import pytest

from designer.models import Role, WorkflowGrant
from engine.models import Run, RunEvent
from tests.engine_kit import build, drive, fn, noop, start, statuses, steps, workflow

INPUT_SCHEMA = {
    "type": "object",
    "required": ["amount"],
    "properties": {"amount": {"type": "number", "minimum": 0}},
}


@pytest.fixture
def wf(alice):
    graph = build(
        {
            "start": ("trigger.manual",),
            "charge": fn("flaky", fail_times=1, retryable=False),
            "after": noop(),
        },
        ["start>charge", "charge>after"],
        input_schema=INPUT_SCHEMA,
    )
    return workflow(alice, graph, name="charge")


def grant(wf, user, role: Role):
    WorkflowGrant.objects.create(workflow=wf, user=user, role=role)


def start_url(wf):
    return f"/api/workflows/{wf.pk}/runs/"


# --- The permission matrix ----------------------------------------------------------------------


def test_every_runs_endpoint_needs_login(api, wf):
    run_urls = ["/api/runs/", start_url(wf), "/api/runs/1/", "/api/runs/1/events/"]
    for url in run_urls:
        assert api.get(url).status_code == 401, url
    for url in [
        start_url(wf),
        "/api/runs/1/cancel/",
        "/api/runs/1/steps/x/retry/",
        "/api/runs/1/steps/x/skip/",
    ]:
        assert api.post(url, {}, format="json").status_code == 401, url


def test_someone_without_a_role_sees_no_run_at_all(api, alice, charlie, wf):
    api.force_authenticate(alice)
    run_id = api.post(start_url(wf), {"input": {"amount": 5}}, format="json").data["id"]
    api.force_authenticate(charlie)

    assert api.post(start_url(wf), {"input": {"amount": 5}}, format="json").status_code == 404
    assert api.get(f"/api/runs/{run_id}/").status_code == 404
    assert api.get(f"/api/runs/{run_id}/events/").status_code == 404
    assert api.post(f"/api/runs/{run_id}/cancel/").status_code == 404
    assert api.get("/api/runs/").data["results"] == []


def test_a_viewer_reads_runs_but_may_not_start_or_operate_them(api, alice, bob, wf):
    grant(wf, bob, Role.VIEWER)
    api.force_authenticate(alice)
    run_id = api.post(start_url(wf), {"input": {"amount": 5}}, format="json").data["id"]
    api.force_authenticate(bob)

    assert api.get(f"/api/runs/{run_id}/").status_code == 200
    assert api.post(start_url(wf), {"input": {"amount": 5}}, format="json").status_code == 403
    assert api.post(f"/api/runs/{run_id}/cancel/").status_code == 403
    assert api.post(f"/api/runs/{run_id}/steps/charge/retry/", {}, format="json").status_code == 403


def test_a_runner_starts_and_cancels_runs(api, bob, wf):
    grant(wf, bob, Role.RUNNER)
    api.force_authenticate(bob)

    response = api.post(start_url(wf), {"input": {"amount": 5}}, format="json")
    cancelled = api.post(f"/api/runs/{response.data['id']}/cancel/")

    assert response.status_code == 201
    assert response.data["actor"] == "bob"
    assert cancelled.status_code == 200
    assert cancelled.data["status"] == "cancelled"


# --- Starting -----------------------------------------------------------------------------------


def test_a_run_starts_with_its_steps_and_the_pinned_version(api, alice, wf):
    api.force_authenticate(alice)

    response = api.post(start_url(wf), {"input": {"amount": 12.5}}, format="json")

    assert response.status_code == 201
    body = response.data
    assert (body["status"], body["version"], body["workflow"], body["trigger"]) == (
        "running",
        1,
        wf.pk,
        "manual",
    )
    assert body["input"] == {"amount": 12.5}
    assert {s["node"]: s["status"] for s in body["steps"]} == {
        "start": "queued",
        "charge": "pending",
        "after": "pending",
    }


def test_input_that_breaks_the_input_schema_is_a_400_naming_the_field(api, alice, wf):
    api.force_authenticate(alice)

    response = api.post(start_url(wf), {"input": {"amount": -3}}, format="json")
    missing = api.post(start_url(wf), {"input": {}}, format="json")
    not_object = api.post(start_url(wf), {"input": [1]}, format="json")

    assert response.status_code == 400
    assert response.data["errors"][0]["field"] == "input.amount"
    assert response.data["errors"][0]["code"] == "minimum"
    assert missing.status_code == 400 and "amount" in missing.data["errors"][0]["message"]
    assert not_object.status_code == 400
    assert Run.objects.count() == 0


def test_an_idempotency_key_returns_the_first_run(api, alice, wf):
    api.force_authenticate(alice)
    body = {"input": {"amount": 1}, "idempotency_key": "order-17"}

    first = api.post(start_url(wf), body, format="json")
    second = api.post(start_url(wf), body, format="json")

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.data["id"] == second.data["id"]
    assert Run.objects.count() == 1


def test_an_unknown_version_or_an_archived_workflow_refuses_to_start(api, alice, wf):
    api.force_authenticate(alice)

    unknown = api.post(start_url(wf), {"input": {"amount": 1}, "version": 9}, format="json")
    wf.archived = True
    wf.save()
    archived = api.post(start_url(wf), {"input": {"amount": 1}}, format="json")

    assert unknown.status_code == 400 and unknown.data["errors"][0]["field"] == "version"
    assert archived.status_code == 409


def test_runs_beyond_the_concurrency_limit_wait_queued_and_start_in_order(api, alice, wf):
    api.force_authenticate(alice)
    assert (
        api.patch(f"/api/workflows/{wf.pk}/", {"max_concurrent_runs": 1}, format="json").status_code
        == 200
    )

    ids = [
        api.post(start_url(wf), {"input": {"amount": i}}, format="json").data["id"]
        for i in range(3)
    ]

    assert [Run.objects.get(pk=i).status for i in ids] == ["running", "queued", "queued"]
    api.post(f"/api/runs/{ids[0]}/cancel/")
    assert [Run.objects.get(pk=i).status for i in ids] == ["cancelled", "running", "queued"]


# --- Reading ------------------------------------------------------------------------------------


def test_the_list_filters_by_workflow_status_and_since_and_pages_by_cursor(api, alice, wf):
    api.force_authenticate(alice)
    other = workflow(alice, build({"start": ("trigger.manual",)}, []), name="other")
    for i in range(3):
        api.post(start_url(wf), {"input": {"amount": i}}, format="json")
    api.post(start_url(other), {}, format="json")
    drive()

    everything = api.get("/api/runs/", {"page_size": 2})
    page_two = api.get(everything.data["next"])
    failed = api.get("/api/runs/", {"status": "failed", "workflow": wf.pk})
    none_since = api.get("/api/runs/", {"since": "2999-01-01T00:00:00Z"})
    bad = api.get("/api/runs/", {"status": "exploded"})

    assert len(everything.data["results"]) == 2
    assert everything.data["results"][0]["workflow_name"] == "other"  # newest first
    assert len(page_two.data["results"]) == 2
    assert page_two.data["next"] is None
    assert len(failed.data["results"]) == 3
    assert none_since.data["results"] == []
    assert bad.status_code == 400 and bad.data["errors"][0]["field"] == "status"


def test_the_list_filters_by_trigger_who_started_it_and_a_time_range(api, alice, bob, wf):
    from datetime import timedelta

    WorkflowGrant.objects.create(workflow=wf, user=bob, role="runner")
    by_alice = start(wf, {"amount": 1}, actor=alice)
    by_bob = start(wf, {"amount": 2}, actor=bob)
    Run.objects.filter(pk=by_bob.pk).update(trigger="schedule")
    earlier = by_alice.created_at - timedelta(hours=2)
    Run.objects.filter(pk=by_alice.pk).update(created_at=earlier)
    api.force_authenticate(alice)

    def ids(**params):
        response = api.get("/api/runs/", params)
        assert response.status_code == 200, response.data
        return [r["id"] for r in response.data["results"]]

    assert ids(trigger="schedule") == [by_bob.pk]
    assert ids(trigger="api,schedule") == [by_bob.pk, by_alice.pk]
    assert ids(actor="alice") == [by_alice.pk]
    assert ids(until=(earlier + timedelta(minutes=1)).isoformat()) == [by_alice.pk]
    assert ids(since=(earlier + timedelta(minutes=1)).isoformat()) == [by_bob.pk]
    bad = api.get("/api/runs/", {"trigger": "telepathy"})
    assert bad.status_code == 400 and bad.data["errors"][0]["field"] == "trigger"
    assert api.get("/api/runs/", {"until": "soon"}).data["errors"][0]["field"] == "until"


@pytest.mark.parametrize(
    "value",
    [
        "soon",
        "2026-13-01T00:00:00Z",  # well formed, no such month
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
        "9999-12-31T23:59:59-01:00",  # after year 9999 in UTC
    ],
)
def test_a_time_filter_that_is_no_time_is_a_400_naming_it(api, alice, wf, value):
    api.force_authenticate(alice)
    for name in ("since", "until"):
        response = api.get("/api/runs/", {name: value})
        assert response.status_code == 400
        assert response.data["errors"][0]["field"] == name


def test_a_time_filter_takes_any_offset_python_does_and_a_time_without_one_as_utc(api, alice, wf):
    # PostgreSQL refuses offsets past 15:59 in a timestamp; the filter sends UTC (found by
    # schemathesis: until=0027-05-08T01:01:32.23-18:30 was a 500 on PostgreSQL).
    run = start(wf, {"amount": 1}, actor=alice)
    api.force_authenticate(alice)
    created = run.created_at.astimezone(UTC)

    def ids(**params):
        response = api.get("/api/runs/", params)
        assert response.status_code == 200, response.data
        return [r["id"] for r in response.data["results"]]

    far_west = timezone(-timedelta(hours=18, minutes=30))
    assert ids(until="0027-05-08T01:01:32.23-18:30") == []
    assert ids(since=(created - timedelta(seconds=1)).astimezone(far_west).isoformat()) == [run.pk]
    assert ids(since=(created + timedelta(seconds=1)).astimezone(far_west).isoformat()) == []
    naive = (created + timedelta(seconds=1)).replace(tzinfo=None).isoformat()
    assert ids(until=naive) == [run.pk]


def test_pages_are_stable_while_runs_are_inserted_each_run_once(api, alice, wf):
    first = [start(wf, {"amount": i}, actor=alice).pk for i in range(5)]
    api.force_authenticate(alice)
    page = api.get("/api/runs/", {"page_size": 2}).data
    seen = [r["id"] for r in page["results"]]
    while page["next"]:
        start(wf, {"amount": 99}, actor=alice)  # newer runs arrive between pages
        page = api.get(page["next"]).data
        seen += [r["id"] for r in page["results"]]

    assert seen == sorted(first, reverse=True)  # each once, in order, none of the newcomers


def test_events_page_after_a_cursor(api, alice, wf):
    api.force_authenticate(alice)
    run_id = api.post(start_url(wf), {"input": {"amount": 1}}, format="json").data["id"]
    drive()

    page = api.get(f"/api/runs/{run_id}/events/").data
    after_third = api.get(f"/api/runs/{run_id}/events/", {"after": page["events"][2]["id"]}).data

    assert page["events"][0]["type"] == "run.created"
    assert page["next_after"] is None
    assert after_third["events"] == page["events"][3:]


def test_a_run_shows_each_steps_attempt_input_output_and_error(api, alice, wf):
    api.force_authenticate(alice)
    run_id = api.post(start_url(wf), {"input": {"amount": 1}}, format="json").data["id"]
    drive()

    body = api.get(f"/api/runs/{run_id}/").data

    charge = next(s for s in body["steps"] if s["node"] == "charge")
    assert body["status"] == "failed"
    assert body["error"]["node"] == "charge"
    assert (charge["status"], charge["attempt"]) == ("failed", 1)
    assert charge["error"]["message"] == "attempt 1 failed on purpose"
    assert charge["input"]["function"] == "examples.flaky"


# --- Operators ----------------------------------------------------------------------------------


def test_retrying_a_failed_step_reopens_the_run_and_it_finishes(api, alice, wf):
    api.force_authenticate(alice)
    run_id = api.post(start_url(wf), {"input": {"amount": 1}}, format="json").data["id"]
    drive()
    run = Run.objects.get(pk=run_id)
    assert statuses(run) == {"start": "succeeded", "charge": "failed", "after": "skipped"}

    response = api.post(
        f"/api/runs/{run_id}/steps/charge/retry/", {"reason": "card fixed"}, format="json"
    )
    drive()

    assert response.status_code == 200
    assert (response.data["status"], response.data["attempt"]) == ("queued", 2)
    run.refresh_from_db()
    assert run.status == "succeeded"
    assert statuses(run) == {"start": "succeeded", "charge": "succeeded", "after": "succeeded"}
    retried = RunEvent.objects.get(run=run, type="step.retried")
    assert (retried.actor.username, retried.data["reason"]) == ("alice", "card fixed")


def test_a_retry_with_an_edited_input_runs_it_and_logs_the_edit(api, alice, wf):
    api.force_authenticate(alice)
    run_id = api.post(start_url(wf), {"input": {"amount": 1}}, format="json").data["id"]
    drive()
    edited = {"function": "examples.add", "args": {"a": 1, "b": 2}}

    response = api.post(
        f"/api/runs/{run_id}/steps/charge/retry/",
        {"input": edited, "reason": "use add"},
        format="json",
    )
    drive()

    assert response.status_code == 200
    run = Run.objects.get(pk=run_id)
    assert steps(run)["charge"].output == 3
    assert steps(run)["charge"].input == edited
    assert RunEvent.objects.get(run=run, type="step.retried").data["edited_input"] == edited


def test_an_edited_input_that_is_not_a_valid_config_is_a_400(api, alice, wf):
    api.force_authenticate(alice)
    run_id = api.post(start_url(wf), {"input": {"amount": 1}}, format="json").data["id"]
    drive()

    response = api.post(
        f"/api/runs/{run_id}/steps/charge/retry/", {"input": {"nope": 1}}, format="json"
    )

    assert response.status_code == 400
    assert response.data["errors"][0]["node"] == "charge"


def test_retrying_a_succeeded_step_is_a_409_and_an_unknown_step_a_404(api, alice, wf):
    api.force_authenticate(alice)
    run_id = api.post(start_url(wf), {"input": {"amount": 1}}, format="json").data["id"]
    drive()

    succeeded = api.post(f"/api/runs/{run_id}/steps/start/retry/", {}, format="json")
    unknown = api.post(f"/api/runs/{run_id}/steps/ghost/retry/", {}, format="json")

    assert succeeded.status_code == 409
    assert succeeded.data["errors"][0]["node"] == "start"
    assert unknown.status_code == 404


def test_skipping_a_failed_step_lets_the_run_finish(api, alice):
    graph = build(
        {
            "start": ("trigger.manual",),
            "charge": fn("flaky", fail_times=1, retryable=False),
            "after": {**noop(), "join": "all_done"},
        },
        ["start>charge", "charge>after"],
    )
    wf = workflow(alice, graph)
    api.force_authenticate(alice)
    run_id = api.post(start_url(wf), {}, format="json").data["id"]
    drive()
    assert Run.objects.get(pk=run_id).status == "failed"

    response = api.post(
        f"/api/runs/{run_id}/steps/charge/skip/", {"reason": "paid by hand"}, format="json"
    )
    drive()

    assert response.status_code == 200 and response.data["status"] == "skipped"
    run = Run.objects.get(pk=run_id)
    assert run.status == "succeeded"
    assert statuses(run)["after"] == "succeeded"


def test_cancelling_an_ended_run_is_a_409(api, alice, wf):
    api.force_authenticate(alice)
    run_id = api.post(start_url(wf), {"input": {"amount": 1}}, format="json").data["id"]
    drive()

    assert api.post(f"/api/runs/{run_id}/cancel/").status_code == 409


def test_a_cancel_records_the_operators_reason(api, alice, wf):
    api.force_authenticate(alice)
    run_id = api.post(start_url(wf), {"input": {"amount": 1}}, format="json").data["id"]

    response = api.post(f"/api/runs/{run_id}/cancel/", {"reason": "wrong amount"}, format="json")

    assert response.status_code == 200 and response.data["status"] == "cancelled"
    assert response.data["error"]["message"] == "wrong amount"
    event = RunEvent.objects.filter(run_id=run_id, new_status="cancelled", node_id="").get()
    assert event.data["reason"] == "wrong amount"
    assert event.actor == alice


def test_cancel_stops_a_waiting_delay_and_its_child_runs(api, alice):
    child = build(
        {"start": ("trigger.manual",), "wait": ("flow.delay", {"seconds": 3600})}, ["start>wait"]
    )
    workflow(alice, child, name="slow child")
    parent = build(
        {
            "start": ("trigger.manual",),
            "call": {"type": "flow.subworkflow", "config": {"workflow": {"name": "slow child"}}},
            "wait": ("flow.delay", {"seconds": 3600}),
        },
        ["start>call", "start>wait"],
    )
    wf = workflow(alice, parent, name="parent")
    api.force_authenticate(alice)
    run_id = api.post(start_url(wf), {}, format="json").data["id"]
    drive()
    assert Run.objects.get(pk=run_id).status == "waiting"

    response = api.post(f"/api/runs/{run_id}/cancel/")
    from engine.tasks import cancel_children

    cancel_children(run_id)  # what the on-commit task does

    assert response.status_code == 200
    assert {s["node"]: s["status"] for s in response.data["steps"]} == {
        "start": "succeeded",
        "call": "cancelled",
        "wait": "cancelled",
    }
    child_run = Run.objects.get(parent_run_id=run_id)
    assert child_run.status == "cancelled"
    assert statuses(child_run)["wait"] == "cancelled"


def test_the_event_log_gives_the_timeline_every_attempt_its_backoff_and_who_is_waited_for(
    api, alice, bob
):
    """The run view's timeline is drawn from GET /api/runs/{id}/events/ alone (no per-step
    attempt list in the run): each attempt's start and end with its number, the backoff's
    wake-up time, the wait's reason and the task's assignees must all be in it."""
    import time_machine

    graph = build(
        {
            "start": ("trigger.manual",),
            "pay": {
                **fn("flaky", fail_times=1),
                "retry": {"max_attempts": 2, "backoff_s": 5, "jitter": False},
            },
            "ask": ("human.approval", {"title": "Pay", "assignees": {"groups": ["finance"]}}),
        },
        ["start>pay", "pay>ask"],
    )
    run = start(workflow(alice, graph), actor=alice)
    t0 = run.created_at
    with time_machine.travel(t0, tick=False):
        drive(t0)
    with time_machine.travel(t0 + timedelta(seconds=5), tick=False):
        drive(t0 + timedelta(seconds=5))
    api.force_authenticate(alice)

    events = api.get(f"/api/runs/{run.pk}/events/").data["events"]

    pay = [(e["old_status"], e["new_status"], e["attempt"]) for e in events if e["node"] == "pay"]
    assert pay == [
        ("pending", "queued", 1),
        ("queued", "running", 1),
        ("running", "retrying", 1),
        ("retrying", "queued", 2),
        ("queued", "running", 2),
        ("running", "succeeded", 2),
    ]
    retrying = next(e for e in events if e["new_status"] == "retrying")
    assert retrying["data"]["wake_at"] == (t0 + timedelta(seconds=5)).isoformat()
    waiting = next(e for e in events if e["node"] == "ask" and e["new_status"] == "waiting")
    assert waiting["data"]["reason"] == "approval"
    created = next(e for e in events if e["type"] == "task.created")
    assert created["data"]["assignees"] == {"users": [], "groups": ["finance"]}


def test_a_run_answered_after_an_action_is_never_older_than_its_event_cursor(
    api, alice, monkeypatch
):
    """A worker may finish a step while the answer is read: the cursor (last_event_id) is read
    before the run and its steps, so the page's socket, opened after it, brings what the state
    misses; never the other way round (a page stuck at 'queued', waiting for events it was
    told it had)."""
    from engine import serializers
    from tests.engine_kit import build, drive, noop, workflow

    wf = workflow(alice, build({"start": ("trigger.manual",), "a": noop()}, ["start>a"]))
    read_cursor = serializers.last_event_id

    def cursor_then_a_worker_finishes(run_id):
        last = read_cursor(run_id)
        drive()  # the run ends between the two reads
        return last

    monkeypatch.setattr(serializers, "last_event_id", cursor_then_a_worker_finishes)
    api.force_authenticate(alice)
    body = api.post(f"/api/workflows/{wf.pk}/runs/", {"input": {}}, format="json").json()

    # The state has what happened after the cursor; the socket would bring it again (harmless).
    newer = RunEvent.objects.filter(run_id=body["id"], id__gt=body["last_event_id"] or 0)
    assert body["status"] == "succeeded" and newer.filter(type="run.succeeded").exists()
