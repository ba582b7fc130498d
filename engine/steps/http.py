"""Calling HTTP services: http.request."""

from connectors.kinds import HTTP_KINDS
from engine.steps.base import (
    ANY_VALUE,
    CREDENTIAL_NAME,
    HEADER_NAME,
    TEMPLATE,
    TEMPLATED_VALUE,
    StepType,
    object_schema,
    templated,
)

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


class HttpRequest(StepType):
    """Sends one HTTP request and outputs the response's status, headers and body."""

    type_name = "http.request"
    title = "HTTP request"
    category = "http"
    credential_fields = {"credential": HTTP_KINDS}
    description = (
        "Sends an HTTP request and outputs the response's status, headers and body. "
        "A status outside the expected ones fails the step."
    )
    config_schema = object_schema(
        {
            "method": {
                "type": "string",
                "enum": METHODS,
                "title": "Method",
                "description": "The HTTP method.",
                "default": "GET",
            },
            "url": {
                "type": "string",
                "format": "uri",
                "title": "URL",
                "description": "An http or https URL; may contain templates.",
                "minLength": 1,
                "maxLength": 8192,
            },
            "query": templated(
                {
                    "type": "object",
                    "propertyNames": {"minLength": 1, "maxLength": 256},
                    "additionalProperties": {**TEMPLATE, "maxLength": 8192},
                },
                title="Query parameters",
                description="Added to the URL's query string; values may contain templates.",
                default={},
            ),
            "headers": templated(
                {
                    "type": "object",
                    "propertyNames": HEADER_NAME,
                    "additionalProperties": {**TEMPLATE, "maxLength": 8192},
                },
                title="Headers",
                description=(
                    "Request headers; values may contain templates. Put secrets in a credential, "
                    "not here."
                ),
                default={},
            ),
            "body": {
                **ANY_VALUE,
                "title": "Body",
                "description": (
                    "Any JSON value; strings inside it are templates. Not sent when absent."
                ),
            },
            "body_type": {
                "type": "string",
                "enum": ["json", "form", "raw"],
                "title": "Body encoding",
                "description": (
                    "json sends the body as JSON, form URL-encodes an object, raw sends a string "
                    "as it is."
                ),
                "default": "json",
            },
            "credential": {
                **CREDENTIAL_NAME,
                "title": "Credential",
                "description": "The name of a stored credential used to authenticate the request.",
            },
            "expected_status": {
                "type": "array",
                "title": "Expected statuses",
                "description": "Statuses that count as success; empty means any 2xx status.",
                "items": {"type": "integer", "minimum": 100, "maximum": 599},
                "uniqueItems": True,
                "maxItems": 100,
                "default": [],
            },
            "follow_redirects": {
                "type": "boolean",
                "title": "Follow redirects",
                "description": "Follow 3xx responses to their Location instead of returning them.",
                "default": False,
            },
            "response_type": {
                "type": "string",
                "enum": ["auto", "json", "text"],
                "title": "Response type",
                "description": (
                    "How the body is read: auto parses JSON when the Content-Type says JSON, "
                    "json always parses (failing on invalid JSON), text never does."
                ),
                "default": "auto",
            },
            "max_response_bytes": {
                "type": "integer",
                "title": "Maximum response size (bytes)",
                "description": "A larger response body fails the step.",
                "minimum": 1,
                "maximum": 52_428_800,
                "default": 1_048_576,
            },
        },
        required=["url"],
        allOf=[
            # raw sends text as it is; form needs key/value pairs (or a template yielding them).
            {
                "if": {"properties": {"body_type": {"const": "raw"}}, "required": ["body_type"]},
                "then": {"properties": {"body": {"type": "string"}}},
            },
            {
                "if": {"properties": {"body_type": {"const": "form"}}, "required": ["body_type"]},
                "then": {"properties": {"body": {"anyOf": [{"type": "object"}, TEMPLATED_VALUE]}}},
            },
        ],
    )
