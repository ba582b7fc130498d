"""Real workflows through real django-q2 workers (``manage.py flowdeck_worker``), on the
embedded default and, in test.sh's second pass, on PostgreSQL and Redis."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

from designer.models import Workflow
from engine.models import Run, RunEvent, StepRun
from tests.engine_kit import build, event_types, fn, noop, start, statuses, steps, workflow
from tests.helpers import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def ended(run: Run, timeout: float = 30) -> Run:
    def done() -> Run | None:
        run.refresh_from_db()
        return run if run.is_terminal else None

    return wait_until(done, timeout=timeout, what=f"run {run.pk} to end")


def test_data_passes_down_a_linear_run(workers, alice):
    graph = build(
        {
            "start": ("trigger.manual",),
            "add": fn("add", a="{{ input.x }}", b=1),
            "echo": fn("echo", total="{{ steps.add.output }}"),
        },
        ["start>add", "add>echo"],
        output={"total": "{{ steps.echo.output['values'].total }}"},
    )
    run = start(workflow(alice, graph), {"x": 41})

    run = ended(run)

    assert run.status == "succeeded", workers.log()
    assert run.output == {"total": 42}
    echo = steps(run)["echo"]
    assert echo.output["idempotency_key"] == f"{run.pk}:echo:1"


def test_branches_and_every_join_in_one_run(workers, alice):
    graph = build(
        {
            "start": ("trigger.manual",),
            "a": noop(),
            "b": fn("flaky", fail_times=9, retryable=False),
            "all_success": {**noop(), "join": "all_success"},
            "one_success": {**noop(), "join": "one_success"},
            "none_failed": {**noop(), "join": "none_failed"},
            "all_done": {**noop(), "join": "all_done"},
            "big": ("logic.condition", {"expression": "input.n > 10"}),
            "yes": noop(),
            "no": noop(),
        },
        [
            "start>a",
            "start>b",
            *[
                f"{s}>{j}"
                for j in ("all_success", "one_success", "none_failed", "all_done")
                for s in "ab"
            ],
            "start>big",
            "big.true>yes",
            "big.false>no",
        ],
    )
    run = ended(start(workflow(alice, graph), {"n": 50}))

    assert statuses(run) == {
        "start": "succeeded",
        "a": "succeeded",
        "b": "failed",
        "all_success": "skipped",
        "one_success": "succeeded",
        "none_failed": "skipped",
        "all_done": "succeeded",
        "big": "succeeded",
        "yes": "succeeded",
        "no": "skipped",
    }
    assert run.status == "failed"
    assert run.error["node"] == "b"


def test_an_error_edge_takes_over_a_failed_step(workers, alice):
    graph = build(
        {
            "start": ("trigger.manual",),
            "x": fn("flaky", fail_times=9, retryable=False),
            "fix": noop(),
        },
        ["start>x", "x.error>fix"],
    )
    run = ended(start(workflow(alice, graph)))

    assert (run.status, statuses(run)["fix"]) == ("succeeded", "succeeded")


def test_retries_back_off_between_attempts(workers, alice):
    retry = {"max_attempts": 3, "backoff_s": 0.3, "backoff_factor": 2, "jitter": False}
    graph = build(
        {"start": ("trigger.manual",), "x": {**fn("flaky", fail_times=2), "retry": retry}},
        ["start>x"],
    )
    run = ended(start(workflow(alice, graph)))

    x = steps(run)["x"]
    assert (run.status, x.attempt, x.output) == ("succeeded", 3, {"attempt": 3})
    started = list(
        RunEvent.objects.filter(run=run, node_id="x", type="step.started").order_by("id")
    )
    failed = list(
        RunEvent.objects.filter(run=run, node_id="x", type="step.retrying").order_by("id")
    )
    assert [e.attempt for e in started] == [1, 2, 3]
    # Each retry waited at least its backoff (0.3 s, then 0.6 s) after the failure.
    assert started[1].created_at - failed[0].created_at >= timedelta(seconds=0.3)
    assert started[2].created_at - failed[1].created_at >= timedelta(seconds=0.6)


def test_an_attempt_over_its_timeout_fails_and_frees_the_worker(workers, alice):
    graph = build(
        {
            "start": ("trigger.manual",),
            "slow": {**fn("sleep", seconds=60), "timeout_s": 0.5},
            "other": noop(),
        },
        ["start>slow", "start>other"],
    )
    run = ended(start(workflow(alice, graph)))

    slow = steps(run)["slow"]
    assert (slow.status, slow.error["code"]) == ("failed", "timeout")
    assert statuses(run)["other"] == "succeeded"
    assert (slow.finished_at - slow.started_at) < timedelta(seconds=10)


def test_a_delay_holds_no_worker_and_continues_after_its_time(workers, alice):
    graph = build(
        {"start": ("trigger.manual",), "wait": ("flow.delay", {"seconds": 1}), "after": noop()},
        ["start>wait", "wait>after"],
    )
    run = start(workflow(alice, graph))
    wait_until(lambda: statuses(run)["wait"] == "waiting", timeout=15, what="the delay to park")
    run.refresh_from_db()
    assert run.status == "waiting"

    run = ended(run)

    wait = steps(run)["wait"]
    assert run.status == "succeeded"
    assert wait.finished_at - wait.started_at >= timedelta(seconds=1)


def test_a_map_runs_children_within_its_concurrency_bound(workers, alice):
    child = build(
        {"start": ("trigger.manual",), "work": fn("sleep", seconds="{{ input.s }}")},
        ["start>work"],
        output={"i": "{{ input.i }}"},
    )
    workflow(alice, child, name="worker")
    node = {
        "type": "flow.map",
        "config": {
            "items": "{{ input.items }}",
            "workflow": {"name": "worker"},
            "input": {"s": 0.3, "i": "{{ item }}"},
            "concurrency": 2,
        },
    }
    graph = build({"start": ("trigger.manual",), "map": node}, ["start>map"])
    run = ended(start(workflow(alice, graph, name="parent"), {"items": list(range(6))}), timeout=60)

    assert run.status == "succeeded", (steps(run)["map"].error, run.error)
    assert steps(run)["map"].output == [{"i": i} for i in range(6)]
    children = list(Run.objects.filter(parent_run=run))
    # At no moment were more than two children between start and end.
    moments = sorted(
        [(c.created_at, 1) for c in children] + [(c.finished_at, -1) for c in children]
    )
    live = peak = 0
    for _, change in moments:
        live += change
        peak = max(peak, live)
    assert peak == 2


def test_a_subworkflow_returns_its_childs_output(workers, alice):
    child = build(
        {"start": ("trigger.manual",), "x": fn("add", a="{{ input.a }}", b=1)},
        ["start>x"],
        output={"r": "{{ steps.x.output }}"},
    )
    workflow(alice, child, name="inc")
    node = {"type": "flow.subworkflow", "config": {"workflow": {"name": "inc"}, "input": {"a": 9}}}
    run = ended(
        start(
            workflow(
                alice, build({"start": ("trigger.manual",), "call": node}, ["start>call"]), name="p"
            )
        )
    )

    assert (run.status, steps(run)["call"].output) == ("succeeded", {"r": 10})


def test_cancel_tells_the_running_attempt_and_stops_children(workers, alice, api):
    child = build(
        {"start": ("trigger.manual",), "wait": ("flow.delay", {"seconds": 600})}, ["start>wait"]
    )
    workflow(alice, child, name="sleepy")
    graph = build(
        {
            "start": ("trigger.manual",),
            "slow": fn("sleep", seconds=120),
            "call": {"type": "flow.subworkflow", "config": {"workflow": {"name": "sleepy"}}},
        },
        ["start>slow", "start>call"],
    )
    run = start(workflow(alice, graph, name="p"))
    wait_until(
        lambda: (
            statuses(run)["slow"] == "running"
            and Run.objects.filter(parent_run=run, status="waiting").exists()
        ),
        timeout=15,
        what="the step to run and the child to wait",
    )
    api.force_authenticate(alice)

    response = api.post(f"/api/runs/{run.pk}/cancel/")

    assert response.status_code == 200
    child_run = Run.objects.get(parent_run=run)
    wait_until(
        lambda: Run.objects.get(pk=child_run.pk).status == "cancelled",
        timeout=15,
        what="the child's cancel",
    )
    # The worker heard it (its heartbeat failed) and the sleeping function stopped early: the
    # same worker pool then serves a new run at once.
    quick = ended(
        start(workflow(alice, build({"start": ("trigger.manual",)}, []), name="q")), timeout=15
    )
    assert quick.status == "succeeded"
    assert statuses(run) == {"start": "succeeded", "slow": "cancelled", "call": "cancelled"}


def test_operators_retry_and_skip_through_the_api(workers, alice, api):
    graph = build(
        {
            "start": ("trigger.manual",),
            "x": fn("flaky", fail_times=1, retryable=False),
            "after": noop(),
        },
        ["start>x", "x>after"],
    )
    wf = workflow(alice, graph)
    api.force_authenticate(alice)
    first = ended(
        Run.objects.get(pk=api.post(f"/api/workflows/{wf.pk}/runs/", {}, format="json").data["id"])
    )
    second = ended(
        Run.objects.get(pk=api.post(f"/api/workflows/{wf.pk}/runs/", {}, format="json").data["id"])
    )
    assert first.status == second.status == "failed"

    assert api.post(f"/api/runs/{first.pk}/steps/x/retry/", {}, format="json").status_code == 200
    assert api.post(f"/api/runs/{second.pk}/steps/x/skip/", {}, format="json").status_code == 200

    first, second = ended(first), ended(second)
    assert (first.status, statuses(first)["after"]) == ("succeeded", "succeeded")
    assert (second.status, statuses(second)["after"]) == ("succeeded", "skipped")


def test_an_idempotent_start_makes_one_run(workers, alice, api):
    wf = workflow(alice, build({"start": ("trigger.manual",)}, []))
    api.force_authenticate(alice)
    body = {"idempotency_key": "k-1"}

    ids = {
        api.post(f"/api/workflows/{wf.pk}/runs/", body, format="json").data["id"] for _ in range(3)
    }

    assert len(ids) == 1
    assert ended(Run.objects.get(pk=ids.pop())).status == "succeeded"
    assert Run.objects.filter(workflow=wf).count() == 1


def test_parallel_branches_finishing_together_start_their_join_once(workers, alice):
    graph = build(
        {"start": ("trigger.manual",), **{f"n{i}": noop() for i in range(20)}, "join": noop()},
        [f"start>n{i}" for i in range(20)] + [f"n{i}>join" for i in range(20)],
    )
    run = ended(start(workflow(alice, graph)))

    kinds = event_types(run)
    assert run.status == "succeeded"
    assert len(kinds) == len(set(kinds))  # no event twice
    assert kinds.count("step.started:join") == 1
    assert StepRun.objects.filter(run=run, attempt=1, status="succeeded").count() == 22
    assert Workflow.objects.count() == 1


def test_the_cli_starts_a_run_and_prints_its_progress_and_output(workers, alice):
    graph = build(
        {"start": ("trigger.manual",), "add": fn("add", a="{{ input.a }}", b=2)},
        ["start>add"],
        output={"sum": "{{ steps.add.output }}"},
    )
    workflow(alice, graph, name="adder")
    out = io.StringIO()

    call_command(
        "flowdeck",
        "run",
        "adder",
        "--input",
        '{"a": 40}',
        "--as",
        "alice",
        "--wait",
        "--timeout",
        "30",
        stdout=out,
    )

    text = out.getvalue()
    run = Run.objects.get()
    assert (run.trigger, run.actor, run.status) == ("cli", alice, "succeeded")
    assert f"run {run.pk} started: 'adder' version 1" in text
    assert "step.succeeded" in text and "add" in text
    assert '"sum": 42' in text


def test_the_cli_refuses_bad_input_and_reports_a_failed_run(workers, alice):
    graph = build(
        {"start": ("trigger.manual",), "stop": ("flow.fail", {"message": "nope {{ input.n }}"})},
        ["start>stop"],
        input_schema={"type": "object", "properties": {"n": {"type": "integer"}}},
    )
    workflow(alice, graph, name="failing")

    with pytest.raises(CommandError, match="input.n"):
        call_command("flowdeck", "run", "failing", "--input", '{"n": "x"}')
    with pytest.raises(CommandError, match="failed: nope 3"):
        call_command(
            "flowdeck",
            "run",
            "failing",
            "--input",
            '{"n": 3}',
            "--wait",
            "--timeout",
            "30",
            stdout=io.StringIO(),
        )
