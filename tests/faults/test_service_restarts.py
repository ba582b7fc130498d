"""Fault 3 of issue 10: Redis and PostgreSQL restart under load, in scale-out mode.

Black-box tests of real processes: daphne (tests/workers.py ``WebServer``) and a worker cluster
(``Workers``: django-q2 plus the engine's sweeper) run on a private Redis and a private
PostgreSQL cluster that these tests start and restart (tests/faults/private_services.py), never
the machine's shared ones. The schema is made by ``manage.py migrate``, the user by
``manage.py flowdeck_token``, the workflow and runs through the API; the tests read the
outcome through the API and the event log (SQL on the private database).

- Redis keeps nothing on disk, so a restart loses every task queued in it: the sweeper
  (engine/recovery.py ``requeue_stale``) enqueues again every step queued too long, and every
  run completes, each step succeeding once.
- A PostgreSQL restart cuts every connection of every process: web and workers reconnect on
  their own, and every run completes.

Scale-out only: the embedded mode has neither server. In test.sh's second pass.
"""

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
import redis
from django.conf import settings

from tests.faults.private_services import PrivateServices, require_binaries
from tests.helpers import free_port, wait_until
from tests.workers import ROOT, WebServer, Workers

pytestmark = pytest.mark.scaleout

RUNS = 6


def sleep(seconds: float) -> dict:
    return {
        "type": "code.function",
        "config": {"function": "examples.sleep", "args": {"seconds": seconds}},
    }


# start, four branches that work a while in parallel (more tasks than the workers take from
# Redis ahead, so that some wait there), a join, then one more step.
BRANCHES = ["b1", "b2", "b3", "b4"]
GRAPH = {
    "format": 1,
    "nodes": [
        {"id": "start", "type": "trigger.manual", "config": {}},
        *({"id": branch, **sleep(0.3)} for branch in BRANCHES),
        {"id": "join", "type": "data.transform", "config": {"value": "{{ input.n }}"}},
        {"id": "last", **sleep(0.1)},
    ],
    "edges": [
        *({"id": f"s{branch}", "source": "start", "target": branch} for branch in BRANCHES),
        *({"id": f"j{branch}", "source": branch, "target": "join"} for branch in BRANCHES),
        {"id": "last", "source": "join", "target": "last"},
    ],
}
NODES = {node["id"] for node in GRAPH["nodes"]}


