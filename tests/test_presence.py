"""Presence in the designer (``/ws/workflows/{id}/``) through WebsocketCommunicator against the
real ASGI application, in whichever mode the settings give (the in-memory layer and SQLite, or
Redis and PostgreSQL): who else has the workflow open, live; a version saved through the API
reaches every socket of the workflow after its commit; expired presence goes."""

from datetime import timedelta

import pytest
import time_machine
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from designer import presence
from designer.models import DesignerPresence, Role, WorkflowGrant
from designer.services import do_save_version
from tests.graphs import simple_graph
from tests.test_live import ORIGIN, refused_with, run_async, session_cookie, socket

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_channel_layer"),
]


@pytest.fixture
def shared(alice, bob):
    """Alice's workflow, which bob may edit."""
    from tests.engine_kit import workflow

    wf = workflow(alice, simple_graph(), name="Invoices")
    WorkflowGrant.objects.create(workflow=wf, user=bob, role=Role.EDITOR)
    return wf


async def next_of(ws: WebsocketCommunicator, type: str, timeout: float = 10) -> dict:
    """The next message of ``type``, skipping others."""
    while True:
        message = await ws.receive_json_from(timeout=timeout)
        if message["type"] == type:
            return message


def cookies(*users):
    """Session cookies, made before the scenario's event loop runs (they write sessions)."""
    return [session_cookie(user) if user else None for user in users]


def names(message: dict) -> list[str]:
    return [user["username"] for user in message["users"]]


def test_two_people_see_each_other_and_one_leaving_is_seen(alice, bob, shared):
    alice.first_name, alice.last_name = "Alice", "Liddell"
    alice.save()
    path = f"/ws/workflows/{shared.pk}/"

    cookie_alice, cookie_bob = cookies(alice, bob)

    async def scenario():
        ws_alice = socket(path, ORIGIN, cookie_alice)
        assert (await ws_alice.connect())[0]
        assert names(await next_of(ws_alice, "presence")) == ["alice"]

        ws_bob = socket(path, ORIGIN, cookie_bob)
        assert (await ws_bob.connect())[0]
        seen_by_bob = await next_of(ws_bob, "presence")
        assert names(seen_by_bob) == ["alice", "bob"]
        assert names(await next_of(ws_alice, "presence")) == ["alice", "bob"]
        first = seen_by_bob["users"][0]
        assert set(first) == {"id", "username", "display_name", "since"}
        assert (first["id"], first["display_name"]) == (alice.pk, "Alice Liddell")

        await ws_bob.disconnect()
        assert names(await next_of(ws_alice, "presence")) == ["alice"]
        await ws_alice.disconnect()
        assert not await database_sync_to_async(DesignerPresence.objects.exists)()

    run_async(scenario)


def test_a_second_tab_of_someone_there_changes_nothing(alice, shared):
    path = f"/ws/workflows/{shared.pk}/"
    cookie = session_cookie(alice)

    async def scenario():
        first = socket(path, ORIGIN, cookie)
        await first.connect()
        assert names(await next_of(first, "presence")) == ["alice"]
        second = socket(path, ORIGIN, cookie)
        await second.connect()
        assert names(await next_of(second, "presence")) == ["alice"]
        assert await first.receive_nothing(timeout=0.3)
        await second.disconnect()
        await first.disconnect()

    run_async(scenario)


def test_someone_without_access_is_refused_as_is_an_unknown_workflow(alice, charlie, shared):
    path = f"/ws/workflows/{shared.pk}/"

    cookie_alice, cookie_charlie = cookies(alice, charlie)

    async def scenario():
        assert await refused_with(socket(path, ORIGIN, cookie_charlie)) == 4403
        assert await refused_with(socket(path, ORIGIN)) == 4401
        unknown = socket("/ws/workflows/999999/", ORIGIN, cookie_alice)
        assert await refused_with(unknown) == 4403

    run_async(scenario)
    assert not DesignerPresence.objects.exists()


