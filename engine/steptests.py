"""Step tests (issue 18): named test cases of one step, kept with the workflow
(``designer.StepTest``), run together from the designer, the API, the CLI and the save gate.

A case is a test run (engine/testruns.py) of its step in a graph (a version's, or a draft),
the steps above it given the case's own ``data`` and nothing else: no pins, no recent runs, so
that it answers the same whatever was pinned or run since. The runs go to the workers like any
run; ``run_step_tests`` waits for them (a bounded time), then checks the step's output against
the case's expectations:

- ``{"kind": "equals", "value": ...}``: the output is this JSON value;
- ``{"kind": "schema", "schema": {...}}``: the output is valid against this JSON Schema;
- ``{"kind": "expression", "expression": "..."}``: true, in the expressions' sandbox, with
  ``output`` (the step's), ``input`` (the run's) and ``steps`` in scope.

A step that failed, was skipped or did not finish in time fails the case.
"""

import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from jinja2 import TemplateError
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from designer.expressions import analyse_expression
from designer.models import StepTest, Workflow
from designer.validation import FORMAT_CHECKER, NODE_ID
from engine import testruns, transitions
from engine.expressions import ExpressionError, evaluate
from engine.models import Run, StepRun
from engine.states import RUN_TERMINAL, StepStatus
from flowdeck.errors import api_error

KINDS = ("equals", "schema", "expression")
# What an expectation's expression may name.
SCOPE_NAMES = frozenset({"output", "input", "steps"})
# Expectations per case, and cases per workflow: tests, not a data store.
MAX_EXPECTATIONS = 20
MAX_TESTS = 200
# A case's data and expectations, as JSON.
MAX_CASE_BYTES = 256 * 1024
# How long a whole set of cases may take before the unfinished ones fail as timed out.
TIMEOUT_S = 60.0
# Between two looks at the runs while the workers run them.
POLL_S = 0.2
# A value shown in a failure message is cut to this many characters.
SHOWN_CHARS = 300
# Messages of one schema failure.
MAX_SCHEMA_ERRORS = 5


