"""Calling Python registered in code: code.function."""

from connectors.credentials import scrub
from engine import breakers
from engine.functions import FUNCTIONS, accepts
from engine.models import BreakerScope
from engine.steps.base import ANY_VALUE, StepContext, StepError, StepResult, StepType, object_schema


class Function(StepType):
    """Calls a Python function registered with ``@step("name")`` and outputs its return value.
    With ``circuit_breaker``, one breaker per function name (engine/breakers.py): retryable
    StepErrors and other exceptions count as failures; permanent StepErrors do not."""

    type_name = "code.function"
    title = "Python function"
    category = "code"
    description = (
        "Calls a Python function registered in code with @step(name) and outputs what it returns. "
        "Code typed in the browser is never run."
    )
    config_schema = object_schema(
        {
            "function": {
                "type": "string",
                "title": "Function",
                "description": "The name the function was registered under, e.g. billing.charge.",
                "pattern": "^[a-z][a-z0-9_.]{0,127}$",
            },
            "args": {
                "type": "object",
                "title": "Arguments",
                "description": (
                    "Keyword arguments passed to the function; strings inside values are templates."
                ),
                "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]{0,63}$"},
                "additionalProperties": ANY_VALUE,
                "default": {},
            },
            "circuit_breaker": breakers.CONFIG_SCHEMA,
        },
        required=["function"],
    )
    runnable = True
    blocking = True

    def run(self, ctx: StepContext) -> StepResult:
        name = ctx.config["function"]
        fn = FUNCTIONS.get(name)
        if fn is None:
            raise StepError(
                f"no function is registered as {name!r} (see FLOWDECK_FUNCTION_MODULES)",
                retryable=False,
                code="unknown_function",
            )
        args = ctx.config.get("args", {})
        problem = accepts(fn, args)
        if problem is not None:
            raise StepError(f"{name}: {problem}", retryable=False, code="bad_arguments")
        permit = breakers.guard(BreakerScope.FUNCTION, name, breakers.Thresholds.of(ctx.config))
        try:
            output = fn(ctx, **args)
        except StepError as exc:
            # A retryable StepError is the service's trouble and counts; a permanent one is
            # the input's fault (a declined card) and the function did answer.
            error = scrub(exc.as_dict(), ctx.secrets)
            breakers.report(permit, "failure" if exc.retryable else "success", error)
            raise
        except Exception as exc:
            error = {"code": "exception", "message": f"{type(exc).__name__}: {exc}"}
            breakers.report(permit, "failure", scrub(error, ctx.secrets))
            raise
        breakers.report(permit, "success")
        return StepResult(output=output)
