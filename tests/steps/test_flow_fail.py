"""flow.fail: ends the run as failed with a message and a code; it is never retried."""

from tests.engine_kit import build, drive, event_types, fn, noop, start, steps, workflow


def test_flow_fail_ends_the_run_at_once_with_its_message(alice):
    graph = build(
        {
            "start": ("trigger.manual",),
            "check": ("logic.condition", {"expression": "input.ok"}),
            "stop": ("flow.fail", {"message": "declined: {{ input.why }}", "code": "DECLINED"}),
            "slow": {**fn("sleep", seconds=0), "join": "all_done"},
            "go": noop(),
        },
        ["start>check", "check.false>stop", "check.true>go", "start>slow"],
    )
    run = start(workflow(alice, graph), {"ok": False, "why": "no budget"})

    drive()

    run.refresh_from_db()
    assert run.status == "failed"
    assert run.error == {"message": "declined: no budget", "code": "DECLINED", "node": "stop"}
    assert steps(run)["stop"].attempt == 1


def test_without_a_code_the_error_code_is_failed(alice):
    graph = build(
        {
            "start": ("trigger.manual",),
            "add": fn("add", a="{{ input.x }}", b=1),
            "stop": ("flow.fail", {"message": "got {{ steps.add.output }}, wanted more"}),
        },
        ["start>add", "add>stop"],
    )
    run = start(workflow(alice, graph), {"x": 1})

    drive()

    run.refresh_from_db()
    assert steps(run)["stop"].error == {
        "message": "got 2, wanted more",
        "code": "failed",
        "retryable": False,
    }
    assert run.error == {"message": "got 2, wanted more", "code": "failed", "node": "stop"}


def test_flow_fail_is_never_retried_even_with_a_retry_policy(alice):
    retry = {"max_attempts": 5, "backoff_s": 0}
    graph = build(
        {
            "start": ("trigger.manual",),
            "stop": {"type": "flow.fail", "config": {"message": "no"}, "retry": retry},
        },
        ["start>stop"],
    )
    run = start(workflow(alice, graph))

    drive()

    run.refresh_from_db()
    stop = steps(run)["stop"]
    assert (stop.status, stop.attempt) == ("failed", 1)
    assert "step.retrying:stop" not in event_types(run)
    assert run.status == "failed"