class Stack:
    """The private servers, the schema, daphne and one worker cluster; alice's token and
    workflow."""

    def __init__(self, services: PrivateServices, logs: Path) -> None:
        self.services = services
        self.database_url = services.postgres.create_database("flowdeck")
        self.env = {
            "DATABASE_URL": self.database_url,
            "REDIS_URL": services.redis.url,
            "FLOWDECK_QUEUE": "flowdeck-faults",
            "FLOWDECK_DATA_DIR": str(services.directory / "var"),
            "FLOWDECK_API_RATE_USER": "off",
            "FLOWDECK_API_RATE_ANON": "off",
            "FLOWDECK_WORKERS": "2",  # two cores shared by the whole machine
            "DJANGO_SETTINGS_MODULE": "flowdeck.settings",
        }
        # One process for both: each Django start costs seconds on a busy machine.
        self.token = self.manage(
            "shell",
            "--no-imports",
            "-c",
            "from django.core.management import call_command as call; "
            "call('migrate', interactive=False, verbosity=0); "
            "call('flowdeck_token', 'alice', create_user=True)",
        ).strip()
        self.web = WebServer(logs / "daphne.log", free_port(), **self.env)
        self.workers = Workers(logs / "worker.log", **self.env)
        # Not the pytest-django test database that tests/worker_settings.py points at.
        for process in (self.web, self.workers):
            process.env["DJANGO_SETTINGS_MODULE"] = "flowdeck.settings"

    def start(self) -> None:
        """Start daphne and the workers (``close`` stops whichever did start), and create
        alice's workflow."""
        self.web.start()
        self.workers.start()
        created = self.api("POST", "/api/workflows/", json={"name": "load", "graph": GRAPH})
        assert created.status_code == 201, created.text
        self.workflow = created.json()["id"]

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert result.returncode == 0, f"manage.py {args[0]} failed:\n{result.stderr[-3000:]}"
        return result.stdout

    def api(self, method: str, path: str, **kwargs) -> httpx.Response:
        headers = {"Authorization": f"Token {self.token}"}
        return httpx.request(method, self.web.url + path, headers=headers, timeout=30, **kwargs)

    def sql(self, query: str, *params) -> list[tuple]:
        # A connection per query: the tests restart the server under it.
        url = self.database_url.replace("postgres://", "postgresql://")
        with psycopg.connect(url, connect_timeout=5) as connection:
            return connection.execute(query, params).fetchall()

    def start_run(self, n: int) -> int:
        response = self.api(
            "POST", f"/api/workflows/{self.workflow}/runs/", json={"input": {"n": n}}
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def running(self, run_ids: list[int]) -> int:
        rows = self.sql(
            "SELECT count(*) FROM engine_steprun WHERE run_id = ANY(%s) AND status = 'running'",
            run_ids,
        )
        return rows[0][0]

    def tasks_in_redis(self) -> int:
        """Tasks waiting in the broker's list (the workers hold a few more they took)."""
        # django-q2's Redis broker keeps a queue's tasks in the list django_q:<name>:q.
        key = f"django_q:{self.env['FLOWDECK_QUEUE']}:q"
        return redis.Redis.from_url(self.services.redis.url).llen(key)

    def all_ended(self, run_ids: list[int], timeout: float = 90) -> dict[int, str]:
        def ended() -> dict[int, str] | None:
            rows = dict(self.sql("SELECT id, status FROM engine_run WHERE id = ANY(%s)", run_ids))
            terminal = {"succeeded", "failed", "cancelled"}
            return rows if all(status in terminal for status in rows.values()) else None

        return wait_until(ended, timeout=timeout, interval=0.5, what="every run to end")

    def successes(self, run_ids: list[int]) -> dict[tuple[int, str], int]:
        """How many times each step of the runs succeeded, from the event log."""
        rows = self.sql(
            "SELECT run_id, node_id, count(*) FROM engine_runevent"
            " WHERE run_id = ANY(%s) AND type = 'step.succeeded' GROUP BY run_id, node_id",
            run_ids,
        )
        return {(run, node): count for run, node, count in rows}

    def close(self) -> None:
        # kill -9: these processes and their servers are thrown away; a graceful stop of the
        # cluster costs seconds.
        if self.workers.process is not None and self.workers.process.poll() is None:
            self.workers.kill()
        self.web.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    if settings.EMBEDDED:
        pytest.skip(
            "Redis and PostgreSQL restarts are faults of the scale-out mode: the embedded mode "
            "has neither (test.sh's second pass runs these)"
        )
    require_binaries()
    services = PrivateServices()
    built = None
    try:
        services.start()
        built = Stack(services, tmp_path_factory.mktemp("service-restarts"))
        built.start()
        yield built
    finally:
        try:
            if built is not None:
                built.close()
        finally:
            services.close()


def assert_all_succeeded_once(stack: Stack, run_ids: list[int]) -> None:
    statuses = stack.all_ended(run_ids)
    assert set(statuses.values()) == {"succeeded"}, statuses
    expected = {(run, node): 1 for run in run_ids for node in NODES}
    assert stack.successes(run_ids) == expected


def requeued(stack: Stack) -> int:
    """How many lost steps the sweeper enqueued again, from the workers' log."""
    found = re.findall(r"sweep: \{[^}]*'requeued': (\d+)", stack.workers.log_path.read_text())
    return sum(map(int, found))


def test_after_redis_restarts_empty_the_sweeper_requeues_the_lost_steps_and_every_run_completes(
    stack,
):
    initial = requeued(stack)
    runs = [stack.start_run(n) for n in range(RUNS)]
    lost = wait_until(
        lambda: stack.running(runs) and stack.tasks_in_redis(),
        timeout=30,
        what="steps running and tasks waiting in Redis",
    )
    before = requeued(stack)

    stack.services.redis.kill()
    # While Redis is down a run is still accepted: its hand-over to the queue failed after the
    # commit, and the sweeper repeats it.
    runs.append(stack.start_run(100))
    stack.services.redis.start()

    assert_all_succeeded_once(stack, runs)
    # Each task Redis lost was enqueued again by the sweeper: nothing else enqueues a step a
    # second time. Except the steps it had already enqueued twice before the kill (queued for
    # FLOWDECK_REQUEUE_AFTER_S on a slow machine), whose other copy may have run; and one
    # task may have reached a worker between the count and the kill, for which the late
    # run's first step makes up.
    assert requeued(stack) - before >= lost - (before - initial)
    # The web and the workers use the new Redis: a run started now completes.
    after = stack.start_run(101)
    assert_all_succeeded_once(stack, [after])


def test_after_postgresql_restarts_web_and_workers_reconnect_and_every_run_completes(stack):
    runs = [stack.start_run(n) for n in range(RUNS)]
    wait_until(lambda: stack.running(runs), timeout=30, what="steps running")

    stack.services.postgres.restart()

    # The web's first request after the restart is answered: its dead connection is replaced.
    listed = stack.api("GET", f"/api/runs/?workflow={stack.workflow}")
    assert listed.status_code == 200, listed.text
    assert_all_succeeded_once(stack, runs)
    after = stack.start_run(200)
    assert_all_succeeded_once(stack, [after])
    health = wait_until(
        lambda: (r := stack.api("GET", "/healthz")).status_code == 200 and r.json(),
        timeout=30,
        what="/healthz to answer 200",
    )
    assert health["workers"]["ok"]
