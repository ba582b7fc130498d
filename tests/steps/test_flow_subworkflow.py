"""flow.subworkflow: runs another workflow as a child run, linked both ways, and outputs the
child run's output."""

import pytest

from designer.services import do_save_version
from engine.models import Run
from tests.engine_kit import (
    build,
    child_workflow,
    drive,
    noop,
    parent_graph,
    start,
    statuses,
    steps,
    workflow,
)


def test_a_subworkflow_runs_the_child_and_outputs_its_output(alice):
    child_wf = child_workflow(alice)
    node = {
        "type": "flow.subworkflow",
        "config": {"workflow": {"name": "double"}, "input": {"n": "{{ input.x }}"}},
    }
    run = start(
        workflow(alice, parent_graph(node, {"r": "{{ steps.call.output.n }}"}), name="p"), {"x": 21}
    )

    drive()

    run.refresh_from_db()
    child = Run.objects.get(parent_run=run)
    assert (child.workflow, child.parent_node, child.trigger) == (child_wf, "call", "parent")
    assert child.status == "succeeded"
    assert steps(run)["call"].output == {"n": 42}
    assert run.output == {"r": 42}
    assert run.events.filter(type="step.child_started", data__child_run=child.pk).exists()


def test_a_failed_child_fails_the_step_and_an_error_edge_can_take_over(alice):
    child_workflow(alice)
    node = {
        "type": "flow.subworkflow",
        "config": {"workflow": {"name": "double"}, "input": {"n": "not a number"}},
    }
    graph = build(
        {"start": ("trigger.manual",), "call": node, "handle": noop()},
        ["start>call", "call.error>handle"],
    )
    run = start(workflow(alice, graph, name="p"))

    drive()

    run.refresh_from_db()
    error = steps(run)["call"].error
    assert error["code"] == "bad_child_input"
    assert "input.n" in error["message"]
    assert statuses(run)["handle"] == "succeeded"
    assert run.status == "succeeded"


def test_a_child_run_that_fails_fails_its_parent_step(alice):
    graph = build(
        {"start": ("trigger.manual",), "boom": ("flow.fail", {"message": "child says no"})},
        ["start>boom"],
    )
    workflow(alice, graph, name="failing")
    node = {"type": "flow.subworkflow", "config": {"workflow": {"name": "failing"}}}
    run = start(workflow(alice, parent_graph(node), name="p"))

    drive()

    run.refresh_from_db()
    assert run.status == "failed"
    assert "child says no" in steps(run)["call"].error["message"]
    assert statuses(run)["after"] == "skipped"


def test_a_subworkflow_without_wait_continues_at_once_with_the_child_id(alice):
    child_workflow(alice)
    node = {
        "type": "flow.subworkflow",
        "config": {"workflow": {"name": "double"}, "input": {"n": 1}, "wait": False},
    }
    run = start(workflow(alice, parent_graph(node), name="p"))

    drive()

    child = Run.objects.get(parent_run=run)
    assert steps(run)["call"].output == {"run_id": child.pk}
    assert child.status == "succeeded"


def test_a_workflow_that_calls_itself_stops_at_the_depth_limit(alice, settings):
    settings.FLOWDECK_MAX_CHILD_DEPTH = 3
    node = {"type": "flow.subworkflow", "config": {"workflow": {"name": "loop"}}}
    graph = build({"start": ("trigger.manual",), "again": node}, ["start>again"])
    run = start(workflow(alice, graph, name="loop"))

    drive()

    assert Run.objects.count() == 4  # the run and three nested children
    run.refresh_from_db()
    assert run.status == "failed"
    deepest = Run.objects.order_by("-id").first()
    assert steps(deepest)["again"].error["code"] == "too_deep"


@pytest.mark.parametrize(
    ("version", "number", "output"), [(1, 1, {"n": 42}), ("latest", 2, {"n": "v2"})]
)
def test_a_pinned_version_runs_that_version_and_latest_the_newest(alice, version, number, output):
    child_wf = child_workflow(alice)
    newer = build(
        {"start": ("trigger.manual",)},
        [],
        input_schema={"type": "object", "required": ["n"]},
        output={"n": "v2"},
    )
    do_save_version(actor=alice, workflow=child_wf, graph=newer, base_version=1)
    node = {
        "type": "flow.subworkflow",
        "config": {"workflow": {"id": child_wf.pk}, "version": version, "input": {"n": 21}},
    }
    run = start(workflow(alice, parent_graph(node), name="p"))

    drive()

    child = Run.objects.get(parent_run=run)
    assert child.version.number == number
    assert steps(run)["call"].output == output


@pytest.mark.parametrize(
    ("config", "code"),
    [
        ({"workflow": {"name": "nobody"}}, "unknown_workflow"),
        ({"workflow": {"name": "double"}, "version": 9}, "unknown_version"),
    ],
)
def test_a_workflow_or_version_that_does_not_exist_fails_the_step(alice, config, code):
    child_workflow(alice)
    run = start(workflow(alice, parent_graph({"type": "flow.subworkflow", "config": config})))

    drive()

    run.refresh_from_db()
    call = steps(run)["call"]
    assert (call.status, call.error["code"], call.error["retryable"]) == ("failed", code, False)
    assert not Run.objects.filter(parent_run=run).exists()
    assert run.status == "failed"
