"""``code.function`` steps for the fault tests, loaded by the workers they start
(``FLOWDECK_FUNCTION_MODULES``, see tests/faults/kit.py FAULT_ENV)."""

from typing import Any

import httpx

from engine.functions import step
from engine.steps.base import StepContext


@step("faults.call")
def call(ctx: StepContext, url: str, body: Any = None) -> Any:
    """POST ``body`` to a test's service with the attempt's Idempotency-Key, as user code that
    calls a payment service would, and output its JSON answer. The service may hold the request
    for as long as a test likes: this is how a test holds a step in ``running``."""
    response = httpx.post(
        url, json=body, headers={"Idempotency-Key": ctx.idempotency_key}, timeout=120
    )
    response.raise_for_status()
    return response.json()
