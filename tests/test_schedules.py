"""trigger.schedule: slots in a time zone across daylight-saving changes, firing exactly once,
the catch-up and overlap policies, re-planning on save, and what fires nothing. Time is moved
with ``time_machine``; runs are driven in-process; the sweeper's function is called directly."""

import threading
from datetime import UTC, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from designer.services import do_set_archived
from engine import recovery, schedules
from engine.models import Run, WorkflowSchedule
from engine.schedules import fire_due_schedules
from tests.engine_kit import build, drive, steps, workflow
from tests.schedule_kit import (
    T0,
    at,
    save,
    schedule_of,
    scheduled,
    scheduled_graph,
    scheduled_runs,
    slots,
)

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    """Nothing goes to the broker: the tests drive runs themselves."""
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: None)


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def fire(clock, when: datetime) -> int:
    """The sweeper's call at ``when``."""
    clock.move_to(when)
    return fire_due_schedules(timezone.now())


def local(cron: str, zone: ZoneInfo, after: datetime, count: int) -> list[str]:
    return [
        slot.astimezone(zone).isoformat()
        for slot in islice(schedules.slots_after(cron, zone, after), count)
    ]


# --- Slots in a time zone ------------------------------------------------------------------------


def test_a_daily_time_that_does_not_exist_in_spring_fires_when_the_gap_ends():
    # Paris skips from 02:00 to 03:00 on 29 March 2026: 02:30 fires at 03:00 that day.
    assert local("30 2 * * *", PARIS, datetime(2026, 3, 27, 12, tzinfo=UTC), 3) == [
        "2026-03-28T02:30:00+01:00",
        "2026-03-29T03:00:00+02:00",
        "2026-03-30T02:30:00+02:00",
    ]
    # New York skips from 02:00 to 03:00 on 8 March 2026.
    assert local("30 2 * * *", NEW_YORK, datetime(2026, 3, 7, 12, tzinfo=UTC), 2) == [
        "2026-03-08T03:00:00-04:00",
        "2026-03-09T02:30:00-04:00",
    ]


def test_a_daily_time_that_happens_twice_in_autumn_fires_once_at_its_first_occurrence():
    # Paris goes back from 03:00 to 02:00 on 25 October 2026: 02:30 happens twice.
    assert local("30 2 * * *", PARIS, datetime(2026, 10, 24, 12, tzinfo=UTC), 3) == [
        "2026-10-25T02:30:00+02:00",
        "2026-10-26T02:30:00+01:00",
        "2026-10-27T02:30:00+01:00",
    ]
    # New York goes back from 02:00 to 01:00 on 1 November 2026.
    assert local("30 1 * * *", NEW_YORK, datetime(2026, 10, 31, 12, tzinfo=UTC), 2) == [
        "2026-11-01T01:30:00-04:00",
        "2026-11-02T01:30:00-05:00",
    ]


def test_an_hourly_schedule_fires_every_real_hour_across_both_changes():
    # Spring: no 02:00 exists, so 01:00 is followed by 03:00, one real hour later.
    assert local("0 * * * *", PARIS, datetime(2026, 3, 28, 23, 30, tzinfo=UTC), 3) == [
        "2026-03-29T01:00:00+01:00",
        "2026-03-29T03:00:00+02:00",
        "2026-03-29T04:00:00+02:00",
    ]
    # Autumn: a wildcard hour fires in both 02:00s (Vixie cron's rule for wildcard jobs).
    assert local("0 * * * *", PARIS, datetime(2026, 10, 24, 23, 30, tzinfo=UTC), 3) == [
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:00:00+01:00",
        "2026-10-25T03:00:00+01:00",
    ]


def test_slots_read_backwards_skip_the_repeated_time_too():
    newest_first = islice(schedules.slots_until("30 2 * * *", PARIS, at(3, day=27, month=10)), 3)
    assert [slot.isoformat() for slot in newest_first] == [
        "2026-10-27T01:30:00+00:00",
        "2026-10-26T01:30:00+00:00",
        "2026-10-25T00:30:00+00:00",
    ]


