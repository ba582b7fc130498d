"""code.function: calls a Python function registered with ``@step(name)`` and outputs its
return value (the functions used here are in engine/example_functions.py)."""

import pytest
import time_machine
from django.utils import timezone

from engine.functions import FUNCTIONS
from tests.engine_kit import build, drive, event_types, fn, start, steps, workflow


def one_call(node: dict, retry: dict | None = None) -> dict:
    call = {**node, "retry": retry} if retry else node
    return build({"start": ("trigger.manual",), "call": call}, ["start>call"])


def test_a_function_gets_its_rendered_arguments_and_outputs_what_it_returns(alice):
    run = start(workflow(alice, one_call(fn("add", a="{{ input.x }}", b=0.5))), {"x": 2})

    drive()

    call = steps(run)["call"]
    assert call.status == "succeeded"
    assert call.output == 2.5
    assert call.input == {"function": "examples.add", "args": {"a": 2, "b": 0.5}}


def test_the_function_gets_the_idempotency_key_run_node_attempt(alice):
    run = start(workflow(alice, one_call(fn("echo", who="{{ input.who }}"))), {"who": "ann"})

    drive()

    assert steps(run)["call"].output == {
        "values": {"who": "ann"},
        "attempt": 1,
        "idempotency_key": f"{run.pk}:call:1",
    }


def test_an_unknown_function_fails_the_step_and_is_not_retried(alice):
    graph = one_call(fn("no_such_thing"), retry={"max_attempts": 3, "backoff_s": 0})
    run = start(workflow(alice, graph))

    drive()

    run.refresh_from_db()
    call = steps(run)["call"]
    assert (call.status, call.attempt) == ("failed", 1)
    assert call.error["code"] == "unknown_function"
    assert call.error["retryable"] is False
    assert "examples.no_such_thing" in call.error["message"]
    assert run.status == "failed"


@pytest.mark.parametrize(
    "args", [{"a": 1}, {"a": 1, "b": 2, "c": 3}], ids=["missing", "unexpected"]
)
def test_arguments_that_do_not_fit_the_function_fail_as_bad_arguments(alice, args):
    graph = one_call(fn("add", **args), retry={"max_attempts": 3, "backoff_s": 0})
    run = start(workflow(alice, graph))

    drive()

    call = steps(run)["call"]
    assert (call.status, call.attempt) == ("failed", 1)
    assert call.error["code"] == "bad_arguments"
    assert call.error["retryable"] is False
    assert call.error["message"].startswith("examples.add: ")


def test_a_function_raising_a_plain_exception_fails_as_exception_and_is_retried(alice, monkeypatch):
    calls = []

    def broken(ctx):
        calls.append(ctx.idempotency_key)
        raise RuntimeError("the card service is down")

    monkeypatch.setitem(FUNCTIONS, "tests.broken", broken)
    retry = {"max_attempts": 3, "backoff_s": 1, "jitter": False}
    graph = one_call({"type": "code.function", "config": {"function": "tests.broken"}}, retry)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        run = start(workflow(alice, graph))
        drive(timezone.now())
        assert (steps(run)["call"].status, steps(run)["call"].attempt) == ("retrying", 1)

        for _ in range(2):
            clock.shift(60)
            drive(timezone.now())

    run.refresh_from_db()
    call = steps(run)["call"]
    assert (call.status, call.attempt) == ("failed", 3)
    assert call.error == {
        "message": "RuntimeError: the card service is down",
        "code": "exception",
        "retryable": True,
    }
    assert calls == [f"{run.pk}:call:{attempt}" for attempt in (1, 2, 3)]
    assert event_types(run).count("step.retrying:call") == 2
    assert run.status == "failed"