def test_a_version_saved_through_the_api_reaches_everyone_on_the_workflow(alice, bob, shared):
    path = f"/ws/workflows/{shared.pk}/"
    client = APIClient()
    client.force_authenticate(bob)

    cookie_alice, cookie_bob = cookies(alice, bob)

    async def scenario():
        ws_alice = socket(path, ORIGIN, cookie_alice)
        ws_bob = socket(path, ORIGIN, cookie_bob)
        for ws in (ws_alice, ws_bob):
            await ws.connect()
            await next_of(ws, "presence")

        body = {"graph": simple_graph(), "base_version": 1, "note": "new url"}
        response = await database_sync_to_async(client.put)(
            f"/api/workflows/{shared.pk}/", body, format="json"
        )
        assert response.status_code == 200, response.content
        for ws in (ws_alice, ws_bob):
            version = (await next_of(ws, "version_saved"))["version"]
            assert version["number"] == 2
            assert version["note"] == "new url"
            assert version["author"] == {"id": bob.pk, "username": "bob", "display_name": "bob"}
            assert version["workflow"] == shared.pk
            assert version["saved_at"]
        await ws_alice.disconnect()
        await ws_bob.disconnect()

    run_async(scenario)


def test_a_save_that_rolls_back_tells_no_one(alice, shared):
    path = f"/ws/workflows/{shared.pk}/"

    def save_and_roll_back():
        with pytest.raises(RuntimeError), transaction.atomic():
            do_save_version(actor=alice, workflow=shared, graph=simple_graph(), base_version=1)
            raise RuntimeError("rolled back")

    (cookie_alice,) = cookies(alice)

    async def scenario():
        ws = socket(path, ORIGIN, cookie_alice)
        await ws.connect()
        await next_of(ws, "presence")
        await database_sync_to_async(save_and_roll_back)()
        assert await ws.receive_nothing(timeout=0.5)
        await ws.disconnect()

    run_async(scenario)


def test_a_socket_whose_access_is_taken_away_is_closed_at_its_next_ping(alice, bob, shared):
    path = f"/ws/workflows/{shared.pk}/"

    (cookie_bob,) = cookies(bob)

    async def scenario():
        ws = socket(path, ORIGIN, cookie_bob)
        await ws.connect()
        await next_of(ws, "presence")
        await database_sync_to_async(WorkflowGrant.objects.filter(user=bob).delete)()
        await ws.send_json_to({"type": "ping"})
        message = await ws.receive_output(timeout=5)
        assert (message["type"], message.get("code")) == ("websocket.close", 4403)

    run_async(scenario)
    assert not DesignerPresence.objects.exists()


def test_someone_whose_process_died_goes_after_a_minute(alice, bob, shared):
    """Bob's row stays behind (his web process died: no goodbye); alice's next ping after
    ``EXPIRES`` drops it and tells her."""
    start = timezone.now()
    presence.do_join(user=bob, workflow_id=shared.pk, channel="dead.process!1", now=start)
    path = f"/ws/workflows/{shared.pk}/"

    (cookie_alice,) = cookies(alice)

    async def scenario():
        ws = socket(path, ORIGIN, cookie_alice)
        await ws.connect()
        assert names(await next_of(ws, "presence")) == ["bob", "alice"]
        with time_machine.travel(start + presence.EXPIRES + timedelta(seconds=5), tick=False):
            await ws.send_json_to({"type": "ping"})
            assert names(await next_of(ws, "presence")) == ["alice"]
        await ws.disconnect()

    run_async(scenario)


def test_presence_counts_the_pinged_and_forgets_the_silent(alice, bob, shared):
    t0 = timezone.now()
    presence.do_join(user=alice, workflow_id=shared.pk, channel="a", now=t0)
    presence.do_join(user=bob, workflow_id=shared.pk, channel="b", now=t0)
    later = t0 + timedelta(seconds=50)
    assert presence.do_touch(user=alice, workflow_id=shared.pk, channel="a", now=later) is False

    at = t0 + presence.EXPIRES + timedelta(seconds=1)
    assert [u["username"] for u in presence.present(shared.pk, at)] == ["alice"]
    assert presence.drop_expired(at) == 1
    # Bob's laptop wakes up: his ping brings him back.
    assert presence.do_touch(user=bob, workflow_id=shared.pk, channel="b", now=at) is True
    assert [u["username"] for u in presence.present(shared.pk, at)] == ["alice", "bob"]


def test_junk_from_a_client_is_ignored(alice, shared):
    (cookie_alice,) = cookies(alice)

    async def scenario():
        ws = socket(f"/ws/workflows/{shared.pk}/", ORIGIN, cookie_alice)
        await ws.connect()
        await next_of(ws, "presence")
        await ws.send_to(text_data="{not json")
        await ws.send_json_to({"type": "what"})
        await ws.send_json_to({"type": "ping"})
        assert await ws.receive_nothing(timeout=0.3)
        await ws.disconnect()

    run_async(scenario)
