"""The runs list at 100,000 runs: milliseconds per API page (first, deep, filtered), through
DRF's test client, for staff and for a user who sees the runs through a grant.

    .venv/bin/python bench/runs_list.py                 # embedded (SQLite)
    .venv/bin/python bench/runs_list.py --scale-out     # PostgreSQL
"""

import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script
from bench.harness import Bench, arguments  # noqa: E402


def timed(client, url: str, params: dict, repeat: int = 20) -> tuple[float, dict]:
    times = []
    body = {}
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url, params)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:300]
        body = response.json()
    return statistics.median(times), body


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    args = parser.parse_args()
    bench = Bench(args.scale_out, args.workers)
    try:
        from django.contrib.auth.models import User
        from django.test.utils import setup_test_environment
        from rest_framework.test import APIClient

        from designer.models import Role, WorkflowGrant
        from designer.services import do_create_workflow
        from engine.models import Run

        setup_test_environment()
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
        statuses = ["succeeded"] * 8 + ["failed", "cancelled"]
        started = time.perf_counter()
        batch = []
        for i in range(args.runs):
            wf = i % len(workflows)
            batch.append(
                Run(workflow=workflows[wf], version=versions[wf], status=statuses[i % 10], input={})
            )
            if len(batch) == 5000:
                Run.objects.bulk_create(batch)
                batch = []
        Run.objects.bulk_create(batch)
        print(
            f"{Run.objects.count()} runs in {len(workflows)} workflows, inserted in "
            f"{time.perf_counter() - started:.1f} s"
        )

        viewer = User.objects.create_user(f"viewer-{uuid.uuid4().hex[:6]}")
        for wf in workflows[:5]:
            WorkflowGrant.objects.create(workflow=wf, user=viewer, role=Role.VIEWER)
        staff = User.objects.create_superuser(f"staff-{uuid.uuid4().hex[:6]}")
        for who, user in (("staff", staff), ("granted viewer", viewer)):
            client = APIClient()
            client.force_authenticate(user)
            first, body = timed(client, "/api/runs/", {})
            # Follow the cursor 50 pages deep, then time that page.
            url = body["next"]
            for _ in range(49):
                url = client.get(url).json()["next"]
            deep, _ = timed(client, url, {})
            failed, _ = timed(
                client, "/api/runs/", {"status": "failed", "workflow": workflows[3].pk}
            )
            print(
                f"{who:>15}: first page {first:.1f} ms, page 51 {deep:.1f} ms, "
                f"failed runs of one workflow {failed:.1f} ms (medians of 20, 50 runs per page)"
            )
    finally:
        bench.close()


if __name__ == "__main__":
    main()
