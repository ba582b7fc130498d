"""Comparing two runs, or two attempts of one step (issue 18): the pure parts.

The views read the rows; these functions only shape them: a graph diff of two versions, the
steps of two runs side by side, and what the event log and the step logs keep of each attempt.
No database access here, so the unit tests call them with plain values.

What is kept per attempt: a step row holds the input and output of its *last* attempt only
(``StepRun.input``/``output``); earlier attempts leave their status, error and times in the
event log (``RunEvent.attempt``), their lines in ``StepLog`` (the last few attempts), and an
operator's edited input in the ``step.retried`` event that started the attempt.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from engine.states import StepStatus

DEFAULT_HANDLE = "out"
# Node fields that change what a run does; the position is only where the editor draws it.
NODE_FIELDS = ("type", "label", "join", "retry", "timeout_s")
GRAPH_PARTS = ("input_schema", "output")
# Events that end an attempt, and the one that starts it.
ENDS_ATTEMPT = {
    "step.succeeded",
    "step.failed",
    "step.retrying",
    "step.skipped",
    "step.cancelled",
}


# --- Two versions' graphs -----------------------------------------------------------------------


def edge_key(edge: Mapping[str, Any]) -> tuple[str, str, str]:
    """An edge is what it connects: edge ids are the editor's bookkeeping (as in the front
    end's editor/diff.ts)."""
    return (edge["source"], edge.get("source_handle") or DEFAULT_HANDLE, edge["target"])


def node_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """The fields of a node that differ (``label``, ``config.url``, ...); position is none."""
    fields = [key for key in NODE_FIELDS if before.get(key) != after.get(key)]
    old, new = before.get("config") or {}, after.get("config") or {}
    fields += [f"config.{key}" for key in sorted({*old, *new}) if old.get(key) != new.get(key)]
    return fields


