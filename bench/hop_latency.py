"""Hop latency: a 100-step sequential run of no-op steps; how long from one step done to the
next running, beside raw django-q2 tasks chaining each other on the same broker.

    .venv/bin/python bench/hop_latency.py                 # embedded (SQLite, ORM broker)
    .venv/bin/python bench/hop_latency.py --scale-out     # PostgreSQL + Redis on 127.0.0.1

The engine is measured twice: as configured (a worker that finishes a step runs the next one
itself, FLOWDECK_INLINE_BUDGET_S=5) and with every hop through the broker (budget 0).
"""

import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script
from bench.harness import Bench, arguments, summary  # noqa: E402


def chain_graph(steps: int) -> dict:
    nodes = [{"id": "start", "type": "trigger.manual", "config": {}}]
    nodes += [
        {"id": f"s{i}", "type": "code.function", "config": {"function": "examples.noop"}}
        for i in range(steps)
    ]
    order = [n["id"] for n in nodes]
    edges = [
        {"id": f"e{i}", "source": a, "target": b}
        for i, (a, b) in enumerate(zip(order, order[1:], strict=False))
    ]
    return {"format": 1, "nodes": nodes, "edges": edges}


def engine_hops(steps: int, runs: int) -> tuple[list[float], list[float]]:
    from designer.services import do_create_workflow
    from engine.models import StepRun, Trigger
    from engine.transitions import do_start_run

    wf = do_create_workflow(
        actor=Bench.owner(), name=f"chain {uuid.uuid4().hex[:6]}", graph=chain_graph(steps)
    )
    version = wf.versions.get()
    hops, totals = [], []
    for _ in range(runs):
        run, _ = do_start_run(version=version, input={}, trigger=Trigger.API, actor=None)
        run = Bench.wait_run(run.pk)
        assert run.status == "succeeded", run.error
        rows = {s.node_id: s for s in StepRun.objects.filter(run=run)}
        order = ["start", *(f"s{i}" for i in range(steps))]
        for a, b in zip(order, order[1:], strict=False):
            hops.append((rows[b].started_at - rows[a].finished_at).total_seconds() * 1000)
        totals.append((run.finished_at - run.created_at).total_seconds())
    return hops, totals


def raw_hops(steps: int, runs: int) -> tuple[list[float], list[float]]:
    from django.core.cache import cache
    from django_q.tasks import async_task

    hops, totals = [], []
    for _ in range(runs):
        key = f"bench:{uuid.uuid4().hex}"
        started = time.time()
        async_task("bench.raw_tasks.hop", steps, key, time.time(), save=False)
        while len(cache.get(key, [])) < steps + 1:
            time.sleep(0.01)
        totals.append(time.time() - started)
        hops += [seconds * 1000 for seconds in cache.get(key)[1:]]  # after the first link
    return hops, totals


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    bench = Bench(args.scale_out, args.workers)
    try:
        rows = []
        bench.start_workers()
        raw, raw_total = raw_hops(args.steps, args.runs)
        rows.append(("raw django-q2 chain", raw, raw_total))
        inline, inline_total = engine_hops(args.steps, args.runs)
        rows.append(("engine (inline budget 5 s)", inline, inline_total))
        bench.stop_workers()
        bench.start_workers(FLOWDECK_INLINE_BUDGET_S="0")
        queued, queued_total = engine_hops(args.steps, args.runs)
        rows.append(("engine, every hop queued", queued, queued_total))
        print(f"{args.runs} runs of {args.steps} sequential no-op steps")
        for name, hops, total in rows:
            print(
                f"  {name:<28} hop {summary(hops)}; "
                f"run of {args.steps} steps: median {statistics.median(total):.2f} s"
            )
    finally:
        bench.close()


if __name__ == "__main__":
    main()
