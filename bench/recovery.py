"""Recovery: seconds from ``kill -9`` of the whole worker process group, while a step runs,
to that step running again on restarted workers (with the default lease and sweeper).

    .venv/bin/python bench/recovery.py                 # embedded (SQLite, ORM broker)
    .venv/bin/python bench/recovery.py --scale-out     # PostgreSQL + Redis on 127.0.0.1

The workers are restarted at once, as supervisord or systemd would; the lost attempt is
found when its lease (FLOWDECK_LEASE_S, default 15 s) has expired, by the sweeper that runs
every FLOWDECK_SWEEP_INTERVAL_S (1 s) in every worker process.
"""

import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script
from bench.harness import Bench, arguments  # noqa: E402


def graph() -> dict:
    slow = {
        "id": "slow",
        "type": "code.function",
        "config": {"function": "examples.sleep", "args": {"seconds": 120}},
        "retry": {"max_attempts": 2, "backoff_s": 0},
    }
    return {
        "format": 1,
        "nodes": [{"id": "start", "type": "trigger.manual", "config": {}}, slow],
        "edges": [{"id": "e", "source": "start", "target": "slow"}],
    }


def one_recovery(bench: Bench) -> float:
    from designer.services import do_create_workflow
    from engine.models import StepRun, Trigger
    from engine.transitions import do_start_run

    wf = do_create_workflow(
        actor=Bench.owner(), name=f"crash {uuid.uuid4().hex[:6]}", graph=graph()
    )
    run, _ = do_start_run(version=wf.versions.get(), input={}, trigger=Trigger.API, actor=None)
    step = StepRun.objects.get(run=run, node_id="slow")
    while not (step.status == "running" and step.attempt == 1):
        time.sleep(0.02)
        step.refresh_from_db()
    killed_at = bench.kill_workers()
    bench.start_workers()
    while not (step.status == "running" and step.attempt == 2):
        time.sleep(0.05)
        step.refresh_from_db()
    seconds = step.started_at.timestamp() - killed_at
    from engine.transitions import do_cancel_run

    do_cancel_run(run.pk, actor=None)  # the 120 s sleeper is not needed any more
    return seconds


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=3)
    args = parser.parse_args()
    bench = Bench(args.scale_out, args.workers)
    try:
        bench.start_workers()
        samples = [one_recovery(bench) for _ in range(args.samples)]
        print(
            f"kill -9 -> the step running again: median {statistics.median(samples):.1f} s, "
            f"max {max(samples):.1f} s ({', '.join(f'{s:.1f}' for s in samples)})"
        )
    finally:
        bench.close()


if __name__ == "__main__":
    main()
