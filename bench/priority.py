"""Run priorities: a backlog of 1,000 normal steps is queued, then a three-step run is
started at a priority, then the workers start. How long (and behind how many backlog steps)
the run waits for its first step, and how long it takes, at normal and at urgent priority.

    .venv/bin/python bench/priority.py                 # embedded (SQLite, ORM broker)
    .venv/bin/python bench/priority.py --scale-out     # PostgreSQL + Redis on 127.0.0.1

The backlog is one run's fan-out of 1,000 ``code.function`` no-op steps (blocking steps: one
task each), planned in this process with the workers stopped, so all of it waits in the
queue. The probe is ``trigger > a > b > c`` of no-op functions.
"""

import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script
from bench.harness import Bench, arguments  # noqa: E402

BACKLOG = 1000


def graph(branches: list[str], chain: bool) -> dict:
    nodes = [{"id": "start", "type": "trigger.manual", "config": {}}]
    nodes += [
        {"id": n, "type": "code.function", "config": {"function": "examples.noop"}}
        for n in branches
    ]
    order = ["start", *branches]
    pairs = zip(order, order[1:], strict=False) if chain else (("start", n) for n in branches)
    edges = [{"id": f"e{i}", "source": a, "target": b} for i, (a, b) in enumerate(pairs)]
    return {"format": 1, "nodes": nodes, "edges": edges}


def trial(bench: Bench, backlog_version, probe_version, priority: str) -> dict:
    from engine import tasks
    from engine.models import StepRun, Trigger
    from engine.transitions import do_start_run

    backlog, _ = do_start_run(version=backlog_version, input={}, trigger=Trigger.API, actor=None)
    trigger = StepRun.objects.get(run=backlog, node_id="start")
    tasks.execute_attempt(trigger.pk, trigger.attempt)  # plans the fan-out: 1,000 queued
    queued = StepRun.objects.filter(run=backlog, status="queued").count()
    probe, _ = do_start_run(
        version=probe_version, input={}, trigger=Trigger.API, actor=None, priority=priority
    )
    bench.start_workers(ready=False)
    try:
        probe = Bench.wait_run(probe.pk, timeout=900)
        backlog = Bench.wait_run(backlog.pk, timeout=900)
    finally:
        bench.stop_workers()
    assert probe.status == backlog.status == "succeeded", (probe.error, backlog.error)
    work = StepRun.objects.filter(run=backlog).exclude(node_id="start")
    probe_steps = {s.node_id: s for s in StepRun.objects.filter(run=probe)}
    probe_first = probe_steps["start"].started_at
    # From the first step the workers ran, whichever it was.
    first = min(probe_first, *(s.started_at for s in work))
    return {
        "queued": queued,
        "wait_ms": (probe_first - first).total_seconds() * 1000,
        "behind": work.filter(started_at__lt=probe_first).count(),
        "probe_s": (probe_steps["c"].finished_at - probe_first).total_seconds(),
        "drain_s": (max(s.finished_at for s in work) - first).total_seconds(),
        "steps_per_s": len(work) / (max(s.finished_at for s in work) - first).total_seconds(),
    }


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=3, help="trials per priority (default 3)")
    args = parser.parse_args()
    bench = Bench(args.scale_out, args.workers)
    try:
        from designer.services import do_create_workflow

        owner = Bench.owner()
        tag = uuid.uuid4().hex[:6]
        backlog = do_create_workflow(
            actor=owner,
            name=f"backlog {tag}",
            graph=graph([f"b{i}" for i in range(BACKLOG)], chain=False),
        ).versions.get()
        probe = do_create_workflow(
            actor=owner, name=f"probe {tag}", graph=graph(["a", "b", "c"], chain=True)
        ).versions.get()
        results = {}
        for priority in ("normal", "urgent"):
            results[priority] = [trial(bench, backlog, probe, priority) for _ in range(args.trials)]
        for priority, rows in results.items():
            med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
            print(
                f"{priority:>7} probe: first step started after {med['wait_ms']:.0f} ms, "
                f"behind {med['behind']:.0f} of {med['queued']:.0f} queued backlog steps; "
                f"the probe ran its 4 steps in {med['probe_s']:.2f} s; "
                f"the backlog drained in {med['drain_s']:.1f} s ({med['steps_per_s']:.0f} "
                f"steps/s; medians of {len(rows)})"
            )
        normal, urgent = (
            statistics.median(r["wait_ms"] for r in results[p]) for p in ("normal", "urgent")
        )
        print(
            f"urgent waits {urgent:.0f} ms, normal {normal:.0f} ms: "
            f"{urgent / normal:.4f} x ({time.strftime('%F')})"
        )
    finally:
        bench.close()


if __name__ == "__main__":
    main()
