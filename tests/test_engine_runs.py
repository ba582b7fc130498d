"""What a run does, driven in the test's process (tests/engine_kit.drive): data passing,
joins, error edges, retries and timers, fencing, output, limits.

What one step type does (a condition, a switch, a delay, flow.fail...) is in its own file in
tests/steps/. The same behaviours run through real django-q2 workers in test_engine_workers.py.
"""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from engine import recovery, transitions
from engine.models import Run, RunEvent, StepRun
from tests.engine_kit import (
    build,
    drive,
    event_types,
    execute,
    fn,
    noop,
    start,
    statuses,
    steps,
    workflow,
)


def finished(run: Run) -> Run:
    run.refresh_from_db()
    return run


# --- Data passing and output --------------------------------------------------------------------


def test_each_step_reads_the_outputs_before_it_and_the_run_outputs_its_template(alice):
    graph = build(
        {
            "start": ("trigger.manual",),
            "add": fn("add", a="{{ input.x }}", b=2),
            "shape": ("data.transform", {"value": {"sum": "{{ steps.add.output }}", "n": "x"}}),
        },
        ["start>add", "add>shape"],
        output={"total": "{{ steps.shape.output.sum }}", "text": "got {{ steps.add.output }}"},
    )
    run = start(workflow(alice, graph), {"x": 40})

    drive()

    run = finished(run)
    assert run.status == "succeeded"
    assert run.output == {"total": 42, "text": "got 42"}
    by_node = steps(run)
    assert by_node["start"].output == {"x": 40}
    assert by_node["add"].input == {"function": "examples.add", "args": {"a": 40, "b": 2}}
    assert by_node["add"].output == 42
    assert by_node["shape"].output == {"sum": 42, "n": "x"}
    assert run.started_at and run.finished_at


def test_every_status_change_is_one_event_in_order(alice):
    graph = build({"start": ("trigger.manual",), "a": noop()}, ["start>a"])
    run = start(workflow(alice, graph))

    drive()

    assert event_types(run) == [
        "run.created",
        "run.running",
        "step.queued:start",
        "step.started:start",
        "step.succeeded:start",
        "step.queued:a",
        "step.started:a",
        "step.succeeded:a",
        "run.succeeded",
    ]
    transitions_seen = [(e.old_status, e.new_status) for e in run.events.filter(node_id="a")]
    assert transitions_seen == [
        ("pending", "queued"),
        ("queued", "running"),
        ("running", "succeeded"),
    ]


def test_a_missing_name_fails_the_step_naming_node_and_expression(alice):
    graph = build(
        {"start": ("trigger.manual",), "shape": ("data.transform", {"value": "{{ input.nope }}"})},
        ["start>shape"],
    )
    run = start(workflow(alice, graph), {})

    drive()

    run = finished(run)
    error = steps(run)["shape"].error
    assert run.status == "failed"
    assert error["code"] == "expression_error"
    assert "shape" in error["message"] and "input.nope" in error["message"]
    assert run.error["node"] == "shape"


def test_an_output_over_the_limit_fails_the_step_clearly(alice, settings):
    settings.FLOWDECK_MAX_OUTPUT_BYTES = 1000
    graph = build({"start": ("trigger.manual",), "big": fn("big_output", size=5000)}, ["start>big"])
    run = start(workflow(alice, graph))

    drive()

    step = steps(finished(run))["big"]
    assert step.status == "failed"
    assert step.error["code"] == "output_too_large"
    assert step.output is None
    assert "5002 bytes" in step.error["message"]


def test_a_bad_run_output_template_fails_the_run(alice):
    graph = build(
        {"start": ("trigger.manual",)}, [], output={"x": "{{ steps.start.output.missing }}"}
    )
    run = start(workflow(alice, graph), {})

    drive()

    run = finished(run)
    assert run.status == "failed"
    assert run.error["code"] == "output_error"


# --- Joins and error edges ----------------------------------------------------------------------


def join_graph(join: str, fail_b: bool):
    return build(
        {
            "start": ("trigger.manual",),
            "a": noop(),
            "b": fn("flaky", fail_times=5, retryable=False) if fail_b else noop(),
            "j": {**noop(), "join": join},
        },
        ["start>a", "start>b", "a>j", "b>j"],
    )