def test_a_schedule_fires_at_the_end_of_the_spring_gap_and_once_in_autumn(alice):
    with time_machine.travel(datetime(2026, 3, 28, 12, tzinfo=UTC), tick=False) as clock:
        wf = scheduled(alice, "30 2 * * *", timezone="Europe/Paris")
        assert fire(clock, datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC)) == 0
        assert fire(clock, datetime(2026, 3, 29, 1, 0, 1, tzinfo=UTC)) == 1
        assert slots(wf) == ["2026-03-29T01:00:00Z"]  # 03:00 in Paris
        assert schedule_of(wf).next_fire_at == datetime(2026, 3, 30, 0, 30, tzinfo=UTC)

        clock.move_to(datetime(2026, 10, 24, 12, tzinfo=UTC))
        save(wf, scheduled_graph("30 2 * * *", timezone="Europe/Paris", input={"v": 2}), alice)
        assert fire(clock, datetime(2026, 10, 25, 0, 30, 1, tzinfo=UTC)) == 1  # 02:30 CEST
        assert fire(clock, datetime(2026, 10, 25, 1, 30, 1, tzinfo=UTC)) == 0  # 02:30 CET
        assert schedule_of(wf).next_fire_at == datetime(2026, 10, 26, 1, 30, tzinfo=UTC)
        assert slots(wf)[-1] == "2026-10-25T00:30:00Z"


# --- A slot starts one run, with the fixed input -------------------------------------------------


def test_a_due_slot_starts_a_scheduled_run_whose_trigger_outputs_the_fixed_input(alice, clock):
    wf = scheduled(
        alice,
        input={"report": "daily"},
        input_schema={"type": "object", "required": ["report"]},
    )
    assert schedule_of(wf).next_fire_at == at(9)

    assert fire(clock, at(8, 59, 59)) == 0
    assert fire(clock, at(9, 0, 1)) == 1

    (run,) = scheduled_runs(wf)
    assert (run.trigger, run.actor, run.input) == ("schedule", None, {"report": "daily"})
    assert run.idempotency_key == "schedule:2026-03-02T09:00:00Z"
    assert run.events.get(type="run.created").data["trigger"] == "schedule"
    drive()
    run.refresh_from_db()
    assert run.status == "succeeded"
    assert steps(run)["start"].output == {"report": "daily"}
    schedule = schedule_of(wf)
    assert (schedule.last_fired_at, schedule.last_run_id) == (at(9), run.pk)
    assert schedule.next_fire_at == at(10)


def test_a_slot_fires_once_however_often_the_sweeper_looks(alice, clock):
    wf = scheduled(alice)

    fired = [fire(clock, at(9, 0, s)) for s in (0, 1, 2, 30)]

    assert fired == [1, 0, 0, 0]
    assert slots(wf) == ["2026-03-02T09:00:00Z"]


def test_a_slot_fired_again_finds_its_run_by_key_and_starts_no_second(alice, clock):
    # As if a compare-and-set had been lost: next_fire_at is put back on a slot that fired.
    wf = scheduled(alice)
    assert fire(clock, at(9, 0, 1)) == 1
    WorkflowSchedule.objects.filter(workflow=wf).update(next_fire_at=at(9))

    assert fire(clock, at(9, 0, 2)) == 0

    assert slots(wf) == ["2026-03-02T09:00:00Z"]
    assert schedule_of(wf).next_fire_at == at(10)


def test_the_sweeper_fires_schedules(alice, clock):
    wf = scheduled(alice)
    clock.move_to(at(9, 0, 1))

    assert recovery.sweep_once(timezone.now())["schedules"] == 1
    assert len(scheduled_runs(wf)) == 1


def test_an_input_that_breaks_the_input_schema_is_recorded_and_the_schedule_moves_on(alice, clock):
    wf = scheduled(
        alice,
        input={"amount": "lots"},
        input_schema={"type": "object", "properties": {"amount": {"type": "number"}}},
    )
    # Known at once, before any slot: the save shows it.
    assert schedule_of(wf).last_error["code"] == "invalid_input"

    assert fire(clock, at(9, 0, 1)) == 0
    assert fire(clock, at(10, 0, 1)) == 0

    schedule = schedule_of(wf)
    assert scheduled_runs(wf) == []
    assert schedule.last_error["code"] == "invalid_input"
    assert schedule.last_error["slot"] == "2026-03-02T10:00:00Z"
    assert schedule.last_error["errors"][0]["field"] == "input.amount"
    assert schedule.next_fire_at == at(11)

    # A new version with a good input clears it and fires.
    save(wf, scheduled_graph(input={"amount": 5}), alice)
    assert schedule_of(wf).last_error is None
    assert fire(clock, at(11, 0, 1)) == 1


def test_one_failing_schedule_does_not_stop_the_others(alice, clock, monkeypatch):
    first, second = scheduled(alice), scheduled(alice)
    real = schedules.do_fire_schedule
    broken = schedule_of(first).pk

    def fire_or_break(pk, now):
        if pk == broken:
            raise RuntimeError("boom")
        return real(pk, now)

    monkeypatch.setattr(schedules, "do_fire_schedule", fire_or_break)

    assert fire(clock, at(9, 0, 1)) == 1
    assert len(scheduled_runs(second)) == 1


