"""What the fault tests share: workers that may call the tests' local services, a cluster that
a test kills and starts again, and the checks read from the event log and from what a service
received."""

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.utils import timezone

from engine.models import Run, RunEvent, StepRun
from tests.helpers import wait_until
from tests.http_server import LocalServer
from tests.workers import Workers

# Workers that load tests/faults/functions.py and may call the tests' servers on 127.0.0.1.
FAULT_ENV = {
    "FLOWDECK_FUNCTION_MODULES": "engine.example_functions,tests.faults.functions",
    "FLOWDECK_HTTP_ALLOW_NETWORKS": "127.0.0.1/32",
}


class Cluster:
    """One worker cluster (``manage.py flowdeck_worker``) that tests kill with ``kill -9``
    and start again; each start writes its own log."""

    def __init__(self, log_dir: Path, name: str = "worker", **env: str) -> None:
        self.log_dir = log_dir
        self.name = name
        self.env = {**FAULT_ENV, **env}
        self.started: list[Workers] = []

    @property
    def current(self) -> Workers:
        return self.started[-1]

    def start(self) -> "Cluster":
        path = self.log_dir / f"{self.name}-{len(self.started)}.log"
        self.started.append(Workers(path, **self.env).start())
        return self

    def crash_and_restart(self) -> None:
        """kill -9 the whole process group, then a fresh cluster: its sweeper finds what the
        dead one left (expired leases, queued steps whose task died with it)."""
        self.current.kill()
        self.start()

    def pid(self) -> int:
        assert self.current.process is not None
        return self.current.process.pid

    def worker_pids(self) -> set[int]:
        """The processes of the running cluster (its workers are the main process's
        grandchildren), read from /proc: which cluster ran an attempt (``step.started``
        records the worker as ``host:pid:thread``)."""
        children: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # a process that ended meanwhile
            children.setdefault(parent, []).append(int(stat.parent.name))
        found, todo = set(), [self.pid()]
        while todo:
            pid = todo.pop()
            found.add(pid)
            todo.extend(children.get(pid, []))
        return found

    def log(self) -> str:
        return "\n".join(w.log() for w in self.started[-2:])

    def stop(self) -> None:
        for workers in self.started:
            workers.stop()


def ended(run: Run, timeout: float = 60) -> Run:
    def done() -> Run | None:
        run.refresh_from_db()
        return run if run.is_terminal else None

    return wait_until(done, timeout=timeout, what=f"run {run.pk} to end")


def started_attempts(run: Run, node: str) -> list[int]:
    events = RunEvent.objects.filter(run=run, node_id=node, type="step.started").order_by("id")
    return [e.attempt for e in events]


def lost_attempts(run: Run, node: str) -> list[int]:
    """The attempts of ``node`` the sweeper failed as ``lost`` (their worker died)."""
    events = RunEvent.objects.filter(run=run, node_id=node, type="step.retrying").order_by("id")
    return [e.attempt for e in events if e.data["error"]["code"] == "lost"]


def bring_due(run: Run, node: str) -> None:
    """Make the durable timer of a step that waits for a time (a retry's backoff, a delay)
    due now, as if its hour had passed. The tests give such steps long timers, so that the
    timer cannot fire before the test has done what it does meanwhile (kill the workers), and
    then skip the wait: time_machine cannot reach the worker processes."""
    step = StepRun.objects.get(run=run, node_id=node)
    assert step.wake_at is not None and step.wake_at > timezone.now(), "the timer fired already"
    assert StepRun.objects.filter(pk=step.pk, status=step.status, attempt=step.attempt).update(
        wake_at=timezone.now()
    )


def children(run: Run) -> list[Run]:
    return list(Run.objects.filter(parent_run=run).order_by("parent_index", "id"))


def assert_sound(run: Run) -> None:
    """``run`` and each of its child runs succeeded, and their event logs say that nothing was
    done twice nor lost: one run.created and one run.succeeded; each step that ran was queued
    and started once per attempt, attempts 1..n in order, every attempt but the last ended
    retrying, and the step succeeded exactly once, on its last attempt, with its output kept."""
    run.refresh_from_db()
    assert run.status == "succeeded", f"run {run.pk} is {run.status}: {run.error}"
    events = list(RunEvent.objects.filter(run=run).order_by("id"))
    own = Counter(e.type for e in events if not e.node_id)
    assert (own["run.created"], own["run.succeeded"]) == (1, 1), f"run {run.pk}: {own}"
    for step in StepRun.objects.filter(run=run):
        mine = [e for e in events if e.node_id == step.node_id]

        def attempts(kind: str, mine: list[RunEvent] = mine) -> list[int | None]:
            return [e.attempt for e in mine if e.type == kind]

        where = f"run {run.pk} step {step.node_id}"
        if step.status == "skipped":
            assert attempts("step.started") == [], where
            continue
        assert step.status == "succeeded", f"{where} is {step.status}: {step.error}"
        every = list(range(1, step.attempt + 1))
        assert attempts("step.queued") == every, f"{where}: queued {attempts('step.queued')}"
        assert attempts("step.started") == every, f"{where}: started {attempts('step.started')}"
        assert attempts("step.retrying") == every[:-1], f"{where}: {attempts('step.retrying')}"
        assert attempts("step.succeeded") == [step.attempt], f"{where}: more than one success"
        assert step.finished_at is not None and step.finished_at >= step.started_at, where
    for child in children(run):
        assert_sound(child)


def keys(server: LocalServer, path: str | None = None) -> list[str]:
    """The Idempotency-Key of every request the service received (on ``path``), in order."""
    return [r.headers.get("idempotency-key", "") for r in server.requests if path in (None, r.path)]


def assert_no_key_twice(server: LocalServer, repeated: Iterable[str] = ()) -> None:
    """The service never received two requests with one key, except the ``repeated`` keys:
    connection-level retries inside one attempt (http.request sends the same request again
    when the connection fails before any answer), each listed once per extra request."""
    extra = Counter(keys(server)) - Counter(set(keys(server)))
    assert extra == Counter(repeated), f"keys received more than once: {dict(extra)}"


def attempt_keys(run: Run, node: str) -> list[str]:
    """The keys the started attempts of ``node`` carry, ``run:node:attempt``."""
    return [f"{run.pk}:{node}:{attempt}" for attempt in started_attempts(run, node)]


def call(url: str, retry: dict[str, Any] | None = None) -> dict[str, Any]:
    """A code.function node that POSTs to ``url`` (a template) with the attempt's key
    (tests/faults/functions.py), with a retry policy if given."""
    node: dict[str, Any] = {
        "type": "code.function",
        "config": {"function": "faults.call", "args": {"url": url}},
    }
    return node | ({"retry": retry} if retry else {})
