"""The planner: a pure function from (graph, step states) to what happens next.

No database and no I/O. The whole semantics of branches, joins, skips, error edges and the end
of a run lives here (CONTRACT §1), so it is unit- and property-tested without a worker.

- An edge is *taken* when its source succeeded and chose the edge's handle (default ``out``),
  or when its source failed (after its last attempt) and the edge leaves the ``error`` handle.
  It is *dead* when its source finished and did not take it; *open* while its source runs.
- A pending node fires or is skipped by its join (default ``all_success``):
  ``all_success`` fires when every incoming edge is taken, skips when one is dead;
  ``one_success`` fires on the first taken edge, skips when all are dead;
  ``none_failed`` waits for every edge, then fires if one was taken and no source failed
  unhandled, else skips; ``all_done`` waits for every edge, then fires.
- A failure with an ``error`` edge is handled. An unhandled failure does not stop the other
  branches (their ``all_done`` cleanup still runs); the run ends failed when nothing is left.
- A ``flow.fail`` node that ran ends the run at once: failed, the rest cancelled or skipped.
"""

from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from engine.states import STEP_ACTIVE, RunStatus, StepStatus

DEFAULT_HANDLE = "out"
ERROR_HANDLE = "error"
DEFAULT_JOIN = "all_success"
ENDS_RUN_TYPES = frozenset({"flow.fail"})

TAKEN, DEAD, OPEN = "taken", "dead", "open"


class StepState(NamedTuple):
    """What the planner needs to know of one step (a tuple: a run of 1,000 steps builds 1,000
    of these each time it is planned)."""

    status: StepStatus
    handle: str | None = None  # the output handle a succeeded step chose


@dataclass(frozen=True)
class Plan:
    start: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    cancel: tuple[str, ...] = ()
    finish: RunStatus | None = None
    reason: str = ""


@dataclass(frozen=True)
class PlanGraph:
    """The parts of a (validated) graph the planner reads, prepared once per version."""

    order: tuple[str, ...]  # topological
    incoming: Mapping[str, tuple[tuple[str, str], ...]]  # node -> ((source, handle), ...)
    joins: Mapping[str, str]
    handles_failure: frozenset[str]  # nodes with an outgoing error edge
    ends_run: frozenset[str]
    types: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_graph(cls, graph: Mapping[str, Any]) -> "PlanGraph":
        nodes = [node["id"] for node in graph["nodes"]]
        types = {node["id"]: node["type"] for node in graph["nodes"]}
        incoming: dict[str, list[tuple[str, str]]] = {node: [] for node in nodes}
        successors: dict[str, list[str]] = defaultdict(list)
        handles_failure = set()
        for edge in graph["edges"]:
            handle = edge.get("source_handle", DEFAULT_HANDLE)
            incoming[edge["target"]].append((edge["source"], handle))
            successors[edge["source"]].append(edge["target"])
            if handle == ERROR_HANDLE:
                handles_failure.add(edge["source"])
        return cls(
            order=_topological(nodes, incoming, successors),
            incoming={node: tuple(edges) for node, edges in incoming.items()},
            joins={node["id"]: node.get("join", DEFAULT_JOIN) for node in graph["nodes"]},
            handles_failure=frozenset(handles_failure),
            ends_run=frozenset(n for n, t in types.items() if t in ENDS_RUN_TYPES),
            types=types,
        )


