"""Both deployment modes really start: `manage.py serve` (supervisord, daphne, qcluster) as real
processes, a task really runs on a worker, and Ctrl-C stops everything it started."""

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import PG_URL, REDIS_URL, free_port, require_scaleout_services, wait_until

ROOT = Path(__file__).resolve().parent.parent
MODE_VARS = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "FLOWDECK_DATA_DIR", "FLOWDECK_QUEUE")


def manage(env: dict, *args: str, timeout: float = 120) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stderr}"
    return result.stdout


def processes_in_session(session_id: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        # After the command name: state, ppid, pgrp, session.
        if int(fields[3]) == session_id:
            found.append(int(stat.parent.name))
    return found


@pytest.fixture
def embedded_env(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in MODE_VARS}
    env["FLOWDECK_DATA_DIR"] = str(tmp_path / "var")
    return env


@pytest.fixture
def scaleout_env(tmp_path) -> Iterator[dict]:
    require_scaleout_services()
    import psycopg

    name = f"flowdeck_boot_{uuid.uuid4().hex[:12]}"
    admin_url = PG_URL.replace("postgres://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {k: v for k, v in os.environ.items() if k not in MODE_VARS}
    env.update(
        FLOWDECK_DATA_DIR=str(tmp_path / "var"),
        DATABASE_URL=PG_URL.rsplit("/", 1)[0] + "/" + name,
        REDIS_URL=REDIS_URL,
        # A queue of its own, so nothing else using this Redis database can take its tasks.
        FLOWDECK_QUEUE=name,
    )
    yield env
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Enqueue from a process of its own, then wait (inside django-q2, up to 60 s) for the result.
ROUND_TRIP = (
    "from django_q.tasks import async_task, result; "
    "print(result(async_task('math.hypot', 3, 4), wait=60000))"
)


def boot_run_a_task_and_stop(
    env: dict, expected_vendor: str, expected_broker: str, demo_port: int = 0
) -> None:
    manage(env, "migrate", "--noinput")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)]
        + (["--demo-services", str(demo_port)] if demo_port else []),
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def healthy() -> dict | None:
            response = httpx.get(f"{base}/healthz", timeout=5)
            body = response.json()
            return body if response.status_code == 200 and body["workers"]["ok"] else None

        health = wait_until(healthy, timeout=90, what="/healthz to report live workers")
        assert health["database"]["vendor"] == expected_vendor
        assert health["broker"]["kind"] == expected_broker
        assert health["workers"]["workers"] >= 1

        # Served by daphne: the app asks for a login.
        response = httpx.get(f"{base}/", timeout=5)
        assert response.status_code == 302 and response.headers["location"].startswith("/login/")

        # A task enqueued from another process is executed by the workers.
        assert manage(env, "shell", "--no-imports", "-c", ROUND_TRIP).strip() == "5.0"

        if demo_port:  # the examples' services run beside them
            orders = httpx.get(f"http://127.0.0.1:{demo_port}/orders", timeout=5)
            assert orders.status_code == 200 and orders.json()[0]["id"] == "A-1001"
    finally:
        server.send_signal(signal.SIGINT)
        try:
            output, _ = server.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            output, _ = server.communicate()
            pytest.fail(f"Ctrl-C did not stop the server within 90 s:\n{output.decode()[-3000:]}")
    log = output.decode(errors="replace")
    assert server.returncode == 0, log[-3000:]
    assert "has stopped" in log, "qcluster did not stop gracefully:\n" + log[-3000:]
    leftovers = processes_in_session(server.pid)
    assert leftovers == [], f"processes left running after Ctrl-C: {leftovers}"


def test_the_embedded_mode_starts_runs_a_task_and_stops_on_ctrl_c(embedded_env):
    boot_run_a_task_and_stop(embedded_env, "sqlite", "orm", demo_port=free_port())


@pytest.mark.scaleout
def test_the_scale_out_mode_starts_runs_a_task_and_stops_on_ctrl_c(scaleout_env):
    boot_run_a_task_and_stop(scaleout_env, "postgresql", "redis")
