"""Python functions that ``code.function`` steps call, registered in code with ``@step(name)``.

Code typed in the browser never runs; a function exists only if an installed module registers it.
The modules are listed in the setting ``FLOWDECK_FUNCTION_MODULES`` and imported at startup.
"""

import importlib
import inspect
from collections.abc import Callable
from typing import Any

from django.conf import settings

FUNCTIONS: dict[str, Callable[..., Any]] = {}


def step(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``fn`` under ``name``; it is called as ``fn(ctx, **args)`` and returns the
    step's output (JSON). It raises ``StepError`` to fail, retryable or not."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        existing = FUNCTIONS.get(name)
        if existing is not None and existing is not fn:
            raise ValueError(f"a function is already registered as {name!r}: {existing!r}")
        FUNCTIONS[name] = fn
        return fn

    return register


def load_function_modules() -> None:
    for module in settings.FLOWDECK_FUNCTION_MODULES:
        importlib.import_module(module)


def accepts(fn: Callable[..., Any], args: dict[str, Any]) -> str | None:
    """Why ``fn(ctx, **args)`` cannot be called, or None."""
    try:
        inspect.signature(fn).bind(None, **args)
    except TypeError as exc:
        return str(exc)
    return None
