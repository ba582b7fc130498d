"""Building workflows and driving runs in tests.

``drive`` executes queued attempts in the test's own process, one after the other: the
semantics tests use it (with ``time_machine`` for timers). Tests through real workers use
the ``workers`` fixture instead (tests/conftest.py).
"""

from datetime import datetime
from typing import Any

import time_machine
from django.contrib.auth.models import User
from django.utils import timezone

from designer.models import Workflow
from designer.services import do_create_workflow
from engine import recovery, tasks, transitions
from engine.models import HumanTask, Run, StepRun, Trigger
from engine.states import StepStatus


def build(nodes: dict[str, Any], edges: list[str], **extra: Any) -> dict[str, Any]:
    """A graph from ``{"id": ("type", config) or {"type":..., ...}}`` and edges written
    ``"a>b"`` or ``"a.handle>b"``."""
    out_nodes = []
    for node_id, spec in nodes.items():
        if isinstance(spec, tuple):
            spec = {"type": spec[0], "config": spec[1] if len(spec) > 1 else {}}
        out_nodes.append({"id": node_id, "config": {}, **spec})
    out_edges = []
    for index, text in enumerate(edges):
        source, target = text.split(">")
        edge = {"id": f"e{index}", "target": target}
        if "." in source:
            source, handle = source.split(".")
            edge["source_handle"] = handle
        edge["source"] = source
        out_edges.append(edge)
    return {"format": 1, "nodes": out_nodes, "edges": out_edges, **extra}


def noop(**more: Any) -> dict[str, Any]:
    return {"type": "code.function", "config": {"function": "examples.noop"}, **more}


def fn(name: str, **args: Any) -> dict[str, Any]:
    """A code.function node calling ``examples.<name>(**args)``."""
    return {"type": "code.function", "config": {"function": f"examples.{name}", "args": args}}


def workflow(owner: User, graph: dict[str, Any], name: str = "wf") -> Workflow:
    return do_create_workflow(actor=owner, name=name, graph=graph)


def start(
    wf: Workflow, input: dict[str, Any] | None = None, actor: User | None = None, **kw
) -> Run:
    version = wf.versions.get(number=wf.latest_version)
    run, _ = transitions.do_start_run(
        version=version, input=input or {}, trigger=Trigger.API, actor=actor, **kw
    )
    return run


def drive(now: datetime | None = None, rounds: int = 10_000) -> int:
    """Execute every queued attempt (of every run) until none is left; fire timers due at
    ``now`` if given. Returns how many attempts ran."""
    ran = 0
    for _ in range(rounds):
        queued = list(StepRun.objects.filter(status=StepStatus.QUEUED).values_list("pk", "attempt"))
        if not queued and now is not None and recovery.fire_due_timers(now):
            continue
        if not queued:
            return ran
        for pk, attempt in queued:
            ran += tasks.execute_attempt(pk, attempt)
    raise AssertionError("the runs did not settle")


def execute(run: Run, node: str) -> bool:
    """Execute the current attempt of one queued step (and nothing after it)."""
    step = StepRun.objects.get(run=run, node_id=node)
    return tasks.execute_attempt(step.pk, step.attempt)


def steps(run: Run) -> dict[str, StepRun]:
    return {s.node_id: s for s in StepRun.objects.filter(run=run)}


def statuses(run: Run) -> dict[str, str]:
    return {node: s.status for node, s in steps(run).items()}


def event_types(run: Run) -> list[str]:
    return [f"{e.type}:{e.node_id}" if e.node_id else e.type for e in run.events.order_by("id")]


# --- Child runs (flow.subworkflow, flow.map) ----------------------------------------------------


def child_workflow(owner: User, name: str = "double") -> Workflow:
    """A workflow whose input needs a number ``n`` and whose output is ``{"n": 2 * n}``."""
    graph = build(
        {"start": ("trigger.manual",), "twice": fn("add", a="{{ input.n }}", b="{{ input.n }}")},
        ["start>twice"],
        input_schema={"type": "object", "required": ["n"], "properties": {"n": {"type": "number"}}},
        output={"n": "{{ steps.twice.output }}"},
    )
    return workflow(owner, graph, name=name)


def parent_graph(node: dict[str, Any], output: dict[str, Any] | None = None) -> dict[str, Any]:
    """``start > call > after``, where ``call`` is ``node``."""
    extra = {"output": output} if output else {}
    return build(
        {"start": ("trigger.manual",), "call": node, "after": noop()},
        ["start>call", "call>after"],
        **extra,
    )


# --- Human tasks (human.approval, human.form) ---------------------------------------------------

FINANCE = {"groups": ["finance"]}


def approval_graph(**config: Any) -> dict[str, Any]:
    """``start > ask``, then ``ask.approved > yes`` and ``ask.rejected > no``."""
    config = {"title": "Pay {{ input.amount }} EUR", "assignees": FINANCE, **config}
    return build(
        {
            "start": ("trigger.manual",),
            "ask": ("human.approval", config),
            "yes": noop(),
            "no": noop(),
        },
        ["start>ask", "ask.approved>yes", "ask.rejected>no"],
    )


def form_graph(**config: Any) -> dict[str, Any]:
    """``start > ask > after``, where ``ask`` is a human.form."""
    schema = {
        "type": "object",
        "required": ["iban"],
        "properties": {"iban": {"type": "string", "minLength": 5}, "note": {"type": "string"}},
    }
    config = {"title": "Bank details", "assignees": FINANCE, "form_schema": schema, **config}
    return build(
        {"start": ("trigger.manual",), "ask": ("human.form", config), "after": noop()},
        ["start>ask", "ask>after"],
    )


def flaky_run(owner: User) -> Run:
    """A finished run whose step ``call`` failed its first attempt (retryable, at 10:00) and
    succeeded on its second (at 10:01), on 2026-03-01: two attempts to read or compare."""
    graph = build(
        {
            "start": ("trigger.manual",),
            "call": {**fn("flaky", fail_times=1), "retry": {"max_attempts": 2, "backoff_s": 1}},
        },
        ["start>call"],
    )
    with time_machine.travel("2026-03-01T10:00:00Z", tick=False) as clock:
        run = start(workflow(owner, graph, name="Flaky"), actor=owner)
        drive(timezone.now())
        clock.shift(60)
        drive(timezone.now())
    return run


def task_of(run: Run, node: str = "ask") -> HumanTask:
    """The newest task of the step ``node``."""
    return HumanTask.objects.filter(run=run, step__node_id=node).order_by("-id").first()
