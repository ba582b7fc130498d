"""Writes a 1,000-step workflow for the designer's large-graph checks (bench/designer_canvas.py).

    .venv/bin/python bench/make_large_workflow.py                     # writes bench/large_1000.json
    .venv/bin/python bench/make_large_workflow.py --nodes 10 --out -  # a small one, to stdout

A manual trigger fans out to parallel lanes; each lane is a row of blocks drawn from the catalog
(HTTP calls guarded by their error handle, conditions and switches that merge again, fan-outs to
a join, approvals, maps over a child workflow, delays, emails, Python functions); every lane ends
in one join and a final email. Laid out left to right on a grid, lanes one under the other. The
same arguments always give the same bytes (a seeded random), so tests/test_large_example.py can
check that the committed file is what this script writes.
"""

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "bench" / "large_1000.json"

COLUMN = 240  # px between columns: a step node is about 170 px wide
ROW = 130  # px between rows: an approval, with three outputs, is about 100 px tall
LANE_ROWS = 4  # the tallest block (a fan-out of four, a switch) is four rows
LANE_GAP = 1  # empty rows between lanes

API = "http://127.0.0.1:9000"
INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["customer", "amount", "region", "lines"],
    "properties": {
        "customer": {"type": "string", "title": "Customer id"},
        "amount": {"type": "number", "minimum": 0, "title": "Amount (EUR)"},
        "region": {"type": "string", "enum": ["eu", "us", "apac"], "title": "Region"},
        "lines": {"type": "array", "items": {"type": "object"}, "title": "Order lines"},
    },
}
TOPICS = ["orders", "billing", "stock", "risk", "crm", "shipping", "tax", "returns", "loyalty"]


