"""Dashboard figures and metrics at 100,000 runs: milliseconds per ``GET /api/stats/`` (24 h and
7 d windows, staff and a granted viewer) and per ``/metrics`` scrape, through Django's test
clients. Runs are spread evenly over 30 days, three steps each (one in seven retried once).

    .venv/bin/python bench/stats.py                 # embedded (SQLite)
    .venv/bin/python bench/stats.py --scale-out     # PostgreSQL
"""

import random
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script
from bench.harness import Bench, arguments, summary  # noqa: E402


def timed(client, url: str, params: dict, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url, params)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:300]
    return times


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--windows", default="24h,7d", help="comma-separated, e.g. 24h")
    args = parser.parse_args()
    bench = Bench(args.scale_out, args.workers)
    try:
        from django.contrib.auth.models import User
        from django.test import Client
        from django.test.utils import setup_test_environment
        from django.utils import timezone
        from rest_framework.test import APIClient

        from designer.models import Role, WorkflowGrant
        from designer.services import do_create_workflow
        from engine.metrics import collector
        from engine.models import Run, StepRun

        setup_test_environment()
        rng = random.Random(8)  # noqa: S311  (bench data, not secrets)
        owner = Bench.owner()
        graph = {
            "format": 1,
            "nodes": [{"id": "start", "type": "trigger.manual", "config": {}}],
            "edges": [],
        }
        workflows = [
            do_create_workflow(actor=owner, name=f"wf {i} {uuid.uuid4().hex[:4]}", graph=graph)
            for i in range(20)
        ]
        versions = [w.versions.get() for w in workflows]
        # Fixed times, not "now": the bench writes history.
        Run._meta.get_field("created_at").auto_now_add = False
        now = timezone.now()
        span = timedelta(days=30).total_seconds()
        statuses = ["succeeded"] * 8 + ["failed", "cancelled"]
        started = time.perf_counter()
        for first in range(0, args.runs, 5000):
            runs = []
            for i in range(first, min(first + 5000, args.runs)):
                wf = i % len(workflows)
                created = now - timedelta(seconds=span * (args.runs - i) / args.runs)
                runs.append(
                    Run(
                        workflow=workflows[wf],
                        version=versions[wf],
                        status=statuses[i % 10],
                        input={},
                        created_at=created,
                        started_at=created + timedelta(seconds=1),
                        finished_at=created + timedelta(seconds=rng.uniform(2, 120)),
                    )
                )
            Run.objects.bulk_create(runs)
            steps = []
            for run in Run.objects.filter(pk__gte=runs[0].pk).order_by("id")[: len(runs)]:
                for n, node in enumerate(("a", "b", "c")):
                    begun = run.created_at + timedelta(seconds=1 + n * 0.5, milliseconds=20)
                    steps.append(
                        StepRun(
                            run=run,
                            node_id=node,
                            type="code.function",
                            status=run.status if run.status != "cancelled" else "cancelled",
                            attempt=2 if (run.pk + n) % 7 == 0 else 1,
                            queued_at=begun - timedelta(milliseconds=rng.uniform(2, 200)),
                            started_at=begun,
                            finished_at=begun + timedelta(seconds=rng.uniform(0.01, 0.4)),
                        )
                    )
            StepRun.objects.bulk_create(steps)
        print(
            f"{Run.objects.count()} runs and {StepRun.objects.count()} steps in "
            f"{len(workflows)} workflows over 30 days, inserted in "
            f"{time.perf_counter() - started:.1f} s"
        )

        viewer = User.objects.create_user(f"viewer-{uuid.uuid4().hex[:6]}")
        for wf in workflows[:5]:
            WorkflowGrant.objects.create(workflow=wf, user=viewer, role=Role.VIEWER)
        staff = User.objects.create_superuser(f"staff-{uuid.uuid4().hex[:6]}")
        for who, user in (("staff", staff), ("granted viewer", viewer)):
            client = APIClient()
            client.force_authenticate(user)
            for window in args.windows.split(","):
                client.get("/api/stats/", {"window": window})  # warm-up, not counted
                times = timed(client, "/api/stats/", {"window": window}, args.repeat)
                print(f"{who:>15}: /api/stats/?window={window}: {summary(times)}")
        client = Client()
        client.force_login(staff)
        collector.reset()
        first = timed(client, "/metrics", {}, 1)[0]
        later = timed(client, "/metrics", {}, args.repeat)
        print(f"/metrics: first scrape (whole history) {first:.0f} ms; later {summary(later)}")
    finally:
        bench.close()


if __name__ == "__main__":
    main()
