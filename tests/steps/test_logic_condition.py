"""logic.condition: evaluates a bare expression and leaves by ``true`` or ``false``."""

import pytest

from tests.engine_kit import build, drive, fn, noop, start, statuses, steps, workflow


def branching(alice, condition: str):
    graph = build(
        {
            "start": ("trigger.manual",),
            "big": ("logic.condition", {"expression": condition}),
            "yes": noop(),
            "no": noop(),
            "after": {**noop(), "join": "one_success"},
        },
        ["start>big", "big.true>yes", "big.false>no", "yes>after", "no>after"],
    )
    return workflow(alice, graph)


@pytest.mark.parametrize(("amount", "taken", "skipped"), [(5000, "yes", "no"), (5, "no", "yes")])
def test_a_condition_takes_one_branch_and_skips_the_other(alice, amount, taken, skipped):
    run = start(branching(alice, "input.amount > 1000"), {"amount": amount})

    drive()

    run.refresh_from_db()
    seen = statuses(run)
    assert seen[taken] == "succeeded"
    assert seen[skipped] == "skipped"
    assert seen["after"] == "succeeded"
    assert run.status == "succeeded"


@pytest.mark.parametrize(
    ("items", "value", "handle"), [([1, 2], True, "true"), ([], False, "false")]
)
def test_a_condition_outputs_its_truth_as_a_bool_and_leaves_by_that_handle(
    alice, items, value, handle
):
    run = start(branching(alice, "input.items"), {"items": items})

    drive()

    big = steps(run)["big"]
    assert big.output == {"value": value}
    assert big.output["value"] is value  # a bool, not the list it was computed from
    assert big.handle == handle


def test_a_condition_reads_the_outputs_of_earlier_steps(alice):
    graph = build(
        {
            "start": ("trigger.manual",),
            "add": fn("add", a="{{ input.x }}", b=5),
            "big": ("logic.condition", {"expression": "steps.add.output > 10"}),
            "yes": noop(),
            "no": noop(),
        },
        ["start>add", "add>big", "big.true>yes", "big.false>no"],
    )
    wf = workflow(alice, graph)
    small, large = start(wf, {"x": 1}), start(wf, {"x": 10})

    drive()

    assert (steps(small)["big"].output, statuses(small)["no"]) == ({"value": False}, "succeeded")
    assert (steps(large)["big"].output, statuses(large)["yes"]) == ({"value": True}, "succeeded")


def test_a_condition_that_cannot_be_evaluated_fails_and_takes_neither_branch(alice):
    run = start(branching(alice, "input.amount > 1000"), {"amount": "a lot"})

    drive()

    run.refresh_from_db()
    big = steps(run)["big"]
    assert big.status == "failed"
    assert big.error["code"] == "expression_error"
    assert big.error["field"] == "config.expression"
    assert big.error["retryable"] is False
    assert {n: s for n, s in statuses(run).items() if n in ("yes", "no", "after")} == {
        "yes": "skipped",
        "no": "skipped",
        "after": "skipped",
    }
    assert run.status == "failed"
