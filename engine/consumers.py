"""The websockets (CONTRACT §6): a run's events, and the status changes of every visible run.

Both follow one pattern, which ``LiveConsumer`` carries for every live socket (the inbox too):
subscribe to a group first, then read the backlog after the client's cursor, then on each
notice read the rows after the cursor again. A notice is only a hint that rows exist
(``engine/live.py``); the rows are the truth, so an event committed while the backlog was read
is read once, by whichever read comes later, and never twice.

The designer's socket (``/ws/workflows/{id}/``, ``WorkflowConsumer``) is of another kind: no
events and no cursor, but who else has the workflow open (rows in ``designer/presence.py``,
kept alive by the client's pings) and the news of a version saved meanwhile.

The feeds of many runs (``/ws/runs/``, ``/ws/inbox/``) share their reads: one ``FeedHub`` per
topic and web process is the only member of the topic's group, reads each notice's rows once,
and hands them to every socket after its own visibility filter (``FeedStream``).

Close codes: 4401 without a login (session or token), 4403 when the user may not see the run
or the run does not exist (the two look the same, as the API's 404 does), 4400 for a bad
``after``.
"""

import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import Hashable
from typing import Any
from urllib.parse import parse_qs
from weakref import WeakKeyDictionary

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F, QuerySet
from django.utils import timezone

