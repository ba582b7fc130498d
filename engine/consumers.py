"""The websockets (CONTRACT §6): a run's events, and the status changes of every visible run.

Both follow one pattern, which ``LiveConsumer`` carries for every live socket (the inbox too):
subscribe to a group first, then read the backlog after the client's cursor, then on each
notice read the rows after the cursor again. A notice is only a hint that rows exist
(``engine/live.py``); the rows are the truth, so an event committed while the backlog was read
is read once, by whichever read comes later, and never twice.

Close codes: 4401 without a login (session or token), 4403 when the user may not see the run
or the run does not exist (the two look the same, as the API's 404 does), 4400 for a bad
``after``.
"""

import logging
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from designer.permissions import role_of, visible_workflows
from engine import live
from engine.models import HumanTask, Run, RunEvent, tasks_involving
from engine.serializers import EventSerializer

log = logging.getLogger("flowdeck.live")

UNAUTHENTICATED = 4401
FORBIDDEN = 4403
BAD_REQUEST = 4400
PAGE = 500  # events per database read


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """A socket fed by ``engine/live.py``. Subclasses implement ``start()`` (check access,
    ``join`` groups, send the backlog; return a close code to refuse) and ``on_notice()``."""

    async def connect(self) -> None:
        self.joined: list[str] = []
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.refuse(UNAUTHENTICATED)
            return
        self.user = user
        code = await self.start()
        if code is not None:
            await self.refuse(code)

    async def start(self) -> int | None:
        raise NotImplementedError

    async def on_notice(self, notice: dict[str, Any]) -> None:
        raise NotImplementedError

    async def refuse(self, code: int) -> None:
        # Accept first: a close before the accept is an HTTP 403 at the handshake, and the
        # client would never see the code.
        await self.accept()
        await self.close(code=code)

    async def join(self, group: str) -> None:
        """Subscribe to a group: every event committed after this returns is noticed."""
        await live.feed().join(group, self.channel_name)
        self.joined.append(group)

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "joined", []):
            await live.feed().leave(group, self.channel_name)
        self.joined = []

    async def live_notice(self, notice: dict[str, Any]) -> None:
        """A ``live.notice`` from a group (channels dispatches on the message's type)."""
        if self.joined:
            await self.on_notice(notice)

    def query_param(self, name: str) -> str | None:
        values = parse_qs(self.scope.get("query_string", b"").decode("latin1")).get(name)
        return values[-1] if values else None

    def after_param(self) -> int | None:
        """The client's cursor, ``?after=<event id>``; -1 when it is not a number."""
        text = self.query_param("after")
        if text is None:
            return None
        try:
            after = int(text)
        except ValueError:
            return -1
        return after if after >= 0 else -1

    async def send_events(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            await self.send_json({"type": "event", "event": event})


class EventStream(LiveConsumer):
    """A ``LiveConsumer`` that sends the rows of ``events()`` after a cursor."""

    async def read_and_send(self) -> None:
        while True:
            events = await self.read_page()
            await self.send_events(events)
            if len(events) < PAGE:
                return

    @database_sync_to_async
    def read_page(self) -> list[dict[str, Any]]:
        rows = self.cursor.read(self.events(), PAGE, id_of=lambda event: event.id)
        return EventSerializer(rows, many=True).data

    def events(self) -> QuerySet[RunEvent]:
        raise NotImplementedError

    async def on_notice(self, notice: dict[str, Any]) -> None:
        # Notices queue up while a read runs; those about rows already read cost nothing.
        if not self.cursor.is_read(notice.get("last_id")):
            await self.read_and_send()


class RunEventsConsumer(EventStream):
    """``/ws/runs/{id}/?after=<event id>``: the run's events after the cursor, then live."""

    async def start(self) -> int | None:
        self.run_id = self.scope["url_route"]["kwargs"]["run_id"]
        after = self.after_param()
        if after == -1:
            return BAD_REQUEST
        if not await may_see_run(self.user, self.run_id):
            return FORBIDDEN
        # Subscribe first, then read: an event committed in between is in the backlog, or its
        # notice comes after the subscription; the cursor sends it once either way.
        await self.join(live.run_group(self.run_id))
        self.cursor = live.Cursor(live.settle_seconds())
        self.cursor.start(after or 0)
        await self.accept()
        await self.read_and_send()
        return None

    def events(self) -> QuerySet[RunEvent]:
        return RunEvent.objects.filter(run_id=self.run_id).select_related("actor")


class FeedStream(EventStream):
    """An ``EventStream`` over events of many runs, fed by one topic group (``live.TOPICS``):
    from the client's ``after``, or live only (from the newest event at connect) without it."""

    group: str

    async def start(self) -> int | None:
        after = self.after_param()
        if after == -1:
            return BAD_REQUEST
        await self.join(self.group)
        self.cursor = live.Cursor(live.settle_seconds())
        # Accepted once subscribed: whatever commits after the handshake is sent.
        self.cursor.start(await newest_event_id() if after is None else after)
        await self.accept()
        await self.read_and_send()
        return None


class RunsFeedConsumer(FeedStream):
    """``/ws/runs/[?after=<event id>]``: run status events (``run.*``) of every run the user
    may see; live only without ``after``."""

    group = live.RUNS_GROUP

    def events(self) -> QuerySet[RunEvent]:
        # Who may see what is asked at every read: a grant given or taken away applies at once.
        events = RunEvent.objects.filter(type__startswith="run.").select_related("actor")
        if not self.user.is_staff:
            events = events.filter(run__workflow__in=visible_workflows(self.user))
        return events


class InboxConsumer(FeedStream):
    """``/ws/inbox/[?after=<event id>]``: the ``task.*`` events of the tasks that are the
    user's business (assigned to them by name, group or delegation, or decided or delegated by
    them): new tasks, reminders, escalations, decisions and resolutions; live only without
    ``after``. A client reads its inbox from the approvals API and takes these as the news."""

    group = live.INBOX_GROUP

    def events(self) -> QuerySet[RunEvent]:
        return RunEvent.objects.filter(type__startswith="task.").select_related("actor")

    @database_sync_to_async
    def read_page(self) -> list[dict[str, Any]]:
        # The cursor moves over every task event; only the user's are sent. Who is involved is
        # asked at every read, so a task delegated to the user reaches them from then on.
        rows = self.cursor.read(self.events(), PAGE, id_of=lambda event: event.id)
        task_ids = {row.data.get("task") for row in rows}
        mine = set(
            HumanTask.objects.filter(pk__in=task_ids)
            .filter(tasks_involving(self.user))
            .values_list("pk", flat=True)
        )
        return EventSerializer(
            [row for row in rows if row.data.get("task") in mine], many=True
        ).data


@database_sync_to_async
def may_see_run(user: AbstractBaseUser, run_id: int) -> bool:
    run = Run.objects.select_related("workflow").filter(pk=run_id).first()
    return run is not None and role_of(user, run.workflow) is not None


@database_sync_to_async
def newest_event_id() -> int:
    return RunEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
