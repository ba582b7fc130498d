"""How committed events reach websocket consumers (ARCHITECTURE "Events and live updates").

A notification only says "the run has new events, up to id N"; the ``RunEvent`` rows are the
truth, and consumers read them from the database after a notification (or on connect, after a
client's cursor). Two feeds deliver notifications, both into the process's channel layer groups:

- ``LayerFeed`` (scale-out, ``REDIS_URL``): whoever commits events (a worker, the web process)
  publishes one notice per commit and group after commit, through ``channels_redis``.
- ``TablePollFeed`` (embedded default): writers publish nothing; each web process runs one
  poller (an asyncio task, only while some socket listens) that tails the ``RunEvent`` table
  (``id > last``) every ``FLOWDECK_LIVE_POLL_S`` and fans out to its in-memory layer. SQLite
  has one writer at a time, so ids become visible in id order and tailing by id misses nothing.
  bench/README.md ("ws_latency.py") has the measurements behind this choice.

Groups and the notice (the API for consumers; see ``engine/consumers.LiveConsumer``):
``run_group(run_id)`` gets ``{"type": "live.notice", "run": id, "last_id": n}`` for each commit
with events of that run; each ``TOPICS`` group gets ``{"type": "live.notice", "runs": [...],
"last_id": n}`` for each commit with events whose type it selects (``RUNS_GROUP``: run status).
"""

import asyncio
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, QuerySet

log = logging.getLogger("flowdeck.live")

NOTICE = "live.notice"
RUNS_GROUP = "flowdeck.runs"
INBOX_GROUP = "flowdeck.inbox"

# Groups that want notices about events of any run, by event type: the runs feed, the inbox.
TOPICS: dict[str, Callable[[str], bool]] = {
    RUNS_GROUP: lambda type: type.startswith("run."),
    INBOX_GROUP: lambda type: type.startswith("task."),
}

# (event id, run id, event type): what a notice is computed from.
Row = tuple[int | None, int, str]


def run_group(run_id: int) -> str:
    return f"flowdeck.run.{run_id}"


def workflow_group(workflow_id: int) -> str:
    """The designer's sockets of one workflow (presence, new versions)."""
    return f"flowdeck.workflow.{workflow_id}"


def route(rows: Iterable[Row]) -> list[tuple[str, dict[str, Any]]]:
    """The notices for one commit's (or one poll's) events: one per run, one per topic."""
    runs: dict[int, int | None] = {}
    topics: dict[str, tuple[dict[int, None], int | None]] = {}
    for event_id, run_id, type in rows:
        runs[run_id] = _newer(runs.get(run_id, 0), event_id)
        for group, wants in TOPICS.items():
            if wants(type):
                topic_runs, last = topics.get(group, ({}, 0))
                topic_runs[run_id] = None
                topics[group] = (topic_runs, _newer(last, event_id))
    notices = [
        (run_group(run_id), {"type": NOTICE, "run": run_id, "last_id": last})
        for run_id, last in runs.items()
    ]
    notices += [
        (group, {"type": NOTICE, "runs": list(topic_runs), "last_id": last})
        for group, (topic_runs, last) in topics.items()
    ]
    return notices


def _newer(a: int | None, b: int | None) -> int | None:
    # None: an id the database did not return; the consumer then reads without a hint.
    return None if a is None or b is None else max(a, b)


# --- The writer's side: one notice per commit ---------------------------------------------------


class _Batch:
    """The events of one transaction, published once after its commit."""

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.index = -1  # where flush sits in the connection's on-commit hooks

    def flush(self) -> None:
        if getattr(_local, "batch", None) is self:
            _local.batch = None
        feed().publish(route(self.rows))


_local = threading.local()


def publish_on_commit(events: Iterable[Any]) -> None:
    """Called by ``engine/events.py`` with every ``RunEvent`` it writes, inside the transaction.
    Collects the events of the transaction and publishes one notice per run (and topic) after
    it commits; a rollback publishes nothing (STYLE 5)."""
    current = feed()
    if not current.publishes:
        return  # the table itself is the notification (embedded mode)
    rows = [(e.pk, e.run_id, e.type) for e in events]
    if not connection.in_atomic_block:
        current.publish(route(rows))  # autocommit: already committed
        return
    batch = getattr(_local, "batch", None)
    if batch is None or not _registered(batch):
        batch = _local.batch = _Batch()
        # robust: a failed publish is logged; it must not turn a committed transition into an
        # error for its caller.
        transaction.on_commit(batch.flush, robust=True)
        batch.index = len(connection.run_on_commit) - 1
    batch.rows.extend(rows)


