"""Every API error has the contract's shape: ``{"errors": [{"node", "edge", "field", "code",
"message"}]}`` (CONTRACT §5), whatever raised it."""

from typing import Any

from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.views import exception_handler as drf_exception_handler


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
