"""flow.delay: waits a number of seconds or until a time as a durable timer, holding no worker."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.engine_kit import build, drive, noop, start, statuses, steps, workflow


def delay_workflow(owner, config: dict):
    graph = build(
        {"start": ("trigger.manual",), "wait": ("flow.delay", config), "after": noop()},
        ["start>wait", "wait>after"],
    )
    return workflow(owner, graph)


def test_a_delay_parks_the_step_without_a_worker_until_its_timer(alice):
    wf = delay_workflow(alice, {"seconds": "{{ input.s }}"})
    t0 = timezone.now()
    with time_machine.travel(t0, tick=False) as clock:
        run = start(wf, {"s": 3600})
        drive(timezone.now())
        assert statuses(run)["wait"] == "waiting"
        assert steps(run)["wait"].wake_at == t0 + timedelta(seconds=3600)
        run.refresh_from_db()
        assert run.status == "waiting"

        clock.shift(3599)
        drive(timezone.now())
        assert statuses(run)["wait"] == "waiting"

        clock.shift(1)
        drive(timezone.now())

    run.refresh_from_db()
    assert statuses(run) == {"start": "succeeded", "wait": "succeeded", "after": "succeeded"}
    assert run.status == "succeeded"


def test_a_delay_until_a_future_time_waits_until_that_time(alice):
    t0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
    # 11:00 at +01:00 is 10:00 UTC: an hour after t0.
    wf = delay_workflow(alice, {"until": "2030-01-01T11:00:00+01:00"})
    with time_machine.travel(t0, tick=False) as clock:
        run = start(wf)
        drive(timezone.now())
        assert steps(run)["wait"].wake_at == t0 + timedelta(hours=1)

        clock.shift(3599)
        drive(timezone.now())
        assert statuses(run)["wait"] == "waiting"

        clock.shift(1)
        drive(timezone.now())

    wait = steps(run)["wait"]
    assert wait.status == "succeeded"
    assert wait.output == {"waited_until": "2030-01-01T10:00:00+00:00"}
    assert statuses(run)["after"] == "succeeded"


def test_a_delay_until_a_time_from_a_template_waits_until_that_time(alice):
    t0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
    wf = delay_workflow(alice, {"until": "{{ input.when }}"})
    with time_machine.travel(t0, tick=False):
        run = start(wf, {"when": "2030-01-01T09:30:00+00:00"})
        drive(timezone.now())

        assert steps(run)["wait"].status == "waiting"
        assert steps(run)["wait"].wake_at == t0 + timedelta(minutes=30)


def test_a_delay_until_a_past_time_continues_at_once(alice):
    run = start(delay_workflow(alice, {"until": "2001-01-01T00:00:00+00:00"}))

    drive(timezone.now())

    run.refresh_from_db()
    assert run.status == "succeeded"


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("seconds", -1, "seconds >= 0"),
        ("seconds", "soon", "seconds >= 0"),
        ("until", "next tuesday", "not an ISO 8601 time"),
        ("until", "2030-01-01T10:00:00", "needs a UTC offset"),
    ],
)
def test_a_templated_delay_that_yields_a_bad_value_fails_as_bad_config(
    alice, field, value, problem
):
    run = start(delay_workflow(alice, {field: "{{ input.v }}"}), {"v": value})

    drive(timezone.now())

    run.refresh_from_db()
    wait = steps(run)["wait"]
    assert wait.status == "failed"
    assert wait.error["code"] == "bad_config"
    assert wait.error["retryable"] is False
    assert problem in wait.error["message"]
    assert run.status == "failed"
