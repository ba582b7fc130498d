"""Schedules: a workflow whose newest version starts with a ``trigger.schedule`` node starts by
itself on its cron expression, read in an IANA time zone (ARCHITECTURE, triggers).

- **Planning.** Saving a version re-plans the workflow's one ``WorkflowSchedule`` row
  (``do_plan_schedule``, receiving ``designer.signals.version_saved`` inside the save's
  transaction): a version without the trigger deletes it. Archiving, disabling (the node's
  ``enabled``) or pausing (the API) clears ``next_fire_at``; nothing fires until it is set
  again, from the next slot after that moment (slots that passed meanwhile never fire).
- **Firing.** ``fire_due_schedules(now)`` is a one-iteration function (STYLE 6) that every
  worker's sweeper calls every second. Exactly once per slot: ``do_fire_schedule`` locks the
  workflow and schedule rows, compare-and-sets ``next_fire_at``, and starts the slot's run with
  the idempotency key ``schedule:<slot UTC ISO>``, which the unique constraint on
  (workflow, idempotency_key) makes a second line of defence.
- **Time zones.** Slots are computed by croniter on wall-clock time in the zone (Vixie cron
  semantics): a time that does not exist (spring forward) fires at the first instant after the
  gap (02:30 on the day Paris skips 02:00-03:00 fires at 03:00); a time that happens twice (fall
  back) fires once, at its first occurrence, unless the minute or hour field starts with ``*``
  (``0 * * * *`` fires every real hour, both 02:00s included), as Vixie cron does.
- **Late and missed slots.** A slot up to ``FLOWDECK_SCHEDULE_GRACE_S`` late is on time; older
  ones were missed while nothing fired, and the node's ``catch_up`` decides: ``skip`` none,
  ``latest`` the most recent one once, ``all`` each of them (at most ``catch_up_limit``, the
  newest kept), oldest first.
- **Overlap** with the workflow's previous scheduled run still queued, running or waiting:
  ``allow`` starts anyway, ``skip`` records the slot as skipped, ``queue`` keeps it in
  ``pending_slots`` (at most ``MAX_PENDING``) and the sweeper starts it once that run has ended.

Lock order (see engine/transitions.py): the workflow row, then the schedule row, then whatever
``do_start_run`` locks. A save holds the workflow row when it re-plans, so a save and a firing
serialize instead of deadlocking; a sweeper skips a workflow row locked by someone else and
comes back to it at its next sweep.
"""

import logging
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from itertools import islice, takewhile
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from croniter import CroniterBadDateError, CroniterError, croniter
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from designer.models import Workflow, WorkflowVersion
from engine import transitions
from engine.models import Run, Trigger
from engine.schedule_models import CatchUp, Overlap, WorkflowSchedule
from engine.states import RUN_TERMINAL

log = logging.getLogger("flowdeck.schedules")

TRIGGER_TYPE = "trigger.schedule"
BATCH = 100
# Slots waiting for the previous run (overlap: queue); beyond this a slot is skipped.
MAX_PENDING = 100
# croniter steps without a new slot before we give up (a guard; it never loops in practice).
MAX_STALL = 1000
# Missed slots are counted up to this many (the count is for people, not for firing).
MAX_COUNTED = 10_000

Actor = AbstractBaseUser | None


# --- Cron in a time zone --------------------------------------------------------------------------


class CronInvalid(ValueError):
    """A cron expression or time zone that cannot be planned; ``field`` says which."""

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.code = code


def check_cron(cron: Any, zone: Any) -> ZoneInfo:
    """The zone, after checking both: five cron fields croniter accepts, an IANA zone name.
    Raises CronInvalid naming the field (``cron`` or ``timezone``)."""
    if not isinstance(zone, str) or zone not in _zone_names():
        raise CronInvalid("timezone", "invalid_format", f"{zone!r} is not an IANA time zone name")
    if not isinstance(cron, str) or len(cron.split()) != 5:
        raise CronInvalid(
            "cron",
            "invalid_format",
            "a cron expression has five fields: minute, hour, day of month, month, day of week",
        )
    try:
        croniter(cron)
    except CroniterError as exc:
        raise CronInvalid("cron", "invalid_format", f"not a valid cron expression: {exc}") from exc
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CronInvalid("timezone", "invalid_format", str(exc)) from exc