from designer import presence
from designer.models import Workflow
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
    from the client's ``after``, or live only (from the newest event at connect) without it.

    The socket reads its backlog itself (after its cursor, through ``events()``), then takes
    what the process's ``FeedHub`` reads: the hub hands it every row it reads from the moment
    the socket subscribes, held in ``buffered`` until the backlog is sent; rows the backlog
    already sent are dropped, so each event is sent once."""

    group: str

    async def start(self) -> int | None:
        after = self.after_param()
        if after == -1:
            return BAD_REQUEST
        # Subscribe first, then read the backlog: an event committed in between is in the
        # backlog or reaches the hub after the subscription (or both: sent once, below).
        self.buffered: list[tuple[int, str]] | None = []
        self.hub = await FeedHub.subscribe(self)
        self.cursor = live.Cursor(live.settle_seconds())
        # Accepted once subscribed: whatever commits after the handshake is sent.
        self.cursor.start(await newest_event_id() if after is None else after)
        await self.accept()
        await self.read_and_send()
        await self.go_live()
        return None

    async def go_live(self) -> None:
        """Send what the hub handed over during the backlog, then take its rows directly."""
        while self.buffered:
            batch, self.buffered = self.buffered, []
            await self.send_new(batch)
        # No await between the emptiness check and this: the hub's next rows go straight out.
        self.buffered = None

    async def take(self, items: list[tuple[int, str]]) -> None:
        """Rows from the hub that this socket may see: (event id, the message's JSON)."""
        if self.buffered is not None:
            self.buffered.extend(items)
        else:
            await self.send_new(items)

    async def send_new(self, items: list[tuple[int, str]]) -> None:
        # A row committed after the subscription but before the backlog's read is in both,
        # and the hub may read it after this socket went live: the backlog's cursor, which
        # moves no more, knows every row the backlog sent.
        for event_id, text in items:
            if not self.cursor.is_read(event_id):
                await self.send(text_data=text)

    async def disconnect(self, code: int) -> None:
        hub = getattr(self, "hub", None)
        if hub is not None:
            hub.unsubscribe(self)
            self.hub = None
        await super().disconnect(code)

    def audience(self) -> Hashable:
        """Sockets with the same audience see the same rows: ``visible`` is asked once per
        audience and read."""
        return ("user", self.user.pk)

    @classmethod
    def topic_events(cls) -> QuerySet[RunEvent]:
        """Every event of the topic, whoever may see it (the hub's reads)."""
        raise NotImplementedError

    def visible(self, rows: list[RunEvent]) -> set[int]:
        """The ids of the rows (of ``topic_events``) this socket's user may see, asked now."""
        raise NotImplementedError


class FeedHub:
    """The sockets of one topic (``FeedStream`` subclass) in this process, and the one member
    of the topic's group that feeds them. At each notice it reads the new rows once (its own
    cursor over ``topic_events()``), serializes them once, asks ``visible`` once per audience,
    and hands each socket its rows. Without it every socket was a group member that read and
    serialized the rows itself: 200 dashboards cost 200 reads and 200 Redis messages per
    commit, and the web processes spent most of their CPU there (bench/README.md, "load.py").

    One per event loop (the web process's) and topic; it leaves the group when its last
    socket leaves."""

    _hubs: "WeakKeyDictionary[asyncio.AbstractEventLoop, dict[type, FeedHub]]" = WeakKeyDictionary()

    def __init__(self, stream: type[FeedStream]) -> None:
        self.stream = stream
        self.sockets: dict[FeedStream, None] = {}  # in subscription order
        self.ready = asyncio.Event()
        self.task: asyncio.Task | None = None
        self.channel = ""  # its name in the channel layer, once started
        self.cursor = live.Cursor(0)

    @classmethod
    async def subscribe(cls, socket: FeedStream) -> "FeedHub":
        """Add a socket; when this returns, every row the hub reads reaches it."""
        hubs = cls._hubs.setdefault(asyncio.get_running_loop(), {})
        hub = hubs.get(type(socket))
        if hub is None:
            hub = hubs[type(socket)] = cls(type(socket))
            hub.task = asyncio.create_task(hub._run(), name=f"flowdeck-hub-{socket.group}")
        hub.sockets[socket] = None
        await hub.ready.wait()
        return hub

    def unsubscribe(self, socket: FeedStream) -> None:
        self.sockets.pop(socket, None)
        if self.sockets:
            return
        # Synchronously with the check (no await): a socket subscribing from now on gets a
        # new hub instead of this stopping one.
        hubs = self._hubs.get(asyncio.get_running_loop(), {})
        if hubs.get(self.stream) is self:
            del hubs[self.stream]
        if self.task is not None:
            self.task.cancel()

    async def _run(self) -> None:
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        group = self.stream.group
        self.channel = channel = await layer.new_channel()
        joined = False
        rejoin: asyncio.Task | None = None
        try:
            while not self.ready.is_set():
                try:
                    if not joined:
                        await live.feed().join(group, channel)
                        joined = True
                    # Joined first: whatever commits after this id is noticed.
                    self.cursor = live.Cursor(live.settle_seconds())
                    self.cursor.start(await newest_event_id())
                    self.ready.set()
                except Exception:
                    log.exception("the %s feed cannot start; it tries again in a second", group)
                    await asyncio.sleep(1)
            rejoin = asyncio.create_task(self._rejoin(layer, group, channel))
            while True:
                try:
                    notice = await layer.receive(channel)
                except Exception:
                    log.exception("the %s feed cannot receive; it tries again in a second", group)
                    await asyncio.sleep(1)
                    continue
                # Notices queue up while a read runs; those about rows already read cost nothing.
                if self.cursor.is_read(notice.get("last_id")):
                    continue
                try:
                    await self.read_and_deliver()
                except Exception:
                    # The cursor did not move: the next notice reads these rows again.
                    log.exception("the %s feed failed to read; it goes on", group)
                    await asyncio.sleep(1)
        finally:
            if rejoin is not None:
                rejoin.cancel()
            if joined:
                await live.feed().leave(group, channel)

    REJOIN_S = 60.0

    async def _rejoin(self, layer: Any, group: str, channel: str) -> None:
        """Join the group again every minute, then read once. A hub lives as long as any
        socket of its topic is open, i.e. for days: channel layers drop a group member after
        a day (``group_expiry``), and a Redis restart drops every group. A socket used to be
        its own member and went with its connection; the hub has to renew."""
        while True:
            await asyncio.sleep(self.REJOIN_S)
            try:
                await layer.group_add(group, channel)
                # A notice of our own: whatever was committed while we were out is read now.
                await layer.send(channel, {"type": live.NOTICE, "last_id": None})
            except Exception:
                log.exception("the %s feed cannot join its group again", group)

    async def read_and_deliver(self) -> None:
        while True:
            rows, texts = await self.read_page()
            if rows:
                await self.deliver(rows, texts)
            if len(rows) < PAGE:
                return

    @database_sync_to_async
    def read_page(self) -> tuple[list[RunEvent], list[str]]:
        rows = self.cursor.read(self.stream.topic_events(), PAGE, id_of=lambda event: event.id)
        # Encoded once for every socket, as send_json would (json.dumps).
        data = EventSerializer(rows, many=True).data
        texts = [json.dumps({"type": "event", "event": event}) for event in data]
        return rows, texts

    async def deliver(self, rows: list[RunEvent], texts: list[str]) -> None:
        audiences: dict[Hashable, list[FeedStream]] = defaultdict(list)
        for socket in list(self.sockets):
            audiences[socket.audience()].append(socket)
        for sockets in audiences.values():
            try:
                ids = await database_sync_to_async(sockets[0].visible)(rows)
            except Exception:
                log.exception("cannot tell who may see events of the %s feed", self.stream.group)
                continue
            items = [(row.id, text) for row, text in zip(rows, texts, strict=True) if row.id in ids]
            if not items:
                continue
            for socket in sockets:
                if socket in self.sockets:  # it may have left while we awaited
                    await socket.take(items)


class RunsFeedConsumer(FeedStream):
    """``/ws/runs/[?after=<event id>]``: run status events (``run.*``) of every run the user
    may see; live only without ``after``."""

    group = live.RUNS_GROUP

    def events(self) -> QuerySet[RunEvent]:
        # Who may see what is asked at every read: a grant given or taken away applies at once.
        # The designer's test runs are not in the runs list nor on the dashboard.
        events = RunEvent.objects.filter(type__startswith="run.", run__test=False)
        events = events.select_related("actor")
        if not self.user.is_staff:
            events = events.filter(run__workflow__in=visible_workflows(self.user))
        return events

    def audience(self) -> Hashable:
        return ("staff",) if self.user.is_staff else ("user", self.user.pk)

    @classmethod
    def topic_events(cls) -> QuerySet[RunEvent]:
        events = RunEvent.objects.filter(type__startswith="run.", run__test=False)
        return events.select_related("actor").annotate(feed_workflow_id=F("run__workflow_id"))

    def visible(self, rows: list[RunEvent]) -> set[int]:
        # Asked at every read, as events() does: a grant applies at once.
        if self.user.is_staff:
            return {row.id for row in rows}
        workflows = {row.feed_workflow_id for row in rows}
        allowed = set(
            visible_workflows(self.user).filter(pk__in=workflows).values_list("pk", flat=True)
        )
        return {row.id for row in rows if row.feed_workflow_id in allowed}


class InboxConsumer(FeedStream):
    """``/ws/inbox/[?after=<event id>]``: the ``task.*`` events of the tasks that are the
    user's business (assigned to them by name, group or delegation, or decided or delegated by
    them): new tasks, reminders, escalations, decisions and resolutions; live only without
    ``after``. A client reads its inbox from the approvals API and takes these as the news."""

    group = live.INBOX_GROUP

    def events(self) -> QuerySet[RunEvent]:
        return self.topic_events()

    @classmethod
    def topic_events(cls) -> QuerySet[RunEvent]:
        return RunEvent.objects.filter(type__startswith="task.").select_related("actor")

    def visible(self, rows: list[RunEvent]) -> set[int]:
        # Who is involved is asked at every read, so a task delegated to the user reaches them
        # from then on.
        task_ids = {row.data.get("task") for row in rows}
        mine = set(
            HumanTask.objects.filter(pk__in=task_ids)
            .filter(tasks_involving(self.user))
            .values_list("pk", flat=True)
        )
        return {row.id for row in rows if row.data.get("task") in mine}

    @database_sync_to_async
    def read_page(self) -> list[dict[str, Any]]:
        # The cursor moves over every task event; only the user's are sent.
        rows = self.cursor.read(self.events(), PAGE, id_of=lambda event: event.id)
        ids = self.visible(rows)
        return EventSerializer([row for row in rows if row.id in ids], many=True).data


class WorkflowConsumer(LiveConsumer):
    """``/ws/workflows/{id}/``: the designer's socket on a workflow the user may see. Sends
    ``{"type": "presence", "users": [...]}`` on joining and whenever who is there changes, and
    ``{"type": "version_saved", "version": {...}}`` when anyone saves a version; takes
    ``{"type": "ping"}`` every ``presence.HEARTBEAT_S`` (or the socket stops counting after
    ``presence.EXPIRES``).

    Who is there is read from the database at every change, by each socket: the change may come
    from another web process (the group crosses processes on Redis), and two changes' messages
    may arrive in either order; a fresh read is right whichever comes last."""

    group = ""

    async def start(self) -> int | None:
        self.workflow_id = self.scope["url_route"]["kwargs"]["workflow_id"]
        if not await may_see_workflow(self.user, self.workflow_id):
            return FORBIDDEN
        self.sent: list[dict[str, Any]] | None = None
        self.group = live.workflow_group(self.workflow_id)
        # In the group before the row exists: our own "changed" reaches us, so the client gets
        # the list with itself in it, and no change after the join is missed.
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.db(presence.do_join, channel=self.channel_name)
        await self.tell_changed()
        return None

    async def disconnect(self, code: int) -> None:
        await self.leave()

    async def leave(self) -> None:
        group, self.group = self.group, ""
        if not group:
            return  # refused (never joined), or gone already
        await self.channel_layer.group_discard(group, self.channel_name)
        if await database_sync_to_async(presence.do_leave)(channel=self.channel_name):
            await self.channel_layer.group_send(group, {"type": "presence.changed"})

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        try:
            return json.loads(text_data)
        except ValueError:
            return None  # junk from a client is ignored, as unknown messages are

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or content.get("type") != "ping" or not self.group:
            return  # nothing else is asked of this socket
        # A grant taken away applies at the next ping.
        if not await may_see_workflow(self.user, self.workflow_id):
            await self.leave()  # now: the client's goodbye may never come
            await self.close(code=FORBIDDEN)
            return
        # Again at every ping: channels_redis forgets a group member after a day.
        await self.channel_layer.group_add(self.group, self.channel_name)
        back = await self.db(presence.do_touch, channel=self.channel_name)
        dropped = await database_sync_to_async(presence.drop_expired)(
            timezone.now(), self.workflow_id
        )
        if back or dropped:
            await self.tell_changed()

    async def db(self, action: Any, **kwargs: Any) -> Any:
        return await database_sync_to_async(action)(
            user=self.user, workflow_id=self.workflow_id, now=timezone.now(), **kwargs
        )

    async def tell_changed(self) -> None:
        await self.channel_layer.group_send(self.group, {"type": "presence.changed"})

    async def presence_changed(self, message: dict[str, Any]) -> None:
        """Someone came or went (a ``presence.changed`` to the group): send the list if it is
        not the one this socket sent last (a second tab of someone there changes nothing)."""
        users = await database_sync_to_async(presence.present)(self.workflow_id, timezone.now())
        if users != self.sent:
            self.sent = users
            await self.send_json({"type": "presence", "users": users})

    async def workflow_version_saved(self, message: dict[str, Any]) -> None:
        """A version was saved (``designer/presence.version_message``, after its commit)."""
        await self.send_json({"type": "version_saved", "version": message["version"]})


def on_version_saved(sender: Any, workflow: Workflow, version: Any, **kwargs: Any) -> None:
    """``designer.signals.version_saved``: tell the workflow's designer sockets once the save
    commits (a rolled-back save tells no one)."""
    if version.number == 1:
        return  # a workflow being created: no one can have it open yet
    message = {"type": "workflow.version_saved", "version": presence.version_message(version)}
    live.send_on_commit(live.workflow_group(workflow.pk), message)


@database_sync_to_async
def may_see_workflow(user: AbstractBaseUser, workflow_id: int) -> bool:
    workflow = Workflow.objects.filter(pk=workflow_id).first()
    return workflow is not None and role_of(user, workflow) is not None


@database_sync_to_async
def may_see_run(user: AbstractBaseUser, run_id: int) -> bool:
    run = Run.objects.select_related("workflow").filter(pk=run_id).first()
    return run is not None and role_of(user, run.workflow) is not None


@database_sync_to_async
def newest_event_id() -> int:
    return RunEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
