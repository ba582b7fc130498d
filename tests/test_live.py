"""The websockets (CONTRACT §6) through Channels' WebsocketCommunicator against the real ASGI
application, in whichever mode the settings give (test.sh runs this file in both): the poll
feed on SQLite, the Redis feed on PostgreSQL + Redis. The test process plays the web process;
events come from transitions called here (tests/test_live_workers.py: from real workers)."""

import threading
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection, transaction
from django.test import Client

from designer.models import Role, WorkflowGrant
from engine import events, live
from engine.models import Run, RunEvent
from flowdeck.asgi import application
from tests.engine_kit import build, execute, noop, start, workflow
from tests.helpers import api_key

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_channel_layer"),
]

ORIGIN = (b"origin", b"http://localhost")


def run_async(scenario: Callable[[], Awaitable[None]]) -> None:
    """One event loop for the whole scenario (a communicator lives on one loop); database
    calls inside go through database_sync_to_async, to this thread and its connection."""
    async_to_sync(scenario)()


def session_cookie(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


def socket(path: str, *headers: tuple[bytes, bytes]) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, path, headers=list(headers))


async def refused_with(communicator: WebsocketCommunicator) -> int | None:
    connected, code = await communicator.connect()
    if not connected:
        return code  # refused at the handshake (HTTP 403)
    message = await communicator.receive_output(timeout=5)
    assert message["type"] == "websocket.close", message
    return message.get("code")


async def receive_events(communicator: WebsocketCommunicator, count: int) -> list[dict]:
    received = []
    for _ in range(count):
        message = await communicator.receive_json_from(timeout=10)
        assert message["type"] == "event", message
        received.append(message["event"])
    return received


async def receive_until(communicator: WebsocketCommunicator, type: str, timeout: float = 30):
    """Events until one of ``type`` (included)."""
    received = []
    while not received or received[-1]["type"] != type:
        message = await communicator.receive_json_from(timeout=timeout)
        received.append(message["event"])
    return received


def db_events(run: Run, after: int = 0) -> list[dict[str, Any]]:
    rows = RunEvent.objects.filter(run=run, id__gt=after).order_by("id")
    return list(rows.values("id", "type", "node_id"))


def shape(received: list[dict]) -> list[dict[str, Any]]:
    return [{"id": e["id"], "type": e["type"], "node_id": e["node"]} for e in received]


def two_steps(owner, name: str = "wf"):
    graph = build({"start": ("trigger.manual",), "a": noop(), "b": noop()}, ["start>a", "a>b"])
    return workflow(owner, graph, name=name)


# --- A run's events ---------------------------------------------------------------------------


def test_the_backlog_comes_first_then_events_as_they_are_committed(alice):
    run = start(two_steps(alice), actor=alice)
    cookie = session_cookie(alice)
    backlog = db_events(run)

    async def scenario():
        ws = socket(f"/ws/runs/{run.pk}/?after=0", ORIGIN, cookie)
        connected, _ = await ws.connect()
        assert connected
        received = await receive_events(ws, len(backlog))
        assert shape(received) == backlog
        # The same shape as GET /api/runs/{id}/events/.
        assert set(received[0]) == {
            "id", "run", "node", "type", "old_status", "new_status", "attempt", "actor",
            "created_at", "data",
        }  # fmt: skip
        assert received[0]["actor"] == "alice"

        await database_sync_to_async(execute)(run, "start")
        live_events = await receive_until(ws, "step.queued")
        assert [e["type"] for e in live_events] == ["step.started", "step.succeeded", "step.queued"]
        assert live_events[-1]["node"] == "a"
        # A blocking step commits twice: its start, then its end and the next step.
        await database_sync_to_async(execute)(run, "a")
        live_events = await receive_until(ws, "step.queued")
        assert shape(live_events) == (await database_sync_to_async(db_events)(run))[-3:]
        await ws.disconnect()

    run_async(scenario)


def test_a_client_resuming_from_its_last_id_misses_nothing_and_sees_nothing_twice(alice):
    run = start(two_steps(alice))
    cookie = session_cookie(alice)

    async def scenario():
        ws = socket(f"/ws/runs/{run.pk}/", ORIGIN, cookie)
        assert (await ws.connect())[0]
        first = await receive_until(ws, "step.queued")
        await ws.disconnect()

        # While the client is away, the run moves on.
        for node in ("start", "a", "b"):
            await database_sync_to_async(execute)(run, node)

        last = first[-1]["id"]
        ws = socket(f"/ws/runs/{run.pk}/?after={last}", ORIGIN, cookie)
        assert (await ws.connect())[0]
        rest = await receive_until(ws, "run.succeeded")
        assert await ws.receive_nothing(timeout=0.3)
        await ws.disconnect()

        everything = shape(first + rest)
        assert everything == await database_sync_to_async(db_events)(run)
        assert len({e["id"] for e in everything}) == len(everything)

    run_async(scenario)


