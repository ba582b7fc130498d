"""Asking people: human.approval and human.form.

A run of either parks the step in ``waiting`` with a ``TaskRequest``; the engine creates the
``HumanTask`` in the same transaction (engine/transitions.py), and decisions, delegations, due
times and reminders drive it from there. The rules that need no database live here as pure
functions: what a set of decisions means, what an overdue task does, when the next reminder is.
"""

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar

import jsonschema
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from engine.steps.base import (
    TEMPLATE,
    TEMPLATED_VALUE,
    StepContext,
    StepError,
    StepType,
    TaskRequest,
    Wait,
    object_schema,
    templated,
)

# Django's username and group-name limits. A user may also be one template, such as
# {{ input.manager }}, rendered when the task is created.
USERNAME: dict[str, Any] = {
    "anyOf": [{"type": "string", "pattern": r"^[\w.@+-]{1,150}$"}, TEMPLATED_VALUE]
}
GROUP_NAME: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 150}
# An address (one @, no spaces), or a template yielding one or a list of them.
EMAIL_ADDRESS: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "pattern": r"^[^@\s]+@[^@\s]+$", "maxLength": 254},
        TEMPLATED_VALUE,
    ]
}

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
        "emails": {
            "type": "array",
            "title": "Email addresses",
            "description": (
                "People without an account, who act through the signed links of their emails "
                'only (needs email_links "link").'
            ),
            "items": EMAIL_ADDRESS,
            "uniqueItems": True,
            "maxItems": 100,
        },
    },
    # At least one person, group or address, so the task can never be orphaned.
    anyOf=[
        {"required": ["users"], "properties": {"users": {"minItems": 1}}},
        {"required": ["groups"], "properties": {"groups": {"minItems": 1}}},
        {"required": ["emails"], "properties": {"emails": {"minItems": 1}}},
    ],
    title="Assignees",
    description="Who may act on the task: users, groups, email addresses, or several.",
)

EMAIL_LINKS: dict[str, Any] = {
    "type": "string",
    "enum": ["login", "link"],
    "title": "Email links",
    "description": (
        "login: the approve and reject links of the task's emails work for their recipient "
        "once logged in; link: the signed link is enough (needed for assignees.emails)."
    ),
    "default": "login",
}

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


ALLOW_DELEGATION: dict[str, Any] = {
    "type": "boolean",
    "title": "Allow delegation",
    "description": "Assignees may hand the task to someone else.",
    "default": True,
}

DUE_RANGE = (60, 31_536_000)  # DUE_IN_S's bounds, also for a value from a template
TITLE_MAX = 1000
DESCRIPTION_MAX = 100_000


# --- The rules (pure) ---------------------------------------------------------------------------


def approval_outcome(
    *,
    approvals: int,
    rejections: int,
    undecided: int,
    required: int,
    reject_on_first_rejection: bool,
) -> str | None:
    """What the decisions so far mean: ``approved``, ``rejected``, or None (still open).

    ``undecided`` counts the people who may still approve. Without reject-on-first, a
    rejection rejects only once the approvals needed can no longer be reached; that is judged
    at a rejection, since groups may gain members while the task waits.
    """
    if approvals >= required:
        return "approved"
    if rejections and (reject_on_first_rejection or approvals + undecided < required):
        return "rejected"
    return None


def timeout_rule(policy: Mapping[str, Any], escalation_level: int) -> str:
    """What an overdue task does: approve, reject, escalate or fail. An escalated task that is
    overdue again fails: there is nobody left to escalate to."""
    if escalation_level > 0:
        return "fail"
    rule = policy.get("on_timeout") or "fail"
    if rule == "escalate" and not policy.get("escalate_to"):
        return "fail"
    return rule


