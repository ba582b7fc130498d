"""Branching on expressions: logic.condition and logic.switch."""

from engine.steps.base import StepContext, StepResult, StepType, object_schema

HANDLE_NAME = {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"}


class Condition(StepType):
    """Evaluates a bare expression and leaves by ``true`` or ``false``."""

    type_name = "logic.condition"
    title = "Condition"
    category = "logic"
    description = "Evaluates an expression and continues on the true or the false branch."
    static_handles = ("true", "false")
    expression_fields = ("expression",)
    config_schema = object_schema(
        {
            "expression": {
                "type": "string",
                "title": "Expression",
                "description": "A Jinja2 expression without braces, e.g. input.amount > 1000.",
                "minLength": 1,
                "maxLength": 10_000,
            }
        },
        required=["expression"],
    )
    runnable = True

    def run(self, ctx: StepContext) -> StepResult:
        value = bool(ctx.evaluate(ctx.config["expression"], "config.expression"))
        return StepResult(output={"value": value}, handle="true" if value else "false")


class Switch(StepType):
    """Leaves by the first case whose expression is true, else by ``default``."""

    type_name = "logic.switch"
    title = "Switch"
    category = "logic"
    description = (
        "Evaluates each case's expression in order and continues on the first that is true, "
        "or on default."
    )
    static_handles = None
    handles_from_config = {"list": "cases", "key": "name", "then": ["default"]}
    expression_fields = ("cases.*.expression",)
    config_schema = object_schema(
        {
            "cases": {
                "type": "array",
                "title": "Cases",
                "description": "Checked in order; each case is an output handle of its name.",
                "minItems": 1,
                "maxItems": 50,
                "items": object_schema(
                    {
                        "name": {
                            **HANDLE_NAME,
                            "title": "Name",
                            "description": "The handle's name: lowercase letters, digits, _.",
                            "not": {"enum": ["default", "error", "compensate"]},
                        },
                        "expression": {
                            "type": "string",
                            "title": "Expression",
                            "description": "A Jinja2 expression without braces.",
                            "minLength": 1,
                            "maxLength": 10_000,
                        },
                    },
                    required=["name", "expression"],
                ),
            }
        },
        required=["cases"],
    )
    runnable = True

    def run(self, ctx: StepContext) -> StepResult:
        for index, case in enumerate(ctx.config["cases"]):
            if ctx.evaluate(case["expression"], f"config.cases.{index}.expression"):
                return StepResult(output={"case": case["name"]}, handle=case["name"])
        return StepResult(output={"case": "default"}, handle="default")