class Builder:
    """Appends nodes and edges; a block returns the id its successors hang from."""

    def __init__(self, seed: int) -> None:
        # Seeded for repeatable layouts, not secrets.
        self.random = random.Random(seed)  # noqa: S311
        self.nodes: list[dict[str, Any]] = []
        self.edges: list[dict[str, Any]] = []
        self.serial = 0

    def node(
        self, kind: str, type_: str, label: str, col: int, row: int, config: dict, **extra: Any
    ) -> str:
        self.serial += 1
        id_ = f"{kind}_{self.serial}"
        position = {"x": col * COLUMN, "y": row * ROW}
        self.nodes.append(
            {"id": id_, "type": type_, "label": label, "position": position, "config": config}
            | extra
        )
        return id_

    def edge(self, source: str, target: str, handle: str | None = None) -> None:
        edge = {"id": f"e{len(self.edges) + 1}", "source": source, "target": target}
        if handle:
            edge["source_handle"] = handle
        self.edges.append(edge)

    # --- Blocks: (previous node, first column, top row) -> (last node, next free column) -----

    def call(self, prev: str, col: int, row: int, topic: str) -> tuple[str, int]:
        """An HTTP call retried on 5xx; its error handle mails an alert; both paths merge."""
        fetch = self.node(
            "fetch",
            "http.request",
            f"Fetch {topic}",
            col,
            row,
            {
                "method": "GET",
                "url": f"{API}/{topic}/{{{{ input.customer }}}}",
                "query": {"amount": "{{ input.amount }}"},
            },
            retry={"max_attempts": 3, "backoff_s": 1, "backoff_factor": 2, "max_backoff_s": 30},
            timeout_s=20,
        )
        self.edge(prev, fetch)
        ok = self.node(
            "shape",
            "data.transform",
            f"Shape {topic}",
            col + 1,
            row,
            {"value": {"topic": topic, "body": f"{{{{ steps.{fetch}.output.body }}}}"}},
        )
        self.edge(fetch, ok)
        alert = self.node(
            "alert",
            "notify.email",
            f"Alert: {topic} down",
            col + 1,
            row + 1,
            {
                "to": ["ops@example.com"],
                "subject": f"{topic} failed for {{{{ input.customer }}}}",
                "body": f"{{{{ steps.{fetch}.error.message }}}}",
            },
        )
        self.edge(fetch, alert, "error")
        merge = self.node(
            "merge",
            "data.transform",
            f"{topic.capitalize()} result",
            col + 2,
            row,
            {"value": {"ok": f"{{{{ steps.{ok}.status == 'succeeded' }}}}"}},
            join="one_success",
        )
        self.edge(ok, merge)
        self.edge(alert, merge)
        return merge, col + 3

    def condition(self, prev: str, col: int, row: int, topic: str) -> tuple[str, int]:
        """A condition whose two branches of one or two steps merge again (one_success)."""
        limit = self.random.choice([100, 500, 1000, 5000])
        test = self.node(
            "check",
            "logic.condition",
            f"{topic.capitalize()} over {limit}?",
            col,
            row,
            {"expression": f"input.amount > {limit}"},
        )
        self.edge(prev, test)
        ends = []
        depth = self.random.choice([1, 2])
        for branch, handle in enumerate(["true", "false"]):
            last, handle_ = test, handle
            for step in range(depth):
                current = self.node(
                    "branch",
                    "data.transform",
                    f"{topic.capitalize()} {handle} {step + 1}",
                    col + 1 + step,
                    row + branch,
                    {"value": {"branch": handle, "amount": "{{ input.amount }}"}},
                )
                self.edge(last, current, handle_ if last == test else None)
                last, handle_ = current, None
            ends.append(last)
        merge = self.node(
            "merge",
            "data.transform",
            f"{topic.capitalize()} decided",
            col + 1 + depth,
            row,
            {"value": {"big": f"{{{{ steps.{test}.output.value }}}}"}},
            join="one_success",
        )
        for end in ends:
            self.edge(end, merge)
        return merge, col + 2 + depth

    def switch(self, prev: str, col: int, row: int, topic: str) -> tuple[str, int]:
        """A switch on the region; an unknown region fails the run, the others merge."""
        regions = ["eu", "us", "apac"]
        route = self.node(
            "route",
            "logic.switch",
            f"Route {topic}",
            col,
            row,
            {"cases": [{"name": r, "expression": f"input.region == '{r}'"} for r in regions]},
        )
        self.edge(prev, route)
        ends = []
        for i, region in enumerate(regions):
            step = self.node(
                "ship",
                "code.function",
                f"{topic.capitalize()} via {region.upper()}",
                col + 1,
                row + i,
                {"function": "examples.echo", "args": {"region": region, "topic": topic}},
            )
            self.edge(route, step, region)
            ends.append(step)
        fail = self.node(
            "unknown",
            "flow.fail",
            f"No {topic} region",
            col + 1,
            row + 3,
            {"message": "no route for {{ input.region }}", "code": "NO_ROUTE"},
        )
        self.edge(route, fail, "default")
        merge = self.node(
            "merge",
            "data.transform",
            f"{topic.capitalize()} routed",
            col + 2,
            row,
            {"value": {"region": "{{ input.region }}"}},
            join="one_success",
        )
        for end in ends:
            self.edge(end, merge)
        return merge, col + 3

    def fanout(self, prev: str, col: int, row: int, topic: str) -> tuple[str, int]:
        """Two to four parallel chains of one to three steps and a join that waits for all."""
        width = self.random.randint(2, LANE_ROWS)
        depth = self.random.randint(1, 3)
        ends = []
        for branch in range(width):
            last = prev
            for step in range(depth):
                kind = self.random.choice(["fetch", "calc", "calc"])
                if kind == "fetch":
                    current = self.node(
                        "part",
                        "http.request",
                        f"{topic.capitalize()} part {branch + 1}.{step + 1}",
                        col + step,
                        row + branch,
                        {"url": f"{API}/{topic}/part/{branch}", "expected_status": [200, 204]},
                        timeout_s=10,
                    )
                else:
                    current = self.node(
                        "part",
                        "code.function",
                        f"{topic.capitalize()} part {branch + 1}.{step + 1}",
                        col + step,
                        row + branch,
                        {
                            "function": "examples.add",
                            "args": {"a": "{{ input.amount }}", "b": step},
                        },
                    )
                self.edge(last, current)
                last = current
            ends.append(last)
        join = self.node(
            "join",
            "data.transform",
            f"{topic.capitalize()} gathered",
            col + depth,
            row,
            {"value": [f"{{{{ steps.{end}.output }}}}" for end in ends]},
            join=self.random.choice(["all_success", "none_failed", "all_done"]),
        )
        for end in ends:
            self.edge(end, join)
        return join, col + depth + 1

    def approval(self, prev: str, col: int, row: int, topic: str) -> tuple[str, int]:
        """Finance approves or rejects; a rejection fails the run."""
        ask = self.node(
            "approve",
            "human.approval",
            f"Approve {topic}",
            col,
            row,
            {
                "title": f"Approve {topic}: {{{{ input.amount }}}} EUR, {{{{ input.customer }}}}",
                "assignees": {"groups": ["finance"]},
                "due_in_s": 86400,
            },
        )
        self.edge(prev, ask)
        rejected = self.node(
            "rejected",
            "flow.fail",
            f"{topic.capitalize()} rejected",
            col + 1,
            row + 1,
            {"message": f"{topic} was rejected by {{{{ steps.{ask}.output.decided_by }}}}"},
        )
        self.edge(ask, rejected, "rejected")
        go = self.node(
            "approved",
            "data.transform",
            f"{topic.capitalize()} approved",
            col + 1,
            row,
            {"value": {"by": f"{{{{ steps.{ask}.output.decided_by }}}}"}},
        )
        self.edge(ask, go, "approved")
        return go, col + 2

    def chain(self, prev: str, col: int, row: int, topic: str) -> tuple[str, int]:
        """A map over the order lines, a short delay, a transform: three steps in a row."""
        price = self.node(
            "map",
            "flow.map",
            f"Price {topic} lines",
            col,
            row,
            {
                "items": "{{ input.lines }}",
                "workflow": {"name": "Price one order line"},
                "input": "{{ item }}",
                "concurrency": 4,
            },
        )
        self.edge(prev, price)
        wait = self.node(
            "wait", "flow.delay", f"Settle {topic}", col + 1, row, {"seconds": 1 + len(topic)}
        )
        self.edge(price, wait)
        total = self.node(
            "total",
            "data.transform",
            f"{topic.capitalize()} total",
            col + 2,
            row,
            {"value": {"total": f"{{{{ steps.{price}.output | sum(attribute='total') }}}}"}},
        )
        self.edge(wait, total)
        return total, col + 3


