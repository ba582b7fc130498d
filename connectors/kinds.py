"""The kinds of credential: which fields each holds, which of them are secret, and the JSON
Schema the API checks them against. Public fields (a user name, a header's name, an SMTP host)
are shown back; secret ones are encrypted at rest and never leave the server."""

from dataclasses import dataclass
from typing import Any

from django.db import models

HEADER_NAME = {"type": "string", "pattern": "^[A-Za-z0-9-]{1,128}$"}
SECRET_TEXT = {"type": "string", "minLength": 1, "maxLength": 8192}


class CredentialKind(models.TextChoices):
    HTTP_BEARER = "http_bearer", "HTTP bearer token"
    HTTP_BASIC = "http_basic", "HTTP basic auth"
    HTTP_HEADER = "http_header", "HTTP header"
    API_KEY = "api_key", "API key (header or query parameter)"
    SMTP = "smtp", "SMTP server"
    SECRET = "secret", "Shared secret (webhook signatures)"


@dataclass(frozen=True)
class KindSpec:
    public: dict[str, Any]  # JSON Schema properties shown back by the API
    secret: dict[str, Any]  # JSON Schema properties never shown back
    required: tuple[str, ...]


KINDS: dict[str, KindSpec] = {
    CredentialKind.HTTP_BEARER: KindSpec({}, {"token": SECRET_TEXT}, ("token",)),
    CredentialKind.HTTP_BASIC: KindSpec(
        {"username": {"type": "string", "minLength": 1, "maxLength": 256}},
        {"password": SECRET_TEXT},
        ("username", "password"),
    ),
    CredentialKind.HTTP_HEADER: KindSpec(
        {"header": HEADER_NAME}, {"value": SECRET_TEXT}, ("header", "value")
    ),
    CredentialKind.API_KEY: KindSpec(
        {
            "name": {"type": "string", "minLength": 1, "maxLength": 128},
            "in": {"type": "string", "enum": ["header", "query"]},
        },
        {"value": SECRET_TEXT},
        ("name", "in", "value"),
    ),
    CredentialKind.SMTP: KindSpec(
        {
            "host": {"type": "string", "minLength": 1, "maxLength": 253},
            "port": {"type": "integer", "minimum": 1, "maximum": 65535},
            "username": {"type": "string", "maxLength": 256},
            "security": {"type": "string", "enum": ["starttls", "ssl", "none"]},
            "from_email": {"type": "string", "format": "email", "maxLength": 254},
        },
        {"password": {"type": "string", "maxLength": 8192}},
        ("host", "port"),
    ),
    CredentialKind.SECRET: KindSpec({}, {"value": SECRET_TEXT}, ("value",)),
}

# Which kinds fit where: a step's credential field lists the kinds it accepts.
HTTP_KINDS = (
    CredentialKind.HTTP_BEARER,
    CredentialKind.HTTP_BASIC,
    CredentialKind.HTTP_HEADER,
    CredentialKind.API_KEY,
)


def data_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of a whole credential's data (public and secret fields together)."""
    spec = KINDS[kind]
    return {
        "type": "object",
        "properties": {**spec.public, **spec.secret},
        "required": list(spec.required),
        "additionalProperties": False,
    }
