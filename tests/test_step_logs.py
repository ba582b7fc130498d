"""Step logs: what a step writes through ``ctx.log`` is capped, scrubbed of the attempt's
secrets, stored with the attempt's outcome (and only then), and read through
``GET /api/runs/{id}/steps/{node}/logs/``. Runs are driven in-process; the real workers' test
is tests/test_step_logs_workers.py."""

import pytest
import time_machine
from django.utils import timezone

from connectors.credentials import do_create_credential
from designer.models import Role, WorkflowGrant
from engine import tasks, transitions
from engine.functions import FUNCTIONS
from engine.models import StepLog, StepRun
from engine.steplogs import HALF_CHARS, LINE_CHARS
from engine.steps.base import StepContext, StepError, Wait
from engine.steps.flow import Delay
from engine.steps.transform import Transform
from tests.engine_kit import (
    build,
    drive,
    execute,
    flaky_run,
    fn,
    noop,
    start,
    statuses,
    steps,
    workflow,
)

pytestmark = pytest.mark.django_db

TOKEN = "tok-9c2e41d7a0b3"


def context(**kw) -> StepContext:
    return StepContext(run_id=1, node_id="n", attempt=1, config={}, scope={}, **kw)


def messages(ctx: StepContext) -> list[str]:
    snapshot = ctx.logs.snapshot(ctx.secrets)
    return [line["message"] for line in snapshot.lines] if snapshot else []


def logs_of(run, node: str) -> dict[int, list[tuple[str, str]]]:
    step = StepRun.objects.get(run=run, node_id=node)
    return {
        row.attempt: [(line["level"], line["message"]) for line in row.lines]
        for row in StepLog.objects.filter(step=step)
    }


def one_call(node: dict, retry: dict | None = None) -> dict:
    call = {**node, "retry": retry} if retry else node
    return build({"start": ("trigger.manual",), "call": call}, ["start>call"])


def logging_function(*lines: tuple[str, str]):
    def function(ctx: StepContext) -> str:
        for level, message in lines:
            ctx.log(message, level=level)
        return "done"

    return function


# --- The buffer: levels, caps, scrubbing ---------------------------------------------------------


def test_each_line_has_a_time_a_level_and_its_message():
    ctx = context()
    with time_machine.travel("2026-03-01T10:00:00Z", tick=False):
        ctx.log("starting")
        for level in ("debug", "warning", "error"):
            ctx.log(f"{level} line", level=level)

    lines = ctx.logs.snapshot(ctx.secrets).lines
    assert [(line["level"], line["message"]) for line in lines] == [
        ("info", "starting"),
        ("debug", "debug line"),
        ("warning", "warning line"),
        ("error", "error line"),
    ]
    assert {line["t"] for line in lines} == {"2026-03-01T10:00:00Z"}


def test_an_unknown_level_is_a_programming_error_that_names_the_levels():
    ctx = context()
    with pytest.raises(ValueError, match="debug, info, warning, error, not 'warn'"):
        ctx.log("careful", level="warn")
    assert ctx.logs.snapshot(ctx.secrets) is None


def test_a_value_that_is_not_text_is_logged_as_its_text():
    ctx = context()
    ctx.log({"rows": 3})
    ctx.log(42)
    assert messages(ctx) == ["{'rows': 3}", "42"]


def test_a_long_line_is_cut_and_says_how_much_was_cut():
    ctx = context()
    ctx.log("x" * (LINE_CHARS + 500))
    (message,) = messages(ctx)
    assert message == "x" * LINE_CHARS + "… (500 characters cut)"


def test_past_200_lines_the_first_and_last_100_are_kept_and_the_rest_counted():
    ctx = context()
    for n in range(1, 251):
        ctx.log(f"line {n}")

    snapshot = ctx.logs.snapshot(ctx.secrets)
    kept = [line["message"] for line in snapshot.lines]
    assert kept == [f"line {n}" for n in [*range(1, 101), *range(151, 251)]]
    assert (snapshot.dropped, snapshot.dropped_at) == (50, 100)


