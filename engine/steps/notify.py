"""Telling people: notify.email."""

from typing import Any

from connectors.kinds import CredentialKind
from engine.steps.base import CREDENTIAL_NAME, TEMPLATE, StepType, object_schema, templated

ADDRESS: dict[str, Any] = {"type": "string", "format": "email", "minLength": 3, "maxLength": 254}


def addresses(title: str, description: str, min_items: int = 0) -> dict[str, Any]:
    """A list of addresses, or one template yielding it (e.g. {{ input.recipients }})."""
    return templated(
        {"type": "array", "items": ADDRESS, "minItems": min_items, "maxItems": 50},
        title=title,
        description=description,
    )


class Email(StepType):
    """Sends an email through Django's email backend."""

    type_name = "notify.email"
    title = "Email"
    category = "notify"
    credential_fields = {"credential": (CredentialKind.SMTP,)}
    description = "Sends an email through Django's email backend, or through an SMTP credential."
    config_schema = object_schema(
        {
            "to": addresses("To", "Recipients' addresses, 1 to 50.", min_items=1),
            "cc": addresses("Cc", "Copied addresses, up to 50."),
            "bcc": addresses("Bcc", "Blind-copied addresses, up to 50."),
            "subject": {
                **TEMPLATE,
                "title": "Subject",
                "description": "The subject line; may contain templates.",
                "minLength": 1,
                "maxLength": 998,
            },
            "body": {
                **TEMPLATE,
                "title": "Body",
                "description": "The message; may contain templates. Plain text unless HTML is on.",
                "minLength": 1,
            },
            "html": {
                "type": "boolean",
                "title": "HTML",
                "description": "Send the body as HTML rather than plain text.",
                "default": False,
            },
            "reply_to": {
                **ADDRESS,
                "title": "Reply to",
                "description": "The address replies go to, when not the sender's.",
            },
            "credential": {
                **CREDENTIAL_NAME,
                "title": "SMTP credential",
                "description": (
                    "The name of an SMTP credential to send with; Django's configured email "
                    "backend when absent."
                ),
            },
        },
        required=["to", "subject", "body"],
    )