def _registered(batch: _Batch) -> bool:
    """Whether the batch's hook is still pending in this transaction. A savepoint rollback or a
    rollback drops hooks from ``run_on_commit`` (Django's list of ``(savepoint ids, func,
    robust)``, which TestCase.captureOnCommitCallbacks reads too); hooks never move otherwise:
    whatever was registered before ours and is dropped takes ours with it."""
    hooks = connection.run_on_commit
    return 0 <= batch.index < len(hooks) and hooks[batch.index][1] == batch.flush


def send_on_commit(group: str, message: dict[str, Any]) -> None:
    """Send one message (not a notice: it carries its data) to a group once the transaction
    commits; a rollback sends nothing (STYLE 5)."""
    # robust: a failed send is logged; it must not turn a committed save into an error.
    transaction.on_commit(lambda: send(group, message), robust=True)


def send(group: str, message: dict[str, Any]) -> None:
    """Send one message to a group from synchronous code, never raising."""
    current = feed()
    if current.publishes:
        current.publish([(group, message)])  # the publisher thread reaches every web process
        return
    # Embedded: the in-memory layer is this process's own and only its sockets listen; in the
    # web process this runs in a request's thread, and async_to_sync hops onto the server's
    # event loop, where the layer's queues live.
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    try:
        async_to_sync(get_channel_layer().group_send)(group, message)
    except Exception:
        log.exception("could not send a live message to %s", group)


# --- Feeds ----------------------------------------------------------------------------------------


class LiveFeed:
    """How notices reach the channel layer of the web processes."""

    publishes = False  # whether writers publish after commit (else the web process finds them)

    def publish(self, notices: list[tuple[str, dict[str, Any]]]) -> None:
        """Send notices from any process, after commit; never raises, never blocks for long."""

    async def join(self, group: str, channel_name: str) -> None:
        """Subscribe a consumer; when this returns, every event committed later is noticed."""
        from channels.layers import get_channel_layer

        await get_channel_layer().group_add(group, channel_name)

    async def leave(self, group: str, channel_name: str) -> None:
        from channels.layers import get_channel_layer

        await get_channel_layer().group_discard(group, channel_name)


class LayerFeed(LiveFeed):
    """Writers publish to a cross-process channel layer (channels_redis) after commit."""

    publishes = True

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._layer: Any = None
        self._pid = 0
        self._lock = threading.Lock()

    def publish(self, notices: list[tuple[str, dict[str, Any]]]) -> None:
        if not notices:
            return
        try:
            # Not awaited: the committing worker goes on; the publisher thread sends in order.
            asyncio.run_coroutine_threadsafe(self._send(notices), self._publisher())
        except Exception:
            log.exception("could not publish live notices")

    async def _send(self, notices: list[tuple[str, dict[str, Any]]]) -> None:
        assert self._layer is not None
        for group, message in notices:
            try:
                await self._layer.group_send(group, message)
            except Exception:
                # Clients catch up at the next notice or when they reconnect (rows are truth).
                log.exception("could not publish a live notice to %s", group)

    def _publisher(self) -> asyncio.AbstractEventLoop:
        """One event loop thread per process (a forked worker gets its own) with a layer of its
        own: no new Redis connection and event loop per commit, and no layer object shared
        with the web server's loop."""
        with self._lock:
            if self._loop is None or self._pid != os.getpid():
                from channels.layers import DEFAULT_CHANNEL_LAYER, channel_layers

                self._layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
                loop = asyncio.new_event_loop()
                threading.Thread(
                    target=loop.run_forever, name="flowdeck-live-publisher", daemon=True
                ).start()
                self._loop, self._pid = loop, os.getpid()
            return self._loop