def test_long_lines_hit_the_total_cap_before_the_line_cap():
    ctx = context()
    for n in range(30):
        ctx.log(f"{n:02d}" + "y" * (LINE_CHARS - 2))

    snapshot = ctx.logs.snapshot(ctx.secrets)
    per_half = HALF_CHARS // LINE_CHARS  # 12 lines of 2,000 characters in each half
    kept = [int(line["message"][:2]) for line in snapshot.lines]
    assert kept == [*range(per_half), *range(30 - per_half, 30)]
    assert (snapshot.dropped, snapshot.dropped_at) == (30 - 2 * per_half, per_half)
    assert sum(len(line["message"]) for line in snapshot.lines) <= 2 * HALF_CHARS


def test_nothing_is_dropped_below_the_caps():
    ctx = context()
    ctx.log("one")
    snapshot = ctx.logs.snapshot(ctx.secrets)
    assert (snapshot.dropped, snapshot.dropped_at) == (0, None)


def test_the_attempts_secrets_are_masked_even_one_opened_after_the_line():
    ctx = context(secrets=["s3cret-value"])
    ctx.log("token s3cret-value sent")
    ctx.log("later: other-secret-1 came back")
    ctx.secrets.append("other-secret-1")  # a credential opened after that line

    assert messages(ctx) == ["token *** sent", "later: *** came back"]


def test_a_secret_at_the_cut_is_masked_before_the_line_is_cut():
    secret = "abcdefghij0123456789"
    ctx = context(secrets=[secret])
    ctx.log("z" * (LINE_CHARS - 10) + secret)
    (message,) = messages(ctx)
    assert secret[:10] not in message
    assert message == "z" * (LINE_CHARS - 10) + "***"


def test_a_closed_buffer_takes_no_more_lines():
    ctx = context()
    ctx.log("before the timeout")
    ctx.logs.close()
    ctx.log("after it")
    assert messages(ctx) == ["before the timeout"]


# --- Stored with the attempt's outcome -----------------------------------------------------------


def test_a_function_s_lines_are_stored_when_its_attempt_succeeds(alice, monkeypatch):
    function = logging_function(("info", "reading 3 rows"), ("debug", "row 1 ok"))
    monkeypatch.setitem(FUNCTIONS, "tests.logs", function)
    run = start(
        workflow(alice, one_call({"type": "code.function", "config": {"function": "tests.logs"}}))
    )

    drive()

    assert statuses(run)["call"] == "succeeded"
    assert logs_of(run, "call") == {1: [("info", "reading 3 rows"), ("debug", "row 1 ok")]}


def test_a_step_that_logs_nothing_stores_no_row(alice):
    run = start(workflow(alice, one_call(noop())))
    drive()
    assert statuses(run)["call"] == "succeeded"
    assert not StepLog.objects.exists()


def test_every_attempt_keeps_its_own_lines_with_its_number(alice):
    graph = one_call(fn("flaky", fail_times=2), {"max_attempts": 3, "backoff_s": 1})
    with time_machine.travel(timezone.now(), tick=False) as clock:
        run = start(workflow(alice, graph))
        drive(timezone.now())
        assert (steps(run)["call"].status, logs_of(run, "call").keys()) == ("retrying", {1})
        for _ in range(2):
            clock.shift(60)
            drive(timezone.now())

    assert statuses(run)["call"] == "succeeded"
    assert logs_of(run, "call") == {
        1: [("debug", "attempt 1; the first 2 fail"), ("warning", "failing attempt 1 on purpose")],
        2: [("debug", "attempt 2; the first 2 fail"), ("warning", "failing attempt 2 on purpose")],
        3: [("debug", "attempt 3; the first 2 fail"), ("info", "attempt 3 succeeded")],
    }


def test_a_failed_step_keeps_its_lines(alice):
    run = start(workflow(alice, one_call(fn("flaky", fail_times=1, retryable=False))))
    drive()
    assert statuses(run)["call"] == "failed"
    assert logs_of(run, "call")[1][-1] == ("warning", "failing attempt 1 on purpose")


def test_only_the_last_five_attempts_lines_are_kept(alice):
    graph = one_call(fn("flaky", fail_times=6), {"max_attempts": 7, "backoff_s": 1})
    with time_machine.travel(timezone.now(), tick=False) as clock:
        run = start(workflow(alice, graph))
        for _ in range(7):
            drive(timezone.now())
            clock.shift(600)

    assert steps(run)["call"].attempt == 7
    assert sorted(logs_of(run, "call")) == [3, 4, 5, 6, 7]


