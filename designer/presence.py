"""Who has a workflow open in the designer, and what the designer's socket says about a new
version (``/ws/workflows/{id}/``, docs/api/websockets.md).

Presence is rows (``DesignerPresence``), one per open socket, so that every web process sees the
sockets of the others. Each socket says it is alive every ``HEARTBEAT_S``; a row not heard of for
``EXPIRES`` no longer counts (its process died, or its network went) and is deleted by the next
socket of the workflow that speaks. These are plain functions of ``now`` that tests call
directly; ``engine/consumers.WorkflowConsumer`` calls them and tells the sockets.
"""

from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from designer.models import DesignerPresence, WorkflowVersion

HEARTBEAT_S = 20  # how often a client pings (the front end's PING_MS)
EXPIRES = timedelta(seconds=60)  # three missed pings: gone


def person(user: AbstractBaseUser | None) -> dict[str, Any] | None:
    """A user as the designer's socket shows them."""
    if user is None:
        return None
    full = user.get_full_name().strip()
    return {"id": user.pk, "username": user.username, "display_name": full or user.username}


def do_join(*, user: AbstractBaseUser, workflow_id: int, channel: str, now: datetime) -> None:
    """A socket opened the workflow."""
    DesignerPresence.objects.update_or_create(
        channel=channel,
        defaults={"workflow_id": workflow_id, "user": user, "seen_at": now},
        create_defaults={"workflow_id": workflow_id, "user": user, "since": now, "seen_at": now},
    )


def do_touch(*, user: AbstractBaseUser, workflow_id: int, channel: str, now: datetime) -> bool:
    """A socket's ping. True when its row was gone (expired while the socket was silent, say a
    laptop asleep), so it is back among the present: a change to tell the others."""
    if DesignerPresence.objects.filter(channel=channel).update(seen_at=now):
        return False
    try:
        # A savepoint: a concurrent join of the same channel (unique) leaves nothing to undo.
        with transaction.atomic():
            DesignerPresence.objects.create(
                workflow_id=workflow_id, user=user, channel=channel, since=now, seen_at=now
            )
    except IntegrityError:
        return False
    return True


def do_leave(*, channel: str) -> bool:
    """A socket closed; True when it was still counted."""
    deleted, _ = DesignerPresence.objects.filter(channel=channel).delete()
    return deleted > 0


def drop_expired(now: datetime, workflow_id: int | None = None) -> int:
    """Delete the rows not heard of for ``EXPIRES`` (of one workflow, or all); how many."""
    rows = DesignerPresence.objects.filter(seen_at__lt=now - EXPIRES)
    if workflow_id is not None:
        rows = rows.filter(workflow_id=workflow_id)
    deleted, _ = rows.delete()
    return deleted


def present(workflow_id: int, now: datetime) -> list[dict[str, Any]]:
    """Who has the workflow open: one entry per person (several tabs count once, since the
    first), longest there first. Expired rows are left out even before they are deleted."""
    rows = (
        DesignerPresence.objects.filter(workflow_id=workflow_id, seen_at__gte=now - EXPIRES)
        .select_related("user")
        .order_by("since", "id")
    )
    people: dict[int, dict[str, Any]] = {}
    for row in rows:
        if row.user_id not in people:
            people[row.user_id] = {**person(row.user), "since": row.since.isoformat()}
    return list(people.values())


def version_message(version: WorkflowVersion) -> dict[str, Any]:
    """What ``version_saved`` says of a new version (no graph: the client fetches it if asked)."""
    return {
        "workflow": version.workflow_id,
        "number": version.number,
        "author": person(version.author),
        "note": version.note,
        "saved_at": version.created_at.isoformat(),
    }
