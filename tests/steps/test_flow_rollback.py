"""flow.rollback: fails the run with a message (code rolled_back), never retried, and the
succeeded steps with a compensation are undone (tests/test_compensation.py has the rest)."""

from tests.engine_kit import build, drive, event_types, fn, noop, start, steps, workflow


def test_flow_rollback_fails_the_run_with_its_message_and_compensates(alice):
    graph = build(
        {
            "start": ("trigger.manual",),
            "book": noop(),
            "stop": {
                "type": "flow.rollback",
                "config": {"message": "trip {{ input.trip }} not paid"},
                "retry": {"max_attempts": 3},
            },
            "unbook": fn("echo", undone="{{ compensating.node }}"),
        },
        ["start>book", "book>stop", "book.compensate>unbook"],
    )
    run = start(workflow(alice, graph), {"trip": "T-1"})

    drive()

    run.refresh_from_db()
    assert run.status == "failed"
    assert run.error == {"message": "trip T-1 not paid", "code": "rolled_back", "node": "stop"}
    assert steps(run)["stop"].attempt == 1
    assert steps(run)["unbook"].output["values"] == {"undone": "book"}
    assert event_types(run)[-2:] == ["run.compensated", "run.failed"]


def test_flow_rollback_without_anything_to_undo_fails_the_run_as_flow_fail_does(alice):
    graph = build(
        {"start": ("trigger.manual",), "stop": ("flow.rollback", {"message": "no"})},
        ["start>stop"],
    )
    run = start(workflow(alice, graph))

    drive()

    run.refresh_from_db()
    assert run.status == "failed" and run.error["code"] == "rolled_back"
    assert "run.compensating" not in event_types(run)
