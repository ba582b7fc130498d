"""Test runs (issue 18): run one step, or the draft up to a step, from the designer.

A test run is a real run (the same planner, transitions, workers, retries, timeouts and logs)
of a snapshot of the draft as it is on the canvas: the selected step and the steps above it,
with the rest of the graph left out. Steps above it are given their results instead of
running when the builder has them: typed in the panel, pinned on the workflow
(``Workflow.pins``) or, for "run step", from the newest run that finished them. What is above
a given result and nothing else needs is not run either (it is skipped as "unneeded").

The snapshot is a ``WorkflowVersion`` without a number (never listed as a version); the run is
marked ``test``: left out of the runs list, stats, /metrics and alerts, and deleted after
``FLOWDECK_TEST_RUN_DAYS`` by the sweeper (``delete_expired_test_runs``).
"""

import copy
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from designer.models import Workflow, WorkflowVersion
from engine import transitions
from engine.models import Run, StepRun, Trigger
from engine.planner import walk
from engine.states import RUN_TERMINAL, StepStatus
from engine.transitions import Reused
from flowdeck.errors import api_error

# Run step (its upstream given) or Run up to here (from the trigger); the API takes these names.
STEP, UP_TO = "step", "upto"
MODES = (STEP, UP_TO)
# An http.request with one of these methods only reads; any other method may change something.
READ_METHODS = frozenset({"GET", "HEAD"})
# How many of the newest runs "run step" looks through for its upstream steps' outputs.
RECENT_RUNS = 20
# Test runs deleted per sweep: a backlog is worked off a batch a minute, never in one go.
EXPIRE_BATCH = 200


class TestRunRefused(Exception):
    """A test run that cannot start; ``errors`` as the API's 400 (field, code, message, node)."""

    def __init__(self, errors: list[dict[str, Any]], status: int = 400) -> None:
        super().__init__(errors[0]["message"])
        self.errors = errors
        self.status = status


def ancestors(graph: Mapping[str, Any], node: str) -> set[str]:
    """The nodes with a path to ``node`` (not ``node`` itself)."""
    return set(walk(graph, node, up=True))


def snapshot_of(graph: Mapping[str, Any], node: str) -> dict[str, Any]:
    """The part of ``graph`` a test of ``node`` runs: the node and what is above it. The run's
    output expression is left out (it may name steps that are not there)."""
    keep = ancestors(graph, node) | {node}
    snapshot = {k: copy.deepcopy(v) for k, v in graph.items() if k not in ("nodes", "edges")}
    snapshot.pop("output", None)
    snapshot["nodes"] = [copy.deepcopy(n) for n in graph.get("nodes", []) if n.get("id") in keep]
    snapshot["edges"] = [
        copy.deepcopy(e)
        for e in graph.get("edges", [])
        if e.get("source") in keep and e.get("target") in keep
    ]
    return snapshot


def well_formed(graph: Any) -> bool:
    """Whether ``graph`` has the shape the planner walks: lists of objects, string ids."""
    if not isinstance(graph, Mapping):
        return False
    nodes, edges = graph.get("nodes"), graph.get("edges", [])
    if not isinstance(nodes, list) or not isinstance(edges, list):
        return False
    return all(
        isinstance(n, Mapping) and isinstance(n.get("id"), str) and isinstance(n.get("type"), str)
        for n in nodes
    ) and all(
        isinstance(e, Mapping)
        and isinstance(e.get("source"), str)
        and isinstance(e.get("target"), str)
        for e in edges
    )


def has_effects(node: Mapping[str, Any]) -> bool:
    """Whether running ``node`` may change something outside Flowdeck: an http.request that
    does not only read (a method given by an expression counts as writing) or an email."""
    config = node.get("config") or {}
    if node.get("type") == "http.request":
        method = config.get("method", "GET")
        return not (isinstance(method, str) and method.upper() in READ_METHODS)
    return node.get("type") == "notify.email"


def to_run(graph: Mapping[str, Any], target: str, given: Mapping[str, Reused]) -> set[str]:
    """The nodes the test must run: ``target`` and, for each node it runs, the parents that
    have no given result. Every other node of the snapshot is given or unneeded."""
    return {target, *walk(graph, target, up=True, where=lambda node: node not in given)}