def diff_graphs(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """What changed from ``before`` to ``after``: nodes added, removed and changed (with their
    fields) by id, edges added and removed by what they connect, other top-level parts."""
    old = {n["id"]: n for n in before.get("nodes", [])}
    new = {n["id"]: n for n in after.get("nodes", [])}
    changed = []
    for node_id, node in new.items():
        if node_id in old:
            fields = node_changes(old[node_id], node)
            if fields:
                changed.append({"id": node_id, "fields": fields})
    old_edges = {edge_key(e): e for e in before.get("edges", [])}
    new_edges = {edge_key(e): e for e in after.get("edges", [])}

    def edges(keys: Iterable[tuple[str, str, str]]) -> list[dict[str, str]]:
        return [{"source": s, "source_handle": h, "target": t} for s, h, t in keys]

    return {
        "nodes": {
            "added": [node_id for node_id in new if node_id not in old],
            "removed": [node_id for node_id in old if node_id not in new],
            "changed": changed,
        },
        "edges": {
            "added": edges(k for k in new_edges if k not in old_edges),
            "removed": edges(k for k in old_edges if k not in new_edges),
        },
        "other": [part for part in GRAPH_PARTS if before.get(part) != after.get(part)],
    }


# --- Two runs' steps ----------------------------------------------------------------------------


def duration_ms(started: datetime | None, finished: datetime | None) -> int | None:
    """Milliseconds from start to end; None until both are known."""
    if started is None or finished is None:
        return None
    return max(0, round((finished - started).total_seconds() * 1000))


def step_side(step: Any) -> dict[str, Any]:
    """One run's side of a step (a StepRun, or anything with its fields)."""
    return {
        "status": step.status,
        "attempts": step.attempt,
        "duration_ms": duration_ms(step.started_at, step.finished_at),
        "started_at": step.started_at,
        "finished_at": step.finished_at,
        "input": step.input,
        "output": step.output,
        "error": step.error,
    }


def node_order(*graphs: Mapping[str, Any]) -> list[str]:
    """Node ids in the order of the first graph, then those only the later graphs have."""
    seen: dict[str, None] = {}
    for graph in graphs:
        for node in graph.get("nodes", []):
            seen.setdefault(node["id"], None)
    return list(seen)


def compare_steps(
    steps_a: Mapping[str, Any],
    steps_b: Mapping[str, Any],
    types: Mapping[str, str],
    order: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """One entry per node id in either run, in ``order`` (then any other, sorted): each side
    (None where that run has no such step), the node's type and what differs."""
    nodes = list(dict.fromkeys([*order, *sorted({*steps_a, *steps_b})]))
    rows = []
    for node in nodes:
        a, b = steps_a.get(node), steps_b.get(node)
        if a is None and b is None:
            continue
        side_a = step_side(a) if a is not None else None
        side_b = step_side(b) if b is not None else None

        def differs(field: str, side_a: Any = side_a, side_b: Any = side_b) -> bool:
            if side_a is None or side_b is None:
                return True  # a step only one run has differs in everything
            return side_a[field] != side_b[field]

        rows.append(
            {
                "node": node,
                "type": types.get(node) or getattr(b or a, "type", ""),
                "a": side_a,
                "b": side_b,
                "changed": {
                    "status": differs("status"),
                    "attempts": differs("attempts"),
                    "input": differs("input"),
                    "output": differs("output"),
                    "error": differs("error"),
                },
            }
        )
    return rows


# --- Two attempts of one step -------------------------------------------------------------------


def attempt_history(
    step: Any, events: Iterable[Any], logs: Mapping[int, Any], number: int
) -> dict[str, Any]:
    """What is kept of attempt ``number`` of ``step``: from its events (status, times, error,
    an operator's edited input), its log lines, and for the step's last attempt the row's own
    input and output. ``events`` are the step's RunEvent rows (any order)."""
    mine = sorted((e for e in events if e.attempt == number), key=lambda e: e.id)
    moves = [e for e in mine if e.new_status]
    current = number == step.attempt
    status = step.status if current else (moves[-1].new_status if moves else "")
    queued = next((e.created_at for e in mine if e.type in ("step.queued", "step.retried")), None)
    started = next((e.created_at for e in mine if e.type == "step.started"), None)
    ended = next((e.created_at for e in reversed(mine) if e.type in ENDS_ATTEMPT), None)
    error = next(
        (e.data.get("error") for e in reversed(mine) if isinstance(e.data.get("error"), dict)),
        None,
    )
    edited = next((e.data["edited_input"] for e in mine if "edited_input" in e.data), None)
    log = logs.get(number)
    if current:
        # The row is the authority on its own attempt (an event may still be on its way).
        error = step.error if status in (StepStatus.FAILED, StepStatus.RETRYING) else error
        input_kept, attempt_input = step.input is not None, step.input
    else:
        input_kept, attempt_input = edited is not None, edited
    return {
        "attempt": number,
        "status": status,
        "queued_at": queued,
        "started_at": started,
        "finished_at": ended,
        "duration_ms": duration_ms(started, ended),
        "error": error,
        "input": attempt_input,
        "input_kept": input_kept,
        "output": step.output if current else None,
        "output_kept": current and step.output is not None,
        "log": None if log is None else [line.get("message", "") for line in log.lines],
        "events": [e.type for e in mine],
    }


def compare_attempts(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, bool | None]:
    """What differs between two attempts; input, output and log are None (unknown) unless
    both attempts kept them."""

    def kept(field: str, flag: str | None = None) -> bool | None:
        if flag is not None and not (a[flag] and b[flag]):
            return None
        if flag is None and (a[field] is None or b[field] is None):
            return None
        return a[field] != b[field]

    return {
        "status": a["status"] != b["status"],
        "error": a["error"] != b["error"],
        "input": kept("input", "input_kept"),
        "output": kept("output", "output_kept"),
        "log": kept("log"),
    }
