"""Login throttling: failed password logins lock out the guesser, at /login/ and /admin/login/.

Failures are counted twice, in the cache every web process shares (the ``throttle`` cache:
files on one machine, Redis in scale-out), per window of ``FLOWDECK_LOGIN_LOCKOUT_S``:

- per username *and* client address: ``FLOWDECK_LOGIN_FAILURES`` (5) failures lock that
  username from that address. Not per username alone, or anyone could lock alice out by
  failing on purpose; a guesser who spreads over many addresses still gets 5 tries per
  address and window.
- per client address: ``FLOWDECK_LOGIN_ADDRESS_FAILURES`` (50) failures, whatever the
  usernames, lock the address (one address trying a password on every account).

A lock lasts ``FLOWDECK_LOGIN_LOCKOUT_S`` (900 s) from the failure that set it; while it holds,
every login attempt from there gets 429 with ``Retry-After``, the right password included (else
the guessing would go on and only a success would tell). A successful login clears its
username's count at that address, not the address's count: a guesser holding one account of
their own could otherwise reset their address between rounds.

The client address is DRF's (``REMOTE_ADDR``, or ``X-Forwarded-For`` behind
``FLOWDECK_TRUSTED_PROXIES``), the same as the API's anonymous rate. Failures are heard from
Django's ``user_login_failed`` signal (every form that authenticates a password sends it), and
successes from ``user_logged_in``. When the cache fails, logins go through (logged), like the
API's rate limits: the throttle must not lock everyone out with it.
"""

import hashlib
import logging
import math
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import caches
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from rest_framework.throttling import BaseThrottle

CACHE_ALIAS = "throttle"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

log = logging.getLogger(__name__)


def _limits() -> tuple[int, int, int] | None:
    """(per username and address, per address, window seconds), or None when it is off."""
    per_user = getattr(settings, "FLOWDECK_LOGIN_FAILURES", None)
    if not per_user:
        return None
    per_address = getattr(settings, "FLOWDECK_LOGIN_ADDRESS_FAILURES", 0) or per_user * 10
    return per_user, per_address, int(getattr(settings, "FLOWDECK_LOGIN_LOCKOUT_S", 900))


def client_address(request: HttpRequest) -> str:
    """The client's address as the API's anonymous rate sees it (FLOWDECK_TRUSTED_PROXIES)."""
    return BaseThrottle().get_ident(request) or ""  # a request built in code has no address


def _digest(*parts: str) -> str:
    # Hashed: usernames and addresses stay out of the cache's keys (and its files).
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]


def _subjects(username: str, address: str) -> list[tuple[str, int]]:
    """The counted subjects of an attempt, with their limits."""
    limits = _limits()
    assert limits is not None
    per_user, per_address, _ = limits
    name = username.strip().casefold()
    return [
        (f"login:user:{_digest(name, address)}", per_user),
        (f"login:address:{_digest(address)}", per_address),
    ]


def locked_for(username: str, address: str, now: float | None = None) -> float | None:
    """Seconds until the attempt may be made, when a lock holds for it; else None."""
    if _limits() is None:
        return None
    now = time.time() if now is None else now
    try:
        locks = [f"{key}:lock" for key, _ in _subjects(username, address)]
        untils = caches[CACHE_ALIAS].get_many(locks)
    except Exception as exc:  # whatever the cache backend raises
        log.warning("a login was not checked against the throttle: the cache failed: %s", exc)
        return None
    # The lock's end is its value, not only its TTL: time_machine moves time.time(), not Redis.
    waits = [until - now for until in untils.values() if until > now]
    return max(waits) if waits else None


def record_failure(username: str, address: str, now: float | None = None) -> None:
    """Count one failed login; the failure that reaches a limit sets that subject's lock."""
    limits = _limits()
    if limits is None:
        return
    _, _, window_s = limits
    now = time.time() if now is None else now
    window = int(now // window_s)
    cache = caches[CACHE_ALIAS]
    try:
        for key, limit in _subjects(username, address):
            counter = f"{key}:{window}"
            cache.add(counter, 0, window_s + 1)
            # Atomic on Redis (INCR) and on the embedded file cache (flowdeck/cache.py).
            if cache.incr(counter) >= limit:
                cache.set(f"{key}:lock", now + window_s, window_s + 1)
    except Exception as exc:
        log.warning("a failed login was not counted: the throttle cache failed: %s", exc)


def forget(username: str, address: str, now: float | None = None) -> None:
    """A successful login: the username's count and lock at this address go (not the
    address's own: see the module's docstring)."""
    limits = _limits()
    if limits is None:
        return
    now = time.time() if now is None else now
    key, _ = _subjects(username, address)[0]
    try:
        caches[CACHE_ALIAS].delete_many([f"{key}:{int(now // limits[2])}", f"{key}:lock"])
    except Exception as exc:
        log.warning("a login's failures were not cleared: the throttle cache failed: %s", exc)


def locked_response(request: HttpRequest, wait: float) -> HttpResponse:
    minutes = max(1, math.ceil(wait / 60))
    body = render_to_string("registration/login_locked.html", {"minutes": minutes}, request)
    response = HttpResponse(body, status=429)
    response["Retry-After"] = str(math.ceil(wait))
    return response


def throttled(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A login view that refuses attempts (any method but GET, HEAD, OPTIONS: Django's form
    views take PUT as POST) while a lock holds for the username and address."""

    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in SAFE_METHODS:
            username = request.POST.get("username", "")
            wait = locked_for(username, client_address(request))
            if wait is not None:
                log.warning("login refused: too many failures (locked for %.0f s)", wait)
                return locked_response(request, wait)
        return view(request, *args, **kwargs)

    wrapped.__name__ = getattr(view, "__name__", "login")
    wrapped.__doc__ = view.__doc__
    for attribute in ("view_class", "view_initkwargs", "csrf_exempt"):
        if hasattr(view, attribute):
            setattr(wrapped, attribute, getattr(view, attribute))
    return wrapped


@receiver(user_login_failed, dispatch_uid="flowdeck.login_throttle.failed")
def _on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kw: Any):
    if request is not None and isinstance(credentials.get("username"), str):
        record_failure(credentials["username"], client_address(request))


@receiver(user_logged_in, dispatch_uid="flowdeck.login_throttle.succeeded")
def _on_logged_in(sender: Any, request: Any, user: Any, **kw: Any) -> None:
    if request is not None and hasattr(request, "META"):
        forget(user.get_username(), client_address(request))