def test_events_committed_while_the_backlog_is_read_arrive_once_and_in_order(alice):
    """A writer commits events all along while clients connect, read their backlog and
    subscribe: each client gets every event after its cursor exactly once."""
    run = start(two_steps(alice))
    cookie = session_cookie(alice)
    stop = threading.Event()

    def writer() -> None:
        while not stop.is_set():
            with transaction.atomic():
                # Two events in one commit: the notice covers both.
                events.record_run_status(run, "running", None, reason="tick")
                events.record_run_status(run, "running", None, reason="tock")
        connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:

        async def scenario():
            for after in (0, 3):
                ws = socket(f"/ws/runs/{run.pk}/?after={after}", ORIGIN, cookie)
                assert (await ws.connect())[0]
                received = await receive_events(ws, 60)
                await ws.disconnect()
                ids = [e["id"] for e in received]
                expected = await database_sync_to_async(
                    lambda after=after: [e["id"] for e in db_events(run, after)][:60]
                )()
                assert ids == expected

        run_async(scenario)
    finally:
        stop.set()
        thread.join()


def test_the_run_detail_names_the_newest_event_its_state_includes(api, alice):
    """The page reads the run, then opens the socket after this id."""
    run = start(two_steps(alice))
    api.force_authenticate(alice)

    body = api.get(f"/api/runs/{run.pk}/").json()

    assert body["last_event_id"] == RunEvent.objects.filter(run=run).latest("id").pk


def test_events_of_other_runs_are_not_sent(alice):
    run = start(two_steps(alice, "one"))
    other = start(two_steps(alice, "two"))
    cookie = session_cookie(alice)
    last = db_events(run)[-1]["id"]

    async def scenario():
        ws = socket(f"/ws/runs/{run.pk}/?after={last}", ORIGIN, cookie)
        assert (await ws.connect())[0]
        assert await database_sync_to_async(execute)(other, "start")
        assert await ws.receive_nothing(timeout=0.5)
        await ws.disconnect()

    run_async(scenario)


# --- Who may connect --------------------------------------------------------------------------


def test_an_anonymous_socket_is_closed_with_4401(alice):
    run = start(two_steps(alice))

    async def scenario():
        assert await refused_with(socket(f"/ws/runs/{run.pk}/", ORIGIN)) == 4401
        assert await refused_with(socket("/ws/runs/", ORIGIN)) == 4401

    run_async(scenario)


def test_a_user_who_may_not_see_the_run_is_closed_with_4403_like_an_unknown_run(alice, charlie):
    run = start(two_steps(alice))
    cookie = session_cookie(charlie)

    async def scenario():
        assert await refused_with(socket(f"/ws/runs/{run.pk}/", ORIGIN, cookie)) == 4403
        assert await refused_with(socket(f"/ws/runs/{run.pk + 1000}/", ORIGIN, cookie)) == 4403

    run_async(scenario)


def test_a_viewer_by_group_may_follow_the_run(alice, bob):
    wf = two_steps(alice)
    WorkflowGrant.objects.create(workflow=wf, group=bob.groups.get(), role=Role.VIEWER)
    run = start(wf)
    cookie = session_cookie(bob)

    async def scenario():
        ws = socket(f"/ws/runs/{run.pk}/", ORIGIN, cookie)
        assert (await ws.connect())[0]
        assert (await ws.receive_json_from(timeout=5))["event"]["type"] == "run.created"
        await ws.disconnect()

    run_async(scenario)


def test_a_bad_cursor_is_closed_with_4400(alice):
    run = start(two_steps(alice))
    cookie = session_cookie(alice)

    async def scenario():
        assert await refused_with(socket(f"/ws/runs/{run.pk}/?after=x", ORIGIN, cookie)) == 4400

    run_async(scenario)


def test_a_script_connects_with_its_token_in_the_header_or_the_query(alice):
    run = start(two_steps(alice))
    key = api_key(alice)

    async def scenario():
        header = (b"authorization", f"Token {key}".encode())
        for ws in (
            socket(f"/ws/runs/{run.pk}/", ORIGIN, header),
            socket(f"/ws/runs/{run.pk}/", header),  # a script may leave Origin out
            socket(f"/ws/runs/{run.pk}/?token={key}"),
        ):
            assert (await ws.connect())[0]
            assert (await ws.receive_json_from(timeout=5))["event"]["type"] == "run.created"
            await ws.disconnect()

        bad = (b"authorization", b"Token not-a-key")
        assert await refused_with(socket(f"/ws/runs/{run.pk}/", ORIGIN, bad)) == 4401
        assert await refused_with(socket(f"/ws/runs/{run.pk}/?token=nope")) == 4401

    run_async(scenario)


def test_the_origin_is_checked_for_browsers(alice):
    run = start(two_steps(alice))
    cookie = session_cookie(alice)

    async def scenario():
        evil = (b"origin", b"http://evil.example")
        assert await refused_with(socket(f"/ws/runs/{run.pk}/", evil, cookie)) == 1000
        # A browser always sends Origin; without it only a token gets in.
        assert await refused_with(socket(f"/ws/runs/{run.pk}/", cookie)) == 1000

    run_async(scenario)


# --- /ws/runs/: status changes of visible runs --------------------------------------------------


