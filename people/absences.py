"""Out of office (issue 19, item 4): absences are created and deleted only here (STYLE 1), and
here the engine asks who stands in for an absent user (``stand_in``).

An absence sends the tasks assigned to its user *by name* while it lasts to its deputy; group
assignments are left alone, since the group's other members can act. When the deputy is away
too, the deputy's own deputy stands in, and so on; a chain that comes back to someone already
on it (a loop), or that ends at a deactivated user, keeps the task with the person it was
assigned to, and says why. Creating an absence refuses a loop that would exist at some moment,
so a loop at assignment time needs a race or a later change (a deputy deactivated meanwhile).
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from people import audit
from people.models import Absence

MAX_HOPS = 20  # a chain of deputies longer than this is as good as a loop
MAX_PLANNED = 50  # absences a user may have planned at once


class AbsenceInvalid(Exception):
    """Bad input for an absence; ``errors`` in the API's shape."""

    def __init__(self, errors: list[dict]) -> None:
        super().__init__(errors[0]["message"])
        self.errors = errors


def _error(field: str, code: str, message: str) -> AbsenceInvalid:
    return AbsenceInvalid(
        [{"node": None, "edge": None, "field": field, "code": code, "message": message}]
    )


def day(at: datetime) -> str:
    """How people read the ends of an absence: 2026-12-24 17:00 UTC (as the task emails say)."""
    return f"{at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _loops_back(user_id: int, deputy_id: int, starts_at: datetime, ends_at: datetime) -> bool:
    """Would an absence of ``user_id`` to ``deputy_id`` over [starts_at, ends_at) close a loop
    of deputies at some moment? Walks the deputy's absences that overlap the window, narrowing
    the window at each hop: a loop exists only where all its absences overlap at once."""
    seen: set[int] = set()

    def walk(person: int, start: datetime, end: datetime, depth: int) -> bool:
        if depth > MAX_HOPS:
            return True
        for absence in Absence.objects.filter(user_id=person, starts_at__lt=end, ends_at__gt=start):
            if absence.deputy_id == user_id:
                return True
            key = absence.pk
            if key in seen:
                continue
            seen.add(key)
            narrowed = (max(start, absence.starts_at), min(end, absence.ends_at))
            if walk(absence.deputy_id, *narrowed, depth + 1):
                return True
        return False

    return walk(deputy_id, starts_at, ends_at, 1)


def check_absence(
    user: AbstractBaseUser, *, starts_at: datetime, ends_at: datetime, deputy: str
) -> AbstractBaseUser:
    """The deputy (a user), or AbsenceInvalid naming the field: the absence ends after it
    starts and in the future, the deputy is another active user, the user's absences do not
    overlap, and no loop of deputies comes of it."""
    if ends_at <= starts_at:
        raise _error("ends_at", "before_start", "an absence ends after it starts")
    if ends_at <= timezone.now():
        raise _error("ends_at", "past", "this absence would be over already")
    target = get_user_model().objects.filter(username=deputy).first()
    if target is None or not target.is_active:
        raise _error("deputy", "unknown_user", f"no active user named {deputy!r}")
    if target.pk == user.pk:
        raise _error("deputy", "self", "your deputy is someone else than you")
    overlapping = (
        Absence.objects.filter(user=user, starts_at__lt=ends_at, ends_at__gt=starts_at)
        .order_by("starts_at")
        .first()
    )
    if overlapping is not None:
        raise _error(
            "starts_at",
            "overlap",
            f"this overlaps the absence from {day(overlapping.starts_at)} "
            f"until {day(overlapping.ends_at)}",
        )
    if Absence.objects.filter(user=user, ends_at__gt=timezone.now()).count() >= MAX_PLANNED:
        raise _error("starts_at", "too_many", f"at most {MAX_PLANNED} absences may be planned")
    if _loops_back(user.pk, target.pk, starts_at, ends_at):
        raise _error(
            "deputy",
            "loop",
            f"{deputy} is away then too, and their deputies lead back to "
            f"{user.get_username()}: nobody would get the tasks",
        )
    return target


@transaction.atomic
def do_create_absence(
    *,
    actor: AbstractBaseUser,
    user: AbstractBaseUser,
    starts_at: datetime,
    ends_at: datetime,
    deputy: str,
    note: str = "",
) -> Absence:
    """Plan an absence of ``user`` (by themselves, or by staff), audited. Tasks assigned from
    ``starts_at`` on go to the deputy; tasks assigned before stay where they are."""
    # The user's row, locked: two absences saved at once cannot both pass the overlap check.
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    target = check_absence(user, starts_at=starts_at, ends_at=ends_at, deputy=deputy)
    absence = Absence.objects.create(
        user=user, starts_at=starts_at, ends_at=ends_at, deputy=target, note=note
    )
    audit.record(
        actor,
        absence,
        audit.ADDITION,
        f"Out of office {day(starts_at)} to {day(ends_at)}, deputy {target.get_username()}.",
    )
    return absence


@transaction.atomic
def do_delete_absence(*, actor: AbstractBaseUser, absence: Absence) -> None:
    """Cancel an absence (or end one early). Tasks already handed to the deputy stay there."""
    message = f"Deleted the absence until {day(absence.ends_at)}."
    audit.record(actor, absence, audit.DELETION, message)
    absence.delete()


def current_absence(user_id: int, at: datetime | None = None) -> Absence | None:
    at = at or timezone.now()
    return (
        Absence.objects.select_related("deputy")
        .filter(user_id=user_id, starts_at__lte=at, ends_at__gt=at)
        .first()
    )


@dataclass(frozen=True)
class StandIn:
    """Who takes a task of an absent user: ``deputy`` (None when the task stays with them,
    and ``kept`` says why), and the absence that sent it."""

    absence: Absence
    deputy: AbstractBaseUser | None
    chain: tuple[str, ...]  # the usernames from the absent user to the one who takes it
    kept: str = ""


def stand_in(user: AbstractBaseUser, at: datetime) -> StandIn | None:
    """None when ``user`` is present at ``at``; else who stands in for them, following the
    deputies who are away too."""
    absence = current_absence(user.pk, at)
    if absence is None:
        return None
    chain = [user.get_username()]
    seen = {user.pk}
    step = absence
    while True:
        deputy = step.deputy
        if not deputy.is_active:
            return StandIn(absence, None, tuple(chain), f"the deputy {deputy} is deactivated")
        if deputy.pk in seen or len(chain) > MAX_HOPS:
            names = " → ".join([*chain, deputy.get_username()])
            return StandIn(absence, None, tuple(chain), f"the deputies are all away ({names})")
        chain.append(deputy.get_username())
        seen.add(deputy.pk)
        step = current_absence(deputy.pk, at)
        if step is None:
            return StandIn(absence, deputy, tuple(chain))
