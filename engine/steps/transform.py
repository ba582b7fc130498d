"""Shaping data: data.transform."""

from engine.steps.base import ANY_VALUE, StepContext, StepResult, StepType, object_schema


class Transform(StepType):
    """Renders a JSON value whose strings are templates and outputs it."""

    type_name = "data.transform"
    title = "Transform"
    category = "data"
    description = (
        "Builds a JSON value from templates, e.g. to reshape earlier steps' outputs. "
        "The output is the value, rendered."
    )
    config_schema = object_schema(
        {
            "value": {
                **ANY_VALUE,
                "title": "Value",
                "description": (
                    "Any JSON value; every string inside it is a template, and a string that is "
                    "exactly one {{ ... }} yields a native value."
                ),
            }
        },
        required=["value"],
    )
    runnable = True

    def run(self, ctx: StepContext) -> StepResult:
        return StepResult(output=ctx.config["value"])
