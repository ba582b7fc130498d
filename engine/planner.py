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
- A ``flow.fail`` (or ``flow.rollback``) node that ran ends the run at once: failed, the rest
  cancelled or skipped.
- Compensation (issue 20): an edge from the reserved ``compensate`` handle names the node that
  undoes its source. It is never taken; compensation nodes (and what their ``error`` edges
  reach: the compensation region) are left out of the normal plan. When a run would end failed
  and some succeeded step has a compensation, the plan says ``finish=COMPENSATING`` with the
  steps to undo; ``plan_compensation`` then starts each compensation once the compensations of
  the compensated steps below it (along the edges that were taken) are done: reverse causal
  order, unrelated branches in parallel.
"""

import heapq
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from engine.states import STEP_ACTIVE, RunStatus, StepStatus

DEFAULT_HANDLE = "out"
ERROR_HANDLE = "error"
COMPENSATE_HANDLE = "compensate"
DEFAULT_JOIN = "all_success"
ENDS_RUN_TYPES = frozenset({"flow.fail", "flow.rollback"})

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
    # finish=COMPENSATING: the succeeded steps whose compensations run, in graph order.
    compensate: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlanGraph:
    """The parts of a (validated) graph the planner reads, prepared once per version."""

    order: tuple[str, ...]  # topological, the normal nodes only (no compensation region)
    incoming: Mapping[str, tuple[tuple[str, str], ...]]  # node -> ((source, handle), ...)
    joins: Mapping[str, str]
    handles_failure: frozenset[str]  # nodes with an outgoing error edge
    ends_run: frozenset[str]
    types: Mapping[str, str] = field(default_factory=dict)
    successors: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    position: Mapping[str, int] = field(default_factory=dict)  # index in the full order
    # Compensation (issue 20): step -> its compensation node, and back.
    compensation: Mapping[str, str] = field(default_factory=dict)
    compensates: Mapping[str, str] = field(default_factory=dict)
    # Topological: the compensation nodes and the nodes only their error edges reach.
    region: tuple[str, ...] = ()
    # node -> ((target, handle), ...) along normal edges, for "downstream along taken edges".
    outgoing: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)

    @classmethod
    def from_graph(cls, graph: Mapping[str, Any]) -> "PlanGraph":
        nodes = [node["id"] for node in graph["nodes"]]
        types = {node["id"]: node["type"] for node in graph["nodes"]}
        incoming: dict[str, list[tuple[str, str]]] = {node: [] for node in nodes}
        outgoing: dict[str, list[tuple[str, str]]] = defaultdict(list)
        successors: dict[str, list[str]] = defaultdict(list)
        handles_failure = set()
        compensation: dict[str, str] = {}
        for edge in graph["edges"]:
            handle = edge.get("source_handle", DEFAULT_HANDLE)
            if handle == COMPENSATE_HANDLE:
                compensation[edge["source"]] = edge["target"]
                continue  # never taken: not an edge of the plan
            incoming[edge["target"]].append((edge["source"], handle))
            outgoing[edge["source"]].append((edge["target"], handle))
            successors[edge["source"]].append(edge["target"])
            if handle == ERROR_HANDLE:
                handles_failure.add(edge["source"])
        full = _topological(nodes, incoming, successors)
        in_region = set(compensation.values())
        for node in full:  # topological: a node's sources come first
            sources = {s for s, _ in incoming[node]}
            if sources and sources <= in_region:
                in_region.add(node)
        return cls(
            order=tuple(n for n in full if n not in in_region),
            incoming={node: tuple(edges) for node, edges in incoming.items()},
            joins={node["id"]: node.get("join", DEFAULT_JOIN) for node in graph["nodes"]},
            handles_failure=frozenset(handles_failure),
            ends_run=frozenset(n for n, t in types.items() if t in ENDS_RUN_TYPES),
            types=types,
            successors={n: tuple(dict.fromkeys(successors.get(n, []))) for n in nodes},
            position={n: i for i, n in enumerate(full)},
            compensation=compensation,
            compensates={c: s for s, c in compensation.items()},
            region=tuple(n for n in full if n in in_region),
            outgoing={n: tuple(outgoing.get(n, [])) for n in nodes},
        )


def _decide_joins(
    graph: PlanGraph,
    nodes: Iterable[str],
    status: dict[str, str],
    states: Mapping[str, StepState],
    start: list[str],
    skip: list[str],
) -> None:
    """Start or skip each pending node of ``nodes`` whose join is decided, in place. In
    topological order: a node's sources are decided before it, so a skip propagates to
    everything downstream within this one call."""
    for node in nodes:
        if status[node] != StepStatus.PENDING:
            continue
        decision = _join(graph, node, graph.incoming[node], status, states)
        if decision == TAKEN:
            start.append(node)
            status[node] = StepStatus.QUEUED
        elif decision == DEAD:
            skip.append(node)
            status[node] = StepStatus.SKIPPED


def plan(graph: PlanGraph, states: Mapping[str, StepState]) -> Plan:
    """What to do now, given every step's state (a missing step is pending)."""
    # Plain strings compare equal to the StepStatus members; no enum is built per node.
    status: dict[str, str] = {
        node: (state.status if (state := states.get(node)) is not None else StepStatus.PENDING)
        for node in graph.order
    }

    ended = [n for n in graph.order if n in graph.ends_run and status[n] == StepStatus.FAILED]
    if ended:
        return _failing(
            graph,
            states,
            cancel=tuple(n for n in graph.order if status[n] in STEP_ACTIVE),
            skip=tuple(n for n in graph.order if status[n] == StepStatus.PENDING),
            reason=f"{ended[0]!r} ended the run",
        )

    start: list[str] = []
    skip: list[str] = []
    _decide_joins(graph, graph.order, status, states, start, skip)

    if start or any(s in STEP_ACTIVE for s in status.values()):
        return Plan(start=tuple(start), skip=tuple(skip))
    unhandled = [
        n for n in graph.order if status[n] == StepStatus.FAILED and n not in graph.handles_failure
    ]
    if unhandled:
        return _failing(graph, states, skip=tuple(skip), reason=f"step {unhandled[0]!r} failed")
    return Plan(skip=(*skip, *_pending_region(graph, states)), finish=RunStatus.SUCCEEDED)


