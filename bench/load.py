"""Flowdeck under load: web and worker processes on PostgreSQL + Redis (or the embedded
default), runs started and approvals decided over the API while websocket clients watch the
runs feed (bench/README.md, "load.py").

    .venv/bin/python bench/load.py                       # scale-out: 2 daphne, 2 workers
    .venv/bin/python bench/load.py --embedded            # SQLite + ORM broker: 1 daphne, 1 worker
    .venv/bin/python bench/load.py --runs 5 --clients 3  # a quick smoke run

Scale-out uses DATABASE_URL and REDIS_URL when set (else PostgreSQL and Redis on 127.0.0.1):
the database named there is only a prefix; a fresh database ``<name>_load_<hex>`` is created on
that server, migrated, and dropped at the end (``--keep`` keeps it). The queue name is fresh
too, so nothing else on that Redis takes its tasks. Embedded uses a fresh data dir.

What it does: starts ``--web`` daphne processes and ``--workers`` ``manage.py
flowdeck_worker`` processes (each a qcluster of FLOWDECK_WORKERS workers plus the sweeper),
creates a user with a token and an approver, creates a 10-step workflow over the API (a
condition, two parallel branches of a function and a transform, a join, an approval, a
function, a transform), connects ``--clients`` websockets to ``/ws/runs/``, then starts
``--runs`` runs over the API keeping at most ``--in-flight`` unfinished, while the approver
lists open approvals and decides them (``--deciders`` at once). Figures: runs/s, step hops,
websocket delivery, API latencies, and every error (non-2xx, lost sockets, missed or
duplicated events, runs not succeeded, ERROR lines in the servers' logs). Exit status 1 when
any error was counted.
"""

import argparse
import asyncio
import itertools
import json
import multiprocessing
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script

from bench.load_clients import percentile, watch  # noqa: E402

MODE_VARS = ("DATABASE_URL", "REDIS_URL", "FLOWDECK_QUEUE", "FLOWDECK_DATA_DIR")
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/flowdeck"
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"


# --- The workflow ---------------------------------------------------------------------------


