"""The inbox socket (CONTRACT §6, `/ws/inbox/`) through WebsocketCommunicator against the real
ASGI application, in whichever mode the settings give: a new task reaches the browsers of the
people it is for and nobody else's; a decision reaches every assignee, so the task leaves the
other inboxes; a resumed socket gets what it missed once."""

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from engine import transitions
from engine.models import RunEvent
from tests.engine_kit import approval_graph, drive, start, task_of, workflow
from tests.test_live import (
    ORIGIN,
    receive_events,
    receive_until,
    refused_with,
    run_async,
    session_cookie,
    socket,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_channel_layer"),
]


def ask(owner):
    """A run of an approval for the finance group, driven until it waits for people."""
    run = start(workflow(owner, approval_graph()), {"amount": 5}, actor=owner)
    drive(timezone.now())
    return run


def decide(user, run, decision="approve"):
    task = task_of(run)
    transitions.check_decide(user, task.pk, decision=decision, data=None)
    transitions.do_decide(task.pk, actor=user, decision=decision, comment="ok")
    drive(timezone.now())


def test_a_new_task_reaches_its_assignees_only_and_a_decision_reaches_them_all(
    alice, bob, dave, charlie
):
    cookies = {u.username: session_cookie(u) for u in (bob, dave, charlie)}

    async def scenario():
        sockets = {name: socket("/ws/inbox/", ORIGIN, c) for name, c in cookies.items()}
        for ws in sockets.values():
            assert (await ws.connect())[0]

        run = await database_sync_to_async(ask)(alice)
        for name in ("bob", "dave"):
            (created,) = await receive_events(sockets[name], 1)
            assert created["type"] == "task.created"
            assert created["run"] == run.pk
            assert created["data"]["title"] == "Pay 5 EUR"
        assert await sockets["charlie"].receive_nothing(timeout=0.5)

        # bob approves: both finance members hear it, so the task leaves dave's inbox too.
        await database_sync_to_async(decide)(bob, run)
        for name in ("bob", "dave"):
            news = await receive_events(sockets[name], 2)
            assert [e["type"] for e in news] == ["task.decided", "task.closed"]
            assert news[0]["actor"] == "bob"
        assert await sockets["charlie"].receive_nothing(timeout=0.3)
        for ws in sockets.values():
            await ws.disconnect()

    run_async(scenario)


def test_a_resumed_inbox_gets_what_it_missed_once(alice, bob):
    cookie = session_cookie(bob)
    first = ask(alice)
    cursor = RunEvent.objects.filter(type="task.created", run=first).get().pk
    second = ask(alice)
    decide(bob, first)
    missed = list(
        RunEvent.objects.filter(type__startswith="task.", id__gt=cursor)
        .order_by("id")
        .values_list("id", "type", "run_id")
    )
    assert [t for _, t, _ in missed] == ["task.created", "task.decided", "task.closed"]

    async def scenario():
        ws = socket(f"/ws/inbox/?after={cursor}", ORIGIN, cookie)
        assert (await ws.connect())[0]
        got = await receive_events(ws, len(missed))
        assert [(e["id"], e["type"], e["run"]) for e in got] == missed
        assert await ws.receive_nothing(timeout=0.3)
        await ws.disconnect()

    run_async(scenario)
    assert second.pk != first.pk


def test_an_anonymous_inbox_is_closed_with_4401(db):
    async def scenario():
        assert await refused_with(socket("/ws/inbox/", ORIGIN)) == 4401

    run_async(scenario)


def test_a_reminder_reaches_the_inbox_of_who_is_reminded(alice, bob, dave):
    from datetime import timedelta

    import time_machine

    cookies = {u.username: session_cookie(u) for u in (bob, dave)}
    t0 = timezone.now()

    def remind_after_bob_approved():
        with time_machine.travel(t0, tick=False) as clock:
            run = start(
                workflow(alice, approval_graph(required_approvals=2, reminder_every_s=3600)),
                {"amount": 5},
                actor=alice,
            )
            drive(timezone.now())
            task = task_of(run)
            transitions.check_decide(bob, task.pk, decision="approve", data=None)
            transitions.do_decide(task.pk, actor=bob, decision="approve", comment="")
            clock.shift(timedelta(hours=1))
            drive(timezone.now())

    async def scenario():
        sockets = {name: socket("/ws/inbox/", ORIGIN, c) for name, c in cookies.items()}
        for ws in sockets.values():
            assert (await ws.connect())[0]
        await database_sync_to_async(remind_after_bob_approved)()
        dave_news = await receive_events(sockets["dave"], 3)
        assert [e["type"] for e in dave_news] == ["task.created", "task.decided", "task.reminded"]
        assert dave_news[-1]["data"]["users"] == ["dave"]
        # bob is involved (he decided), so he hears of it too; the reminder names only dave.
        bob_news = await receive_events(sockets["bob"], 3)
        assert bob_news[-1]["type"] == "task.reminded"
        for ws in sockets.values():
            await ws.disconnect()

    run_async(scenario)


def test_an_escalation_reaches_the_escalation_groups_inbox_after_the_breach(alice, bob):
    from datetime import timedelta

    import time_machine
    from django.contrib.auth.models import Group, User

    lena = User.objects.create_user("lena", password="lena-pass-123")
    lena.groups.add(Group.objects.create(name="finance-leads"))
    cookies = {u.username: session_cookie(u) for u in (bob, lena)}
    t0 = timezone.now()

    def overdue():
        with time_machine.travel(t0, tick=False) as clock:
            graph = approval_graph(
                due_in_s=60, on_timeout="escalate", escalate_to={"groups": ["finance-leads"]}
            )
            start(workflow(alice, graph), {"amount": 5}, actor=alice)
            drive(timezone.now())
            clock.shift(timedelta(seconds=60))
            drive(timezone.now())

    async def scenario():
        sockets = {name: socket("/ws/inbox/", ORIGIN, c) for name, c in cookies.items()}
        for ws in sockets.values():
            assert (await ws.connect())[0]
        await database_sync_to_async(overdue)()
        bob_news = await receive_events(sockets["bob"], 3)
        assert [e["type"] for e in bob_news] == ["task.created", "task.overdue", "task.escalated"]
        # lena was not asked before: whether she also hears of the creation depends on when
        # the feed read it (who is involved is asked at each read), but the breach and the
        # escalation reach her, in order, and say to whom it went.
        lena_news = await receive_until(sockets["lena"], "task.escalated")
        assert [e["type"] for e in lena_news][-2:] == ["task.overdue", "task.escalated"]
        assert lena_news[-1]["data"]["groups"] == ["finance-leads"]
        assert await sockets["lena"].receive_nothing(timeout=0.3)
        for ws in sockets.values():
            await ws.disconnect()

    run_async(scenario)
