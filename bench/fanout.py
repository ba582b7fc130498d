"""Fan-out: one run with 1,000 parallel no-op steps and a join; steps per second, as a ratio to
raw django-q2 no-op tasks per second on the same broker and workers.

    .venv/bin/python bench/fanout.py                 # embedded (SQLite, ORM broker)
    .venv/bin/python bench/fanout.py --scale-out     # PostgreSQL + Redis on 127.0.0.1
"""

import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script
from bench.harness import Bench, arguments  # noqa: E402

NOOPS = {
    # A quick step: claimed, executed and recorded in one transaction, batched in tasks.
    "data.transform": {"value": None},
    # A blocking step: user code in a thread with a lease, one task per step.
    "code.function": {"function": "examples.noop"},
}


def fanout_graph(width: int, step_type: str = "code.function") -> dict:
    config = NOOPS[step_type]
    nodes = [{"id": "start", "type": "trigger.manual", "config": {}}]
    nodes += [{"id": f"s{i}", "type": step_type, "config": config} for i in range(width)]
    nodes.append({"id": "join", "type": step_type, "config": config})
    edges = [{"id": f"a{i}", "source": "start", "target": f"s{i}"} for i in range(width)]
    edges += [{"id": f"b{i}", "source": f"s{i}", "target": "join"} for i in range(width)]
    return {"format": 1, "nodes": nodes, "edges": edges}


def engine_rate(width: int, step_type: str) -> tuple[float, float]:
    """Steps per second between the trigger's end and the join's start; and the whole run."""
    from designer.services import do_create_workflow
    from engine.models import StepRun, Trigger
    from engine.transitions import do_start_run

    wf = do_create_workflow(
        actor=Bench.owner(),
        name=f"fanout {uuid.uuid4().hex[:6]}",
        graph=fanout_graph(width, step_type),
    )
    started = time.time()
    run, _ = do_start_run(version=wf.versions.get(), input={}, trigger=Trigger.API, actor=None)
    run = Bench.wait_run(run.pk)
    total = time.time() - started
    assert run.status == "succeeded", run.error
    rows = {s.node_id: s for s in StepRun.objects.filter(run=run, node_id__in=["start", "join"])}
    span = (rows["join"].started_at - rows["start"].finished_at).total_seconds()
    return width / span, total


def raw_rate(count: int) -> float:
    """No-op tasks per second: enqueue them all, wait until the broker has run them all."""
    from django_q.brokers import get_broker
    from django_q.tasks import async_task

    broker = get_broker()
    started = time.time()
    for _ in range(count):
        async_task("bench.raw_tasks.noop", save=False)
    # The queue drains, then the last few finish (no results are saved, as for the engine).
    while broker.queue_size() or broker.lock_size():
        time.sleep(0.01)
    return count / (time.time() - started)


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=1000)
    args = parser.parse_args()
    bench = Bench(args.scale_out, args.workers)
    try:
        bench.start_workers()
        raw = raw_rate(args.width)
        print(f"raw django-q2: {args.width} no-op tasks at {raw:.0f} tasks/s")
        for step_type in NOOPS:
            engine, total = engine_rate(args.width, step_type)
            print(
                f"engine, {args.width} parallel no-op {step_type} steps: {engine:.0f} steps/s, "
                f"ratio to raw {engine / raw:.2f} (run start to end {total:.1f} s)"
            )
    finally:
        bench.close()


if __name__ == "__main__":
    main()
