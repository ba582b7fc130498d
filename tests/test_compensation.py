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
    graph = saga()
    for node in graph["nodes"]:
        if node["id"] == "ub":
            node["config"] = fn("flaky", fail_times=1)["config"]
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
    assert statuses(run) | {} == statuses(run)
    assert statuses(run)["ub"] == statuses(run)["ua"] == "succeeded"
    assert event_types(run)[-2:] == ["run.compensated", "run.failed"]


def test_the_operator_may_skip_a_failed_compensation(alice):
    graph = saga()
    for node in graph["nodes"]:
        if node["id"] == "ub":
            node["config"] = fn("flaky", fail_times=1)["config"]
    run = start(workflow(alice, graph))
    drive()
    transitions.do_skip_step(run.pk, "ub", actor=alice)
    drive()
    run = finished(run)
    assert run.status == RunStatus.FAILED
    assert statuses(run)["ub"] == "skipped" and statuses(run)["ua"] == "succeeded"


def test_cancel_of_a_compensating_run_ends_it(alice):
    graph = saga()
    for node in graph["nodes"]:
        if node["id"] == "ub":
            node["config"] = fn("flaky", fail_times=1)["config"]
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
