"""Step logs: what ``ctx.log`` costs a step, what storing an attempt's lines costs its record
transaction, and how long the logs endpoint takes at the caps. In-process (no workers): the
attempts are executed here, one after the other, as a worker would.

    .venv/bin/python bench/step_logs.py                 # embedded (SQLite WAL)
    .venv/bin/python bench/step_logs.py --scale-out     # PostgreSQL
"""

import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script
from bench.harness import Bench, arguments, summary  # noqa: E402

STEPS = 60


def log_call_cost() -> None:
    from engine.steplogs import LogBuffer

    opened = ["tok-1a2b3c4d5e", "pw-9f8e7d"]
    for label, secrets in [("no secret", []), ("2 secrets opened", opened)]:
        buffer, count = LogBuffer(), 100_000
        started = time.perf_counter()
        for n in range(count):
            buffer.add(f"row {n} read from the ledger", "info", secrets)
        per_line = (time.perf_counter() - started) / count * 1e6
        print(f"ctx.log, {label}: {per_line:.1f} µs a line (100,000 lines, 200 kept)")


def attempt_cost(lines: int) -> list[float]:
    """ms per attempt (claim, execute in a thread, record) of a chain of code.function steps
    that each log ``lines`` lines."""
    from designer.services import do_create_workflow
    from engine import tasks
    from engine.functions import FUNCTIONS
    from engine.models import StepRun, Trigger
    from engine.transitions import do_start_run

    def chatty(ctx, n: int) -> None:
        for i in range(n):
            ctx.log(f"line {i} of the attempt")

    FUNCTIONS["bench.chatty"] = chatty
    call = {"type": "code.function", "config": {"function": "bench.chatty", "args": {"n": lines}}}
    nodes = [{"id": "start", "type": "trigger.manual", "config": {}}]
    nodes += [{"id": f"s{i}", **call} for i in range(STEPS)]
    edges = [
        {"id": f"e{i}", "source": "start" if i == 0 else f"s{i - 1}", "target": f"s{i}"}
        for i in range(STEPS)
    ]
    graph = {"format": 1, "nodes": nodes, "edges": edges}
    wf = do_create_workflow(actor=Bench.owner(), name=f"logs {uuid.uuid4().hex[:6]}", graph=graph)
    run, _ = do_start_run(version=wf.versions.get(), input={}, trigger=Trigger.API, actor=None)
    times = []
    while True:
        queued = list(
            StepRun.objects.filter(run=run, status="queued").values_list("pk", "attempt", "type")
        )
        if not queued:
            return times
        for pk, attempt, type_ in queued:
            started = time.perf_counter()
            tasks.execute_attempt(pk, attempt)
            if type_ == "code.function":
                times.append((time.perf_counter() - started) * 1000)


def insert_cost(lines: int) -> list[float]:
    """ms to store one attempt's log row of ``lines`` lines of 100 characters inside a
    transaction (its commit not counted: the outcome's transaction commits anyway): what
    recording an outcome pays on top when the attempt logged."""
    from django.db import transaction

    from engine.models import StepLog, StepRun

    step = StepRun.objects.filter(type="code.function").last()
    rows = [{"t": "2026-01-01T00:00:00.000000Z", "level": "info", "message": "z" * 100}] * lines
    times = []
    for attempt in range(1000, 1100):
        with transaction.atomic():
            started = time.perf_counter()
            StepLog.objects.create(step=step, attempt=attempt, lines=rows)
            times.append((time.perf_counter() - started) * 1000)
    StepLog.objects.filter(step=step, attempt__gte=1000).delete()
    return times


def endpoint_cost() -> None:
    """GET /api/runs/{id}/steps/{node}/logs/ for a step with 5 attempts of 200 full lines."""
    from rest_framework.test import APIClient

    from engine.models import StepLog, StepRun

    step = StepRun.objects.filter(type="code.function").first()
    # At the caps: 200 lines of 250 characters (the 50,000 an attempt), 5 attempts kept.
    full = [{"t": "2026-01-01T00:00:00Z", "level": "info", "message": "y" * 250}] * 200
    StepLog.objects.filter(step=step).delete()
    for attempt in range(1, 6):
        StepLog.objects.create(step=step, attempt=attempt, lines=full, dropped=0)
    client = APIClient(HTTP_HOST="localhost")  # an allowed host (FLOWDECK_ALLOWED_HOSTS)
    client.force_authenticate(Bench.owner())
    url = f"/api/runs/{step.run_id}/steps/{step.node_id}/logs/"
    times = []
    for _ in range(50):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    size = len(response.content)
    print(f"logs endpoint, 5 attempts x 200 lines ({size // 1024} KiB): {summary(times)}")


def main() -> None:
    args = arguments(__doc__).parse_args()
    bench = Bench(args.scale_out, args.workers)
    try:
        log_call_cost()
        for lines in (0, 10, 200):
            times = attempt_cost(lines)
            print(
                f"code.function attempt logging {lines:>3} lines: {summary(times)}"
                f" (mean {statistics.mean(times):.1f} ms, {len(times)} steps)"
            )
        for lines in (1, 10, 200):
            print(f"storing a log row of {lines:>3} lines: {summary(insert_cost(lines))}")
        endpoint_cost()
    finally:
        bench.close()


if __name__ == "__main__":
    main()