@pytest.mark.parametrize(
    ("join", "fail_b", "j_status", "run_status"),
    [
        ("all_success", False, "succeeded", "succeeded"),
        ("all_success", True, "skipped", "failed"),
        ("one_success", True, "succeeded", "failed"),
        ("none_failed", False, "succeeded", "succeeded"),
        ("none_failed", True, "skipped", "failed"),
        ("all_done", True, "succeeded", "failed"),
    ],
)
def test_each_join_fires_or_skips_as_the_contract_says(alice, join, fail_b, j_status, run_status):
    run = start(workflow(alice, join_graph(join, fail_b)))

    drive()

    run = finished(run)
    assert statuses(run)["j"] == j_status
    assert run.status == run_status


def test_an_error_edge_handles_the_failure_and_the_run_succeeds(alice):
    graph = build(
        {
            "start": ("trigger.manual",),
            "charge": fn("flaky", fail_times=9, retryable=False),
            "next": noop(),
            "apologise": (
                "data.transform",
                {"value": "{{ steps.charge.error.message }}"},
            ),
        },
        ["start>charge", "charge>next", "charge.error>apologise"],
    )
    run = start(workflow(alice, graph))

    drive()

    run = finished(run)
    seen = statuses(run)
    assert seen == {
        "start": "succeeded",
        "charge": "failed",
        "next": "skipped",
        "apologise": "succeeded",
    }
    assert run.status == "succeeded"
    assert steps(run)["apologise"].output == "attempt 1 failed on purpose"


# --- Retries and timers -------------------------------------------------------------------------


def test_retries_wait_as_durable_timers_with_exponential_backoff(alice):
    retry = {"max_attempts": 3, "backoff_s": 10, "backoff_factor": 3, "jitter": False}
    graph = build(
        {
            "start": ("trigger.manual",),
            "flaky": {
                **fn("flaky", fail_times=2),
                "retry": retry,
            },
        },
        ["start>flaky"],
    )
    t0 = timezone.now()
    with time_machine.travel(t0, tick=False) as clock:
        run = start(workflow(alice, graph))
        drive(timezone.now())
        step = steps(run)["flaky"]
        assert step.status == "retrying"
        assert step.wake_at == t0 + timedelta(seconds=10)
        assert finished(run).status == "waiting"  # nothing runs while the timer waits

        clock.shift(9)
        assert recovery.fire_due_timers(timezone.now()) == 0
        clock.shift(1)
        drive(timezone.now())
        step = steps(run)["flaky"]
        assert (step.status, step.attempt) == ("retrying", 2)
        assert step.wake_at == t0 + timedelta(seconds=10 + 30)

        clock.shift(30)
        drive(timezone.now())

    step = steps(run)["flaky"]
    assert (step.status, step.attempt, step.output) == ("succeeded", 3, {"attempt": 3})
    assert finished(run).status == "succeeded"
    kinds = [e for e in event_types(run) if e.endswith(":flaky")]
    assert kinds.count("step.retrying:flaky") == 2
    assert kinds.count("step.started:flaky") == 3


def test_a_permanent_error_is_not_retried(alice):
    retry = {"max_attempts": 5, "backoff_s": 0}
    node = fn("flaky", fail_times=3, retryable=False)
    graph = build({"start": ("trigger.manual",), "x": {**node, "retry": retry}}, ["start>x"])
    run = start(workflow(alice, graph))

    drive()

    step = steps(run)["x"]
    assert (step.status, step.attempt) == ("failed", 1)
    assert step.error["retryable"] is False


def test_full_jitter_stays_between_zero_and_the_capped_backoff():
    import random

    policy = {"backoff_s": 2, "backoff_factor": 10, "max_backoff_s": 60, "jitter": True}
    rng = random.Random(7)
    delays = [
        transitions.retry_delay(policy, attempt, rng) for attempt in (1, 2, 3) for _ in range(200)
    ]
    assert all(0 <= d <= 2 for d in delays[:200])
    assert all(0 <= d <= 20 for d in delays[200:400])
    assert all(0 <= d <= 60 for d in delays[400:])  # 200 capped at 60
    assert max(delays[400:]) > 30  # spread over the range, not stuck at the bottom
    assert transitions.retry_delay({**policy, "jitter": False}, 3) == 60


