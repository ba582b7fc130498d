"""Compensation (sagas, issue 20) driven in the test's process: the order of compensations,
their scope, a compensation that fails for good, the operator's retry and skip, cancel, and
what the run detail says. Through real workers: test_compensation_workers.py."""

import pytest

from engine import transitions
from engine.models import Run, RunEvent
from engine.states import RunStatus
from tests.engine_kit import build, drive, event_types, fn, noop, start, statuses, steps, workflow


def undo(name: str, **more) -> dict:
    return (
        fn(
            "echo",
            undone="{{ compensating.node }}",
            output="{{ compensating.output }}",
            input="{{ compensating.input }}",
            label=name,
        )
        | more
    )


def saga_whose_ub_fails_once() -> dict:
    """The saga whose compensation ub fails on its first attempt (no retries: for good)."""
    graph = saga()
    for node in graph["nodes"]:
        if node["id"] == "ub":
            node["config"] = fn("flaky", fail_times=1)["config"]
    return graph


def saga(fail_at_end: str = "boom") -> dict:
    """start > a > b > c (fails); a and b have compensations ua and ub."""
    return build(
        {
            "start": ("trigger.manual",),
            "a": fn("add", a=1, b=2),
            "b": fn("add", a="{{ steps.a.output }}", b=10),
            "c": ("flow.fail", {"message": fail_at_end}),
            "ua": undo("ua"),
            "ub": undo("ub"),
        },
        ["start>a", "a>b", "b>c", "a.compensate>ua", "b.compensate>ub"],
    )


def finished(run: Run) -> Run:
    run.refresh_from_db()
    return run


def test_a_failing_chain_compensates_in_reverse_order_with_the_steps_input_and_output(alice):
    run = start(workflow(alice, saga()))
    drive()
    run = finished(run)
    assert run.status == RunStatus.FAILED
    assert run.error["node"] == "c" and run.error["message"] == "boom"
    by = steps(run)
    assert by["ub"].status == by["ua"].status == "succeeded"
    assert by["ub"].output["values"]["undone"] == "b"
    assert by["ub"].output["values"]["output"] == 13
    assert by["ub"].output["values"]["input"]["args"] == {"a": 3, "b": 10}
    assert by["ua"].output["values"]["output"] == 3
    assert by["ub"].finished_at <= by["ua"].started_at
    types = event_types(run)
    assert types.index("compensation.succeeded:ub") < types.index("compensation.started:ua")
    assert types[-3:] == ["compensation.succeeded:ua", "run.compensated", "run.failed"]
    assert "run.compensating" in types
    event = RunEvent.objects.get(run=run, type="run.compensating")
    assert event.data["steps"] == [
        {"node": "a", "compensation": "ua"},
        {"node": "b", "compensation": "ub"},
    ]


def test_without_a_succeeded_compensated_step_the_run_fails_as_before(alice):
    graph = build(
        {"start": ("trigger.manual",), "a": fn("flaky", fail_times=1), "ua": undo("ua")},
        ["start>a", "a.compensate>ua"],
    )
    run = finished(start(workflow(alice, graph)))
    drive()
    run = finished(run)
    assert run.status == "failed"
    assert statuses(run)["ua"] == "skipped"
    assert "run.compensating" not in event_types(run)


def test_a_succeeded_run_skips_its_compensations(alice):
    graph = build(
        {"start": ("trigger.manual",), "a": noop(), "ua": undo("ua")},
        ["start>a", "a.compensate>ua"],
    )
    run = start(workflow(alice, graph))
    drive()
    run = finished(run)
    assert run.status == "succeeded"
    assert statuses(run)["ua"] == "skipped"


def test_a_compensation_failing_for_good_waits_for_the_operator(alice):
    graph = saga_whose_ub_fails_once()
    run = start(workflow(alice, graph))
    drive()
    run = finished(run)
    assert run.status == RunStatus.COMPENSATING
    assert statuses(run)["ub"] == "failed" and statuses(run)["ua"] == "pending"
    assert "compensation.failed:ub" in event_types(run)
    with pytest.raises(transitions.Conflict):
        transitions.do_retry_step(run.pk, "c", actor=alice)
    transitions.do_retry_step(run.pk, "ub", actor=alice)
    drive()
    run = finished(run)
    assert run.status == RunStatus.FAILED
    assert statuses(run)["ub"] == statuses(run)["ua"] == "succeeded"
    assert event_types(run)[-2:] == ["run.compensated", "run.failed"]


def test_the_operator_may_skip_a_failed_compensation(alice):
    graph = saga_whose_ub_fails_once()
    run = start(workflow(alice, graph))
    drive()
    transitions.do_skip_step(run.pk, "ub", actor=alice)
    drive()
    run = finished(run)
    assert run.status == RunStatus.FAILED
    assert statuses(run)["ub"] == "skipped" and statuses(run)["ua"] == "succeeded"


