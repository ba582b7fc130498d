"""Strict readers of environment variables for the settings.

Each helper returns the default when the variable is unset or empty, and raises
``ImproperlyConfigured`` naming the variable when the value is junk: a typo in a
deployment must stop the process at start, not change behaviour silently.
A secret may also come from a file: ``NAME_FILE=/run/secrets/x`` is read when ``NAME`` is unset.
"""

import ipaddress
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from django.core.exceptions import ImproperlyConfigured

IPNetworkType = ipaddress.IPv4Network | ipaddress.IPv6Network

T = TypeVar("T")

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _raw(name: str, environ: dict[str, str] | None = None) -> str | None:
    environ = os.environ if environ is None else environ
    value = environ.get(name)
    if value is not None and value.strip() != "":
        return value.strip()
    file_name = environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_name!r} cannot be read: {exc}") from exc
    return None


def env_str(name: str, default: T = None, *, environ: dict[str, str] | None = None) -> str | T:
    value = _raw(name, environ)
    return default if value is None else value


def env_bool(name: str, default: bool = False, *, environ: dict[str, str] | None = None) -> bool:
    value = _raw(name, environ)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use 1/0, true/false, yes/no)")


def env_int(
    name: str,
    default: int,
    *,
    min_value: int | None = None,
    max_value: int | None = None,
    environ: dict[str, str] | None = None,
) -> int:
    value = _raw(name, environ)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer") from None
    _check_range(name, number, min_value, max_value)
    return number


def env_float(
    name: str,
    default: float,
    *,
    min_value: float | None = None,
    max_value: float | None = None,
    environ: dict[str, str] | None = None,
) -> float:
    value = _raw(name, environ)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ImproperlyConfigured(f"{name}={value!r} is not a finite number")
    _check_range(name, number, min_value, max_value)
    return number


def env_list(name: str, default: list[str], *, environ: dict[str, str] | None = None) -> list[str]:
    """A comma-separated list; empty items are junk (a stray comma is a typo)."""
    value = _raw(name, environ)
    if value is None:
        return list(default)
    items = [item.strip() for item in value.split(",")]
    if any(item == "" for item in items):
        raise ImproperlyConfigured(f"{name}={value!r} has an empty item")
    return items


def env_json_object(
    name: str, default: dict[str, Any], *, environ: dict[str, str] | None = None
) -> dict[str, Any]:
    """A JSON object (a storage backend's options, say)."""
    value = _raw(name, environ)
    if value is None:
        return dict(default)
    try:
        parsed = json.loads(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise ImproperlyConfigured(f"{name} must be a JSON object")
    return parsed


def env_url(
    name: str, schemes: frozenset[str], *, environ: dict[str, str] | None = None
) -> str | None:
    """A URL whose scheme must be one of ``schemes``; None when unset."""
    value = _raw(name, environ)
    if value is None:
        return None
    scheme, sep, rest = value.partition("://")
    if not sep or not rest or scheme.lower() not in schemes:
        allowed = ", ".join(sorted(schemes))
        raise ImproperlyConfigured(f"{name} must be a URL with a scheme among {allowed}")
    return value


def _check_range(name: str, number: float, low: float | None, high: float | None) -> None:
    if low is not None and number < low:
        raise ImproperlyConfigured(f"{name}={number} is below the minimum {low}")
    if high is not None and number > high:
        raise ImproperlyConfigured(f"{name}={number} is above the maximum {high}")


def secret_key_from_file(path: Path) -> str:
    """Read the secret key stored in ``path``, creating it on first start."""
    from django.core.management.utils import get_random_secret_key

    return generated_secret(path, get_random_secret_key)


def generated_secret(path: Path, generate: Callable[[], str]) -> str:
    """Read the secret stored in ``path``, creating it with ``generate()`` on first use.

    O_EXCL makes creation atomic: when the web server and the workers start at the
    same moment, one of them writes the secret and the others read that same one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(generate())
    for _ in range(50):
        secret = path.read_text().strip()
        if secret:
            return secret
        # The creator has the file open but has not written yet; wait a moment.
        import time

        time.sleep(0.02)
    raise ImproperlyConfigured(f"{path} is empty; delete it to have a new secret generated")


def parse_allow_entry(text: str) -> tuple[IPNetworkType, int | None]:
    """One entry of an allow list: a network (``10.0.0.0/8``, a bare address ``10.1.2.3``),
    optionally with a port (``127.0.0.1:9000``, ``10.0.0.0/8:443``, ``[::1]:9000``): the
    network's addresses on that port only. Raises ValueError on anything else."""
    text = text.strip()
    port: int | None = None
    if text.startswith("["):  # [v6 network]:port
        inner, bracket, rest = text[1:].partition("]")
        if not bracket or not rest.startswith(":"):
            raise ValueError(text)
        text, port_text = inner, rest[1:]
    elif text.count(":") == 1:  # an IPv4 network and a port (a bare IPv6 has two or more)
        text, port_text = text.split(":")
    else:
        port_text = ""
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(port_text)
        port = int(port_text)
    return ipaddress.ip_network(text, strict=False), port


def env_networks(name: str, *, environ: dict[str, str] | None = None) -> list[str]:
    """A comma-separated list of IP networks (CIDR, or a bare address), each optionally with a
    port (``127.0.0.1:9000``, ``[::1]:9000``); junk raises."""
    items = env_list(name, [], environ=environ)
    for item in items:
        try:
            parse_allow_entry(item)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: {item!r} is not an IP network (CIDR or address, optionally :port)"
            ) from None
    return items


# A rate's period, in seconds, by the names it may be written with.
RATE_PERIODS = {
    **dict.fromkeys(("s", "sec", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86400),
}
RATE_OFF = frozenset({"off", "none", "unlimited"})


def parse_rate(text: str) -> tuple[int, int] | None:
    """``"1200/min"`` -> (1200, 60) requests per seconds; ``"off"`` -> None (no limit).
    Raises ValueError on anything else: ``"0/min"``, ``"10/week"``, ``"1.5/s"``, ``"10"``."""
    value = text.strip().lower()
    if value in RATE_OFF:
        return None
    count, sep, period = value.partition("/")
    count, period = count.strip(), period.strip()
    if not sep or not count.isdigit() or int(count) < 1 or period not in RATE_PERIODS:
        raise ValueError(f"{text!r} is not a rate")
    return int(count), RATE_PERIODS[period]


def env_rate(name: str, default: str, *, environ: dict[str, str] | None = None) -> str | None:
    """A request rate such as ``1200/min``, or None for ``off``."""
    value = _raw(name, environ) or default
    try:
        rate = parse_rate(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a rate: write <requests>/<period> with a period of s, min, "
            "hour or day (e.g. 1200/min), or off"
        ) from None
    return None if rate is None else value.strip().lower()


def env_proxy_ssl_header(
    name: str, default: str, *, environ: dict[str, str] | None = None
) -> tuple[str, str] | None:
    """A header name such as ``X-Forwarded-Proto`` as Django's SECURE_PROXY_SSL_HEADER
    (``("HTTP_X_FORWARDED_PROTO", "https")``), or None for ``none``."""
    value = _raw(name, environ) or default
    if value.lower() == "none":
        return None
    if not re.fullmatch(r"[A-Za-z0-9-]+", value):
        raise ImproperlyConfigured(f"{name}={value!r} is not a header name (or none)")
    return ("HTTP_" + value.upper().replace("-", "_"), "https")
