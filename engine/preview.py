"""An expression's or a template's value with a finished or running run's data: what the
designer shows under an expression field while it is typed (issue 18). The same sandbox and
scope as a step's config at run time (engine/expressions.py, transitions.expression_scope),
so what the preview says is what the step would get."""

import json
from collections.abc import Mapping
from typing import Any

from engine.expressions import ExpressionError, evaluate, render
from engine.models import Run
from engine.transitions import expression_scope

FIELD = "preview"
# What a preview sends back at most, as JSON text: a value the sandbox allows may be 20 MB.
MAX_PREVIEW_CHARS = 65_536


def preview(
    source: str,
    mode: str,
    run: Run | None,
    pins: Mapping[str, Any] | None = None,
    input: Any = None,
) -> dict[str, Any]:
    """``{"value": ..., "error": None, "pinned": [...]}``, or ``{"value": None, "error": {code,
    message}}`` when evaluating it fails as the step would (an unknown name, a type error, a
    sandbox limit). The workflow's ``pins`` stand in for those steps' outputs in ``run``, as
    they would in a test run; ``pinned`` names the pins the scope took. Without a run, the
    scope's input is ``input``."""
    if run is not None:
        scope = expression_scope(run)
    else:
        scope = {"input": input if input is not None else {}, "steps": {}, "run": {}}
    pinned = sorted(pins or {})
    for node in pinned:
        pin = pins[node]
        scope["steps"][node] = {"output": pin.get("output"), "status": "succeeded", "error": None}
    result = _evaluate(source, mode, scope)
    return {**result, "pinned": pinned}


def _evaluate(source: str, mode: str, scope: dict[str, Any]) -> dict[str, Any]:
    try:
        if mode == "expression":
            value = evaluate(source, scope, FIELD)
        else:
            value = render(source, scope, FIELD)
    except ExpressionError as exc:
        return {"value": None, "error": {"code": exc.code, "message": str(exc)}}
    size = len(json.dumps(value, ensure_ascii=False))
    if size > MAX_PREVIEW_CHARS:
        message = (
            f"the value is {size:,} characters of JSON; a preview shows up to "
            f"{MAX_PREVIEW_CHARS:,} (the step would get all of it)"
        )
        return {"value": None, "error": {"code": "too_large", "message": message}}
    return {"value": value, "error": None}