# --- Catch-up after downtime ---------------------------------------------------------------------
# Planned at 08:30; nothing fires until 11:30: 09:00, 10:00 and 11:00 were missed (11:00 is
# 30 minutes late, past the 60 s grace).


def test_catch_up_skip_fires_no_missed_slot_and_waits_for_the_next(alice, clock):
    wf = scheduled(alice, catch_up="skip")

    assert fire(clock, at(11, 30)) == 0

    schedule = schedule_of(wf)
    assert scheduled_runs(wf) == []
    assert schedule.next_fire_at == at(12)
    assert schedule.last_skipped["reason"] == "missed"
    assert (schedule.last_skipped["since"], schedule.last_skipped["slot"]) == (
        "2026-03-02T09:00:00Z",
        "2026-03-02T11:00:00Z",
    )
    assert schedule.last_skipped["message"].startswith("3 slot(s)")
    assert fire(clock, at(12, 0, 1)) == 1


def test_catch_up_skip_still_fires_a_slot_that_is_late_within_the_grace(alice, clock):
    wf = scheduled(alice, catch_up="skip")

    assert fire(clock, at(11, 0, 45)) == 1

    assert slots(wf) == ["2026-03-02T11:00:00Z"]
    assert schedule_of(wf).last_skipped["message"].startswith("2 slot(s)")


def test_catch_up_latest_fires_the_most_recent_missed_slot_once(alice, clock):
    wf = scheduled(alice, catch_up="latest")

    assert fire(clock, at(11, 30)) == 1
    assert fire(clock, at(11, 30, 1)) == 0

    assert slots(wf) == ["2026-03-02T11:00:00Z"]
    skipped = schedule_of(wf).last_skipped
    assert (skipped["slot"], skipped["message"][:10]) == ("2026-03-02T10:00:00Z", "2 slot(s) ")


def test_catch_up_all_fires_every_missed_slot_oldest_first(alice, clock):
    wf = scheduled(alice, catch_up="all")

    assert fire(clock, at(11, 30)) == 3

    assert slots(wf) == [
        "2026-03-02T09:00:00Z",
        "2026-03-02T10:00:00Z",
        "2026-03-02T11:00:00Z",
    ]
    assert schedule_of(wf).last_skipped is None


def test_catch_up_all_fires_at_most_the_limit_and_drops_the_oldest(alice, clock):
    wf = scheduled(alice, catch_up="all", catch_up_limit=2)

    assert fire(clock, at(11, 30)) == 2

    assert slots(wf) == ["2026-03-02T10:00:00Z", "2026-03-02T11:00:00Z"]
    skipped = schedule_of(wf).last_skipped
    assert (skipped["slot"], skipped["message"][:10]) == ("2026-03-02T09:00:00Z", "1 slot(s) ")


def test_a_year_of_missed_minutes_costs_the_limit_not_every_slot(alice, clock):
    wf = scheduled(alice, "* * * * *", catch_up="all", catch_up_limit=3)

    assert fire(clock, T0 + timedelta(days=365)) == 3

    assert slots(wf)[-1] == "2027-03-02T08:30:00Z"
    assert schedule_of(wf).last_skipped["message"].startswith("10000+ slot(s)")


# --- Overlap with the previous scheduled run -----------------------------------------------------
# Runs are not driven between slots, so the 09:00 run is still running at 10:00.


def test_overlap_allow_starts_a_run_while_the_previous_is_still_running(alice, clock):
    wf = scheduled(alice, overlap="allow")

    assert fire(clock, at(9, 0, 1)) == 1
    assert fire(clock, at(10, 0, 1)) == 1

    assert [run.status for run in scheduled_runs(wf)] == ["running", "running"]


def test_overlap_skip_records_the_skipped_slot_and_starts_nothing(alice, clock):
    wf = scheduled(alice, overlap="skip")
    assert fire(clock, at(9, 0, 1)) == 1

    assert fire(clock, at(10, 0, 1)) == 0

    skipped = schedule_of(wf).last_skipped
    assert (skipped["slot"], skipped["reason"]) == ("2026-03-02T10:00:00Z", "overlap")
    drive()  # the 09:00 run ends
    assert fire(clock, at(11, 0, 1)) == 1
    assert slots(wf) == ["2026-03-02T09:00:00Z", "2026-03-02T11:00:00Z"]