def results_of_recent_runs(workflow: Workflow, nodes: Iterable[str]) -> dict[str, Reused]:
    """For each of ``nodes``, the output it had in the newest of the workflow's recent runs
    (test runs too) where it succeeded."""
    nodes = list(nodes)
    if not nodes:
        return {}
    recent = Run.objects.filter(workflow=workflow).order_by("-pk").values("pk")[:RECENT_RUNS]
    rows = (
        StepRun.objects.filter(
            run__in=recent, node_id__in=nodes, status=StepStatus.SUCCEEDED, attempt__gt=0
        )
        .order_by("-run_id")
        .values_list("node_id", "run_id", "output", "handle")
    )
    found: dict[str, Reused] = {}
    for node, run_id, output, handle in rows:
        if node not in found:
            source = {"source": "run", "run": run_id}
            found[node] = Reused(StepStatus.SUCCEEDED, output, handle, source)
    return found


def results_of_run(run: Run, nodes: Iterable[str]) -> dict[str, Reused]:
    """What ``run`` gave each of ``nodes`` that ended there as succeeded (its output and the
    branch it chose) or skipped (a branch not taken), as it was."""
    rows = StepRun.objects.filter(
        run=run, node_id__in=list(nodes), status__in=[StepStatus.SUCCEEDED, StepStatus.SKIPPED]
    ).values_list("node_id", "status", "output", "handle")
    source = {"source": "run", "run": run.pk}
    return {
        node: Reused(StepStatus(status), output, handle, source)
        for node, status, output, handle in rows
    }


def pinned(workflow: Workflow, nodes: Iterable[str]) -> dict[str, Reused]:
    pins = workflow.pins or {}
    return {
        node: Reused(
            StepStatus.SUCCEEDED,
            pins[node].get("output"),
            pins[node].get("handle") or "",
            {"source": "pin"},
        )
        for node in nodes
        if isinstance(pins.get(node), Mapping)
    }


def default_input(workflow: Workflow, graph: Mapping[str, Any]) -> Any:
    """The input of a test run when the builder gave none: the newest run's, else the first
    sample input of the draft's input_schema, else what a run started by hand would get."""
    newest = Run.objects.filter(workflow=workflow).order_by("-pk").values_list("input", flat=True)
    for data in newest[:1]:
        try:
            transitions.check_start_input(graph, data)
            return data
        except transitions.InputInvalid:
            break
    return sample_input(graph)


def sample_input(graph: Mapping[str, Any]) -> Any:
    """The first sample input of ``graph``'s input_schema, else what a manual start gets."""
    examples = (graph.get("input_schema") or {}).get("examples")
    if isinstance(examples, list) and examples and isinstance(examples[0], dict):
        return copy.deepcopy(examples[0])
    return transitions.start_input(graph, None)


def plan_test_run(
    *,
    workflow: Workflow,
    graph: Mapping[str, Any],
    node: str,
    mode: str,
    data: Mapping[str, Any] | None = None,
    only_data: bool = False,
    from_run: Run | None = None,
) -> tuple[dict[str, Any], dict[str, Reused], set[str]]:
    """(snapshot, given results, nodes to run) of a test of ``node`` in ``graph``. ``data``:
    outputs typed by the builder, {node: output}; they come first, then the results of
    ``from_run`` (a run being debugged: its steps that succeeded, with the branch they chose,
    and those it skipped), then pins, then (for ``mode`` "step") the recent runs' outputs.
    ``only_data``: ``data`` alone, neither pins nor runs (a step test must give the same
    answer whatever was pinned or run since). The tested node itself is always run."""
    nodes = {n.get("id") for n in graph.get("nodes", []) if isinstance(n, Mapping)}
    if node not in nodes:
        raise TestRunRefused(
            [api_error("unknown_node", f"no step {node!r} in the graph", field="node")]
        )
    snapshot = snapshot_of(graph, node)
    above = ancestors(snapshot, node)
    trigger = next((n["id"] for n in snapshot["nodes"] if n["type"].startswith("trigger.")), None)
    candidates = above - {trigger}
    given: dict[str, Reused] = {}
    if mode == STEP and not only_data:
        given |= results_of_recent_runs(workflow, candidates)
    if not only_data:
        given |= pinned(workflow, candidates)
    if from_run is not None:
        given |= results_of_run(from_run, candidates)
    for name, output in (data or {}).items():
        if name not in candidates:
            message = f"{name!r} is not a step above {node!r}; only those can be given an output"
            raise TestRunRefused(
                [api_error("not_upstream", message, field=f"data.{name}", node=str(name))]
            )
        given[name] = Reused(StepStatus.SUCCEEDED, output, "", {"source": "typed"})
    running = to_run(snapshot, node, given)
    # Given results nobody below needs (their parents' too) are not part of the test either.
    unneeded = {n for n in above if n not in running and n not in given}
    for name in unneeded:
        given[name] = Reused(StepStatus.SKIPPED, source={"source": "unneeded"})
    return snapshot, given, running