# The function runs in a thread of its own, with its own connection: it sees committed rows only.
@pytest.mark.django_db(transaction=True)
def test_the_secret_a_function_opened_is_masked_in_its_log(alice, monkeypatch):
    do_create_credential(actor=alice, name="signing", kind="secret", data={"value": TOKEN})

    def uses_secret(ctx: StepContext) -> None:
        value = ctx.credential("signing", ["secret"]).secret["value"]
        ctx.log(f"signing with {value}")
        raise StepError(f"the service refused {value}", retryable=False)

    monkeypatch.setitem(FUNCTIONS, "tests.uses_secret", uses_secret)
    run = start(
        workflow(
            alice, one_call({"type": "code.function", "config": {"function": "tests.uses_secret"}})
        )
    )
    drive()

    assert steps(run)["call"].error["message"] == "the service refused ***"
    assert logs_of(run, "call") == {1: [("info", "signing with ***")]}
    assert TOKEN not in str(StepLog.objects.get().lines)


def test_a_quick_built_in_step_logs_through_the_same_context(alice, monkeypatch):
    original = Transform.run

    def run_and_log(self, ctx: StepContext):
        ctx.log(f"shaping {ctx.config['value']!r}")
        return original(self, ctx)

    monkeypatch.setattr(Transform, "run", run_and_log)
    graph = build(
        {"start": ("trigger.manual",), "shape": ("data.transform", {"value": "{{ input.x }}"})},
        ["start>shape"],
    )
    run = start(workflow(alice, graph), {"x": 7})
    drive()

    assert statuses(run)["shape"] == "succeeded"
    assert logs_of(run, "shape") == {1: [("info", "shaping 7")]}


def test_quick_steps_run_together_in_one_batch_keep_their_lines(alice, monkeypatch):
    original = Transform.run

    def run_and_log(self, ctx: StepContext):
        ctx.log(f"{ctx.node_id} at attempt {ctx.attempt}")
        return original(self, ctx)

    monkeypatch.setattr(Transform, "run", run_and_log)
    graph = build(
        {
            "start": ("trigger.manual",),
            "a": ("data.transform", {"value": 1}),
            "b": ("data.transform", {"value": 2}),
            "c": ("data.transform", {"value": "{{ input.missing }}"}),  # fails: its own path
        },
        ["start>a", "start>b", "start>c"],
    )
    run = start(workflow(alice, graph))
    execute(run, "start")  # a, b and c are queued together
    pairs = list(
        StepRun.objects.filter(run=run, node_id__in=["a", "b", "c"]).values_list("pk", "attempt")
    )

    tasks.run_attempts(pairs)

    assert statuses(run) | {"start": "-"} == {
        "start": "-",
        "a": "succeeded",
        "b": "succeeded",
        "c": "failed",
    }
    assert logs_of(run, "a") == {1: [("info", "a at attempt 1")]}
    assert logs_of(run, "b") == {1: [("info", "b at attempt 1")]}
    assert logs_of(run, "c") == {}  # its expression failed before it ran


def test_a_waiting_step_s_lines_are_stored_when_it_parks(alice, monkeypatch):
    original = Delay.run

    def run_and_log(self, ctx: StepContext) -> Wait:
        ctx.log("parking for an hour")
        return original(self, ctx)

    monkeypatch.setattr(Delay, "run", run_and_log)
    graph = build(
        {"start": ("trigger.manual",), "wait": ("flow.delay", {"seconds": 3600}), "after": noop()},
        ["start>wait", "wait>after"],
    )
    run = start(workflow(alice, graph))
    drive()

    assert statuses(run)["wait"] == "waiting"
    assert logs_of(run, "wait") == {1: [("info", "parking for an hour")]}


def test_the_late_result_of_an_abandoned_attempt_adds_no_lines(alice, monkeypatch):
    monkeypatch.setitem(FUNCTIONS, "tests.logs", logging_function(("info", "too late")))
    graph = one_call({"type": "code.function", "config": {"function": "tests.logs"}})
    run = start(workflow(alice, graph), actor=alice)
    execute(run, "start")
    step = transitions.do_claim_attempt(steps(run)["call"].pk, 1, "worker-a")
    assert step is not None
    outcome = tasks.outcome_of(step, transitions.step_type_of(step.type), "worker-a")
    assert outcome.log is not None
    # Meanwhile the sweeper declared the worker lost: the attempt failed without it.
    lost = {"message": "lost", "code": "lost", "retryable": False}
    assert transitions.do_fail_attempt(step.pk, 1, lost)

    transitions.do_record(step, outcome)  # the worker comes back with its result

    assert (steps(run)["call"].status, steps(run)["call"].output) == ("failed", None)
    assert not StepLog.objects.exists()


