"""Calling Python registered in code: code.function."""

from engine.steps.base import ANY_VALUE, StepType, object_schema


class Function(StepType):
    """Calls a Python function registered with ``@step("name")`` and outputs its return value."""

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
        },
        required=["function"],
    )
