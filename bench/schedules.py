"""What schedules cost the sweeper: milliseconds per ``fire_due_schedules`` call when nothing
is due (every worker process pays it every second), and per slot fired when every schedule is
due at once (a run started for each). Runs are created but not enqueued (no workers).

    .venv/bin/python bench/schedules.py                 # embedded (SQLite)
    .venv/bin/python bench/schedules.py --scale-out     # PostgreSQL
"""

import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script
from bench.harness import Bench, arguments  # noqa: E402


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--schedules", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    bench = Bench(args.scale_out, args.workers)
    try:
        import django_q.tasks
        from django.utils import timezone

        from designer.services import do_create_workflow
        from engine.models import Run, WorkflowSchedule
        from engine.schedules import fire_due_schedules

        # The cost of the schedules, not of the broker: nothing is enqueued.
        django_q.tasks.async_task = lambda *a, **k: None
        owner = Bench.owner()
        graph = {
            "format": 1,
            "nodes": [
                {"id": "start", "type": "trigger.schedule", "config": {"cron": "0 * * * *"}},
                {"id": "work", "type": "data.transform", "config": {"value": 1}},
            ],
            "edges": [{"id": "e1", "source": "start", "target": "work"}],
        }
        started = time.perf_counter()
        for i in range(args.schedules):
            do_create_workflow(actor=owner, name=f"scheduled {i}", graph=graph)
        created = time.perf_counter() - started
        print(f"{args.schedules} scheduled workflows created in {created:.1f} s")

        now = timezone.now()
        idle = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            assert fire_due_schedules(now) == 0
            idle.append((time.perf_counter() - t) * 1000)
        idle.sort()
        print(
            f"nothing due: median {statistics.median(idle):.2f} ms, "
            f"p95 {idle[int(len(idle) * 0.95) - 1]:.2f} ms per fire_due_schedules call"
        )

        # Every schedule due at its current slot: what the sweepers do at the top of the hour.
        slot = now.replace(minute=0, second=0, microsecond=0)
        WorkflowSchedule.objects.update(next_fire_at=slot)
        t = time.perf_counter()
        fired = 0
        while True:
            batch = fire_due_schedules(slot + timedelta(seconds=1))  # on time
            if not batch:
                break
            fired += batch
        elapsed = time.perf_counter() - t
        assert fired == Run.objects.count() == args.schedules, (fired, Run.objects.count())
        print(
            f"all due at once: {fired} runs started in {elapsed:.2f} s "
            f"({elapsed / fired * 1000:.2f} ms per slot, {fired / elapsed:.0f} slots/s)"
        )

        # For comparison: starting the same runs by hand, without the schedule around them.
        from engine import transitions
        from engine.models import Trigger

        versions = [s.version for s in WorkflowSchedule.objects.select_related("version")[:200]]
        t = time.perf_counter()
        for version in versions:
            transitions.do_start_run(version=version, input={}, trigger=Trigger.API, actor=None)
        alone = (time.perf_counter() - t) / len(versions) * 1000
        print(f"for comparison, do_start_run alone: {alone:.2f} ms per run")
    finally:
        bench.close()


if __name__ == "__main__":
    main()
