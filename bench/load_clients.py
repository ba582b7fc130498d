"""The websocket side of bench/load.py: many clients watching ``/ws/runs/`` (the dashboard's
feed of run status changes), in a process of their own.

A process of its own for two reasons: the clients' receive times are the measurement, so they
must not wait behind the driver's HTTP calls and database reads in one event loop; and
autobahn (daphne's websocket library, the one already installed) cannot run its asyncio client
in a process where Django has loaded daphne's Twisted, so the clients use the ``websockets``
library, and this module imports nothing from Django.

The driver calls ``watch`` through ``multiprocessing`` (spawn) with one end of a pipe; see
``Watchers`` in bench/load.py for the protocol.
"""

import asyncio
import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

TERMINAL = frozenset({"run.succeeded", "run.failed", "run.cancelled"})


@dataclass
class Client:
    """One websocket and what it received."""

    url: str
    token: str
    ws: ClientConnection | None = None
    opened_at: float = 0.0
    connect_ms: float = 0.0
    latencies: list[float] = field(default_factory=list)  # ms: received - event created_at
    ids: set[int] = field(default_factory=set)
    duplicates: int = 0
    ended: set[int] = field(default_factory=set)  # runs whose terminal event arrived
    lost: str = ""  # why the socket ended before we closed it
    stopping: bool = False

    async def open(self) -> None:
        began = time.monotonic()
        self.ws = await connect(
            self.url,
            additional_headers={"Authorization": f"Token {self.token}"},
            open_timeout=120,
            # daphne pings every 20 s and drops a socket that does not answer; the library
            # answers pings itself while the loop runs. No pings of ours: they cost the server.
            ping_interval=None,
            max_queue=None,  # never push back on the server: a slow reader is what we measure
        )
        self.connect_ms = (time.monotonic() - began) * 1000
        self.opened_at = time.time()

    async def receive(self) -> None:
        assert self.ws is not None
        try:
            async for raw in self.ws:
                at = time.time()
                event = json.loads(raw)["event"]
                if event["id"] in self.ids:
                    self.duplicates += 1
                    continue
                self.ids.add(event["id"])
                created = datetime.fromisoformat(event["created_at"]).timestamp()
                self.latencies.append((at - created) * 1000)
                if event["type"] in TERMINAL:
                    self.ended.add(event["run"])
            if not self.stopping:
                self.lost = f"closed by the server ({self.ws.close_code})"
        except ConnectionClosed as exc:
            if not self.stopping:
                self.lost = f"closed: {exc}"
        except Exception as exc:  # a bad message is a failure of the feed, reported, not raised
            self.lost = f"{type(exc).__name__}: {exc}"

    async def close(self) -> None:
        self.stopping = True
        if self.ws is not None:
            await self.ws.close()


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


async def _watch(config: dict[str, Any], pipe: Connection) -> dict[str, Any]:
    urls = config["urls"]
    clients = [Client(urls[i % len(urls)], config["token"]) for i in range(config["clients"])]
    # A few handshakes at a time: each costs the web process a token lookup in the database.
    gate = asyncio.Semaphore(20)

    async def open_one(client: Client) -> None:
        async with gate:
            await client.open()

    await asyncio.gather(*(open_one(c) for c in clients))
    readers = [asyncio.create_task(c.receive()) for c in clients]
    pipe.send({"ready": True, "connect_ms": [c.connect_ms for c in clients]})

    # The driver sends the run ids once every run has ended; each client should then have
    # (or soon have) every run's terminal event.
    loop = asyncio.get_running_loop()
    finish = await loop.run_in_executor(None, pipe.recv)
    expected = set(finish["runs"])
    deadline = time.monotonic() + finish["grace_s"]
    began = time.monotonic()
    while time.monotonic() < deadline:
        if all(expected <= c.ended or c.lost for c in clients):
            break
        await asyncio.sleep(0.05)
    drained_s = time.monotonic() - began
    for client in clients:
        await client.close()
    await asyncio.gather(*readers, return_exceptions=True)

    latencies = [ms for c in clients for ms in c.latencies]
    return {
        "clients": len(clients),
        "messages": len(latencies),
        "distinct_per_client": [len(c.ids) for c in clients],
        "duplicates": sum(c.duplicates for c in clients),
        "missing_terminal": sum(len(expected - c.ended) for c in clients),
        "lost": [c.lost for c in clients if c.lost],
        "drained_s": drained_s,
        "latency_ms": {
            "p50": percentile(latencies, 0.50),
            "p95": percentile(latencies, 0.95),
            "p99": percentile(latencies, 0.99),
            "max": max(latencies, default=float("nan")),
        },
    }


def watch(config: dict[str, Any], pipe: Connection) -> None:
    """Entry point of the clients' process: connect, report ready, watch, report figures."""
    try:
        result = asyncio.run(_watch(config, pipe))
    except Exception as exc:
        result = {"error": f"{type(exc).__name__}: {exc}"}
    pipe.send(result)
    pipe.close()
