"""Strict readers of query parameters: a value that is not what the parameter takes is a 400
naming it (never ignored, never a 500 deeper down)."""

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from django.utils.dateparse import parse_datetime
from rest_framework import status

from flowdeck.errors import ApiError, api_error

# Ids are 64-bit: a larger number names nothing, and some databases refuse to compare it.
MAX_ID = 2**63 - 1


def object_id(text: str | int) -> int:
    """An id from a URL (a string, or an int from Django's ``<int:>`` converter) or a query:
    a 64-bit natural number, else ValueError (which the views answer with 404 or 400).
    ``int()`` alone takes any length, and a number past 64 bits makes the database driver fail
    (OverflowError on SQLite) instead of finding nothing."""
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    elif isinstance(text, str) and text.isascii() and text.isdecimal() and len(text) <= 19:
        value = int(text)
    else:
        raise ValueError(f"not an id: {text!r}")
    if not 0 <= value <= MAX_ID:
        raise ValueError(f"not an id: {text!r}")
    return value


def id_or_none(text: str | int) -> int | None:
    """``object_id(text)``, or None when it is not an id (then nothing has it)."""
    try:
        return object_id(text)
    except ValueError:
        return None


def _refuse(name: str, message: str) -> ApiError:
    return ApiError(status.HTTP_400_BAD_REQUEST, [api_error("invalid", message, field=name)])


def int_param(
    params: Mapping[str, Any], name: str, *, minimum: int = 0, maximum: int = MAX_ID
) -> int | None:
    """The parameter as an integer within [minimum, maximum], or None when it is absent."""
    if name not in params:
        return None
    text = params[name]
    # isdecimal, not int(): int() also takes "+1", " 1", "1_000" and other spellings.
    digits = text[1:] if text.startswith("-") else text
    if not (digits.isascii() and digits.isdecimal()) or len(digits) > 19:
        raise _refuse(name, f"{name} is an integer")
    value = int(text)
    if not minimum <= value <= maximum:
        raise _refuse(name, f"{name} is from {minimum} to {maximum}")
    return value


def bool_param(params: Mapping[str, Any], name: str) -> bool | None:
    """``true`` or ``false``, or None when absent."""
    if name not in params:
        return None
    if params[name] not in ("true", "false"):
        raise _refuse(name, f"{name} is true or false")
    return params[name] == "true"


def choice_param(params: Mapping[str, Any], name: str, allowed: Iterable[str]) -> str | None:
    """One of ``allowed``, or None when absent."""
    if name not in params:
        return None
    allowed = list(allowed)
    if params[name] not in allowed:
        raise _refuse(name, f"{name} is one of " + ", ".join(allowed))
    return params[name]


def time_param(params: Mapping[str, Any], name: str) -> datetime | None:
    """An ISO 8601 time, in UTC (one without an offset is taken as UTC), or None when absent.
    Converted here because databases are narrower than Python: PostgreSQL refuses an offset
    past 15:59 (Python takes up to 23:59), and a well-formed but impossible date (month 13)
    makes Django's parser raise."""
    if name not in params:
        return None
    message = f"{name} is an ISO 8601 time, e.g. 2026-12-01T09:00:00Z"
    try:
        moment = parse_datetime(params[name])
        if moment is None:
            raise ValueError(params[name])
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: 0001-01-01T00:00+01:00 in UTC
        raise _refuse(name, message) from None