def plan(graph: PlanGraph, states: Mapping[str, StepState]) -> Plan:
    """What to do now, given every step's state (a missing step is pending)."""
    # Plain strings compare equal to the StepStatus members; no enum is built per node.
    status: dict[str, str] = {
        node: (state.status if (state := states.get(node)) is not None else StepStatus.PENDING)
        for node in graph.order
    }

    ended = [n for n in graph.order if n in graph.ends_run and status[n] == StepStatus.FAILED]
    if ended:
        return Plan(
            cancel=tuple(n for n in graph.order if status[n] in STEP_ACTIVE),
            skip=tuple(n for n in graph.order if status[n] == StepStatus.PENDING),
            finish=RunStatus.FAILED,
            reason=f"{ended[0]!r} ended the run",
        )

    start: list[str] = []
    skip: list[str] = []
    # Topological order: a node's sources are decided before it, so a skip propagates to
    # everything downstream within this one call.
    for node in graph.order:
        if status[node] != StepStatus.PENDING:
            continue
        decision = _join(graph, node, graph.incoming[node], status, states)
        if decision == TAKEN:
            start.append(node)
            status[node] = StepStatus.QUEUED
        elif decision == DEAD:
            skip.append(node)
            status[node] = StepStatus.SKIPPED

    if start or any(s in STEP_ACTIVE for s in status.values()):
        return Plan(start=tuple(start), skip=tuple(skip))
    unhandled = [
        n for n in graph.order if status[n] == StepStatus.FAILED and n not in graph.handles_failure
    ]
    if unhandled:
        return Plan(
            skip=tuple(skip),
            finish=RunStatus.FAILED,
            reason=f"step {unhandled[0]!r} failed",
        )
    return Plan(skip=tuple(skip), finish=RunStatus.SUCCEEDED)


def edge_state(source_status: StepStatus, chosen_handle: str | None, edge_handle: str) -> str:
    """taken, dead or open: one edge, from its source's status (CONTRACT §1)."""
    if source_status == StepStatus.SUCCEEDED:
        return TAKEN if edge_handle == (chosen_handle or DEFAULT_HANDLE) else DEAD
    if source_status == StepStatus.FAILED:
        return TAKEN if edge_handle == ERROR_HANDLE else DEAD
    if source_status in (StepStatus.SKIPPED, StepStatus.CANCELLED):
        return DEAD
    return OPEN


def _join(
    graph: PlanGraph,
    node: str,
    edges: tuple[tuple[str, str], ...],
    status: Mapping[str, str],
    states: Mapping[str, StepState],
) -> str:
    """TAKEN (fire), DEAD (skip) or OPEN (wait) for a pending node."""
    if not edges:  # the trigger
        return TAKEN
    outcomes = [
        edge_state(status[source], _handle(states, source), handle) for source, handle in edges
    ]
    join = graph.joins.get(node, DEFAULT_JOIN)
    if join == "all_success":
        if DEAD in outcomes:
            return DEAD
        return TAKEN if all(o == TAKEN for o in outcomes) else OPEN
    if join == "one_success":
        if TAKEN in outcomes:
            return TAKEN
        return DEAD if all(o == DEAD for o in outcomes) else OPEN
    if OPEN in outcomes:
        return OPEN
    if join == "all_done":
        return TAKEN
    # none_failed
    failed_unhandled = any(
        status[source] == StepStatus.FAILED and source not in graph.handles_failure
        for source, _ in edges
    )
    return TAKEN if TAKEN in outcomes and not failed_unhandled else DEAD


def _handle(states: Mapping[str, StepState], node: str) -> str | None:
    state = states.get(node)
    return state.handle if state is not None else None


def _topological(
    nodes: list[str],
    incoming: Mapping[str, list[tuple[str, str]]],
    successors: Mapping[str, list[str]],
) -> tuple[str, ...]:
    """Kahn's algorithm, stable in the graph's node order. Raises on a cycle (the validator
    refuses cycles, so one here is a bug)."""
    remaining = {node: len({source for source, _ in incoming[node]}) for node in nodes}
    ready = deque(node for node in nodes if remaining[node] == 0)
    order: list[str] = []
    while ready:
        node = ready.popleft()
        order.append(node)
        for target in dict.fromkeys(successors.get(node, [])):
            remaining[target] -= 1
            if remaining[target] == 0:
                ready.append(target)
    if len(order) != len(nodes):
        raise ValueError("the graph has a cycle")
    return tuple(order)
