"""Live update latency: an event committed by a worker -> its message received by a websocket
client over a real daphne server (bench/README.md, "ws_latency.py").

Starts ``manage.py flowdeck_worker`` and daphne on a fresh data dir (or PostgreSQL database),
connects a token-authenticated client to ``/ws/runs/<id>/`` and runs a chain of
``code.function`` steps that sleep a little each (a worker commits a step's start, then its end
and the next step's queueing: two commits, three events a step). Latency = the moment the
client receives an event - the event's ``created_at`` (set by the worker at INSERT, just before
its COMMIT; one machine, one clock). Only events created after the socket was open count.
``--burst`` runs no-op steps instead (a worker commits back to back, ~2 ms apart).
"""

import asyncio
import base64
import json
import os
import socket
import struct
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import ROOT, Bench, arguments, percentile, summary  # noqa: E402


def build_chain(steps: int, sleep_s: float) -> dict:
    if sleep_s > 0:
        config = {"function": "examples.sleep", "args": {"seconds": sleep_s}}
    else:
        config = {"function": "examples.noop"}
    nodes = [{"id": "start", "type": "trigger.manual", "config": {}}]
    # The first step gives the client time to connect before the measured events.
    nodes.append(
        {
            "id": "warmup",
            "type": "code.function",
            "config": {"function": "examples.sleep", "args": {"seconds": 1.0}},
        }
    )
    nodes += [{"id": f"s{i}", "type": "code.function", "config": config} for i in range(steps)]
    ids = [n["id"] for n in nodes]
    edges = [
        {"id": f"e{i}", "source": a, "target": b}
        for i, (a, b) in enumerate(zip(ids, ids[1:], strict=False))
    ]
    return {"format": 1, "nodes": nodes, "edges": edges}


def start_daphne(bench: Bench, port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
        + ["flowdeck.asgi:application"],
        cwd=ROOT,
        env=bench.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.1)
    raise RuntimeError("daphne did not start")


class WebSocket:
    """The smallest websocket client this needs (RFC 6455: the handshake, unfragmented text
    frames from the server, close): autobahn's asyncio client cannot load beside daphne's
    Twisted in one process, and the project has no other client library."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, port: int, path: str, headers: dict[str, str]) -> "WebSocket":
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: 127.0.0.1:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            *[f"{name}: {value}" for name, value in headers.items()],
        ]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        status = await reader.readline()
        if b" 101 " not in status:
            raise RuntimeError(f"handshake refused: {status!r}")
        while await reader.readline() not in (b"\r\n", b""):
            pass
        return cls(reader, writer)

    async def receive(self) -> str:
        """The next text message; raises on a close frame."""
        head = await self.reader.readexactly(2)
        opcode, length = head[0] & 0x0F, head[1] & 0x7F
        if length == 126:
            length = struct.unpack("!H", await self.reader.readexactly(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", await self.reader.readexactly(8))[0]
        payload = await self.reader.readexactly(length)
        if opcode == 8:
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
            raise RuntimeError(f"the socket closed with {code}")
        return payload.decode()

    def close(self) -> None:
        self.writer.close()


async def follow(port: int, run_id: int, token: str, until: str, opened: list[float]) -> list:
    """Connect, then collect (received at, event) until an event of type ``until``."""
    headers = {"Authorization": f"Token {token}"}
    ws = await WebSocket.connect(port, f"/ws/runs/{run_id}/", headers)
    opened.append(time.time())
    received = []
    try:
        while True:
            payload = await asyncio.wait_for(ws.receive(), timeout=120)
            at = time.time()
            event = json.loads(payload)["event"]
            received.append((at, event))
            if event["type"] == until:
                return received
    finally:
        ws.close()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def idle_cpu(port: int, run_id: int, token: str, pid: int, seconds: float) -> float:
    """The web process's CPU while one socket is open and nothing happens (percent of a core)."""
    opened: list[float] = []
    task = asyncio.create_task(follow(port, run_id, token, "never", opened))
    await asyncio.sleep(1)
    before = cpu_seconds(pid)
    await asyncio.sleep(seconds)
    used = cpu_seconds(pid) - before
    task.cancel()
    return 100 * used / seconds


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--events", type=int, default=1000, help="events to measure (1,000)")
    parser.add_argument("--sleep", type=float, default=0.02, help="seconds each step works")
    parser.add_argument("--burst", action="store_true", help="no-op steps, back to back")
    parser.add_argument("--port", type=int, default=0, help="daphne's port (a free one)")
    args = parser.parse_args()
    steps = args.events // 3 + 2
    bench = Bench(args.scale_out, args.workers)
    from django.conf import settings

    print(f"live feed: {settings.FLOWDECK_LIVE_FEED}", end="")
    if settings.FLOWDECK_LIVE_FEED == "poll":
        print(f", polling every {settings.FLOWDECK_LIVE_POLL_S * 1000:.0f} ms", end="")
    print()
    port = args.port
    if not port:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
    daphne = None
    try:
        bench.start_workers()
        daphne = start_daphne(bench, port)
        from designer.services import do_create_workflow
        from engine import transitions
        from engine.models import Trigger
        from people.tokens import do_create_token

        owner = bench.owner()
        # A token of its own per run: keys are kept hashed, an older one cannot be read back.
        name = f"ws-latency {datetime.now():%Y-%m-%d %H:%M:%S.%f}"
        token = do_create_token(actor=owner, user=owner, name=name)[1]
        graph = build_chain(steps, 0 if args.burst else args.sleep)
        workflow = do_create_workflow(actor=owner, name="ws latency", graph=graph)
        version = workflow.versions.get()
        run, _ = transitions.do_start_run(
            version=version, input={}, trigger=Trigger.API, actor=owner
        )
        opened: list[float] = []
        received = asyncio.run(follow(port, run.pk, token, "run.succeeded", opened))
        latencies = [
            (at - datetime.fromisoformat(event["created_at"]).timestamp()) * 1000
            for at, event in received
            if datetime.fromisoformat(event["created_at"]).timestamp() > opened[0]
        ][: args.events]
        kind = "no-op steps (burst)" if args.burst else f"steps of {args.sleep * 1000:.0f} ms"
        print(
            f"{len(latencies)} events from a worker, {kind}: {summary(latencies)}, "
            f"p99 {percentile(latencies, 0.99):.1f} ms, max {max(latencies):.1f} ms"
        )
        cpu = asyncio.run(idle_cpu(port, run.pk, token, daphne.pid, 10))
        print(f"web process CPU, idle with one socket open: {cpu:.1f} % of a core")
    finally:
        if daphne is not None:
            daphne.terminate()
            daphne.wait(10)
        bench.close()


if __name__ == "__main__":
    main()
