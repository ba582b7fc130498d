"""trigger.manual: a run started by hand, the API or the CLI. Its input is checked against the
workflow's input_schema before the run starts, and its output is that input."""

import pytest

from engine import transitions
from tests.engine_kit import build, drive, start, steps, workflow

INVOICE_SCHEMA = {
    "type": "object",
    "required": ["amount"],
    "properties": {
        "amount": {"type": "number", "minimum": 0},
        "customer": {
            "type": "object",
            "properties": {"email": {"type": "string", "format": "email"}},
        },
    },
}


def invoice_workflow(owner):
    graph = build(
        {
            "start": ("trigger.manual",),
            "total": ("data.transform", {"value": "{{ steps.start.output.amount * 2 }}"}),
        },
        ["start>total"],
        input_schema=INVOICE_SCHEMA,
    )
    return workflow(owner, graph)


def test_a_manual_trigger_outputs_the_run_input_unchanged(alice):
    given = {"order": {"id": 7, "lines": [1, 2]}, "note": None, "rush": True}
    graph = build(
        {
            "start": ("trigger.manual",),
            "first": ("data.transform", {"value": "{{ steps.start.output.order.lines[0] }}"}),
        },
        ["start>first"],
    )
    run = start(workflow(alice, graph), given)

    drive()

    by_node = steps(run)
    assert by_node["start"].status == "succeeded"
    assert by_node["start"].output == given
    assert by_node["first"].output == 1


def test_an_input_that_fits_the_input_schema_starts_a_run_that_reads_it(alice):
    wf = invoice_workflow(alice)
    given = {"amount": 21, "customer": {"email": "ann@example.com"}}
    transitions.check_start_input(wf.versions.get(number=1).graph, given)
    run = start(wf, given)

    drive()

    run.refresh_from_db()
    assert run.status == "succeeded"
    assert steps(run)["start"].output == given
    assert steps(run)["total"].output == 42


@pytest.mark.parametrize(
    ("given", "field", "code"),
    [
        ({"amount": -5}, "input.amount", "minimum"),
        ({"amount": "ten"}, "input.amount", "type"),
        ({}, "input", "required"),
        ({"amount": 1, "customer": {"email": "not an address"}}, "input.customer.email", "format"),
        (["amount", 1], "input", "type"),
    ],
)
def test_an_input_that_breaks_the_input_schema_is_refused_naming_the_field(
    alice, given, field, code
):
    wf = invoice_workflow(alice)
    graph = wf.versions.get(number=1).graph

    with pytest.raises(transitions.InputInvalid) as refused:
        transitions.check_start_input(graph, given)

    assert refused.value.errors[0]["field"] == field
    assert refused.value.errors[0]["code"] == code
    assert str(refused.value) == refused.value.errors[0]["message"]