def effects_to_confirm(snapshot: Mapping[str, Any], running: set[str]) -> list[dict[str, Any]]:
    """The 409's errors: one per step of the test with outside effects."""
    return [
        api_error(
            "confirm_effects",
            f"step {n['id']!r} ({n['type']}) may change something outside Flowdeck; "
            "confirm to run it for real",
            field="confirm_effects",
            node=n["id"],
        )
        for n in snapshot["nodes"]
        if n["id"] in running and has_effects(n)
    ]


@transaction.atomic
def do_start_test_run(
    *,
    actor: AbstractBaseUser,
    workflow: Workflow,
    graph: Mapping[str, Any],
    node: str,
    mode: str = STEP,
    input: Any = None,
    data: Mapping[str, Any] | None = None,
    confirm_effects: bool = False,
    capture_email: bool = True,
    only_data: bool = False,
    from_run: Run | None = None,
) -> Run:
    """Start a test run of ``node`` in the draft ``graph`` (see the module's docstring).
    Raises TestRunRefused (400) for a node not in the graph or typed data for a step not above
    it, GraphInvalid for a snapshot that is not a valid graph, InputInvalid, and TestRunRefused
    with status 409 when a step with outside effects would run and ``confirm_effects`` is
    false (an email captured by ``capture_email`` is no outside effect). ``only_data``: the
    steps above are given ``data`` and nothing else, and a missing ``input`` is the
    input_schema's sample, never the newest run's (engine/steptests.py). ``from_run``: a run
    of this workflow whose steps' results (and input) the test takes (debugging it)."""
    from designer.services import check_graph

    if workflow.archived:
        raise transitions.Conflict("the workflow is archived; restore it to test it")
    if not well_formed(graph):
        # Not even a graph's shape: its errors, rather than planning on it.
        check_graph(graph, actor)
    snapshot, given, running = plan_test_run(
        workflow=workflow,
        graph=graph,
        node=node,
        mode=mode,
        data=data,
        only_data=only_data,
        from_run=from_run,
    )
    check_graph(snapshot, actor)
    if not confirm_effects:
        effects = effects_to_confirm(snapshot, running)
        if capture_email:
            by_id = {n["id"]: n for n in snapshot["nodes"]}
            effects = [e for e in effects if by_id[e["node"]]["type"] != "notify.email"]
        if effects:
            raise TestRunRefused(effects, status=409)
    if input is not None:
        run_input = input
    elif from_run is not None:
        run_input = from_run.input
    elif only_data:
        run_input = sample_input(snapshot)
    else:
        run_input = default_input(workflow, snapshot)
    transitions.check_start_input(snapshot, run_input)
    version = WorkflowVersion.objects.create(
        workflow=workflow, number=None, graph=snapshot, author=actor, note=f"test of {node}"
    )
    run, _ = transitions.do_start_run(
        version=version,
        input=run_input,
        trigger=Trigger.MANUAL,
        actor=actor,
        reused=given,
        test=True,
        capture_email=capture_email,
    )
    return run


def delete_expired_test_runs(now: datetime) -> int:
    """Delete the test runs older than FLOWDECK_TEST_RUN_DAYS with their snapshots: a batch
    per sweep. One still going is cancelled first and deleted at a later sweep."""
    cutoff = now - timedelta(days=settings.FLOWDECK_TEST_RUN_DAYS)
    old = Run.objects.filter(test=True, created_at__lt=cutoff, parent_run__isnull=True)
    for pk in old.exclude(status__in=RUN_TERMINAL).values_list("pk", flat=True)[:EXPIRE_BATCH]:
        transitions.do_cancel_run(pk, actor=None, reason="the test run expired")
    done = list(old.filter(status__in=RUN_TERMINAL).values_list("pk", "version_id")[:EXPIRE_BATCH])
    if not done:
        return 0
    with transaction.atomic():
        Run.objects.filter(pk__in=[pk for pk, _ in done]).delete()
        # A snapshot is its test run's alone; a child run's version is a real one, kept.
        WorkflowVersion.objects.filter(
            pk__in={version for _, version in done}, number__isnull=True
        ).exclude(runs__isnull=False).delete()
    return len(done)