class TablePollFeed(LiveFeed):
    """The embedded mode: one poller per web process tails the event table."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._pollers: WeakKeyDictionary[asyncio.AbstractEventLoop, _Poller] = WeakKeyDictionary()

    def _poller(self) -> "_Poller":
        loop = asyncio.get_running_loop()
        poller = self._pollers.get(loop)
        if poller is None:
            poller = self._pollers[loop] = _Poller(self.interval)
        return poller

    async def join(self, group: str, channel_name: str) -> None:
        await super().join(group, channel_name)
        await self._poller().acquire()

    async def leave(self, group: str, channel_name: str) -> None:
        await super().leave(group, channel_name)
        self._poller().release()


class _Poller:
    """Tails ``RunEvent`` by id while at least one consumer listens, and fans notices out to
    the in-process channel layer. One per process (per event loop), however many sockets."""

    BATCH = 5000  # rows a tick reads at most; a longer backlog is read without sleeping

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.users = 0
        self.task: asyncio.Task | None = None
        self.ready = asyncio.Event()
        # One thread, so one database connection, for every read of this poller.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="flowdeck-live")
        self.cursor = Cursor(settle_seconds())

    async def acquire(self) -> None:
        self.users += 1
        if self.task is None:
            self.ready = asyncio.Event()
            self.task = asyncio.create_task(self._run(), name="flowdeck-live-poller")
        # The poller's cursor is set: whatever commits from now on will be noticed.
        await self.ready.wait()

    def release(self) -> None:
        self.users -= 1

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        try:
            while not self.ready.is_set():
                try:
                    self.cursor.start(await loop.run_in_executor(self.executor, _newest_event_id))
                    self.ready.set()
                except Exception:
                    log.exception("the live poller cannot read the event table")
                    await asyncio.sleep(1)
            while self.users > 0:
                rows: list[Row] = []
                try:
                    rows = await loop.run_in_executor(self.executor, self._read)
                    for group, message in route(rows):
                        await layer.group_send(group, message)
                except Exception:
                    log.exception("the live poller failed; it goes on in a second")
                    await asyncio.sleep(1)
                if len(rows) < self.BATCH:
                    await asyncio.sleep(self.interval)
        finally:
            # Synchronously with the users check above (no await between): an acquire() from
            # now on starts a new task instead of waiting on this one.
            self.task = None
            self.executor.submit(connection.close)

    def _read(self) -> list[Row]:
        from engine.models import RunEvent

        # One connection for the poller's life (not closed after each read, as a request's is).
        try:
            rows = RunEvent.objects.values_list("id", "run_id", "type")
            return self.cursor.read(rows, self.BATCH, id_of=lambda row: row[0])
        except Exception:
            connection.close()  # a broken connection is opened again at the next read
            raise


def _newest_event_id() -> int:
    from engine.models import RunEvent

    return RunEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


# --- Reading after a cursor -----------------------------------------------------------------------


def settle_seconds() -> float:
    """How long an event id may stay invisible after a higher one became visible. SQLite has
    one writer, so ids become visible in order: 0. PostgreSQL hands out sequence values at
    INSERT, not at COMMIT: a transaction may commit event 101 before another commits 100."""
    return 0.0 if connection.vendor == "sqlite" else settings.FLOWDECK_LIVE_SETTLE_S


@dataclass
class Cursor:
    """Where a reader is in an id-ordered table. With ``settle`` > 0, reads look back past
    the newest id seen to ids seen in the last ``settle`` seconds, and skip those already
    seen: an id that commits late (below the newest) is still read once, and none twice."""

    settle: float
    floor: int = 0  # every id up to here is read (or will never commit)
    seen: dict[int, float] = field(default_factory=dict)  # ids read above floor, and when

    def start(self, after: int) -> None:
        self.floor, self.seen = after, {}

    @property
    def last(self) -> int:
        return max(self.seen, default=self.floor)

    def is_read(self, event_id: int | None) -> bool:
        """Whether a notice about ``event_id`` (a commit's newest id) brings nothing new:
        a commit's rows become visible together, so its newest id read means all were."""
        return event_id is not None and (event_id <= self.floor or event_id in self.seen)

    def read(self, rows: QuerySet, page: int, id_of: Callable[[Any], int]) -> list[Any]:
        """The next rows of ``rows`` (a queryset of events, or their values) after the cursor,
        in id order, at most ``page``; the cursor moves past them."""
        if self.settle <= 0:
            found = list(rows.filter(id__gt=self.floor).order_by("id")[:page])
            if found:
                self.floor = id_of(found[-1])
            return found
        now = time.monotonic()
        last = self.last
        late = [
            i
            for i in rows.filter(id__gt=self.floor, id__lte=last).values_list("id", flat=True)
            if i not in self.seen
        ]
        found = list(rows.filter(Q(id__gt=last) | Q(id__in=late)).order_by("id")[:page])
        for row in found:
            self.seen[id_of(row)] = now
        settled = [i for i, at in self.seen.items() if at < now - self.settle]
        if settled:
            self.floor = max(settled)
            self.seen = {i: at for i, at in self.seen.items() if i > self.floor}
        return found


# --- Which feed ---------------------------------------------------------------------------------

_feed: LiveFeed | None = None


def feed() -> LiveFeed:
    global _feed
    if _feed is None:
        if settings.FLOWDECK_LIVE_FEED == "layer":
            _feed = LayerFeed()
        else:
            _feed = TablePollFeed(settings.FLOWDECK_LIVE_POLL_S)
    return _feed


def reset_feed() -> None:
    """Forget the chosen feed (tests that change settings)."""
    global _feed
    _feed = None