def test_a_crash_while_recording_the_outcome_keeps_no_line(alice, monkeypatch):
    monkeypatch.setitem(FUNCTIONS, "tests.logs", logging_function(("info", "half done")))
    run = start(
        workflow(alice, one_call({"type": "code.function", "config": {"function": "tests.logs"}}))
    )
    execute(run, "start")
    step = transitions.do_claim_attempt(steps(run)["call"].pk, 1, "worker-a")
    outcome = tasks.outcome_of(step, transitions.step_type_of(step.type), "worker-a")

    def power_cut(*args, **kwargs):
        raise OSError("the machine stopped")

    # The last write of the transaction, after the step's row, its event and the log row.
    monkeypatch.setattr(transitions, "_forget_old_logs", power_cut)
    with pytest.raises(OSError):
        transitions.do_record(step, outcome)

    assert steps(run)["call"].status == "running"  # the sweeper retries it as lost
    assert not StepLog.objects.exists()


def test_a_timed_out_attempt_keeps_what_it_logged_before_its_timeout(alice, monkeypatch):
    def stalls(ctx: StepContext) -> None:
        ctx.log("calling the slow service")
        ctx.cancelled.wait(30)
        ctx.log("woken after the timeout")  # the attempt was given up: not kept

    monkeypatch.setitem(FUNCTIONS, "tests.stalls", stalls)
    node = {"type": "code.function", "config": {"function": "tests.stalls"}, "timeout_s": 0.3}
    run = start(workflow(alice, one_call(node)))
    drive()

    call = steps(run)["call"]
    assert (call.status, call.error["code"]) == ("failed", "timeout")
    assert logs_of(run, "call") == {1: [("info", "calling the slow service")]}


# --- The API -------------------------------------------------------------------------------------


@pytest.fixture
def logged_run(alice):
    return flaky_run(alice)


def test_the_logs_endpoint_lists_each_attempt_s_lines_oldest_first(api, alice, logged_run):
    api.force_authenticate(alice)

    response = api.get(f"/api/runs/{logged_run.pk}/steps/call/logs/")

    assert response.status_code == 200
    body = response.json()
    assert (body["node"], body["attempt"]) == ("call", 2)
    assert [a["attempt"] for a in body["attempts"]] == [1, 2]
    first, second = body["attempts"]
    assert first["lines"][1] == {
        "t": "2026-03-01T10:00:00Z",
        "level": "warning",
        "message": "failing attempt 1 on purpose",
    }
    assert [line["message"] for line in second["lines"]] == [
        "attempt 2; the first 1 fail",
        "attempt 2 succeeded",
    ]
    assert second["lines"][0]["t"] == "2026-03-01T10:01:00Z"
    assert (second["dropped"], second["dropped_at"]) == (0, None)


def test_a_step_without_logs_has_no_attempts(api, alice, logged_run):
    api.force_authenticate(alice)
    body = api.get(f"/api/runs/{logged_run.pk}/steps/start/logs/").json()
    assert (body["attempt"], body["attempts"]) == (1, [])


def test_step_logs_follow_the_run_s_permissions(api, alice, bob, charlie, logged_run):
    url = f"/api/runs/{logged_run.pk}/steps/call/logs/"
    assert api.get(url).status_code == 401

    api.force_authenticate(charlie)
    assert api.get(url).status_code == 404

    WorkflowGrant.objects.create(workflow=logged_run.workflow, user=bob, role=Role.VIEWER)
    api.force_authenticate(bob)
    assert api.get(url).status_code == 200


def test_an_unknown_step_or_run_is_404(api, alice, logged_run):
    api.force_authenticate(alice)
    response = api.get(f"/api/runs/{logged_run.pk}/steps/nope/logs/")
    assert response.status_code == 404
    assert response.json()["errors"][0]["message"] == "the run has no step 'nope'"
    assert api.get("/api/runs/999999/steps/call/logs/").status_code == 404
    assert api.get("/api/runs/x/steps/call/logs/").status_code == 404