def _zone_names() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    return _ZONES


_ZONES: frozenset[str] | None = None


def _is_wild(cron: str) -> bool:
    """Vixie cron's "wildcard" jobs (minute or hour field starting with ``*``) run in both
    copies of a repeated hour; the others only in the first."""
    minute, hour = cron.split()[:2]
    return minute.startswith("*") or hour.startswith("*")


def _is_second_occurrence(moment: datetime, zone: ZoneInfo) -> bool:
    """Is ``moment`` the second time its wall-clock time happens (the hour after fall back)?"""
    local = moment.astimezone(zone)  # astimezone sets fold=1 on the repeated hour
    return local.fold == 1 and local.replace(fold=0).utcoffset() != local.utcoffset()


def slots_after(cron: str, zone: ZoneInfo, after: datetime) -> Iterator[datetime]:
    """The cron's slots strictly after ``after``, in order, as UTC datetimes."""
    wild = _is_wild(cron)
    it = croniter(cron, after.astimezone(zone))
    last, stall = after, 0
    while stall < MAX_STALL:
        try:
            slot = it.get_next(datetime).astimezone(UTC)
        except CroniterBadDateError:
            return  # the expression never matches again (30 February)
        stall += 1
        if slot <= last or (not wild and _is_second_occurrence(slot, zone)):
            continue
        last, stall = slot, 0
        yield slot


def slots_until(cron: str, zone: ZoneInfo, until: datetime) -> Iterator[datetime]:
    """The cron's slots at or before ``until``, newest first, as UTC datetimes."""
    wild = _is_wild(cron)
    # croniter's get_prev is strictly before its start; a second later includes ``until``.
    it = croniter(cron, (until + timedelta(seconds=1)).astimezone(zone))
    last, stall = None, 0
    while stall < MAX_STALL:
        try:
            slot = it.get_prev(datetime).astimezone(UTC)
        except CroniterBadDateError:
            return
        stall += 1
        if slot > until or (last is not None and slot >= last):
            continue
        if not wild and _is_second_occurrence(slot, zone):
            continue
        last, stall = slot, 0
        yield slot


def next_slot(cron: str, zone_name: str, after: datetime) -> datetime | None:
    return next(slots_after(cron, ZoneInfo(zone_name), after), None)


def preview(cron: Any, zone_name: Any, after: datetime, count: int = 5) -> list[datetime]:
    """The next ``count`` slots after ``after``, in the zone's local time. Raises CronInvalid,
    also (code ``never_fires``) for an expression that matches no date (30 February)."""
    zone = check_cron(cron, zone_name)
    times = []
    for slot in slots_after(cron, zone, after):
        times.append(slot.astimezone(zone))
        if len(times) == count:
            break
    if not times:
        raise CronInvalid("cron", "never_fires", "this cron expression never matches a date")
    return times


