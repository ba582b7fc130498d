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

from designer.expressions import ENV, analyse_expression, analyse_template, is_template

# A string that is exactly one {{ ... }} renders to the value itself, not its text.
_ONE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>[\s\S]*?)\}\}\s*$")


class ExpressionError(Exception):
    """An expression failed at run time; the message names the field and the expression."""

    def __init__(self, field: str, source: str, detail: str) -> None:
        self.field = field
        self.source = source
        super().__init__(f"{field}: {source!r}: {detail}")


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
        return _defined(_compiled_expression(source)(**scope))
    except (TemplateError, SecurityError, ArithmeticError, TypeError, ValueError) as exc:
        raise ExpressionError(field, source, str(exc) or type(exc).__name__) from exc


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
            return _compiled_template(value).render(**scope)
        except (TemplateError, SecurityError, ArithmeticError, TypeError, ValueError) as exc:
            raise ExpressionError(field, value, str(exc) or type(exc).__name__) from exc
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