# --- Fencing, races, timeouts -------------------------------------------------------------------


def test_a_late_result_of_a_finished_attempt_is_refused(alice):
    graph = build({"start": ("trigger.manual",), "a": noop()}, ["start>a"])
    run = start(workflow(alice, graph))
    drive()
    step = steps(run)["a"]
    assert step.status == "succeeded"

    accepted = transitions.do_complete_attempt(
        step.pk, step.attempt, transitions.StepResult(output="late")
    )

    assert accepted is False
    assert steps(run)["a"].output is None
    assert RunEvent.objects.filter(run=run, node_id="a", type="step.succeeded").count() == 1


def test_an_attempt_past_its_timeout_fails_as_timeout_and_retries(alice):
    node = {**fn("sleep", seconds=0)}
    graph = build(
        {
            "start": ("trigger.manual",),
            "slow": {**node, "timeout_s": 5, "retry": {"max_attempts": 2, "backoff_s": 0}},
        },
        ["start>slow"],
    )
    run = start(workflow(alice, graph))
    execute(run, "start")
    slow = steps(run)["slow"]
    # A worker claims it and then goes silent (stuck, or dead).
    transitions.do_claim_attempt(slow.pk, slow.attempt, "host:1:1")

    assert recovery.fail_expired_attempts(timezone.now()) == 0
    swept = recovery.fail_expired_attempts(timezone.now() + timedelta(seconds=6))

    assert swept == 1
    slow = steps(run)["slow"]
    assert (slow.status, slow.error["code"]) == ("retrying", "timeout")
    # The stuck worker's late result is refused by attempt number.
    assert not transitions.do_complete_attempt(slow.pk, 1, transitions.StepResult(output=1))


def test_a_lost_lease_fails_the_attempt_as_lost(alice, settings):
    settings.FLOWDECK_LEASE_S = 10
    run = start(workflow(alice, build({"start": ("trigger.manual",)}, [])))
    step = StepRun.objects.get(run=run, node_id="start")
    transitions.do_claim_attempt(step.pk, 1, "dead-host:1:1")  # and the worker dies

    assert recovery.fail_expired_attempts(timezone.now() + timedelta(seconds=9)) == 0
    assert recovery.fail_expired_attempts(timezone.now() + timedelta(seconds=11)) == 1

    step.refresh_from_db()
    assert step.status == "failed"
    assert step.error["code"] == "lost"
    assert "dead-host:1:1" in step.error["message"]
    assert finished(run).status == "failed"


def test_a_queued_step_whose_task_was_lost_is_enqueued_again(alice, settings, monkeypatch):
    settings.FLOWDECK_REQUEUE_AFTER_S = 20
    sent = []
    monkeypatch.setattr(
        transitions, "enqueue_attempt", lambda pk, attempt, priority: sent.append((pk, attempt))
    )
    run = start(workflow(alice, build({"start": ("trigger.manual",)}, [])))
    step = StepRun.objects.get(run=run)

    assert recovery.requeue_stale(timezone.now()) == 0
    later = timezone.now() + timedelta(seconds=21)
    assert recovery.requeue_stale(later) == 1
    assert recovery.requeue_stale(later) == 0  # once per period, however many sweepers

    assert sent == [(step.pk, 1)]


def test_a_key_named_like_a_dict_method_means_the_key(alice):
    graph = build(
        {
            "start": ("trigger.manual",),
            "shape": (
                "data.transform",
                {"value": {"n": "{{ input.items | length }}", "k": "{{ input.keys }}"}},
            ),
        },
        ["start>shape"],
    )
    run = start(workflow(alice, graph), {"items": [1, 2, 3], "keys": "k"})

    drive()

    assert steps(run)["shape"].output == {"n": 3, "k": "k"}


def test_a_method_where_a_value_is_expected_is_a_clear_error(alice):
    graph = build(
        {
            "start": ("trigger.manual",),
            "shape": ("data.transform", {"value": "{{ input.values }}"}),
        },
        ["start>shape"],
    )
    run = start(workflow(alice, graph), {"x": 1})

    drive()

    error = steps(run)["shape"].error
    assert error["code"] == "expression_error"
    assert "not a JSON value" in error["message"]


