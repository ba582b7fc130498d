"""data.transform: renders a JSON value whose strings are templates and outputs it."""

from typing import Any

from engine.models import StepRun
from tests.engine_kit import build, drive, fn, start, steps, workflow


def transformed(owner, value: Any, input: dict[str, Any]) -> StepRun:
    """The ``shape`` step of a finished run of ``start > shape`` rendering ``value``."""
    graph = build(
        {"start": ("trigger.manual",), "shape": ("data.transform", {"value": value})},
        ["start>shape"],
    )
    run = start(workflow(owner, graph), input)
    drive()
    return steps(run)["shape"]


def test_nested_objects_and_lists_are_rendered_at_every_depth(alice):
    value = {
        "customer": {"name": "{{ input.name }}", "tags": ["vip", "{{ input.tier }}"]},
        "lines": [{"sku": "{{ input.items[0].sku }}", "qty": "{{ input.items[0].qty }}"}],
        "fixed": 3,
        "flag": True,
        "nothing": None,
    }

    shape = transformed(
        alice, value, {"name": "Ann", "tier": "gold", "items": [{"sku": "A-1", "qty": 2}]}
    )

    assert shape.status == "succeeded"
    assert shape.output == {
        "customer": {"name": "Ann", "tags": ["vip", "gold"]},
        "lines": [{"sku": "A-1", "qty": 2}],
        "fixed": 3,
        "flag": True,
        "nothing": None,
    }
    assert shape.input == {"value": shape.output}  # the rendered config is the step's input


def test_exactly_one_template_yields_a_native_value_and_mixed_text_yields_a_string(alice):
    value = {
        "number": "{{ input.n }}",
        "sum": "  {{ input.n + 1 }}  ",
        "list": "{{ input.items }}",
        "object": "{{ input.box }}",
        "bool": "{{ input.n > 3 }}",
        "text": "n={{ input.n }}",
        "two": "{{ input.n }}{{ input.n }}",
        "plain": "no braces",
    }

    shape = transformed(alice, value, {"n": 5, "items": [1, 2], "box": {"w": 1}})

    assert shape.output == {
        "number": 5,
        "sum": 6,
        "list": [1, 2],
        "object": {"w": 1},
        "bool": True,
        "text": "n=5",
        "two": "55",
        "plain": "no braces",
    }


def test_a_transform_reshapes_the_outputs_of_earlier_steps(alice):
    graph = build(
        {
            "start": ("trigger.manual",),
            "add": fn("add", a="{{ input.x }}", b=1),
            "shape": (
                "data.transform",
                {"value": {"total": "{{ steps.add.output }}", "was": "{{ steps.add.status }}"}},
            ),
        },
        ["start>add", "add>shape"],
    )
    run = start(workflow(alice, graph), {"x": 41})

    drive()

    assert steps(run)["shape"].output == {"total": 42, "was": "succeeded"}