def test_overlap_queue_starts_each_slot_when_the_previous_run_ends(alice, clock):
    wf = scheduled(alice, overlap="queue")
    assert fire(clock, at(9, 0, 1)) == 1
    assert fire(clock, at(10, 0, 1)) == 0
    assert fire(clock, at(11, 0, 1)) == 0
    assert schedule_of(wf).pending_slots == ["2026-03-02T10:00:00Z", "2026-03-02T11:00:00Z"]
    assert fire(clock, at(11, 0, 2)) == 0  # 09:00's run is still running

    drive()  # it ends; no worker waited for it
    assert fire(clock, at(11, 0, 3)) == 1
    assert fire(clock, at(11, 0, 4)) == 0  # 10:00's run is running now
    drive()
    assert fire(clock, at(11, 0, 5)) == 1

    assert slots(wf) == [
        "2026-03-02T09:00:00Z",
        "2026-03-02T10:00:00Z",
        "2026-03-02T11:00:00Z",
    ]
    assert schedule_of(wf).pending_slots == []


def test_overlap_queue_counts_only_scheduled_runs(alice, clock):
    from tests.engine_kit import start

    wf = scheduled(alice, overlap="queue")
    start(wf)  # started by hand, still running

    assert fire(clock, at(9, 0, 1)) == 1


def test_pausing_drops_the_queued_slots(alice, bob, clock):
    wf = scheduled(alice, overlap="queue")
    fire(clock, at(9, 0, 1))
    fire(clock, at(10, 0, 1))

    schedules.do_set_paused(schedule_id=schedule_of(wf).pk, paused=True, actor=alice)
    drive()

    assert fire(clock, at(10, 0, 5)) == 0
    schedule = schedule_of(wf)
    assert schedule.pending_slots == []
    assert (schedule.last_skipped["reason"], schedule.last_skipped["slot"]) == (
        "paused",
        "2026-03-02T10:00:00Z",
    )


# --- Several schedulers at once ------------------------------------------------------------------


