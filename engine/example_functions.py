"""Example functions for ``code.function`` steps, registered at startup
(docs/extending/python-functions.md). The tests and benchmarks use them too."""

import time
from typing import Any

from engine.functions import step
from engine.steps.base import StepContext, StepError


@step("examples.noop")
def noop(ctx: StepContext) -> None:
    """Does nothing: the benchmarks' unit of work."""
    return None


@step("examples.add")
def add(ctx: StepContext, a: float, b: float) -> float:
    return a + b


@step("examples.echo")
def echo(ctx: StepContext, **values: Any) -> dict[str, Any]:
    """Outputs its arguments and the attempt's idempotency key."""
    return {"values": values, "attempt": ctx.attempt, "idempotency_key": ctx.idempotency_key}


@step("examples.flaky")
def flaky(ctx: StepContext, fail_times: int = 1, retryable: bool = True) -> dict[str, Any]:
    """Fails its first ``fail_times`` attempts, then succeeds: shows retries, and a step's log
    (``ctx.log``; the run view's inspector shows it per attempt)."""
    ctx.log(f"attempt {ctx.attempt}; the first {fail_times} fail", level="debug")
    if ctx.attempt <= fail_times:
        ctx.log(f"failing attempt {ctx.attempt} on purpose", level="warning")
        raise StepError(f"attempt {ctx.attempt} failed on purpose", retryable=retryable)
    ctx.log(f"attempt {ctx.attempt} succeeded")
    return {"attempt": ctx.attempt}


@step("examples.sleep")
def sleep(ctx: StepContext, seconds: float = 1.0) -> dict[str, Any]:
    """Works for ``seconds`` (checking for cancellation): shows timeouts and crash recovery."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ctx.cancelled.wait(min(0.05, max(0.0, deadline - time.monotonic()))):
            raise StepError("cancelled while sleeping", retryable=False, code="cancelled")
    return {"slept": seconds, "attempt": ctx.attempt}


@step("examples.big_output")
def big_output(ctx: StepContext, size: int) -> str:
    """A string of ``size`` characters: shows the output size limit."""
    return "x" * size


@step("examples.multiply")
def multiply(ctx: StepContext, a: float, b: float) -> float:
    return a * b
