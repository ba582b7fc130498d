"""Events written by real worker processes (``manage.py flowdeck_worker``) reach a socket held
by this process, which plays the web process: through the table poller (embedded) or Redis
(scale-out). Its own module: the workers of the ``workers`` fixture live for the module and
would run the steps that other tests drive by hand."""

import pytest
from channels.db import database_sync_to_async

from engine.models import Run
from tests.engine_kit import build, fn, noop, start, workflow
from tests.helpers import wait_until
from tests.test_live import (
    ORIGIN,
    db_events,
    receive_until,
    run_async,
    session_cookie,
    shape,
    socket,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_channel_layer"),
]


def test_events_from_worker_processes_reach_a_socket_of_this_process(workers, alice):
    graph = build(
        {
            "start": ("trigger.manual",),
            "slow": fn("sleep", seconds=0.5),
            **{f"s{i}": noop() for i in range(10)},
        },
        ["start>slow", "slow>s0", *[f"s{i}>s{i + 1}" for i in range(9)]],
    )
    run = start(workflow(alice, graph))
    cookie = session_cookie(alice)

    async def scenario():
        ws = socket(f"/ws/runs/{run.pk}/", ORIGIN, cookie)
        assert (await ws.connect())[0]
        received = await receive_until(ws, "run.succeeded", timeout=30)
        await ws.disconnect()
        assert shape(received) == await database_sync_to_async(db_events)(run)
        # The workers wrote the step events, and they came over the live feed (the run was
        # still running when the socket had read its backlog).
        assert any(e["data"].get("worker") for e in received if e["type"] == "step.started")

    run_async(scenario)
    wait_until(lambda: Run.objects.get(pk=run.pk).status == "succeeded", what="the run")