def test_the_runs_feed_shows_status_changes_of_the_runs_the_user_may_see(alice, charlie):
    mine = two_steps(alice, "alice's")
    theirs = two_steps(charlie, "charlie's")
    alice_cookie, charlie_cookie = session_cookie(alice), session_cookie(charlie)

    async def scenario():
        alice_ws = socket("/ws/runs/", ORIGIN, alice_cookie)
        charlie_ws = socket("/ws/runs/", ORIGIN, charlie_cookie)
        assert (await alice_ws.connect())[0] and (await charlie_ws.connect())[0]

        run = await database_sync_to_async(start)(mine)
        seen = await receive_events(alice_ws, 2)
        assert [(e["run"], e["type"]) for e in seen] == [
            (run.pk, "run.created"),
            (run.pk, "run.running"),
        ]
        # Step events are not status changes of the run.
        for node in ("start", "a", "b"):
            await database_sync_to_async(execute)(run, node)
        assert (await alice_ws.receive_json_from(timeout=5))["event"]["type"] == "run.succeeded"

        other = await database_sync_to_async(start)(theirs)
        seen = await receive_events(charlie_ws, 2)
        assert {e["run"] for e in seen} == {other.pk}
        assert await alice_ws.receive_nothing(timeout=0.3)
        assert await charlie_ws.receive_nothing(timeout=0.1)
        await alice_ws.disconnect()
        await charlie_ws.disconnect()

    run_async(scenario)


def test_the_runs_feed_resumes_after_a_cursor(alice):
    cookie = session_cookie(alice)
    run = start(two_steps(alice))
    created = RunEvent.objects.get(run=run, type="run.created").pk

    async def scenario():
        ws = socket(f"/ws/runs/?after={created}", ORIGIN, cookie)
        assert (await ws.connect())[0]
        assert (await ws.receive_json_from(timeout=5))["event"]["type"] == "run.running"
        assert await ws.receive_nothing(timeout=0.3)
        await ws.disconnect()

    run_async(scenario)


# --- The writer's side: one notice per commit ---------------------------------------------------


class Recorder(live.LiveFeed):
    publishes = True

    def __init__(self) -> None:
        self.published: list[list[tuple[str, dict]]] = []

    def publish(self, notices) -> None:
        self.published.append(notices)


@pytest.fixture
def recorder(monkeypatch) -> Recorder:
    feed = Recorder()
    monkeypatch.setattr(live, "_feed", feed)
    return feed


def test_one_commit_publishes_one_notice_per_run_and_topic(alice, recorder):
    run = start(two_steps(alice))
    assert len(recorder.published) == 1  # run.created, run.running, step.queued: one commit
    last = RunEvent.objects.filter(run=run).order_by("-id").first()
    assert recorder.published[0] == [
        (live.run_group(run.pk), {"type": "live.notice", "run": run.pk, "last_id": last.pk}),
        (
            live.RUNS_GROUP,
            {
                "type": "live.notice",
                "runs": [run.pk],
                "last_id": RunEvent.objects.get(run=run, type="run.running").pk,
            },
        ),
    ]


def test_a_rollback_publishes_nothing_and_a_savepoint_rollback_keeps_the_rest(alice, recorder):
    run = start(two_steps(alice))
    recorder.published.clear()

    with pytest.raises(RuntimeError), transaction.atomic():
        events.record_run_status(run, "running", None)
        raise RuntimeError("rolled back")
    assert recorder.published == []

    with transaction.atomic():
        try:
            with transaction.atomic():
                events.record_run_status(run, "running", None, reason="inner")
                raise RuntimeError("savepoint rolled back")
        except RuntimeError:
            pass
        kept = events.record_run_status(run, "running", None, reason="outer")
    assert len(recorder.published) == 1
    assert recorder.published[0][0][1]["last_id"] == kept.pk


@pytest.mark.skipif("connection.vendor == 'sqlite'", reason="SQLite commits ids in order")
def test_an_event_id_that_commits_after_a_higher_one_is_still_sent(alice):
    """PostgreSQL hands out ids at INSERT: event N may commit after N+1."""
    run = start(two_steps(alice))
    cookie = session_cookie(alice)
    inserted, release = threading.Event(), threading.Event()
    late: list[int] = []

    def slow_writer() -> None:
        with transaction.atomic():
            late.append(events.record_run_status(run, "running", None, reason="late").pk)
            inserted.set()
            release.wait(10)
        connection.close()

    async def scenario():
        ws = socket(f"/ws/runs/{run.pk}/", ORIGIN, cookie)
        assert (await ws.connect())[0]
        await receive_until(ws, "step.queued")
        thread = threading.Thread(target=slow_writer)
        thread.start()
        await database_sync_to_async(inserted.wait)(10)
        early = await database_sync_to_async(events.record_run_status)(
            run, "running", None, "early"
        )
        assert early.pk > late[0]
        assert (await ws.receive_json_from(timeout=5))["event"]["id"] == early.pk
        release.set()
        await database_sync_to_async(thread.join)()
        assert (await ws.receive_json_from(timeout=5))["event"]["id"] == late[0]
        assert await ws.receive_nothing(timeout=0.3)
        await ws.disconnect()

    run_async(scenario)
