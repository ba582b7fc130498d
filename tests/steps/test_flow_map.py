"""flow.map: runs a workflow once per item of a list, a few at a time, and outputs the list of
their outputs in the items' order."""

from engine.models import Run
from engine.tasks import cancel_children
from tests.engine_kit import (
    build,
    child_workflow,
    drive,
    execute,
    parent_graph,
    start,
    steps,
    workflow,
)


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


def test_a_map_by_workflow_id_renders_each_input_from_the_item_and_the_run(alice):
    child_wf = child_workflow(alice)
    node = {
        "type": "flow.map",
        "config": {
            "items": "{{ input.orders }}",
            "workflow": {"id": child_wf.pk},
            "input": {"n": "{{ item.qty * input.factor }}", "label": "#{{ index }}"},
        },
    }
    run = start(
        workflow(alice, parent_graph(node), name="p"),
        {"orders": [{"qty": 1}, {"qty": 2}], "factor": 10},
    )

    drive()

    children = Run.objects.filter(parent_run=run).order_by("parent_index")
    assert [c.input for c in children] == [{"n": 10, "label": "#0"}, {"n": 20, "label": "#1"}]
    assert steps(run)["call"].output == [{"n": 20}, {"n": 40}]


def test_items_that_are_not_a_list_fail_the_map_as_bad_config(alice):
    child_workflow(alice)
    run = start(
        workflow(alice, parent_graph(map_node("{{ input.numbers }}")), name="p"),
        {"numbers": {"a": 1}},
    )

    drive()

    run.refresh_from_db()
    call = steps(run)["call"]
    assert (call.status, call.error["code"], call.error["retryable"]) == (
        "failed",
        "bad_config",
        False,
    )
    assert "not dict" in call.error["message"]
    assert not Run.objects.filter(parent_run=run).exists()
    assert run.status == "failed"


def test_with_fail_fast_off_an_item_with_a_bad_input_is_collected_like_a_failed_item(alice):
    child_workflow(alice)
    node = map_node("{{ input.numbers }}", concurrency=2, fail_fast=False)
    run = start(workflow(alice, parent_graph(node), name="p"), {"numbers": [1, 2, "bad", 4]})

    drive()

    children = Run.objects.filter(parent_run=run).order_by("parent_index")
    assert [(c.parent_index, c.status) for c in children] == [
        (0, "succeeded"),
        (1, "succeeded"),
        (3, "succeeded"),
    ]
    call = steps(run)["call"]
    assert (call.status, call.error["code"]) == ("failed", "items_failed")
    assert "[2]" in call.error["message"]
