"""Helpers shared by the tests: waiting without sleeping blindly, free ports, services."""

import os
import socket
import time
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")

PG_URL = os.environ.get("FLOWDECK_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("FLOWDECK_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


def wait_until(
    predicate: Callable[[], T], timeout: float = 30.0, interval: float = 0.1, what: str = ""
) -> T:
    """Poll ``predicate`` until it returns something truthy; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = predicate()
        except Exception as exc:  # the thing polled is not up yet
            last_error = exc
        else:
            if result:
                return result
        time.sleep(interval)
    detail = f" (last error: {last_error!r})" if last_error else ""
    pytest.fail(f"timed out after {timeout}s waiting for {what or predicate}{detail}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def services_unavailable() -> str | None:
    """Why PostgreSQL or Redis cannot be reached, or None when both answer."""
    import psycopg
    import redis

    try:
        psycopg.connect(PG_URL.replace("postgres://", "postgresql://"), connect_timeout=3).close()
    except Exception as exc:
        return f"PostgreSQL at {PG_URL} does not answer: {exc}"
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as exc:
        return f"Redis at {REDIS_URL} does not answer: {exc}"
    return None


def require_scaleout_services() -> None:
    """Skip (on a developer's machine) or fail (with CI=true) when the services are missing."""
    reason = services_unavailable()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and scale-out services are missing: {reason}")
    pytest.skip(f"scale-out services are missing: {reason}")


def api_key(user, name: str = "tests") -> str:
    """A new API token's key for ``user`` (Authorization: Token <key>), made as the user."""
    from people.tokens import do_create_token

    return do_create_token(actor=user, user=user, name=name)[1]
