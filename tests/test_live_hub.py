"""The feeds of many runs (`/ws/runs/`, `/ws/inbox/`) share one reader per web process
(engine/consumers.py FeedHub): sockets of one process cost one read of each commit, not one
each; a socket that joins while events are committed gets each one once; the reader leaves
when its last socket does. In whichever mode the settings give (test.sh runs both)."""

import asyncio

import pytest
from channels.db import database_sync_to_async

from engine import events
from engine.consumers import PAGE, FeedHub, FeedStream, RunsFeedConsumer
from engine.serializers import EventSerializer
from tests.engine_kit import execute, start
from tests.test_live import ORIGIN, receive_events, run_async, session_cookie, socket, two_steps

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_channel_layer"),
]


def test_sockets_of_one_process_share_one_read_of_each_commit(alice, bob, monkeypatch):
    reads: list[int] = []
    read_page = FeedHub.__dict__["read_page"]

    async def counted(hub):
        rows, texts = await read_page(hub)
        reads.append(len(rows))
        return rows, texts

    monkeypatch.setattr(FeedHub, "read_page", counted)
    mine = two_steps(alice)
    alice_cookie, bob_cookie = session_cookie(alice), session_cookie(bob)

    async def scenario():
        alices = [socket("/ws/runs/", ORIGIN, alice_cookie) for _ in range(4)]
        bobs = socket("/ws/runs/", ORIGIN, bob_cookie)
        for ws in [*alices, bobs]:
            assert (await ws.connect())[0]

        run = await database_sync_to_async(start)(mine)  # one commit: created, running
        for node in ("start", "a", "b"):
            await database_sync_to_async(execute)(run, node)  # b's commit: succeeded
        for ws in alices:
            seen = await receive_events(ws, 3)
            assert [e["type"] for e in seen] == ["run.created", "run.running", "run.succeeded"]
        # bob may not see alice's workflow.
        assert await bobs.receive_nothing(timeout=0.3)
        for ws in [*alices, bobs]:
            await ws.disconnect()

    run_async(scenario)
    # Two commits with run events (the embedded poller may see both in one tick): at most two
    # reads for five sockets, where each socket read for itself before.
    assert 1 <= sum(1 for n in reads if n) <= 2


def test_an_event_in_the_backlog_and_read_by_the_hub_after_is_sent_once(alice, monkeypatch):
    run = start(two_steps(alice))  # run.created, run.running
    cookie = session_cookie(alice)
    meanwhile: list[int] = []
    gate: dict[str, asyncio.Event] = {}

    @database_sync_to_async
    def commit_then_read_backlog(consumer):
        # Committed after the socket subscribed, before its backlog is read: in both.
        if not meanwhile:
            meanwhile.append(events.record_run_status(run, "running", None, "meanwhile").pk)
        rows = consumer.cursor.read(consumer.events(), PAGE, id_of=lambda event: event.id)
        return EventSerializer(rows, many=True).data

    deliver, go_live = FeedHub.deliver, FeedStream.go_live

    async def deliver_once_live(hub, rows, texts):
        await gate["live"].wait()  # the hub's copy comes after the socket went live
        await deliver(hub, rows, texts)

    async def go_live_then_open(consumer):
        await go_live(consumer)
        gate["live"].set()

    monkeypatch.setattr(RunsFeedConsumer, "read_page", commit_then_read_backlog)
    monkeypatch.setattr(FeedHub, "deliver", deliver_once_live)
    monkeypatch.setattr(FeedStream, "go_live", go_live_then_open)

    async def scenario():
        gate["live"] = asyncio.Event()
        ws = socket("/ws/runs/?after=0", ORIGIN, cookie)
        assert (await ws.connect())[0]
        seen = await receive_events(ws, 3)
        assert [e["id"] for e in seen][-1] == meanwhile[0]
        assert [e["type"] for e in seen] == ["run.created", "run.running", "run.running"]
        assert await ws.receive_nothing(timeout=0.5)  # not the hub's copy of "meanwhile"
        await ws.disconnect()

    run_async(scenario)


def test_the_reader_stops_with_its_last_socket_and_a_new_socket_starts_another(alice):
    mine = two_steps(alice)
    cookie = session_cookie(alice)

    async def scenario():
        loop = asyncio.get_running_loop()
        first = socket("/ws/runs/", ORIGIN, cookie)
        assert (await first.connect())[0]
        hub = FeedHub._hubs[loop][RunsFeedConsumer]
        await first.disconnect()
        assert RunsFeedConsumer not in FeedHub._hubs[loop]
        await asyncio.wait_for(asyncio.gather(hub.task, return_exceptions=True), 5)

        second = socket("/ws/runs/", ORIGIN, cookie)
        assert (await second.connect())[0]
        assert FeedHub._hubs[loop][RunsFeedConsumer] is not hub
        run = await database_sync_to_async(start)(mine)
        seen = await receive_events(second, 2)
        assert {e["run"] for e in seen} == {run.pk}
        await second.disconnect()

    run_async(scenario)


def test_a_reader_dropped_from_its_group_joins_again_and_reads_what_it_missed(alice, monkeypatch):
    """Channel layers forget a group member after a day, and a restarted Redis forgets every
    group; the reader outlives both, so it joins again (every minute; here at once)."""
    monkeypatch.setattr(FeedHub, "REJOIN_S", 0.2)
    mine = two_steps(alice)
    cookie = session_cookie(alice)

    async def scenario():
        from channels.layers import get_channel_layer

        ws = socket("/ws/runs/", ORIGIN, cookie)
        assert (await ws.connect())[0]
        hub = FeedHub._hubs[asyncio.get_running_loop()][RunsFeedConsumer]
        await get_channel_layer().group_discard(RunsFeedConsumer.group, hub.channel)

        run = await database_sync_to_async(start)(mine)  # its notice reaches nobody
        seen = await receive_events(ws, 2)
        assert [(e["run"], e["type"]) for e in seen] == [
            (run.pk, "run.created"),
            (run.pk, "run.running"),
        ]
        await ws.disconnect()

    run_async(scenario)