def _pending_region(
    graph: PlanGraph, states: Mapping[str, StepState], keep: Iterable[str] = ()
) -> list[str]:
    """The compensation region's pending nodes (but ``keep``): skipped when the run ends."""
    kept = set(keep)
    return [
        n
        for n in graph.region
        if n not in kept
        and (states[n].status if n in states else StepStatus.PENDING) == StepStatus.PENDING
    ]


def _failing(
    graph: PlanGraph,
    states: Mapping[str, StepState],
    *,
    skip: tuple[str, ...],
    reason: str,
    cancel: tuple[str, ...] = (),
) -> Plan:
    """The run fails: compensate first if a succeeded step has a compensation."""
    undo = to_compensate(graph, states)
    if not undo:
        return Plan(
            cancel=cancel,
            skip=(*skip, *_pending_region(graph, states)),
            finish=RunStatus.FAILED,
            reason=reason,
        )
    # The compensation nodes of the steps not undone are skipped now; what their error
    # edges reach is skipped by its joins, or when the run ends.
    needed = {graph.compensation[n] for n in undo}
    unused = [n for n in _pending_region(graph, states, keep=needed) if n in graph.compensates]
    return Plan(
        cancel=cancel,
        skip=(*skip, *unused),
        finish=RunStatus.COMPENSATING,
        reason=reason,
        compensate=undo,
    )


def to_compensate(graph: PlanGraph, states: Mapping[str, StepState]) -> tuple[str, ...]:
    """The succeeded steps that have a compensation, in graph order."""
    return tuple(
        n
        for n in graph.order
        if n in graph.compensation and n in states and states[n].status == StepStatus.SUCCEEDED
    )


COMPENSATION_DONE = frozenset({StepStatus.SUCCEEDED, StepStatus.SKIPPED})


def plan_compensation(graph: PlanGraph, states: Mapping[str, StepState]) -> Plan:
    """What to do in a ``compensating`` run: start the compensations whose turn came, plan the
    region's error paths by their joins, finish ``failed`` once every compensation is done
    (succeeded, skipped by an operator, or failed with an ``error`` edge that handled it).
    A compensation that failed unhandled blocks those above it: the run waits for an operator
    (retry or skip), and the plan is empty."""
    status: dict[str, str] = {
        node: (state.status if (state := states.get(node)) is not None else StepStatus.PENDING)
        for node in (*graph.order, *graph.region)
    }
    undo = to_compensate(graph, states)

    def done(step: str) -> bool:
        comp = status[graph.compensation[step]]
        return comp in COMPENSATION_DONE or (
            comp == StepStatus.FAILED and graph.compensation[step] in graph.handles_failure
        )

    undo_set = set(undo)
    start: list[str] = []
    for step in undo:
        comp = graph.compensation[step]
        if status[comp] != StepStatus.PENDING:
            continue
        if all(done(below) for below in downstream(graph, step, status, states) & undo_set):
            start.append(comp)
            status[comp] = StepStatus.QUEUED
    skip: list[str] = []
    below = [n for n in graph.region if n not in graph.compensates]
    _decide_joins(graph, below, status, states, start, skip)
    if start or any(status[n] in STEP_ACTIVE for n in status):
        return Plan(start=tuple(start), skip=tuple(skip))
    stuck = any(
        status[n] == StepStatus.FAILED and n not in graph.handles_failure for n in graph.region
    )
    if stuck or not all(done(step) for step in undo):
        return Plan(skip=tuple(skip))
    left = [n for n in graph.region if status[n] == StepStatus.PENDING]
    return Plan(skip=(*skip, *left), finish=RunStatus.FAILED, reason="compensated")