def slot_key(slot: datetime) -> str:
    """A slot as UTC ISO text: the run's idempotency key ends with it, pending_slots hold it."""
    return slot.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_slot(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def upcoming(schedule: WorkflowSchedule, count: int = 5) -> list[datetime]:
    """The next ``count`` times the schedule will fire, in its zone: empty when it will not
    (paused, disabled, archived, never matching)."""
    if not schedule.is_active or schedule.next_fire_at is None:
        return []
    zone = ZoneInfo(schedule.timezone)
    times = [schedule.next_fire_at]
    for slot in slots_after(schedule.cron, zone, schedule.next_fire_at):
        if len(times) == count:
            break
        times.append(slot)
    return [t.astimezone(zone) for t in times]


# --- Planning -------------------------------------------------------------------------------------


def schedule_node(graph: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The graph's trigger.schedule node, if its trigger is one (a graph has one trigger)."""
    for node in graph.get("nodes", []):
        if node.get("type") == TRIGGER_TYPE:
            return node
    return None


def config_of(node: Mapping[str, Any]) -> dict[str, Any]:
    """The node's config with the schema's defaults filled in."""
    from engine.steps.triggers import ScheduleTrigger

    properties = ScheduleTrigger.config_schema["properties"]
    defaults = {name: spec["default"] for name, spec in properties.items() if "default" in spec}
    return {**defaults, **(node.get("config") or {})}


def _note(slot: datetime | None, reason: str, message: str, now: datetime, **more: Any) -> dict:
    return {
        "slot": slot_key(slot) if slot else None,
        "reason": reason,
        "message": message,
        "at": slot_key(now),
        **more,
    }


def _error(slot: datetime | None, code: str, message: str, now: datetime, **more: Any) -> dict:
    return {
        "slot": slot_key(slot) if slot else None,
        "code": code,
        "message": message,
        "at": slot_key(now),
        **more,
    }


def _input_error(graph: Mapping[str, Any], data: Any, slot: datetime | None, now: datetime):
    try:
        transitions.check_start_input(graph, data)
    except transitions.InputInvalid as exc:
        return _error(
            slot,
            "invalid_input",
            f"the schedule's input does not fit the workflow's input_schema: {exc}",
            now,
            errors=exc.errors,
        )
    return None


def _drop_pending(schedule: WorkflowSchedule, reason: str, now: datetime) -> None:
    if schedule.pending_slots:
        dropped = schedule.pending_slots
        schedule.last_skipped = _note(
            _parse_slot(dropped[-1]),
            reason,
            f"{len(dropped)} queued slot(s) dropped: the schedule is {reason}",
            now,
            since=dropped[0],
        )
        schedule.pending_slots = []


def _replan_next(schedule: WorkflowSchedule, now: datetime, keep: bool) -> None:
    """Set next_fire_at for the schedule's current state; ``keep`` an existing one (the cron
    and zone did not change, so slots missed meanwhile still fall under catch-up)."""
    if not schedule.is_active:
        schedule.next_fire_at = None
        _drop_pending(schedule, schedule.state, now)
        return
    if keep and schedule.next_fire_at is not None:
        return
    try:
        zone = check_cron(schedule.cron, schedule.timezone)
    except CronInvalid as exc:
        # The graph's validation refuses these; a backstop that never fails the save.
        schedule.next_fire_at = None
        schedule.last_error = _error(None, "invalid_" + exc.field, str(exc), now)
        return
    schedule.next_fire_at = next(slots_after(schedule.cron, zone, now), None)
    if schedule.next_fire_at is None:
        schedule.last_error = _error(
            None, "never_fires", "the cron expression never matches a date", now
        )


@transaction.atomic
def do_plan_schedule(
    *, workflow: Workflow, version: WorkflowVersion, actor: Actor, now: datetime | None = None
) -> WorkflowSchedule | None:
    """Plan the workflow's schedule from ``version`` (its newest): create or update the row
    from the trigger.schedule node, or delete it when the version has no such node. The next
    slot is kept when the cron and zone are unchanged, else it is the first after ``now``. A
    pause survives; the last error is replaced by this version's (a bad input, say)."""
    now = now or timezone.now()
    node = schedule_node(version.graph)
    # Lock order: the save already holds the workflow row; then the schedule row.
    current = WorkflowSchedule.objects.select_for_update().filter(workflow=workflow).first()
    if node is None:
        if current is not None:
            current.delete()
            log.info("workflow %s: version %s has no schedule", workflow.pk, version.number)
        return None
    config = config_of(node)
    schedule = current or WorkflowSchedule(workflow=workflow)
    schedule.workflow = workflow  # the caller's (fresh) row: archived is read from it
    keep = current is not None and (current.cron, current.timezone) == (
        config["cron"],
        config["timezone"],
    )
    schedule.version = version
    schedule.node_id = node["id"]
    schedule.cron = config["cron"]
    schedule.timezone = config["timezone"]
    schedule.input = config["input"]
    schedule.enabled = bool(config["enabled"])
    schedule.catch_up = config["catch_up"]
    schedule.catch_up_limit = config["catch_up_limit"]
    schedule.overlap = config["overlap"]
    schedule.last_error = _input_error(version.graph, schedule.input, None, now)
    _replan_next(schedule, now, keep)
    schedule.save()
    return schedule


@transaction.atomic
def do_archive_changed(
    *, workflow: Workflow, actor: Actor, now: datetime | None = None
) -> WorkflowSchedule | None:
    """An archived workflow's schedule fires nothing (its queued slots are dropped); a restored
    one fires again from its next slot after ``now``."""
    now = now or timezone.now()
    schedule = WorkflowSchedule.objects.select_for_update().filter(workflow=workflow).first()
    if schedule is None:
        return None
    schedule.workflow = workflow
    _replan_next(schedule, now, keep=False)
    schedule.save()
    return schedule


@transaction.atomic
def do_set_paused(
    *, schedule_id: int, paused: bool, actor: Actor, now: datetime | None = None
) -> WorkflowSchedule:
    """Pause (fire nothing, drop queued slots) or resume (fire again from the next slot after
    ``now``; slots that passed while paused never fire). Pausing twice changes nothing."""
    now = now or timezone.now()
    workflow_id = WorkflowSchedule.objects.values_list("workflow_id", flat=True).get(pk=schedule_id)
    # Lock order: the workflow row, then the schedule row (as a save and a firing do).
    workflow = Workflow.objects.select_for_update().get(pk=workflow_id)
    schedule = WorkflowSchedule.objects.select_for_update().get(pk=schedule_id)
    schedule.workflow = workflow
    if schedule.paused == paused:
        return schedule
    schedule.paused = paused
    schedule.paused_by = actor if paused and actor is not None and actor.is_authenticated else None
    schedule.paused_at = now if paused else None
    _replan_next(schedule, now, keep=False)
    schedule.save()
    log.info("schedule of workflow %s: paused=%s by %s", workflow_id, paused, actor)
    return schedule


def on_version_saved(
    sender: Any, workflow: Workflow, version: WorkflowVersion, actor: Actor, **kw: Any
) -> None:
    do_plan_schedule(workflow=workflow, version=version, actor=actor)


def on_archived_changed(sender: Any, workflow: Workflow, actor: Actor, **kw: Any) -> None:
    do_archive_changed(workflow=workflow, actor=actor)


# --- Firing ---------------------------------------------------------------------------------------


def fire_due_schedules(now: datetime) -> int:
    """Fire every schedule due at ``now``, and start queued slots whose previous run ended.
    Returns how many runs started. One schedule's failure is logged and does not stop the
    others (the next sweep tries it again)."""
    started = 0
    due = WorkflowSchedule.objects.filter(next_fire_at__lte=now).order_by("next_fire_at", "pk")
    for pk in list(due.values_list("pk", flat=True)[:BATCH]):
        started += _guarded(do_fire_schedule, pk, now)
    waiting = WorkflowSchedule.objects.exclude(pending_slots=[]).order_by("pk")
    for pk in list(waiting.values_list("pk", flat=True)[:BATCH]):
        started += _guarded(do_start_pending, pk, now)
    return started


def _guarded(action: Any, schedule_id: int, now: datetime) -> int:
    try:
        return action(schedule_id, now)
    except Exception:
        log.exception("schedule %s: %s failed; the next sweep tries again", schedule_id, action)
        return 0


def _lock(schedule_id: int) -> tuple[Workflow, WorkflowSchedule] | None:
    """The workflow and schedule rows, locked in that order; None if the schedule is gone or
    its workflow is locked by someone else (another sweeper, a save): the next sweep comes back
    to it, and meanwhile this sweeper goes on with other schedules instead of queueing behind
    the lock, so several sweepers share a burst of due schedules (PostgreSQL; SQLite has one
    writer at a time anyway and ignores these locks)."""
    rows = WorkflowSchedule.objects.filter(pk=schedule_id)
    workflow_id = rows.values_list("workflow_id", flat=True).first()
    if workflow_id is None:
        return None
    workflow = Workflow.objects.select_for_update(skip_locked=True).filter(pk=workflow_id).first()
    if workflow is None:
        return None
    schedule = WorkflowSchedule.objects.select_for_update().filter(pk=schedule_id).first()
    if schedule is None:  # a save without the trigger deleted it meanwhile
        return None
    schedule.workflow = workflow
    return workflow, schedule


SAVED_FIELDS = [
    "pending_slots",
    "last_fired_at",
    "last_run",
    "last_skipped",
    "last_error",
    "updated_at",
]


@transaction.atomic
def do_fire_schedule(schedule_id: int, now: datetime) -> int:
    """Handle every slot of the schedule due at ``now`` (normally one): apply the catch-up
    policy to the missed ones, the overlap policy to each that fires, and move next_fire_at
    past ``now``. Returns how many runs started; 0 when another sweeper got there first."""
    locked = _lock(schedule_id)
    if locked is None:
        return 0
    workflow, schedule = locked
    due_from = schedule.next_fire_at
    if due_from is None or due_from > now:
        return 0  # another sweeper fired it (it waited for our lock), or a pause came first
    if not schedule.is_active:
        # Backstop: every change of state clears next_fire_at in its own transaction.
        WorkflowSchedule.objects.filter(pk=schedule.pk).update(next_fire_at=None)
        return 0
    zone = ZoneInfo(schedule.timezone)
    firing, missed = _due_slots(schedule, zone, due_from, now)
    new_next = next(slots_after(schedule.cron, zone, now), None)
    # Compare-and-set on the slot we read: with the row lock it cannot fail on PostgreSQL, and
    # SQLite's IMMEDIATE transactions serialize writers; it is the contract, not luck, that
    # makes a slot fire once.
    if not WorkflowSchedule.objects.filter(pk=schedule.pk, next_fire_at=due_from).update(
        next_fire_at=new_next
    ):
        return 0
    schedule.next_fire_at = new_next
    if missed is not None:
        newest_missed, count = missed
        schedule.last_skipped = _note(
            newest_missed,
            "missed",
            f"{count}{'+' if count >= MAX_COUNTED else ''} slot(s) passed while nothing "
            f"fired (catch-up: {schedule.catch_up})",
            now,
            since=slot_key(due_from),
        )
    started = sum(_fire_slot(schedule, slot, now) for slot in firing)
    if new_next is None:
        schedule.last_error = _error(None, "never_fires", "the cron expression never matches", now)
    schedule.save(update_fields=SAVED_FIELDS)
    return started


def _due_slots(
    schedule: WorkflowSchedule, zone: ZoneInfo, due_from: datetime, now: datetime
) -> tuple[list[datetime], tuple[datetime, int] | None]:
    """The slots from ``due_from`` to ``now`` that fire (oldest first), and the newest of
    those that do not with their number (None when none was missed). Slots are read backwards
    from ``now``, so a long downtime costs catch_up_limit + 1 steps, not one per slot."""
    keep = schedule.catch_up_limit if schedule.catch_up == CatchUp.ALL else 1
    recent: list[datetime] = []  # newest first; one more than kept, to see if any is dropped
    for slot in slots_until(schedule.cron, zone, now):
        if slot < due_from or len(recent) > keep:
            break
        recent.append(slot)
    if not recent:
        return [], None
    grace = timedelta(seconds=settings.FLOWDECK_SCHEDULE_GRACE_S)
    if schedule.catch_up == CatchUp.SKIP and now - recent[0] > grace:
        firing: list[datetime] = []
    else:
        firing = list(reversed(recent[:keep]))
    # What does not fire is always older than what does: the slots from due_from to this one.
    missed = next((slot for slot in recent if slot not in firing), None)
    if missed is None:
        return firing, None
    # Counted forwards from due_from (itself a slot), bounded: a year of minutes down does not
    # count half a million slots.
    since = slots_after(schedule.cron, zone, due_from - timedelta(seconds=1))
    count = sum(1 for _ in takewhile(lambda slot: slot <= missed, islice(since, MAX_COUNTED)))
    return firing, (missed, count)


def _previous_running(schedule: WorkflowSchedule) -> bool:
    return (
        Run.objects.filter(workflow_id=schedule.workflow_id, trigger=Trigger.SCHEDULE)
        .exclude(status__in=RUN_TERMINAL)
        .exists()
    )


def _fire_slot(schedule: WorkflowSchedule, slot: datetime, now: datetime) -> int:
    """Apply the overlap policy to one slot; start its run when it may."""
    if schedule.overlap != Overlap.ALLOW and (
        (schedule.overlap == Overlap.QUEUE and schedule.pending_slots)
        or _previous_running(schedule)
    ):
        if schedule.overlap == Overlap.SKIP:
            schedule.last_skipped = _note(
                slot, "overlap", "the previous scheduled run was still going", now
            )
            return 0
        if len(schedule.pending_slots) >= MAX_PENDING:
            schedule.last_skipped = _note(
                slot, "queue_full", f"{MAX_PENDING} slots already wait for a run to end", now
            )
            return 0
        # Kept in order; do_start_pending starts it once the previous run has ended.
        schedule.pending_slots = [*schedule.pending_slots, slot_key(slot)]
        return 0
    return _start(schedule, slot, now)


def _start(schedule: WorkflowSchedule, slot: datetime, now: datetime) -> int:
    """Start the slot's run (1) or record why not (0). Never raises for a bad input: it is
    recorded in last_error and the schedule moves on, so there is no crash loop."""
    version = schedule.version
    error = _input_error(version.graph, schedule.input, slot, now)
    if error is not None:
        schedule.last_error = error
        log.warning("schedule of workflow %s: %s", schedule.workflow_id, error["message"])
        return 0
    try:
        # A savepoint: a failure here must not undo the schedule's move past this slot.
        with transaction.atomic():
            run, created = transitions.do_start_run(
                version=version,
                input=schedule.input,
                trigger=Trigger.SCHEDULE,
                actor=None,
                idempotency_key=f"schedule:{slot_key(slot)}",
            )
    except Exception as exc:
        log.exception("schedule of workflow %s: the run of %s did not start", schedule.pk, slot)
        schedule.last_error = _error(slot, "start_failed", f"the run did not start: {exc}", now)
        return 0
    schedule.last_fired_at = slot
    schedule.last_run = run
    # created is False when the slot's run exists already (the key is unique per workflow).
    return int(created)


@transaction.atomic
def do_start_pending(schedule_id: int, now: datetime) -> int:
    """Start the oldest queued slot (overlap: queue) if the previous scheduled run has ended.
    Returns 1 if a run started."""
    locked = _lock(schedule_id)
    if locked is None:
        return 0
    _workflow, schedule = locked
    if not schedule.pending_slots or not schedule.is_active or _previous_running(schedule):
        return 0
    first, *rest = schedule.pending_slots
    schedule.pending_slots = rest
    started = _start(schedule, _parse_slot(first), now)
    schedule.save(update_fields=SAVED_FIELDS)
    return started