def test_cancel_of_a_compensating_run_ends_it(alice):
    graph = saga_whose_ub_fails_once()
    run = start(workflow(alice, graph))
    drive()
    assert transitions.do_cancel_run(run.pk, actor=alice)
    run = finished(run)
    assert run.status == "cancelled"
    assert statuses(run)["ua"] == "cancelled"


def test_parallel_branches_are_compensated_together(alice):
    graph = build(
        {
            "start": ("trigger.manual",),
            "x": noop(),
            "y": noop(),
            "join": noop(),
            "fail": ("flow.rollback", {"message": "no"}),
            "ux": undo("ux"),
            "uy": undo("uy"),
            "uj": undo("uj"),
        },
        [
            "start>x",
            "start>y",
            "x>join",
            "y>join",
            "join>fail",
            "x.compensate>ux",
            "y.compensate>uy",
            "join.compensate>uj",
        ],
    )
    run = start(workflow(alice, graph))
    drive()
    run = finished(run)
    assert run.status == "failed" and run.error["code"] == "rolled_back"
    types = event_types(run)
    started = [t for t in types if t.startswith("compensation.started")]
    assert started[0] == "compensation.started:uj"
    # ux and uy start in the same plan, after uj succeeded.
    i, j = types.index("compensation.started:ux"), types.index("compensation.started:uy")
    assert abs(i - j) == 1 and min(i, j) > types.index("compensation.succeeded:uj")


def test_quick_compensations_started_together_each_record_their_success(alice):
    graph = build(
        {
            "start": ("trigger.manual",),
            "x": noop(),
            "y": noop(),
            "fail": ("flow.fail", {"message": "no"}),
            "ux": ("data.transform", {"value": "{{ compensating.node }}"}),
            "uy": ("data.transform", {"value": "{{ compensating.node }}"}),
        },
        ["start>x", "start>y", "x>fail", "y>fail", "x.compensate>ux", "y.compensate>uy"],
    )
    run = start(workflow(alice, graph))
    drive()
    run = finished(run)
    assert run.status == "failed"
    assert (steps(run)["ux"].output, steps(run)["uy"].output) == ("x", "y")
    types = event_types(run)
    assert types.count("compensation.succeeded:ux") == types.count("compensation.succeeded:uy") == 1


def test_a_replay_of_a_compensated_run_runs_the_undone_steps_again(alice):
    run = start(workflow(alice, saga()))
    drive()
    run = finished(run)
    replay = transitions.do_replay_run(run.pk, actor=alice, version=run.version, reason="try again")
    drive()
    replay = finished(replay)
    by = steps(replay)
    # a and b ran again (they were undone), and so did their compensations when c failed again.
    assert by["a"].attempt == by["b"].attempt == 1
    assert "step.reused:a" not in event_types(replay)
    assert by["ua"].status == by["ub"].status == "succeeded"
    assert replay.status == "failed"


def test_the_run_detail_names_compensations_and_the_status_filter_takes_compensating(alice, api):
    graph = saga_whose_ub_fails_once()
    run = start(workflow(alice, graph))
    drive()
    api.force_login(alice)

    listed = api.get("/api/runs/?status=compensating").json()["results"]
    assert [r["id"] for r in listed] == [run.pk] and listed[0]["status"] == "compensating"
    detail = api.get(f"/api/runs/{run.pk}/").json()
    by = {s["node"]: s for s in detail["steps"]}
    assert (by["ub"]["compensates"], by["ua"]["compensates"]) == ("b", "a")
    assert by["b"]["compensated_by"] == "ub"  # its compensation ran (and failed)
    assert by["a"]["compensated_by"] is None  # ua has not started
    assert by["c"]["compensates"] is None and by["c"]["compensated_by"] is None
    skipped = api.post(f"/api/runs/{run.pk}/steps/ub/skip/", {}, format="json").json()
    assert skipped["compensates"] == "b"


def test_a_sub_workflow_may_undo_a_step_in_several_steps(alice):
    from tests.engine_kit import child_workflow

    child = child_workflow(alice)
    graph = build(
        {
            "start": ("trigger.manual",),
            "a": fn("add", a=1, b=2),
            "fail": ("flow.fail", {"message": "no"}),
            "ua": (
                "flow.subworkflow",
                {"workflow": {"id": child.pk}, "input": {"n": "{{ compensating.output }}"}},
            ),
        },
        ["start>a", "a>fail", "a.compensate>ua"],
    )
    run = start(workflow(alice, graph))
    drive()
    run = finished(run)
    assert run.status == "failed"
    assert steps(run)["ua"].output == {"n": 6}
    assert Run.objects.filter(parent_run=run).get().status == "succeeded"