def downstream(
    graph: PlanGraph,
    step: str,
    status: Mapping[str, str],
    states: Mapping[str, StepState],
) -> set[str]:
    """The nodes reached from ``step`` along the normal edges that were taken."""
    found: set[str] = set()
    todo = [step]
    while todo:
        node = todo.pop()
        for target, handle in graph.outgoing.get(node, ()):
            if target in found or target in graph.compensates:
                continue
            if edge_state(status[node], _handle(states, node), handle) == TAKEN:
                found.add(target)
                todo.append(target)
    return found


Lookup = Callable[[Iterable[str]], Mapping[str, StepState]]


def plan_after(
    graph: PlanGraph,
    changed: Iterable[str],
    lookup: Lookup,
    any_open: Callable[[Iterable[str]], bool],
    fetch_all_below: int = 32,
) -> Plan | None:
    """What ``plan`` would start and skip after the ``changed`` steps moved, reading only the
    states near them: the steps below them and those steps' sources. Valid when the states
    before the change were settled (every earlier plan applied), as the engine keeps them.

    ``lookup(nodes)`` gives the states of those nodes (pending when absent); ``any_open(nodes)``
    says whether one of them has not finished. A join with many sources is first asked only
    that, so a fan-in of 1,000 costs one cheap question per finished source, not 1,000 reads.
    Returns None when only the whole graph can answer (a flow.fail ended the run); the caller
    also asks ``plan`` once nothing is left running, to finish the run.
    """
    known: dict[str, StepState] = dict(lookup(list(changed)))
    if any(n in graph.ends_run and known[n].status == StepStatus.FAILED for n in known):
        return None
    news = set(known)  # steps whose edges may have changed: the changed ones, then skips
    queued: set[str] = {t for n in known for t in graph.successors.get(n, ())}
    heap = [(graph.position[t], t) for t in queued]
    heapq.heapify(heap)
    start: list[str] = []
    skip: list[str] = []
    while heap:
        _, node = heapq.heappop(heap)
        if node not in known:
            known |= lookup([node])
        if known.get(node, StepState(StepStatus.PENDING)).status != StepStatus.PENDING:
            continue
        edges = graph.incoming[node]
        sources = list(dict.fromkeys(s for s, _ in edges))
        decision = None
        if len(sources) >= fetch_all_below:
            decision = _join_shortcut(graph, node, edges, sources, known, news, any_open)
        if decision is None:
            missing = [s for s in sources if s not in known]
            if missing:
                known |= lookup(missing)
            status = {s: known.get(s, StepState(StepStatus.PENDING)).status for s in sources}
            decision = _join(graph, node, edges, status, known)
        if decision == TAKEN:
            start.append(node)
            known[node] = StepState(StepStatus.QUEUED)
        elif decision == DEAD:
            skip.append(node)
            known[node] = StepState(StepStatus.SKIPPED)
            news.add(node)
            for target in graph.successors.get(node, ()):
                if target not in queued:
                    queued.add(target)
                    heapq.heappush(heap, (graph.position[target], target))
    return Plan(start=tuple(start), skip=tuple(skip))


def _join_shortcut(
    graph: PlanGraph,
    node: str,
    edges: tuple[tuple[str, str], ...],
    sources: list[str],
    known: Mapping[str, StepState],
    news: set[str],
    any_open: Callable[[Iterable[str]], bool],
) -> str | None:
    """A join's decision from its new edges and one question, or None to read every source.
    Before the change the join was undecided, so only the new edges can have made it fire or
    die; the others are taken or still open."""
    fresh = [edge_state(known[s].status, known[s].handle, h) for s, h in edges if s in news]
    join = graph.joins.get(node, DEFAULT_JOIN)
    if join == "all_success" and DEAD in fresh:
        return DEAD
    if join == "one_success" and TAKEN in fresh:
        return TAKEN
    if OPEN in fresh or any_open([s for s in sources if s not in news]):
        return OPEN
    return None


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


def walk(
    graph: Mapping[str, Any],
    start: str,
    *,
    up: bool = False,
    where: Callable[[str], bool] | None = None,
) -> list[str]:
    """The nodes reached from ``start`` along the graph's edges (downward, or upward with
    ``up``), ``start`` itself left out, in the order found. ``where`` keeps a node out (and
    what is reached only through it)."""
    near: dict[str, list[str]] = defaultdict(list)
    for edge in graph["edges"]:
        if edge.get("source_handle") == COMPENSATE_HANDLE:
            continue  # never taken: undoing a step is not "below" it
        a, b = (edge["target"], edge["source"]) if up else (edge["source"], edge["target"])
        near[a].append(b)
    found: dict[str, None] = {}  # ordered, with set lookups
    todo = list(near[start])
    while todo:
        current = todo.pop()
        if current in found or current == start or (where is not None and not where(current)):
            continue
        found[current] = None
        todo.extend(near[current])
    return list(found)


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