def next_reminder(last: datetime, every_s: int, now: datetime) -> datetime:
    """The first reminder time after ``now`` on the grid last + k * every_s: reminders missed
    while no sweeper ran are not sent in a burst."""
    if last > now:
        return last
    periods = int((now - last).total_seconds() // every_s) + 1
    return last + timedelta(seconds=periods * every_s)


# --- The runtime --------------------------------------------------------------------------------


def _names(value: Any, field: str) -> list[str]:
    """Names from a list whose items are names or templates yielding a name or a list of
    names (``{{ input.approvers }}``)."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    names: list[str] = []
    for item in items:
        for name in item if isinstance(item, list) else [item]:
            if not isinstance(name, str) or not name.strip():
                raise StepError(
                    f"{field} must hold names, not {name!r}", retryable=False, code="bad_config"
                )
            if name.strip() not in names:
                names.append(name.strip())
    return names


def _emails(value: Any, field: str) -> list[str]:
    """Addresses, lower case, from literals or templates (a template's value is checked here
    as the schema checks a literal)."""
    addresses = []
    for name in _names(value, field):
        local, at, domain = name.partition("@")
        if not at or not local or not domain or "@" in domain or any(c.isspace() for c in name):
            raise StepError(
                f"{field}: {name!r} is not an email address", retryable=False, code="bad_config"
            )
        if len(name) > 254:
            raise StepError(f"{field}: {name[:40]!r}... is too long", retryable=False)
        if name.lower() not in addresses:
            addresses.append(name.lower())
    return addresses


def _user_ids(names: list[str], field: str) -> tuple[int, ...]:
    found = dict(
        get_user_model()
        .objects.filter(username__in=names, is_active=True)
        .values_list("username", "pk")
    )
    missing = [n for n in names if n not in found]
    if missing:
        message = f"{field}: no active user named {missing[0]!r}"
        raise StepError(message, retryable=False, code="unknown_assignee")
    return tuple(found[n] for n in names)


def _group_ids(names: list[str], field: str) -> tuple[int, ...]:
    found = dict(Group.objects.filter(name__in=names).values_list("name", "pk"))
    missing = [n for n in names if n not in found]
    if missing:
        raise StepError(
            f"{field}: no group named {missing[0]!r}", retryable=False, code="unknown_assignee"
        )
    return tuple(found[n] for n in names)


def _seconds(value: Any, field: str) -> int | None:
    """A due time in seconds (a literal was checked by the schema; a template's value is
    checked here against the same bounds)."""
    if value is None:
        return None
    low, high = DUE_RANGE
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise StepError(
            f"{field} must be a whole number of seconds from {low} to {high}, not {value!r}",
            retryable=False,
            code="bad_config",
        )
    return value


class AsksPeople(StepType):
    """What human.approval and human.form share: assignees, due time, escalation, reminders."""

    kind: ClassVar[str]
    runnable = True
    asks_people = True

    def policy(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The kind's own rules, with their defaults."""
        return {}

    @classmethod
    def config_problems(cls, config: Mapping[str, Any]) -> list[tuple[str, str, str]]:
        """An email-only assignee has no login, so only a link that is enough can reach them."""
        assignees = config.get("assignees")
        emails = assignees.get("emails") if isinstance(assignees, dict) else None
        if emails and config.get("email_links", "login") != "link":
            return [
                (
                    "config.email_links",
                    "email_links_login",
                    'assignees.emails needs email_links "link": people without an account '
                    "cannot log in to use their links",
                )
            ]
        return []

    def run(self, ctx: StepContext) -> Wait:
        config = ctx.config
        assignees = config.get("assignees") or {}
        users = _names(assignees.get("users"), "config.assignees.users")
        groups = _names(assignees.get("groups"), "config.assignees.groups")
        emails = _emails(assignees.get("emails"), "config.assignees.emails")
        if not users and not groups and not emails:
            raise StepError(
                "config.assignees names nobody", retryable=False, code="unknown_assignee"
            )
        for field, _, message in self.config_problems(config):
            raise StepError(f"{field}: {message}", retryable=False, code="bad_config")
        user_ids = _user_ids(users, "config.assignees.users")
        group_ids = _group_ids(groups, "config.assignees.groups")
        policy: dict[str, Any] = {
            **self.policy(config),
            "on_timeout": config.get("on_timeout", "fail"),
            "allow_delegation": bool(config.get("allow_delegation", True)),
            "reminder_every_s": config.get("reminder_every_s"),
            "escalate_to": None,
            "email_links": config.get("email_links", "login"),
        }
        escalate = config.get("escalate_to")
        if escalate:
            names = _names(escalate.get("groups"), "config.escalate_to.groups")
            policy["escalate_to"] = {
                "groups": names,
                "group_ids": list(_group_ids(names, "config.escalate_to.groups")),
                "due_in_s": _seconds(escalate.get("due_in_s"), "config.escalate_to.due_in_s"),
            }
        now = timezone.now()
        due_in = _seconds(config.get("due_in_s"), "config.due_in_s")
        every = policy["reminder_every_s"]
        task = TaskRequest(
            kind=self.kind,
            title=_text(config.get("title"), TITLE_MAX),
            description=_text(config.get("description"), DESCRIPTION_MAX),
            user_ids=user_ids,
            group_ids=group_ids,
            emails=tuple(emails),
            policy=policy,
            due_at=now + timedelta(seconds=due_in) if due_in is not None else None,
            remind_at=now + timedelta(seconds=every) if every else None,
            form_schema=self.form_schema(config),
        )
        times = [t for t in (task.due_at, task.remind_at) if t is not None]
        return Wait(reason=self.kind, wake_at=min(times) if times else None, task=task)

    def form_schema(self, config: Mapping[str, Any]) -> dict[str, Any] | None:
        return None


def _text(value: Any, limit: int) -> str:
    text = "" if value is None else value if isinstance(value, str) else str(value)
    return text[:limit]


class Approval(AsksPeople):
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
            "require_comment_on_reject": {
                "type": "boolean",
                "title": "Require a comment on reject",
                "description": "A rejection must say why: the reject needs a comment.",
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
            "allow_delegation": ALLOW_DELEGATION,
            "email_links": EMAIL_LINKS,
        },
        required=["title", "assignees"],
        **ESCALATION_RULE,
    )
    kind = "approval"

    def policy(self, config: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "required_approvals": config.get("required_approvals", 1),
            "reject_on_first_rejection": bool(config.get("reject_on_first_rejection", True)),
            "forbid_requester": bool(config.get("forbid_requester", False)),
            "require_comment_on_reject": bool(config.get("require_comment_on_reject", False)),
        }


class Form(AsksPeople):
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
            "allow_delegation": ALLOW_DELEGATION,
            "email_links": EMAIL_LINKS,
        },
        required=["title", "assignees", "form_schema"],
        **ESCALATION_RULE,
    )
    kind = "form"

    def form_schema(self, config: Mapping[str, Any]) -> dict[str, Any]:
        schema = config["form_schema"]
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as exc:
            raise StepError(
                f"config.form_schema is not a valid JSON Schema: {exc.message}",
                retryable=False,
                code="bad_config",
            ) from exc
        return schema