# --- Quick steps in a batch ---------------------------------------------------------------------


def fan(alice, values: list[str]):
    nodes = {"start": ("trigger.manual",)}
    nodes |= {f"s{i}": ("data.transform", {"value": v}) for i, v in enumerate(values)}
    nodes["join"] = {**noop(), "join": "all_done"}
    edges = [f"start>s{i}" for i in range(len(values))] + [f"s{i}>join" for i in range(len(values))]
    run = start(workflow(alice, build(nodes, edges)), {"n": 7})
    execute(run, "start")
    return run


def test_a_batch_of_quick_steps_is_recorded_together_and_planned_once(alice):
    from engine import tasks

    values = ["{{ input.n }}", "b", "{{ input.n * 2 }}", {"k": ["{{ input.n }}", None]}, None]
    run = fan(alice, values)
    batch = list(StepRun.objects.filter(run=run, status="queued").values_list("pk", "attempt"))

    tasks.run_attempts(batch)

    by_node = steps(run)
    assert [by_node[f"s{i}"].output for i in range(5)] == [7, "b", 14, {"k": [7, None]}, None]
    assert by_node["s3"].input == {"value": {"k": [7, None]}}
    assert by_node["join"].status == "queued"  # planned once all of them were in
    kinds = event_types(run)
    for i in range(5):
        assert kinds.count(f"step.started:s{i}") == kinds.count(f"step.succeeded:s{i}") == 1
    assert kinds.count("step.queued:join") == 1


def test_a_step_of_a_batch_that_fails_takes_the_one_step_path(alice):
    from engine import tasks

    run = fan(alice, ["ok", "{{ input.missing }}"])
    batch = list(StepRun.objects.filter(run=run, status="queued").values_list("pk", "attempt"))

    tasks.run_attempts(batch)
    drive()

    assert statuses(run) == {
        "start": "succeeded",
        "s0": "succeeded",
        "s1": "failed",
        "join": "succeeded",
    }
    assert steps(run)["s1"].error["code"] == "expression_error"
    assert finished(run).status == "failed"


def test_a_flow_fail_in_a_batch_ends_the_run_at_once_and_its_siblings_are_cancelled(alice):
    from engine import tasks

    # Given three quick steps a plan started together, one of which ends the run, delivered
    # in one task (enqueue_batch); "a" is executed before "fail", "c" after it.
    graph = build(
        {
            "start": ("trigger.manual",),
            "a": ("data.transform", {"value": 1}),
            "fail": ("flow.fail", {"message": "refused"}),
            "c": ("data.transform", {"value": 2}),
        },
        ["start>a", "start>fail", "start>c"],
    )
    run = start(workflow(alice, graph))
    execute(run, "start")
    queued = StepRun.objects.filter(run=run, status="queued")
    batch = [queued.values_list("pk", "attempt").get(node_id=n) for n in ("a", "fail", "c")]

    # When a worker runs the batch: it used to roll back entirely (the siblings it had
    # executed were cancelled under it), and the run ended only when the sweeper re-enqueued
    # each step alone.
    tasks.run_attempts(batch)

    assert finished(run).status == "failed"
    assert run.error["node"] == "fail"
    assert statuses(run) == {
        "start": "succeeded",
        "a": "cancelled",
        "fail": "failed",
        "c": "cancelled",
    }
    assert not RunEvent.objects.filter(run=run, type="step.succeeded", node_id__in=["a", "c"])


def test_a_batch_skips_steps_that_moved_before_it_ran(alice):
    from engine import tasks

    run = fan(alice, ["a", "b"])
    batch = list(StepRun.objects.filter(run=run, status="queued").values_list("pk", "attempt"))
    transitions.do_cancel_run(run.pk, actor=None)

    tasks.run_attempts(batch)

    assert statuses(run) == {
        "start": "succeeded",
        "s0": "cancelled",
        "s1": "cancelled",
        "join": "cancelled",
    }
    assert not RunEvent.objects.filter(
        run=run, type="step.started", node_id__in=["s0", "s1"]
    ).exists()