def workflow_graph(approver: str) -> dict[str, Any]:
    """Ten steps: a condition, two parallel branches (a function then a transform each), a join,
    an approval, a function and a transform. Functions are blocking steps (a thread, a lease,
    their own task); transforms and the condition are quick steps (run in batches)."""

    def function(node: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
        return {"id": node, "type": "code.function", "config": {"function": name, "args": args}}

    def transform(node: str, value: Any, **extra: Any) -> dict[str, Any]:
        return {"id": node, "type": "data.transform", "config": {"value": value}, **extra}

    nodes = [
        {"id": "start", "type": "trigger.manual", "config": {}},
        {"id": "check", "type": "logic.condition", "config": {"expression": "input.amount > 0"}},
        function("fetch_a", "examples.echo", {"amount": "{{ input.amount }}"}),
        transform("score_a", "{{ steps.fetch_a.output['values']['amount'] * 2 }}"),
        function("fetch_b", "examples.add", {"a": "{{ input.amount }}", "b": 1}),
        transform("score_b", "{{ steps.fetch_b.output + 1 }}"),
        transform(
            "merge",
            {"a": "{{ steps.score_a.output }}", "b": "{{ steps.score_b.output }}"},
            join="all_success",
        ),
        {
            "id": "approve",
            "type": "human.approval",
            "config": {
                "title": "Approve {{ input.amount }} EUR",
                "assignees": {"users": [approver]},
            },
        },
        function("book", "examples.echo", {"merged": "{{ steps.merge.output }}"}),
        transform("done", {"booked": True, "run": "{{ run.id }}"}),
    ]
    pairs = [
        ("start", "check", None),
        ("check", "fetch_a", "true"),
        ("check", "fetch_b", "true"),
        ("fetch_a", "score_a", None),
        ("fetch_b", "score_b", None),
        ("score_a", "merge", None),
        ("score_b", "merge", None),
        ("merge", "approve", None),
        ("approve", "book", "approved"),
        ("book", "done", None),
    ]
    edges = []
    for n, (source, target, handle) in enumerate(pairs):
        edge = {"id": f"e{n}", "source": source, "target": target}
        if handle:
            edge["source_handle"] = handle
        edges.append(edge)
    return {
        "format": 1,
        "nodes": nodes,
        "edges": edges,
        "input_schema": {
            "type": "object",
            "required": ["amount"],
            "properties": {"amount": {"type": "number"}},
        },
        "output": {"merged": "{{ steps.merge.output }}"},
    }


# --- The installation under test --------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def admin_conninfo(url: str) -> str:
    # psycopg takes URLs; the maintenance database of the same server and user.
    return with_database(url, "postgres").replace("postgres://", "postgresql://", 1)


class Installation:
    """A fresh database (or data dir), migrated, its web and worker processes, and Django set
    up in this process on the same database (to create users and read the figures)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.tag = uuid.uuid4().hex[:8]
        self.data_dir = Path(tempfile.mkdtemp(prefix="flowdeck-load-"))
        self.logs = self.data_dir / "logs"
        self.logs.mkdir()
        env = {k: v for k, v in os.environ.items() if k not in MODE_VARS}
        env |= {
            "FLOWDECK_DATA_DIR": str(self.data_dir),
            # One user makes thousands of calls a minute here: the benchmark measures the
            # engine, not the throttle (docs/api/index.md, "Rate limits").
            "FLOWDECK_API_RATE_USER": "off",
            "PYTHONUNBUFFERED": "1",
        }
        if args.cluster_workers:
            env["FLOWDECK_WORKERS"] = str(args.cluster_workers)
        self.database: str | None = None
        if not args.embedded:
            import psycopg

            base = args.database_url or os.environ.get("DATABASE_URL") or DEFAULT_PG
            self.admin = admin_conninfo(base)
            prefix = urlsplit(base).path.lstrip("/") or "flowdeck"
            self.database = f"{prefix}_load_{self.tag}"
            with psycopg.connect(self.admin, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.database}"')
            env["DATABASE_URL"] = with_database(base, self.database)
            env["REDIS_URL"] = args.redis_url or os.environ.get("REDIS_URL") or DEFAULT_REDIS
            env["FLOWDECK_QUEUE"] = self.database
        self.env = env
        self.web: list[tuple[int, subprocess.Popen]] = []
        self.workers: list[subprocess.Popen] = []
        self.log_offsets: dict[Path, int] = {}
        os.environ.update(env)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flowdeck.settings")
        self.manage("migrate", "-v0", "--skip-checks")
        import django

        django.setup()

    def manage(self, *command: str) -> None:
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=self.env, check=True)

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen:
        log = (self.logs / f"{name}.log").open("ab")
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a group of its own: stopping it reaches its children
        )

    def start(self) -> None:
        for n in range(self.args.workers):
            self.workers.append(
                self._spawn(f"worker-{n}", [sys.executable, "manage.py", "flowdeck_worker"])
            )
        for n in range(self.args.web):
            port = free_port()
            command = [sys.executable, "-m", "daphne", "--bind", "127.0.0.1", "--port", str(port)]
            command += ["--proxy-headers", "flowdeck.asgi:application"]
            self.web.append((port, self._spawn(f"web-{n}", command)))
        self.wait_healthy()
        # Startup noise (a 503 from /healthz before the workers were up) is not an error.
        self.log_offsets = {p: p.stat().st_size for p in self.logs.glob("*.log")}

    def wait_healthy(self, timeout: float = 180) -> None:
        """Every web process answers /healthz 200, seeing every worker cluster."""
        import httpx

        deadline = time.monotonic() + timeout
        pending = {port for port, _ in self.web}
        while pending:
            for port in sorted(pending):
                try:
                    answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()
                except (httpx.HTTPError, ValueError):
                    continue
                if answer.get("ok") and answer["workers"]["clusters"] >= self.args.workers:
                    pending.discard(port)
            for process in self.processes():
                if process.poll() is not None:
                    raise RuntimeError(f"a server process exited; see {self.logs}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"not healthy after {timeout} s: ports {pending}")
            time.sleep(0.2)

    def processes(self) -> list[subprocess.Popen]:
        return [process for _, process in self.web] + self.workers

    def urls(self, scheme: str) -> list[str]:
        return [f"{scheme}://127.0.0.1:{port}" for port, _ in self.web]

    def stop(self) -> None:
        # SIGTERM to each main process only: qcluster stops its own workers in order.
        for process in self.processes():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes():
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)

    def log_errors(self) -> list[str]:
        """ERROR and CRITICAL lines and tracebacks the servers logged."""
        found = []
        for path in sorted(self.logs.glob("*.log")):
            with path.open("rb") as log:
                log.seek(self.log_offsets.get(path, 0))
                text = log.read().decode(errors="replace")
            for line in text.splitlines():
                if re.search(r"\b(ERROR|CRITICAL)\b|^Traceback", line):
                    found.append(f"{path.stem}: {line[:300]}")
        return found

    def close(self) -> None:
        self.stop()
        from django.db import connections

        connections.close_all()
        if self.args.keep:
            print(f"kept: data dir {self.data_dir}, database {self.database or '-'}")
            return
        if self.database:
            import psycopg

            with psycopg.connect(self.admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        shutil.rmtree(self.data_dir, ignore_errors=True)


def create_people() -> tuple[str, str]:
    """The workflow's owner (who starts runs and watches) and an approver, with tokens."""
    from django.contrib.auth.models import User

    from people.tokens import do_create_token

    owner = User.objects.create_user("load-owner", password=uuid.uuid4().hex)
    approver = User.objects.create_user("load-approver", password=uuid.uuid4().hex)
    return tuple(do_create_token(actor=u, user=u, name="load")[1] for u in (owner, approver))


# --- Where the CPU went ----------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None  # ended while we looked


def cpu_seconds(pids: list[int]) -> float:
    ticks = 0
    for pid in pids:
        fields = _stat(pid)
        if fields:
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def session_pids(session: int) -> list[int]:
    pids = []
    for entry in Path("/proc").glob("[0-9]*"):
        fields = _stat(int(entry.name))
        if fields and int(fields[3]) == session:
            pids.append(int(entry.name))
    return pids


def postgres_pids(database: str) -> list[int]:
    """The backends serving the benchmark's database (their title names it)."""
    pids = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            title = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres:") and f" {database} " in title:
            pids.append(int(entry.name))
    return pids


class CpuMeter:
    """CPU seconds by role between ``start()`` and ``stop()``: web (daphne), workers (each
    cluster's whole process group), PostgreSQL backends of this database, the websocket
    clients and this driver. Processes that ended in between are not counted (none should)."""

    def __init__(self, install: "Installation", watchers_pid: int) -> None:
        self.install, self.watchers_pid = install, watchers_pid

    def sample(self) -> dict[str, float]:
        web = [pid for _, p in self.install.web for pid in session_pids(p.pid)]
        workers = [pid for p in self.install.workers for pid in session_pids(p.pid)]
        found = {
            "web": cpu_seconds(web),
            "workers": cpu_seconds(workers),
            "websocket clients": cpu_seconds([self.watchers_pid]),
            "driver": cpu_seconds([os.getpid()]),
        }
        if self.install.database:
            found["postgres"] = cpu_seconds(postgres_pids(self.install.database))
        return found

    def start(self) -> None:
        self.before = self.sample()

    def stop(self) -> dict[str, float]:
        after = self.sample()
        return {role: after[role] - self.before.get(role, 0.0) for role in after}


# --- The load -----------------------------------------------------------------------------------


@dataclass
class Calls:
    """Every API call made: latency and status by endpoint."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    async def call(self, client: Any, kind: str, method: str, url: str, **kw: Any) -> Any:
        began = time.perf_counter()
        try:
            response = await client.request(method, url, **kw)
        except Exception as exc:  # a refused or dropped connection is an error of the load
            self.statuses[(kind, type(exc).__name__)] += 1
            self.failures.append(f"{kind} {method} {url}: {exc!r}")
            return None
        self.latencies[kind].append((time.perf_counter() - began) * 1000)
        self.statuses[(kind, response.status_code)] += 1
        if not 200 <= response.status_code < 300:
            self.failures.append(f"{kind} {method} {url}: {response.status_code} {response.text}")
            return None
        return response.json()

    def errors(self) -> int:
        return sum(n for (_, code), n in self.statuses.items() if not str(code).startswith("2"))


class Watchers:
    """The websocket clients' process (bench/load_clients.py). Protocol over a pipe: it sends
    ``{"ready"}`` once every socket is open; we send ``{"runs", "grace_s"}`` once every run
    ended; it sends its figures when every client has each run's end (or the grace is over)."""

    def __init__(self, urls: list[str], token: str, clients: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipe, child = context.Pipe()
        config = {"urls": [f"{u}/ws/runs/" for u in urls], "token": token, "clients": clients}
        self.process = context.Process(target=watch, args=(config, child), daemon=True)
        self.process.start()
        child.close()

    def ready(self, timeout: float = 300) -> dict[str, Any]:
        if not self.pipe.poll(timeout):
            raise TimeoutError("the websocket clients did not connect")
        message = self.pipe.recv()
        if "error" in message:
            raise RuntimeError(f"the websocket clients failed: {message['error']}")
        return message

    def finish(self, runs: list[int], grace_s: float) -> dict[str, Any]:
        self.pipe.send({"runs": runs, "grace_s": grace_s})
        if not self.pipe.poll(grace_s + 120):
            raise TimeoutError("the websocket clients did not report")
        result = self.pipe.recv()
        self.process.join(30)
        return result


class Load:
    """Runs started and approvals decided over the API, at most ``in_flight`` runs unfinished."""

    def __init__(self, args: argparse.Namespace, urls: list[str], workflow_id: int) -> None:
        self.args, self.urls, self.workflow_id = args, urls, workflow_id
        self.calls = Calls()
        self.started: list[int] = []
        self.ended = 0
        self.all_started = False
        self.done = asyncio.Event()
        # One thread (one database connection) for this process's reads during the load.
        self.db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="load-db")

    def ended_runs(self) -> int:
        from engine.models import Run
        from engine.states import RUN_TERMINAL

        return Run.objects.filter(workflow_id=self.workflow_id, status__in=RUN_TERMINAL).count()

    async def run(self, owner_token: str, approver_token: str) -> float:
        import httpx

        loop = asyncio.get_running_loop()
        limits = httpx.Limits(max_connections=self.args.starters + self.args.deciders + 2)

        def clients(token: str) -> list[httpx.AsyncClient]:
            headers = {"Authorization": f"Token {token}"}
            return [
                httpx.AsyncClient(base_url=u, headers=headers, timeout=120, limits=limits)
                for u in self.urls
            ]

        owners, approvers = clients(owner_token), clients(approver_token)
        # Requests go round the web processes, as a load balancer would send them.
        owner_next, approver_next = itertools.cycle(owners), itertools.cycle(approvers)
        slots = asyncio.Semaphore(self.args.in_flight)
        numbers = iter(range(self.args.runs))
        decide: asyncio.Queue[int] = asyncio.Queue()

        async def starter() -> None:
            for n in numbers:
                await slots.acquire()
                body = {"input": {"amount": n + 1}}
                path = f"/api/workflows/{self.workflow_id}/runs/"
                answer = await self.calls.call(next(owner_next), "start", "POST", path, json=body)
                if answer is None:
                    slots.release()  # nothing started: the slot is free again
                else:
                    self.started.append(answer["id"])

        async def watch_ends() -> None:
            # Frees a slot per run that ended (read from the database, not the API: the
            # driver's bookkeeping is not part of the load).
            while not (self.all_started and self.ended >= len(self.started)):
                await asyncio.sleep(0.2)
                ended = await loop.run_in_executor(self.db, self.ended_runs)
                for _ in range(ended - self.ended):
                    slots.release()
                self.ended = ended
            self.done.set()

        async def lister() -> None:
            # The approver's inbox, read again every moment, as a person refreshing it would.
            seen: set[int] = set()
            query = {"status": "open", "kind": "approval", "page_size": 100}
            while not self.done.is_set():
                page = await self.calls.call(
                    next(approver_next), "inbox", "GET", "/api/approvals/", params=query
                )
                for task in (page or {}).get("results", []):
                    if task["id"] not in seen:
                        seen.add(task["id"])
                        decide.put_nowait(task["id"])
                await asyncio.sleep(self.args.inbox_every)

        async def decider() -> None:
            while True:
                task_id = await decide.get()
                await self.calls.call(
                    next(approver_next),
                    "decide",
                    "POST",
                    f"/api/approvals/{task_id}/decide/",
                    json={"decision": "approve", "comment": "looks right"},
                )

        began = time.time()
        background = [asyncio.create_task(lister())]
        background += [asyncio.create_task(decider()) for _ in range(self.args.deciders)]
        background.append(asyncio.create_task(self.progress(began)))
        ends = asyncio.create_task(watch_ends())
        await asyncio.gather(*(starter() for _ in range(self.args.starters)))
        self.all_started = True
        await asyncio.wait_for(ends, timeout=self.args.timeout)
        for task in background:
            task.cancel()
        for client in owners + approvers:
            await client.aclose()
        return time.time() - began

    async def progress(self, began: float) -> None:
        while True:
            await asyncio.sleep(10)
            elapsed = time.time() - began
            load = " ".join(f"{x:.1f}" for x in os.getloadavg())
            print(
                f"  {elapsed:5.0f} s: {len(self.started)} started, {self.ended} ended "
                f"({self.ended / elapsed:.1f} runs/s), load average {load}",
                flush=True,
            )


# --- The figures -------------------------------------------------------------------------------


def ms(seconds: float) -> float:
    return seconds * 1000


def figures(workflow_id: int, graph: dict[str, Any]) -> dict[str, Any]:
    """From the database after the load: run rates, hops, failures."""
    from engine.models import Run, RunEvent, StepRun

    runs = list(Run.objects.filter(workflow_id=workflow_id).values("id", "status", "created_at"))
    runs_end = Run.objects.filter(workflow_id=workflow_id).values_list("finished_at", flat=True)
    ends = [end for end in runs_end if end is not None]
    statuses = Counter(run["status"] for run in runs)
    first = min(run["created_at"] for run in runs)
    span = (max(ends) - first).total_seconds() if ends else float("nan")

    sources: dict[str, list[str]] = defaultdict(list)
    for edge in graph["edges"]:
        sources[edge["target"]].append(edge["source"])
    steps: dict[int, dict[str, dict[str, Any]]] = defaultdict(dict)
    fields = ("run_id", "node_id", "status", "queued_at", "started_at", "finished_at")
    for row in StepRun.objects.filter(run__workflow_id=workflow_id).values(*fields):
        steps[row["run_id"]][row["node_id"]] = row
    hops: list[float] = []  # a step ready (its last source finished) -> it started
    after_decision: list[float] = []  # the same, from the approval's decision
    queue_waits: list[float] = []  # queued_at -> started_at
    durations = []
    approval_waits = []
    for run_steps in steps.values():
        for node, row in run_steps.items():
            if row["started_at"] is None:
                continue
            if row["queued_at"] is not None:
                queue_waits.append(ms((row["started_at"] - row["queued_at"]).total_seconds()))
            ready = [
                run_steps[s]["finished_at"]
                for s in sources.get(node, [])
                if run_steps.get(s, {}).get("finished_at") is not None
            ]
            if not ready:
                continue
            hop = ms((row["started_at"] - max(ready)).total_seconds())
            (after_decision if sources[node] == ["approve"] else hops).append(hop)
        approve = run_steps.get("approve")
        if approve and approve["finished_at"] and approve["started_at"]:
            approval_waits.append((approve["finished_at"] - approve["started_at"]).total_seconds())
    for run in Run.objects.filter(workflow_id=workflow_id, finished_at__isnull=False):
        durations.append((run.finished_at - run.created_at).total_seconds())
    feed_events = RunEvent.objects.filter(run__workflow_id=workflow_id, type__startswith="run.")

    def spread(values: list[float]) -> dict[str, float]:
        return {
            "n": len(values),
            "p50": statistics.median(values) if values else float("nan"),
            "p95": percentile(values, 0.95),
            "max": max(values, default=float("nan")),
        }

    return {
        "runs": len(runs),
        "statuses": dict(statuses),
        "span_s": span,
        "runs_per_s": len(ends) / span if ends else 0.0,
        "hop_ms": spread(hops),
        "hop_after_decision_ms": spread(after_decision),
        "queued_to_started_ms": spread(queue_waits),
        "run_duration_s": spread(durations),
        "approval_wait_s": spread(approval_waits),
        "feed_events": feed_events.count(),
    }


def report(result: dict[str, Any]) -> None:
    f, ws, api = result["figures"], result["websockets"], result["api"]
    p = lambda d, unit="ms": f"p50 {d['p50']:.1f} / p95 {d['p95']:.1f} {unit}"  # noqa: E731
    print(f"\n== {result['mode']}: {result['setup']}")
    print(f"load average before / after: {result['load_before']} / {result['load_after']}")
    print(
        f"runs: {f['runs']} {f['statuses']} in {f['span_s']:.1f} s "
        f"(first created -> last finished): {f['runs_per_s']:.2f} runs/s completed"
    )
    print(f"run duration (created -> finished, incl. the approval): {p(f['run_duration_s'], 's')}")
    print(f"approval wait (step started -> decided): {p(f['approval_wait_s'], 's')}")
    print(f"step hop (last source finished -> step started), {f['hop_ms']['n']}: {p(f['hop_ms'])}")
    print(f"hop after the decision (decided -> next started): {p(f['hop_after_decision_ms'])}")
    print(
        f"queued -> started, {f['queued_to_started_ms']['n']} steps: {p(f['queued_to_started_ms'])}"
    )
    for kind, spread in api["latency_ms"].items():
        print(f"API {kind}: {spread['n']} calls, {p(spread)}")
    cpu = result["cpu_s"]
    shares = ", ".join(
        f"{role} {seconds:.0f} s ({100 * seconds / cpu['wall']:.0f} %)"
        for role, seconds in cpu.items()
        if role != "wall"
    )
    print(f"CPU over the {cpu['wall']:.0f} s of load (% of one core): {shares}")
    if "error" in ws:
        print(f"websockets: FAILED {ws['error']}")
    else:
        lat = ws["latency_ms"]
        print(
            f"websockets: {ws['clients']} clients, {ws['messages']} messages "
            f"({f['feed_events']} run events x {ws['clients']} = "
            f"{f['feed_events'] * ws['clients']} expected); delivery (event created -> "
            f"received) p50 {lat['p50']:.1f} / p95 {lat['p95']:.1f} / p99 {lat['p99']:.1f} / "
            f"max {lat['max']:.1f} ms; drained {ws['drained_s']:.1f} s after the last run ended"
        )
    print("errors:")
    for name, count in result["errors"].items():
        print(f"  {name}: {count}")
    for line in result["error_samples"][:20]:
        print(f"    {line}")
    print(f"total errors: {result['total_errors']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedded", action="store_true", help="SQLite + ORM broker")
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=200, help="websockets on /ws/runs/")
    parser.add_argument("--web", type=int, help="daphne processes (2; embedded 1)")
    parser.add_argument("--workers", type=int, help="flowdeck_worker processes (2; embedded 1)")
    parser.add_argument(
        "--cluster-workers", type=int, help="FLOWDECK_WORKERS, workers in each (its default, 2)"
    )
    parser.add_argument("--in-flight", type=int, default=20, help="unfinished runs at most")
    parser.add_argument("--starters", type=int, default=4, help="concurrent start requests")
    parser.add_argument("--deciders", type=int, default=4, help="concurrent decisions")
    parser.add_argument("--inbox-every", type=float, default=0.25, help="inbox read period, s")
    parser.add_argument("--timeout", type=float, default=3600, help="give up after, s")
    parser.add_argument("--database-url", help="PostgreSQL server and name prefix")
    parser.add_argument("--redis-url")
    parser.add_argument("--keep", action="store_true", help="keep the database and data dir")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    args.web = args.web or (1 if args.embedded else 2)
    args.workers = args.workers or (1 if args.embedded else 2)

    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    install = Installation(args)
    watchers = None
    try:
        from django.conf import settings

        mode = (
            "embedded (SQLite WAL, ORM broker)"
            if args.embedded
            else "scale-out (PostgreSQL, Redis)"
        )
        setup = (
            f"{args.web} daphne, {args.workers} flowdeck_worker x "
            f"{settings.Q_CLUSTER['workers']} workers, {args.runs} runs "
            f"(at most {args.in_flight} in flight), {args.clients} websocket clients, "
            f"{os.cpu_count()} cores"
        )
        print(f"{mode}: {setup}", flush=True)
        owner_token, approver_token = create_people()
        install.start()
        import httpx

        graph = workflow_graph("load-approver")
        created = httpx.post(
            f"{install.urls('http')[0]}/api/workflows/",
            json={"name": "load", "description": "bench/load.py", "graph": graph},
            headers={"Authorization": f"Token {owner_token}"},
            timeout=60,
        )
        created.raise_for_status()
        workflow_id = created.json()["id"]

        watchers = Watchers(install.urls("ws"), owner_token, args.clients)
        connected = watchers.ready()["connect_ms"]
        print(
            f"{len(connected)} websockets open (handshake p50 {statistics.median(connected):.0f}"
            f" ms, max {max(connected):.0f} ms); starting the runs",
            flush=True,
        )
        load = Load(args, install.urls("http"), workflow_id)
        meter = CpuMeter(install, watchers.process.pid)
        meter.start()
        elapsed = asyncio.run(load.run(owner_token, approver_token))
        cpu = meter.stop()
        ws = watchers.finish(load.started, grace_s=60)
        watchers = None
        load_after = " ".join(f"{x:.1f}" for x in os.getloadavg())
        found = figures(workflow_id, graph)
        log_errors = install.log_errors()

        errors: dict[str, int] = {
            "HTTP non-2xx or failed requests": load.calls.errors(),
            "runs not succeeded": found["runs"] - found["statuses"].get("succeeded", 0),
            "runs never started (of --runs)": args.runs - found["runs"],
        }
        if "error" in ws:
            errors["websocket clients failed"] = 1
        else:
            expected = found["feed_events"]
            errors["websockets lost (closed before the end)"] = len(ws["lost"])
            errors["websocket events missed"] = sum(
                max(0, expected - n) for n in ws["distinct_per_client"]
            )
            errors["websocket events received twice"] = ws["duplicates"]
        errors["ERROR lines in the servers' logs"] = len(log_errors)
        api = {
            "latency_ms": {
                kind: {
                    "n": len(v),
                    "p50": statistics.median(v),
                    "p95": percentile(v, 0.95),
                }
                for kind, v in load.calls.latencies.items()
            },
            "statuses": {f"{k} {c}": n for (k, c), n in load.calls.statuses.items()},
        }
        result = {
            "mode": mode,
            "setup": setup,
            "args": {k: str(v) for k, v in vars(args).items()},
            "load_before": load_before,
            "load_after": load_after,
            "figures": found,
            "websockets": ws,
            "api": api,
            "cpu_s": {**cpu, "wall": elapsed},
            "errors": errors,
            "error_samples": load.calls.failures[:10] + ws.get("lost", [])[:5] + log_errors[:10],
            "total_errors": sum(errors.values()),
        }
        report(result)
        if args.json:
            ws_slim = {k: v for k, v in ws.items() if k != "distinct_per_client"}
            args.json.write_text(json.dumps({**result, "websockets": ws_slim}, indent=2))
        return 1 if result["total_errors"] else 0
    finally:
        if watchers is not None:
            watchers.process.kill()
        install.close()


if __name__ == "__main__":
    sys.exit(main())
