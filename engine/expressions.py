"""Evaluating expressions and templates at run time (CONTRACT §2).

The language is the designer's (``designer.expressions.ENV``, the Jinja2 sandbox), so what
validated is what runs. Compiled expressions and templates are cached by their source text.
"""

import re
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from typing import Any

from jinja2 import TemplateError, Undefined
from jinja2.sandbox import SecurityError

from designer.expressions import (
    ENV,
    MAX_SIZE,
    ExpressionLimitError,
    analyse_expression,
    analyse_template,
    is_template,
    weight,
)
from flowdeck.nul import has_nul

# A string that is exactly one {{ ... }} renders to the value itself, not its text.
_ONE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>[\s\S]*?)\}\}\s*$")


class ExpressionError(Exception):
    """An expression failed at run time; the message names the field and the expression.
    ``code`` is ``expression_limit`` when it went past a limit of the sandbox (size, steps,
    time, depth: designer/expressions.py), else ``expression_error``."""

    def __init__(self, field: str, source: str, detail: str, code: str = "expression_error"):
        self.field = field
        self.source = source
        self.code = code
        super().__init__(f"{field}: {_shown(source)!r}: {detail}")


def _shown(source: str) -> str:
    # A 1 MB template in every error message (and event, and log line) helps nobody.
    return source if len(source) <= 500 else source[:500] + "…"


# What an evaluation can raise that is the expression's fault, not the engine's.
_FAILURES = (TemplateError, SecurityError, ArithmeticError, LookupError, TypeError, ValueError)
# How an evaluation that went past a limit ends: the sandbox's limits, and Python's stack
# (a macro calling itself, a deeply nested value) and memory.
_LIMITS = (ExpressionLimitError, RecursionError, MemoryError)


def _error(field: str, source: str, exc: BaseException) -> ExpressionError:
    if isinstance(exc, _LIMITS):
        detail = {RecursionError: "nested or recursive too deeply", MemoryError: "out of memory"}
        text = detail.get(type(exc)) or str(exc)
        return ExpressionError(field, source, f"past a limit: {text}", code="expression_limit")
    return ExpressionError(field, source, str(exc) or type(exc).__name__)


@lru_cache(maxsize=8192)
def _compiled_expression(source: str) -> Callable[..., Any]:
    return ENV.compile_expression(source, undefined_to_none=False)


@lru_cache(maxsize=8192)
def _compiled_template(source: str) -> Any:
    return ENV.from_string(source)


def _one_expression(text: str) -> str | None:
    match = _ONE_EXPRESSION.match(text)
    if match is None:
        return None
    inner = match["expr"]
    # "{{ a }} and {{ b }}" also matches the pattern; it is a template, not one expression.
    return None if "{{" in inner or "}}" in inner else inner


def evaluate(source: str, scope: Mapping[str, Any], field: str) -> Any:
    """The value of a bare expression (``logic.condition``'s ``input.amount > 1000``)."""
    try:
        value = _compiled_expression(source)(**scope)
        if isinstance(value, list | dict) and weight(value) > MAX_SIZE:
            # Weighed before it is walked, or written out as JSON: a value shared many times
            # (nested repetitions) costs its weight there, not its few distinct parts.
            raise ExpressionLimitError(f"a value bigger than {MAX_SIZE:,} items and characters")
        return _storable(_defined(value), field, source)
    except (*_FAILURES, *_LIMITS) as exc:
        raise _error(field, source, exc) from exc


def _storable(value: Any, field: str, source: str) -> Any:
    """``value``, unless it holds U+0000: PostgreSQL cannot keep it in a step's input or
    output, so the step fails here, naming the field, rather than its outcome failing to save."""
    if has_nul(value):
        raise ExpressionError(field, source, "yields the character U+0000, which cannot be stored")
    return value


def _defined(value: Any) -> Any:
    """``value``, or UndefinedError if a missing name hides in it: StrictUndefined fails only
    when used, and a bare ``input.nope`` or ``[input.nope]`` is not used yet."""
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    elif isinstance(value, list | tuple):
        for item in value:
            _defined(item)
    elif isinstance(value, dict):
        for item in value.values():
            _defined(item)
    elif not isinstance(value, str | int | float | bool | type(None)):
        # input.values is dict.values, a method: Jinja looks up attributes before keys.
        hint = (
            " (write input['name'] for a key that is also a method name)" if callable(value) else ""
        )
        raise TypeError(f"yields a {type(value).__name__}, not a JSON value{hint}")
    return value


def render(value: Any, scope: Mapping[str, Any], field: str = "config") -> Any:
    """``value`` with every string in it rendered as a template; ``"{{ x }}"`` yields x itself."""
    if isinstance(value, str):
        if not is_template(value):
            return value
        inner = _one_expression(value)
        if inner is not None:
            return evaluate(inner, scope, field)
        try:
            text = _compiled_template(value).render(**scope)
        except (*_FAILURES, *_LIMITS) as exc:
            raise _error(field, value, exc) from exc
        return _storable(text, field, value)
    if isinstance(value, dict):
        return {key: render(item, scope, f"{field}.{key}") for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, scope, f"{field}.{index}") for index, item in enumerate(value)]
    return value


def _matches(path: tuple[str, ...], pattern: str) -> bool:
    parts = pattern.split(".")
    return len(parts) == len(path) and all(p in ("*", q) for p, q in zip(parts, path, strict=True))


def strings(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    """Every string inside ``value`` with its path of keys and indexes."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings(item, (*path, str(index)))


def referenced_steps(config: Any, expression_fields: tuple[str, ...]) -> frozenset[str] | None:
    """The step ids a node's config reads through ``steps.<id>``; None when it may read any
    (``steps[name]``), so the engine loads only what a step needs."""
    found: set[str] = set()
    for path, text in strings(config):
        if any(_matches(path, pattern) for pattern in expression_fields):
            analysis = analyse_expression(text)
        elif is_template(text):
            analysis = analyse_template(text)
        else:
            continue
        for ref in analysis.paths:
            if ref[0] != "steps":
                continue
            if len(ref) < 2 or not isinstance(ref[1], str):
                return None
            found.add(ref[1])
        if "steps" in analysis.free_names and not any(p[0] == "steps" for p in analysis.paths):
            return None
    return frozenset(found)


def is_expression_field(path: tuple[str, ...], expression_fields: tuple[str, ...]) -> bool:
    return any(_matches(path, pattern) for pattern in expression_fields)
