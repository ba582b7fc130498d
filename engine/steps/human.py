"""Asking people: human.approval and human.form."""

from typing import Any

from engine.steps.base import TEMPLATE, TEMPLATED_VALUE, StepType, object_schema, templated

# Django's username and group-name limits. A user may also be one template, such as
# {{ input.manager }}, rendered when the task is created.
USERNAME: dict[str, Any] = {
    "anyOf": [{"type": "string", "pattern": r"^[\w.@+-]{1,150}$"}, TEMPLATED_VALUE]
}
GROUP_NAME: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 150}

GROUPS: dict[str, Any] = {
    "type": "array",
    "title": "Groups",
    "description": "Names of groups whose every member may act.",
    "items": GROUP_NAME,
    "uniqueItems": True,
    "maxItems": 100,
}

ASSIGNEES: dict[str, Any] = object_schema(
    {
        "users": {
            "type": "array",
            "title": "Users",
            "description": "Usernames of people who may act.",
            "items": USERNAME,
            "uniqueItems": True,
            "maxItems": 100,
        },
        "groups": GROUPS,
    },
    # At least one person or group, so the task can never be orphaned.
    anyOf=[
        {"required": ["users"], "properties": {"users": {"minItems": 1}}},
        {"required": ["groups"], "properties": {"groups": {"minItems": 1}}},
    ],
    title="Assignees",
    description="Who may act on the task: users, groups, or both.",
)

DUE_IN_S: dict[str, Any] = templated(
    {"type": "integer", "minimum": 60, "maximum": 31_536_000},
    title="Due in (seconds)",
    description="Time allowed before the timeout rule applies; no due date when absent.",
)

ESCALATE_TO: dict[str, Any] = object_schema(
    {
        "groups": {**GROUPS, "minItems": 1},
        "due_in_s": {
            **DUE_IN_S,
            "description": "Time the escalation groups get; if it also passes, the step fails.",
        },
    },
    required=["groups"],
    title="Escalate to",
    description="Who takes the task over when it is overdue and the timeout rule is escalate.",
)

REMINDER_EVERY_S: dict[str, Any] = {
    "type": "integer",
    "title": "Remind every (seconds)",
    "description": "Reminds assignees who have not acted yet at this interval; none when absent.",
    "minimum": 300,
    "maximum": 2_592_000,
}

TASK_TITLE: dict[str, Any] = {
    **TEMPLATE,
    "title": "Title",
    "description": "What the assignees see in their inbox; may contain templates.",
    "minLength": 1,
    "maxLength": 1000,
}

TASK_DESCRIPTION: dict[str, Any] = {
    **TEMPLATE,
    "title": "Description",
    "description": "Details shown with the task; may contain templates.",
}

# Escalating needs a deadline and someone to escalate to.
ESCALATION_RULE: dict[str, Any] = {
    "if": {"properties": {"on_timeout": {"const": "escalate"}}, "required": ["on_timeout"]},
    "then": {"required": ["due_in_s", "escalate_to"]},
}


def on_timeout(choices: list[str], description: str) -> dict[str, Any]:
    return {
        "type": "string",
        "enum": choices,
        "title": "On timeout",
        "description": description,
        "default": "fail",
    }


class Approval(StepType):
    """Asks assignees to approve or reject; leaves by ``approved`` or ``rejected``."""

    type_name = "human.approval"
    title = "Approval"
    category = "human"
    description = (
        "Asks users or groups to approve or reject, with a due date, escalation and a number of "
        "approvals needed. Continues on approved or rejected."
    )
    static_handles = ("approved", "rejected")
    config_schema = object_schema(
        {
            "title": TASK_TITLE,
            "description": TASK_DESCRIPTION,
            "assignees": ASSIGNEES,
            "required_approvals": {
                "type": "integer",
                "title": "Approvals needed",
                "description": "How many different assignees must approve.",
                "minimum": 1,
                "maximum": 50,
                "default": 1,
            },
            "reject_on_first_rejection": {
                "type": "boolean",
                "title": "Reject on first rejection",
                "description": (
                    "One rejection rejects at once; when off, the step is rejected only once the "
                    "approvals needed can no longer be reached."
                ),
                "default": True,
            },
            "forbid_requester": {
                "type": "boolean",
                "title": "Four eyes",
                "description": "The person who started the run may not approve it.",
                "default": False,
            },
            "due_in_s": DUE_IN_S,
            "on_timeout": on_timeout(
                ["reject", "approve", "escalate", "fail"],
                "What happens when the task is overdue: reject, approve, escalate, "
                "or fail the step.",
            ),
            "escalate_to": ESCALATE_TO,
            "reminder_every_s": REMINDER_EVERY_S,
            "allow_delegation": {
                "type": "boolean",
                "title": "Allow delegation",
                "description": "Assignees may hand the task to someone else.",
                "default": True,
            },
        },
        required=["title", "assignees"],
        **ESCALATION_RULE,
    )


class Form(StepType):
    """Asks assignees to fill fields described by a JSON Schema and outputs what they submit."""

    type_name = "human.form"
    title = "Form"
    category = "human"
    description = (
        "Asks users or groups to fill in a form described by a JSON Schema. "
        "The output is the submitted data."
    )
    config_schema = object_schema(
        {
            "title": TASK_TITLE,
            "description": TASK_DESCRIPTION,
            "assignees": ASSIGNEES,
            "form_schema": {
                "type": "object",
                "title": "Form fields",
                "description": (
                    "A JSON Schema of type object: its properties are the fields to fill, "
                    "and the submission is validated against it."
                ),
                "properties": {
                    "type": {"const": "object"},
                    "properties": {"type": "object", "minProperties": 1},
                },
                "required": ["type", "properties"],
            },
            "due_in_s": DUE_IN_S,
            "on_timeout": on_timeout(
                ["fail", "escalate"], "What happens when the form is overdue: fail or escalate."
            ),
            "escalate_to": ESCALATE_TO,
            "reminder_every_s": REMINDER_EVERY_S,
        },
        required=["title", "assignees", "form_schema"],
        **ESCALATION_RULE,
    )
