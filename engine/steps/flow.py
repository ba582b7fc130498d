"""Shaping the run itself: flow.delay, flow.map, flow.subworkflow, flow.fail."""

from typing import Any

from engine.steps.base import TEMPLATE, TEMPLATED_VALUE, StepType, object_schema, templated

# Which workflow a flow.map or flow.subworkflow runs: by id or by name, not both.
WORKFLOW_REF: dict[str, Any] = object_schema(
    {
        "id": {
            "type": "integer",
            "title": "Workflow id",
            "description": "The id of the workflow to run.",
            "minimum": 1,
        },
        "name": {
            "type": "string",
            "title": "Workflow name",
            "description": "The name of the workflow to run.",
            "minLength": 1,
            "maxLength": 200,
        },
    },
    oneOf=[{"required": ["id"]}, {"required": ["name"]}],
    title="Workflow",
    description="The workflow to run, by id or by name.",
)

VERSION: dict[str, Any] = {
    "anyOf": [{"const": "latest"}, {"type": "integer", "minimum": 1}],
    "title": "Version",
    "description": (
        "latest runs the workflow's newest version when the step starts; "
        "a number pins that version."
    ),
    "default": "latest",
}


def child_input(description: str) -> dict[str, Any]:
    """The input a child run gets: an object whose strings are templates, or one template."""
    return templated({"type": "object"}, title="Input", description=description, default={})


class Delay(StepType):
    """Waits for a number of seconds or until a time, holding no worker meanwhile."""

    type_name = "flow.delay"
    title = "Delay"
    category = "flow"
    description = (
        "Waits for a number of seconds or until a given time, then continues. "
        "The timer is durable and holds no worker while it waits."
    )
    config_schema = object_schema(
        {
            "seconds": templated(
                {"type": "number", "minimum": 0, "maximum": 31_536_000},
                title="Seconds",
                description="How long to wait, up to a year.",
            ),
            "until": {
                "type": "string",
                "format": "date-time",
                "title": "Until",
                "description": (
                    "An ISO 8601 time to wait for, with its offset, "
                    "e.g. 2025-01-31T09:00:00+01:00. "
                    "A time already past continues at once."
                ),
                "minLength": 1,
                "maxLength": 10_000,
            },
        },
        # Exactly one of the two.
        oneOf=[{"required": ["seconds"]}, {"required": ["until"]}],
    )


class Map(StepType):
    """Runs a sub-workflow once per item of a list and outputs the list of their outputs."""

    type_name = "flow.map"
    title = "Map"
    category = "flow"
    description = (
        "Runs a workflow once for each item of a list, a few at a time, and outputs the list of "
        "their outputs in the items' order."
    )
    item_fields = ("input",)
    config_schema = object_schema(
        {
            "items": {
                **TEMPLATED_VALUE,
                "title": "Items",
                "description": "A template yielding the list to map over, e.g. {{ input.orders }}.",
                "maxLength": 10_000,
            },
            "workflow": WORKFLOW_REF,
            "version": VERSION,
            "input": child_input(
                "Each child run's input; item (the current item) and index (from 0) "
                "are defined here."
            ),
            "concurrency": {
                "type": "integer",
                "title": "Concurrency",
                "description": "How many child runs may run at the same time.",
                "minimum": 1,
                "maximum": 100,
                "default": 4,
            },
            "fail_fast": {
                "type": "boolean",
                "title": "Fail fast",
                "description": (
                    "Fail as soon as one child run fails and cancel the others; when off, wait for "
                    "all and fail at the end if any failed."
                ),
                "default": True,
            },
        },
        required=["items", "workflow"],
    )


class SubWorkflow(StepType):
    """Runs another workflow as a child run and outputs that run's output."""

    type_name = "flow.subworkflow"
    title = "Sub-workflow"
    category = "flow"
    description = (
        "Runs another workflow, its latest or a pinned version, and outputs the child run's "
        "output. The step fails if the child run fails."
    )
    config_schema = object_schema(
        {
            "workflow": WORKFLOW_REF,
            "version": VERSION,
            "input": child_input("The child run's input; strings inside it are templates."),
            "wait": {
                "type": "boolean",
                "title": "Wait for the result",
                "description": (
                    "Wait for the child run and output its output; when off, continue at once "
                    "and output the child run's id."
                ),
                "default": True,
            },
        },
        required=["workflow"],
    )


class Fail(StepType):
    """Ends the run as failed with a message; it has no outgoing handle."""

    type_name = "flow.fail"
    title = "Fail"
    category = "flow"
    description = "Ends the run as failed with the given message and optional code."
    static_handles = ()
    config_schema = object_schema(
        {
            "message": {
                **TEMPLATE,
                "title": "Message",
                "description": "Why the run failed; may contain templates.",
                "minLength": 1,
                "maxLength": 2000,
            },
            "code": {
                "type": "string",
                "title": "Code",
                "description": "A short machine-readable error code, e.g. PAYMENT_DECLINED.",
                "minLength": 1,
                "maxLength": 100,
            },
        },
        required=["message"],
    )