def race(now: datetime, schedulers: int = 2) -> list[int]:
    """``fire_due_schedules(now)`` in several threads (own connections) released together."""
    barrier = threading.Barrier(schedulers)
    started: list[int] = []

    def scheduler() -> None:
        try:
            barrier.wait()
            started.append(fire_due_schedules(now))
        finally:
            connection.close()

    threads = [threading.Thread(target=scheduler) for _ in range(schedulers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return sorted(started)


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_racing_for_one_slot_start_one_run(alice):
    with time_machine.travel(T0, tick=False):
        wf = scheduled(alice, catch_up="all")

    started = race(at(11, 0, 1))  # three slots due: 09:00, 10:00, 11:00

    assert started == [0, 3]
    assert slots(wf) == [
        "2026-03-02T09:00:00Z",
        "2026-03-02T10:00:00Z",
        "2026-03-02T11:00:00Z",
    ]
    assert schedule_of(wf).next_fire_at == at(12)


@pytest.mark.django_db(transaction=True)
def test_three_schedulers_racing_for_a_queued_slot_start_it_once(alice):
    with time_machine.travel(T0, tick=False) as clock:
        wf = scheduled(alice, overlap="queue")
        fire(clock, at(9, 0, 1))
        fire(clock, at(10, 0, 1))  # queued behind 09:00's run
        drive()  # 09:00's run ends

    started = race(at(10, 0, 2), schedulers=3)

    assert started == [0, 0, 1]
    assert slots(wf) == ["2026-03-02T09:00:00Z", "2026-03-02T10:00:00Z"]
    assert schedule_of(wf).pending_slots == []


# --- Planning from the newest version ------------------------------------------------------------


def test_saving_a_new_cron_replans_the_next_fire_time(alice, clock):
    wf = scheduled(alice, "0 * * * *")
    assert schedule_of(wf).next_fire_at == at(9)

    save(wf, scheduled_graph("45 8 * * *"), alice)

    schedule = schedule_of(wf)
    assert (schedule.cron, schedule.version.number) == ("45 8 * * *", 2)
    assert schedule.next_fire_at == at(8, 45)


def test_a_new_zone_replans_in_that_zone(alice, clock):
    wf = scheduled(alice, "0 9 * * *")
    assert schedule_of(wf).next_fire_at == at(9)

    save(wf, scheduled_graph("0 9 * * *", timezone="America/New_York"), alice)

    assert schedule_of(wf).next_fire_at == at(14)  # 09:00 in New York (UTC-5 in March)


def test_a_save_that_keeps_the_cron_keeps_the_due_slot_and_takes_the_new_input(alice, clock):
    wf = scheduled(alice, catch_up="latest", input={"v": 1})
    clock.move_to(at(10, 30))  # 09:00 and 10:00 are due, nothing fired yet (workers down)

    save(wf, scheduled_graph(catch_up="latest", input={"v": 2}), alice)

    assert schedule_of(wf).next_fire_at == at(9)
    assert fire(clock, at(10, 30, 1)) == 1
    (run,) = scheduled_runs(wf)
    assert (run.input, run.version.number) == ({"v": 2}, 2)


def test_a_version_without_the_schedule_trigger_removes_the_schedule(alice, clock):
    wf = scheduled(alice)

    manual = build({"start": ("trigger.manual",)}, [])
    save(wf, manual, alice)

    assert not WorkflowSchedule.objects.filter(workflow=wf).exists()
    assert fire(clock, at(9, 0, 1)) == 0
    assert scheduled_runs(wf) == []

    save(wf, scheduled_graph(), alice)  # back again, from the next slot
    assert schedule_of(wf).next_fire_at == at(10)


def test_a_workflow_without_a_schedule_trigger_has_no_schedule(alice, clock):
    wf = workflow(alice, build({"start": ("trigger.manual",)}, []))
    assert not WorkflowSchedule.objects.filter(workflow=wf).exists()


# --- What fires nothing --------------------------------------------------------------------------


def test_a_disabled_schedule_fires_nothing(alice, clock):
    wf = scheduled(alice, enabled=False)

    assert fire(clock, at(9, 0, 1)) == 0

    schedule = schedule_of(wf)
    assert (schedule.state, schedule.next_fire_at) == ("disabled", None)
    assert schedules.upcoming(schedule) == []

    save(wf, scheduled_graph(enabled=True), alice)  # enabled again: from the next slot
    assert schedule_of(wf).next_fire_at == at(10)


def test_a_paused_schedule_fires_nothing_and_resumes_from_the_next_slot(alice, clock):
    wf = scheduled(alice, catch_up="all")
    schedule_id = schedule_of(wf).pk

    schedules.do_set_paused(schedule_id=schedule_id, paused=True, actor=alice)
    assert fire(clock, at(11, 30)) == 0
    save(wf, scheduled_graph(catch_up="all", input={"v": 2}), alice)  # a save keeps the pause
    assert schedule_of(wf).paused

    schedules.do_set_paused(schedule_id=schedule_id, paused=False, actor=alice)

    # 09:00, 10:00 and 11:00 passed while paused: they never fire, even with catch_up=all.
    assert schedule_of(wf).next_fire_at == at(12)
    assert fire(clock, at(12, 0, 1)) == 1
    assert slots(wf) == ["2026-03-02T12:00:00Z"]


def test_an_archived_workflow_fires_nothing_until_restored(alice, clock):
    wf = scheduled(alice)

    do_set_archived(actor=alice, workflow=wf, archived=True)
    assert fire(clock, at(9, 0, 1)) == 0
    assert schedule_of(wf).state == "archived"

    do_set_archived(actor=alice, workflow=wf, archived=False)
    assert schedule_of(wf).next_fire_at == at(10)
    assert fire(clock, at(10, 0, 1)) == 1


def test_a_cron_that_never_matches_fires_nothing_and_says_so(alice, clock):
    wf = scheduled(alice, "0 0 30 2 *")

    schedule = schedule_of(wf)
    assert schedule.next_fire_at is None
    assert schedule.last_error["code"] == "never_fires"
    assert fire(clock, at(9, 0, 1)) == 0


def test_no_run_row_is_left_behind_by_a_slot_that_fired_nothing(alice, clock):
    scheduled(alice, overlap="skip", enabled=False)
    fire(clock, at(9, 0, 1))
    assert Run.objects.count() == 0


def test_slot_keys_are_utc():
    paris_nine = datetime(2026, 7, 1, 9, tzinfo=PARIS)
    assert schedules.slot_key(paris_nine) == "2026-07-01T07:00:00Z"
    assert schedules.slot_key(datetime(2026, 7, 1, 7, tzinfo=UTC)) == "2026-07-01T07:00:00Z"


def test_the_nightly_report_example_comes_with_its_schedule_off(alice, clock):
    from tests.graphs import example_graph

    wf = workflow(alice, example_graph("nightly_report"))

    assert schedule_of(wf).state == "disabled"
    assert fire(clock, T0 + timedelta(days=2)) == 0
