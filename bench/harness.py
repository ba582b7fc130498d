"""What the benchmarks share: a fresh database in either mode, real worker processes
(``manage.py flowdeck_worker``) started and stopped, Django set up in the benchmark process."""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = "postgresql://postgres@127.0.0.1:5432"


def arguments(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--scale-out", action="store_true", help="PostgreSQL + Redis on 127.0.0.1")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    return parser


class Bench:
    """A fresh data dir (and PostgreSQL database), migrated, with Django set up here."""

    def __init__(self, scale_out: bool, workers: int) -> None:
        self.scale_out = scale_out
        self.data_dir = tempfile.mkdtemp(prefix="flowdeck-bench-")
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env |= {"FLOWDECK_DATA_DIR": self.data_dir, "FLOWDECK_WORKERS": str(workers)}
        self.db_name = None
        if scale_out:
            import psycopg

            self.db_name = f"flowdeck_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.db_name}"')
            env["DATABASE_URL"] = f"{PG}/{self.db_name}"
            env["REDIS_URL"] = "redis://127.0.0.1:6379/13"
            env["FLOWDECK_QUEUE"] = self.db_name
        self.env = env
        self.workers: subprocess.Popen | None = None
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flowdeck.settings")
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True
        )
        import django

        django.setup()
        from django.conf import settings

        mode = (
            "scale-out (PostgreSQL + Redis)" if scale_out else "embedded (SQLite WAL, ORM broker)"
        )
        print(f"mode: {mode}; {settings.Q_CLUSTER['workers']} workers; {os.cpu_count()} cores")

    def start_workers(self, ready: bool = True, **env: str) -> None:
        """Start the worker processes; with ``ready``, wait until they run a first task (a
        normal-priority one: it waits behind whatever is queued)."""
        self.workers = subprocess.Popen(
            [sys.executable, "manage.py", "flowdeck_worker"],
            cwd=ROOT,
            env={**self.env, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        if not ready:
            return
        from django_q.tasks import async_task, result

        # The first task waits for the cluster to be up.
        assert result(async_task("math.floor", 1.5), wait=60_000) == 1

    def kill_workers(self) -> float:
        """kill -9 the worker process group; returns the moment (time.time())."""
        assert self.workers is not None
        moment = time.time()
        os.killpg(self.workers.pid, signal.SIGKILL)
        self.workers.wait(10)
        self.workers = None
        return moment

    def stop_workers(self) -> None:
        if self.workers is None:
            return
        # The main process only: it stops its sentinel and workers in order.
        self.workers.send_signal(signal.SIGTERM)
        self.workers.wait(120)
        self.workers = None

    def close(self) -> None:
        self.stop_workers()
        if self.db_name:
            from django.db import connections

            connections.close_all()
            import psycopg

            with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')

    @staticmethod
    def owner():
        from django.contrib.auth.models import User

        return User.objects.get_or_create(username="bench")[0]

    @staticmethod
    def wait_run(run_id: int, timeout: float = 600):
        from engine.models import Run

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = Run.objects.get(pk=run_id)
            if run.is_terminal:
                return run
            time.sleep(0.05)
        raise TimeoutError(f"run {run_id} did not end in {timeout} s")


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def summary(values: Sequence[float]) -> str:
    return f"p50 {statistics.median(values):.1f} ms, p95 {percentile(values, 0.95):.1f} ms"