BLOCKS = [
    # (method, nodes it adds at most, weight)
    ("call", 4, 3),
    ("condition", 6, 3),
    ("switch", 6, 2),
    ("fanout", 2 + LANE_ROWS * 3, 3),
    ("approval", 3, 1),
    ("chain", 3, 2),
]


def build(nodes: int = 1000, lanes: int | None = None, seed: int = 1000) -> dict[str, Any]:
    """The export document (designer/transfer.py) of a workflow of exactly ``nodes`` steps."""
    if nodes < 4:
        raise ValueError("at least 4 steps: trigger, prepare, collect, report")
    lanes = lanes or max(1, min(12, (nodes - 4) // 40))
    b = Builder(seed)
    middle_row = (lanes * (LANE_ROWS + LANE_GAP) - LANE_GAP) // 2
    start = b.node("start", "trigger.manual", "Order received", 0, middle_row, {})
    prepare = b.node(
        "prepare",
        "data.transform",
        "Prepare",
        1,
        middle_row,
        {"value": {"customer": "{{ input.customer }}", "lines": "{{ input.lines | length }}"}},
    )
    b.edge(start, prepare)
    # Lanes share the steps left after the four fixed ones; each fills its budget with blocks
    # and pads the rest with plain transforms.
    budget = nodes - 4
    shares = [budget // lanes + (1 if i < budget % lanes else 0) for i in range(lanes)]
    ends, width = [], 0
    for lane, share in enumerate(shares):
        row = lane * (LANE_ROWS + LANE_GAP)
        target = len(b.nodes) + share
        prev, col = prepare, 2
        while True:
            left = target - len(b.nodes)
            fitting = [(n, w) for n, size, w in BLOCKS if size <= left]
            if not fitting:
                break
            name = b.random.choices([n for n, _ in fitting], [w for _, w in fitting])[0]
            topic = b.random.choice(TOPICS)
            prev, col = getattr(b, name)(prev, col, row, topic)
        while len(b.nodes) < target:
            step = b.node(
                "note", "data.transform", f"Note {lane + 1}.{col}", col, row, {"value": lane}
            )
            b.edge(prev, step)
            prev, col = step, col + 1
        ends.append(prev)
        width = max(width, col)
    collect = b.node(
        "collect",
        "data.transform",
        "Collect lanes",
        width,
        middle_row,
        {"value": {"lanes": [f"{{{{ steps.{end}.status }}}}" for end in ends]}},
        join="all_done",
    )
    for end in ends:
        b.edge(end, collect)
    report = b.node(
        "report",
        "notify.email",
        "Mail the summary",
        width + 1,
        middle_row,
        {
            "to": ["ops@example.com"],
            "subject": "Order {{ input.customer }}: all lanes done",
            "body": f"{{{{ steps.{collect}.output }}}}",
        },
    )
    b.edge(collect, report)
    assert len(b.nodes) == nodes, (len(b.nodes), nodes)
    return {
        "kind": "flowdeck.workflow",
        "version": 1,
        "name": f"Large workflow ({nodes:,} steps)",
        "description": (
            f"Generated by bench/make_large_workflow.py: {nodes:,} steps, {lanes} parallel "
            f"lane(s) of HTTP calls, conditions, switches, fan-outs with joins, approvals and "
            "maps, for checking that the designer opens and pans a large graph smoothly. Not "
            "meant to be run: its HTTP calls go to a local test address."
        ),
        "graph": {
            "format": 1,
            "nodes": b.nodes,
            "edges": b.edges,
            "input_schema": INPUT_SCHEMA,
            "output": {"summary": f"{{{{ steps.{collect}.output }}}}"},
        },
    }


def render(document: dict[str, Any]) -> str:
    """JSON with one node or edge a line: readable diffs, a tenth of indent=2's lines."""

    def one(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)

    graph = document["graph"]
    head = {k: v for k, v in document.items() if k != "graph"}
    lines = ["{"]
    lines += [f"  {one(k)}: {one(v)}," for k, v in head.items()]
    lines.append('  "graph": {')
    lines.append(f'    "format": {one(graph["format"])},')
    for key in ("nodes", "edges"):
        lines.append(f'    "{key}": [')
        lines += [f"      {one(item)}," for item in graph[key]]
        lines[-1] = lines[-1].rstrip(",")
        lines.append("    ],")
    rest = [
        f'    "{k}": {one(v)}' for k, v in graph.items() if k not in ("format", "nodes", "edges")
    ]
    if rest:
        lines += [line + "," for line in rest[:-1]] + [rest[-1]]
    else:
        lines[-1] = lines[-1].rstrip(",")
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000, help="steps (default 1000)")
    parser.add_argument("--seed", type=int, default=1000)
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="a path, or - for stdout")
    args = parser.parse_args()
    text = render(build(args.nodes, seed=args.seed))
    if args.out == "-":
        sys.stdout.write(text)
    else:
        Path(args.out).write_text(text)
        print(f"wrote {args.out}: {args.nodes} steps, {len(text.encode()):,} bytes")


if __name__ == "__main__":
    main()
