"""Queue round trip through real django-q2 workers: latency of one task and throughput of many.

    .venv/bin/python bench/queue_roundtrip.py                 # embedded (SQLite, ORM broker)
    .venv/bin/python bench/queue_roundtrip.py --scale-out     # PostgreSQL + Redis on 127.0.0.1

Starts its own worker cluster (`manage.py serve --no-web`) on a fresh data dir (and a fresh
PostgreSQL database), measures, prints figures, and stops everything it started.
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = "postgresql://postgres@127.0.0.1:5432"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale-out", action="store_true")
    parser.add_argument("--latency-samples", type=int, default=200)
    parser.add_argument("--throughput-tasks", type=int, default=1000)
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="flowdeck-bench-")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["FLOWDECK_DATA_DIR"] = data_dir
    env["FLOWDECK_LOG_LEVEL"] = "WARNING"
    db_name = None
    if args.scale_out:
        import psycopg

        db_name = f"flowdeck_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{db_name}"')
        env["DATABASE_URL"] = f"{PG}/{db_name}"
        env["REDIS_URL"] = "redis://127.0.0.1:6379/13"
        env["FLOWDECK_QUEUE"] = db_name
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flowdeck.settings")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    workers = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--no-web"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        import django

        django.setup()
        from django.conf import settings
        from django_q.tasks import async_task, result

        mode = "scale-out (PostgreSQL + Redis)" if args.scale_out else "embedded (SQLite, ORM)"
        print(f"mode: {mode}; {settings.Q_CLUSTER['workers']} workers; {os.cpu_count()} cores")
        # Warm up: the first task waits for the cluster to start.
        assert result(async_task("math.floor", 1.5), wait=60_000) == 1

        latencies = []
        for _ in range(args.latency_samples):
            started = time.perf_counter()
            assert result(async_task("math.floor", 2.5), wait=10_000) == 2
            latencies.append((time.perf_counter() - started) * 1000)
        latencies.sort()
        p95 = latencies[int(len(latencies) * 0.95) - 1]
        print(
            f"round trip (enqueue -> result seen), {len(latencies)} samples: "
            f"median {statistics.median(latencies):.1f} ms, p95 {p95:.1f} ms"
        )

        started = time.perf_counter()
        ids = [async_task("math.floor", 3.5) for _ in range(args.throughput_tasks)]
        for task_id in ids:
            assert result(task_id, wait=120_000) == 3
        elapsed = time.perf_counter() - started
        print(
            f"throughput: {args.throughput_tasks} tasks in {elapsed:.1f} s = "
            f"{args.throughput_tasks / elapsed:.0f} tasks/s"
        )
    finally:
        workers.send_signal(signal.SIGINT)
        workers.wait(timeout=120)
        if db_name:
            from django.db import connections

            connections.close_all()
            import psycopg

            with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