def shown(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…"


# --- What a case is -----------------------------------------------------------------------------


def expectation_errors(expect: Any) -> list[dict[str, Any]]:
    """The API's errors for a list of expectations (field ``expect.<i>.<key>``); [] when sound.
    A schema must be a valid JSON Schema (2020-12) and an expression must compile, name only
    output, input and steps, and reach no internals."""
    if not isinstance(expect, list):
        return [api_error("invalid", "a list of expectations", field="expect")]
    if len(expect) > MAX_EXPECTATIONS:
        message = f"at most {MAX_EXPECTATIONS} expectations per test"
        return [api_error("too_many", message, field="expect")]
    errors: list[dict[str, Any]] = []
    for index, item in enumerate(expect):
        at = f"expect.{index}"
        if not isinstance(item, dict) or item.get("kind") not in KINDS:
            message = "an expectation is an object whose kind is " + ", ".join(KINDS)
            errors.append(api_error("invalid_choice", message, field=f"{at}.kind"))
            continue
        kind = item["kind"]
        key = {"equals": "value", "schema": "schema", "expression": "expression"}[kind]
        for extra in sorted(set(item) - {"kind", key}):
            message = f"{extra!r} is not a field of an expectation of kind {kind}"
            errors.append(api_error("unknown_field", message, field=f"{at}.{extra}"))
        if key not in item:
            errors.append(api_error("required", f"{kind} needs {key}", field=f"{at}.{key}"))
        elif kind == "schema":
            errors += _schema_errors(item["schema"], f"{at}.schema")
        elif kind == "expression":
            errors += _expression_errors(item["expression"], f"{at}.expression")
    return errors


def _schema_errors(schema: Any, at: str) -> list[dict[str, Any]]:
    if not isinstance(schema, dict | bool):
        return [api_error("invalid", "a JSON Schema is an object", field=at)]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        path = ".".join(str(p) for p in exc.path)
        where = f" at {path}" if path else ""
        message = f"not a valid JSON Schema{where}: {exc.message}"
        return [api_error("invalid_schema", message, field=at)]
    except RecursionError:
        return [api_error("invalid_schema", "the JSON Schema is nested too deeply", field=at)]
    return []


def _expression_errors(source: Any, at: str) -> list[dict[str, Any]]:
    if not isinstance(source, str) or not source.strip():
        return [api_error("invalid", "an expression, e.g. output.total > 0", field=at)]
    try:
        analysis = analyse_expression(source)
    except TemplateError as exc:
        message = f"expression {source!r} does not compile: {exc.message}"
        return [api_error("expression_syntax", message, field=at)]
    except (RecursionError, ValueError, OverflowError, MemoryError) as exc:
        message = f"expression cannot be compiled: {type(exc).__name__}"
        return [api_error("expression_syntax", message, field=at)]
    errors = [
        api_error("forbidden_attribute", f"{name!r} in {source!r} is not allowed", field=at)
        for name in sorted(set(analysis.private_names))
    ]
    errors += [
        api_error(
            "unknown_name",
            f"{name!r} is not defined in {source!r}; use output, input or steps",
            field=at,
        )
        for name in sorted(analysis.free_names - SCOPE_NAMES)
    ]
    return errors


def case_errors(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The API's errors for a case's node, data and expectations (the serializer has checked
    their JSON types)."""
    errors = []
    if not NODE_ID.fullmatch(data.get("node", "")):
        message = "a node id is a-z, 0-9 and _, starting with a letter"
        errors.append(api_error("invalid", message, field="node"))
    for name in data.get("data") or {}:
        if not NODE_ID.fullmatch(name):
            errors.append(api_error("invalid", "not a node id", field=f"data.{name}"[:200]))
    errors += expectation_errors(data.get("expect", []))
    payload = {k: data.get(k) for k in ("data", "input", "expect")}
    size = len(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_CASE_BYTES:
        message = f"the test's data is {size} bytes; the limit is {MAX_CASE_BYTES}"
        errors.append(api_error("too_large", message, field="data"))
    return errors


# --- Checking an output -------------------------------------------------------------------------


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON values: as Python's ==, except that true is not 1 (nor false 0)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict | list) or isinstance(b, dict | list):
        return False
    return a == b


def failures_of(
    expect: Iterable[Mapping[str, Any]], output: Any, scope: Mapping[str, Any]
) -> list[dict[str, str]]:
    """What ``output`` breaks of ``expect``: one ``{kind, message}`` per broken expectation.
    ``scope``: input and steps, for the expressions."""
    found = []
    for index, item in enumerate(expect):
        kind = item.get("kind")
        if kind == "equals":
            if not same_json(output, item.get("value")):
                message = f"the output is {shown(output)}, expected {shown(item.get('value'))}"
                found.append({"kind": kind, "message": message})
        elif kind == "schema":
            validator = Draft202012Validator(item.get("schema", {}), format_checker=FORMAT_CHECKER)
            errors = sorted(validator.iter_errors(output), key=lambda e: list(map(str, e.path)))
            for error in errors[:MAX_SCHEMA_ERRORS]:
                path = ".".join(str(p) for p in error.path)
                where = f"output.{path}" if path else "the output"
                found.append({"kind": kind, "message": f"{where}: {error.message}"})
        elif kind == "expression":
            source = item.get("expression", "")
            try:
                value = evaluate(source, {**scope, "output": output}, f"expect.{index}.expression")
            except ExpressionError as exc:
                found.append({"kind": kind, "message": str(exc)})
                continue
            if not value:
                message = f"{source!r} is {shown(value)}, not true"
                found.append({"kind": kind, "message": message})
    return found


# --- Running cases ------------------------------------------------------------------------------


def pause() -> None:
    """Between two looks at the runs: the workers run them meanwhile. Tests without worker
    processes replace it with one that executes the queued attempts (tests.engine_kit.drive)."""
    time.sleep(POLL_S)


@dataclass
class Case:
    """One case under way: its run, or why it could not start."""

    test: StepTest
    run: int | None = None
    failures: list[dict[str, str]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)


def start_case(
    *, actor: AbstractBaseUser | None, workflow: Workflow, graph: Mapping[str, Any], test: StepTest
) -> Case:
    """Start the test run of one case; a case that cannot start carries why, as a failure."""
    from designer.services import GraphInvalid, GraphTooLarge

    case = Case(test)
    try:
        run = testruns.do_start_test_run(
            actor=actor,
            workflow=workflow,
            graph=graph,
            node=test.node,
            mode=testruns.STEP,
            input=test.input,
            data=test.data,
            confirm_effects=test.confirm_effects,
            capture_email=True,
            only_data=True,
        )
    except (testruns.TestRunRefused, transitions.InputInvalid, GraphInvalid) as exc:
        hint = ""
        if any(e.get("code") == "confirm_effects" for e in exc.errors):
            hint = " (a test that may do so says confirm_effects: true)"
        messages = "; ".join(e["message"] for e in exc.errors[:3]) + hint
        case.failures.append({"kind": "start", "message": f"the test could not start: {messages}"})
    except (transitions.Conflict, GraphTooLarge) as exc:
        case.failures.append({"kind": "start", "message": f"the test could not start: {exc}"})
    else:
        case.run = run.pk
    return case


def wait_for_runs(
    run_ids: list[int], timeout: float, settle: Callable[[], None] | None = None
) -> set[int]:
    """Wait until the runs end, ``timeout`` seconds at most; the ids of those still going
    (cancelled here, so that a stuck test does not hold a worker or stay open)."""
    deadline = time.monotonic() + timeout
    while True:
        going = set(
            Run.objects.filter(pk__in=run_ids)
            .exclude(status__in=RUN_TERMINAL)
            .values_list("pk", flat=True)
        )
        if not going or time.monotonic() >= deadline:
            break
        (settle or pause)()
    for pk in going:
        transitions.do_cancel_run(pk, actor=None, reason="the step test timed out")
    return going


def result_of(case: Case, timed_out: set[int], timeout: float) -> dict[str, Any]:
    """A case's result: ``{name, node, passed, failures, run, duration_ms}``."""
    test = case.test
    failures = list(case.failures)
    duration = None
    if case.run is not None:
        run = Run.objects.get(pk=case.run)
        end = run.finished_at or timezone.now()
        duration = round((end - run.created_at).total_seconds() * 1000)
        step = StepRun.objects.filter(run=run, node_id=test.node).first()
        if case.run in timed_out:
            message = f"timed out: the test run did not end within {timeout:g} s"
            failures.append({"kind": "timeout", "message": message})
        elif step is None or step.status != StepStatus.SUCCEEDED:
            failures.append({"kind": "step", "message": _step_failure(step)})
        else:
            scope = transitions.expression_scope(run)
            failures += failures_of(test.expect, step.output, scope)
    return {
        "name": test.name,
        "node": test.node,
        "passed": not failures,
        "failures": failures,
        "run": case.run,
        "duration_ms": duration,
    }


def _step_failure(step: StepRun | None) -> str:
    if step is None:
        return "the step did not run"
    if step.status == StepStatus.FAILED:
        return f"the step failed: {(step.error or {}).get('message', 'no message')}"
    if step.status == StepStatus.SKIPPED:
        return "the step was skipped: a step above it chose another branch"
    return f"the step ended {step.status}"


def run_step_tests(
    *,
    actor: AbstractBaseUser | None,
    workflow: Workflow,
    graph: Mapping[str, Any],
    tests: Iterable[StepTest],
    timeout: float = TIMEOUT_S,
    settle: Callable[[], None] | None = None,
) -> list[dict[str, Any]]:
    """Run ``tests`` against ``graph`` on the workers and wait for them (``timeout`` for all
    together); their results, in the tests' order. Call it outside any transaction: the
    workers see only committed runs. ``settle`` replaces ``pause`` between two looks."""
    cases = [start_case(actor=actor, workflow=workflow, graph=graph, test=t) for t in tests]
    started = [c.run for c in cases if c.run is not None]
    timed_out = wait_for_runs(started, timeout, settle) if started else set()
    return [result_of(c, timed_out, timeout) for c in cases]


def summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    return {"passed": all(r["passed"] for r in results), "results": results}
