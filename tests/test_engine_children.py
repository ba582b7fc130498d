"""Composition: flow.subworkflow and flow.map start child runs linked both ways."""

from engine.models import Run
from engine.tasks import cancel_children
from tests.engine_kit import build, drive, execute, fn, noop, start, statuses, steps, workflow


def child_workflow(owner, name="double"):
    graph = build(
        {"start": ("trigger.manual",), "twice": fn("add", a="{{ input.n }}", b="{{ input.n }}")},
        ["start>twice"],
        input_schema={"type": "object", "required": ["n"], "properties": {"n": {"type": "number"}}},
        output={"n": "{{ steps.twice.output }}"},
    )
    return workflow(owner, graph, name=name)


def parent_graph(node: dict, output: dict | None = None) -> dict:
    extra = {"output": output} if output else {}
    return build(
        {"start": ("trigger.manual",), "call": node, "after": noop()},
        ["start>call", "call>after"],
        **extra,
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


def map_node(
    items: str, concurrency: int = 2, fail_fast: bool = True, name: str = "double"
) -> dict:
    return {
        "type": "flow.map",
        "config": {
            "items": items,
            "workflow": {"name": name},
            "input": {"n": "{{ item }}", "i": "{{ index }}"},
            "concurrency": concurrency,
            "fail_fast": fail_fast,
        },
    }


def test_a_map_outputs_the_children_outputs_in_item_order_within_its_concurrency(alice):
    child_workflow(alice)
    run = start(
        workflow(alice, parent_graph(map_node("{{ input.numbers }}", 2)), name="p"),
        {"numbers": [1, 2, 3, 4, 5]},
    )

    # Run only the start and the map step: the map starts two children, no more.
    execute(run, "start")
    execute(run, "call")
    assert Run.objects.filter(parent_run=run).count() == 2
    assert steps(run)["call"].status == "waiting"

    drive()

    run.refresh_from_db()
    children = Run.objects.filter(parent_run=run).order_by("parent_index")
    assert [c.parent_index for c in children] == [0, 1, 2, 3, 4]
    assert [c.input for c in children][:2] == [{"n": 1, "i": 0}, {"n": 2, "i": 1}]
    assert steps(run)["call"].output == [{"n": 2}, {"n": 4}, {"n": 6}, {"n": 8}, {"n": 10}]
    assert run.status == "succeeded"


def test_a_map_over_an_empty_list_outputs_an_empty_list(alice):
    child_workflow(alice)
    run = start(
        workflow(alice, parent_graph(map_node("{{ input.numbers }}")), name="p"), {"numbers": []}
    )

    drive()

    assert steps(run)["call"].output == []
    assert Run.objects.filter(parent_run=run).count() == 0


def test_a_failing_item_fails_fast_and_cancels_the_other_children(alice):
    child_workflow(alice)
    run = start(
        workflow(alice, parent_graph(map_node("{{ input.numbers }}", 3)), name="p"),
        {"numbers": [1, "bad", 3, 4]},
    )

    execute(run, "start")
    execute(run, "call")  # each child's input is checked against its input_schema at its start

    run.refresh_from_db()
    assert steps(run)["call"].status == "failed"
    assert "item 1" in steps(run)["call"].error["message"]


def test_a_map_that_collects_failures_waits_for_every_item(alice):
    graph = build(
        {
            "start": ("trigger.manual",),
            "check": ("logic.condition", {"expression": "input.n != 2"}),
            "boom": ("flow.fail", {"message": "two is bad"}),
        },
        ["start>check", "check.false>boom"],
    )
    workflow(alice, graph, name="picky")
    node = map_node("{{ input.numbers }}", 2, fail_fast=False, name="picky")
    run = start(workflow(alice, parent_graph(node), name="p"), {"numbers": [1, 2, 3, 4]})

    drive()

    run.refresh_from_db()
    children = Run.objects.filter(parent_run=run).order_by("parent_index")
    assert [c.status for c in children] == ["succeeded", "failed", "succeeded", "succeeded"]
    step = steps(run)["call"]
    assert step.status == "failed"
    assert step.error["code"] == "items_failed"
    assert "[1]" in step.error["message"]


def test_fail_fast_cancels_the_running_siblings(alice):
    graph = build(
        {
            "start": ("trigger.manual",),
            "check": ("logic.condition", {"expression": "input.n != 0"}),
            "boom": ("flow.fail", {"message": "zero"}),
            "wait": ("flow.delay", {"seconds": 3600}),
        },
        ["start>check", "check.false>boom", "check.true>wait"],
    )
    workflow(alice, graph, name="slowpoke")
    run = start(
        workflow(
            alice, parent_graph(map_node("{{ input.numbers }}", 3, name="slowpoke")), name="p"
        ),
        {"numbers": [1, 0, 2]},
    )

    drive()  # the two others wait an hour; the zero fails at once

    step = steps(run)["call"]
    assert step.status == "failed"
    # After commit a task cancels the siblings; here the test runs it.
    assert cancel_children(run.pk, "call") == 2
    assert sorted(Run.objects.filter(parent_run=run).values_list("status", flat=True)) == [
        "cancelled",
        "cancelled",
        "failed",
    ]
