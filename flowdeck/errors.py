"""Every API error has the contract's shape: ``{"errors": [{"node", "edge", "field", "code",
"message"}]}`` (CONTRACT §5), whatever raised it."""

from typing import Any

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    DisallowedHost,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParserError
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from flowdeck.bodylimit import warn_refused


def api_error(
    code: str,
    message: str,
    *,
    node: str | None = None,
    edge: str | None = None,
    field: str | None = None,
) -> dict[str, Any]:
    return {"node": node, "edge": edge, "field": field, "code": code, "message": message}


class ApiError(APIException):
    """An error response with a list of errors and optional extra keys."""

    def __init__(self, status_code: int, errors: list[dict[str, Any]], **extra: Any) -> None:
        self.status_code = status_code
        self.payload = {"errors": errors, **extra}
        super().__init__(detail=errors[0]["message"] if errors else "error")


class PayloadTooLarge(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, [api_error("too_large", message)]
        )


def django_refusal(exc: Exception) -> tuple[int, str, str] | None:
    """Status, code and message for Django's own refusals of a request: raised by Django's
    request parsing and host check, in a middleware or in a view, outside DRF's exceptions.
    Django would answer them with its HTML 400 page and log them at ERROR with a traceback;
    they are the client's mistakes. Messages are ours: Django's name settings and paths."""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return 413, "too_large", f"the body is over {limit} bytes, the server's limit"
    if isinstance(exc, TooManyFieldsSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        return 400, "too_many_fields", f"the body has more than {limit} fields"
    if isinstance(exc, TooManyFilesSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        return 400, "too_many_files", f"the body has more than {limit} files"
    if isinstance(exc, DisallowedHost):
        return 400, "bad_host", "the Host header names no host this server answers for"
    if isinstance(exc, MultiPartParserError):
        return 400, "parse_error", f"the multipart body is unreadable: {exc}"
    if isinstance(exc, SuspiciousOperation | BadRequest):
        return 400, "bad_request", "the request is malformed"
    return None


def refusal_logger(exc: Exception) -> str:
    """Where Django logs the exception (django.security.<name> for a SuspiciousOperation)."""
    if isinstance(exc, SuspiciousOperation):
        return f"django.security.{type(exc).__name__}"
    return "django.request"


def log_refusal(request: HttpRequest, exc: Exception, status_code: int, code: str) -> None:
    warn_refused(request, refusal_logger(exc), status_code, code, exc)


def _flatten(detail: Any, path: list[str]) -> list[dict[str, Any]]:
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            sub = [] if key == "non_field_errors" else [*path, str(key)]
            out.extend(_flatten(value, sub))
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [
                api_error(getattr(item, "code", "invalid"), str(item), field=".".join(path) or None)
                for item in detail
            ]
        out = []
        for index, item in enumerate(detail):
            out.extend(_flatten(item, [*path, str(index)]))
        return out
    return [
        api_error(getattr(detail, "code", "invalid"), str(detail), field=".".join(path) or None)
    ]


def exception_handler(exc: Exception, context: dict) -> Any:
    refused = django_refusal(exc)
    if refused is not None:
        status_code, code, message = refused
        request = context["request"]
        if isinstance(exc, RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent):
            # As Django's own handler does: the form cannot be read again (it would raise again).
            request._request._mark_post_parse_error()
        log_refusal(request, exc, status_code, code)
        response = Response({"errors": [api_error(code, message)]}, status=status_code)
        response._has_been_logged = True  # logged above; django.request would add a traceback
        return response
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ApiError):
        response.data = exc.payload
    elif isinstance(exc, ValidationError):
        response.data = {"errors": _flatten(exc.detail, [])}
    else:
        detail = getattr(exc, "detail", str(exc))
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = {"detail": str(detail), "errors": [api_error(code, str(detail))]}
    return response
