"""API rate limits (DRF throttles): requests per user, and per address for anonymous calls,
counted in a cache every web process shares (a file cache on one machine, Redis in scale-out).

Counting is by fixed windows, one counter per client and window: O(1) per request and, on
Redis, one atomic INCR, so that any number of processes agree on a count. Each client's windows
are offset by a hash of its identity, so that clients do not all start afresh at the same second.
A request over the rate gets 429 with ``Retry-After`` (the end of the window) and the contract's
error shape (flowdeck/errors.py). Rates come from settings at each request, so the tests can
change them (tests/conftest.py turns them off for every other test).
"""

import logging
import math
import time
import zlib
from contextlib import nullcontext
from functools import lru_cache
from typing import Any, ClassVar

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.redis import RedisCache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from flowdeck.cache import LockedFileBasedCache
from flowdeck.env import parse_rate

CACHE_ALIAS = "throttle"

log = logging.getLogger(__name__)

cached_rate = lru_cache(maxsize=32)(parse_rate)


def _window(ident: str, period: int, now: float) -> tuple[int, float]:
    """The window ``now`` falls in for this client, and the time it ends."""
    offset = zlib.crc32(ident.encode()) % period  # crc32, not hash(): the same in every process
    window = int((now + offset) // period)
    return window, (window + 1) * period - offset


def _count(cache: BaseCache, key: str, window: int, ttl: int) -> int:
    """Add one request to the client's count in ``window``; returns the count."""
    if isinstance(cache, RedisCache):
        # One key per window and an atomic INCR: concurrent processes never lose a request.
        windowed = f"{key}:{window}"
        if cache.add(windowed, 1, ttl):
            return 1
        try:
            return cache.incr(windowed)
        except ValueError:  # it expired between the add and the incr
            cache.set(windowed, 1, ttl)
            return 1
    # The file cache: one entry per client holding (window, count), so that past windows leave
    # no files behind, read and written under the cache's lock (flowdeck/cache.py) so that
    # processes counting at once lose no request. Another backend (locmem in a test) goes
    # without: it lives in one process.
    with cache.locked() if isinstance(cache, LockedFileBasedCache) else nullcontext():
        seen_window, count = cache.get(key, (window, 0))
        count = count + 1 if seen_window == window else 1
        cache.set(key, (window, count), ttl)
    return count


def over_rate(key: str, ident: str, rate: tuple[int, int], now: float) -> float | None:
    """Count one request of ``ident`` (under the cache key ``key``) against ``rate`` (requests,
    seconds): the seconds until its window ends when it is over the rate, else None. A cache
    that fails lets the request through: the limiter must not take the service down with it."""
    limit, period = rate
    window, ends = _window(ident, period, now)
    try:
        count = _count(caches[CACHE_ALIAS], key, window, math.ceil(ends - now) + 1)
    except Exception as exc:  # whatever the cache backend raises
        log.warning("a rate limit was not checked: the throttle cache failed: %s", exc)
        return None
    return None if count <= limit else ends - now


class WindowRateThrottle(BaseThrottle):
    """At most N requests per period and client, the rate read from ``settings.<setting>``
    (None: no limit)."""

    scope: ClassVar[str]
    setting: ClassVar[str]

    def ident_of(self, request: Request) -> str | None:
        """Who is counted, or None when this throttle does not apply to the request."""
        raise NotImplementedError

    def allow_request(self, request: Request, view: Any) -> bool:
        text = getattr(settings, self.setting, None)
        rate = cached_rate(text) if text else None
        ident = self.ident_of(request) if rate else None
        if rate is None or ident is None:
            return True
        limit, period = rate
        wait = over_rate(self.key(ident, period), ident, rate, time.time())
        self.retry_after = wait
        return wait is None

    def key(self, ident: str, period: int) -> str:
        return f"throttle:{self.scope}:{period}:{ident}"

    def wait(self) -> float | None:
        return getattr(self, "retry_after", None)


class UserRateThrottle(WindowRateThrottle):
    """Logged-in users: ``FLOWDECK_API_RATE_USER`` per user, whether by session or token."""

    scope = "user"
    setting = "FLOWDECK_API_RATE_USER"

    def ident_of(self, request: Request) -> str | None:
        user = request.user
        return str(user.pk) if user and user.is_authenticated else None


class AnonRateThrottle(WindowRateThrottle):
    """Anonymous calls (endpoints open without a login): ``FLOWDECK_API_RATE_ANON`` per client
    address, read behind ``FLOWDECK_TRUSTED_PROXIES`` proxies from X-Forwarded-For."""

    scope = "anon"
    setting = "FLOWDECK_API_RATE_ANON"

    def ident_of(self, request: Request) -> str | None:
        user = request.user
        return None if user and user.is_authenticated else self.get_ident(request)


def forget(throttle: type[WindowRateThrottle], ident: str) -> None:
    """Drop a client's counts (its current window) under the throttle's current rate: for an
    operator who lifts a block, and for tests that must not inherit an earlier run's counts."""
    text = getattr(settings, throttle.setting, None)
    rate = cached_rate(text) if text else None
    if rate is None:
        return
    key = throttle().key(ident, rate[1])
    window, _ = _window(ident, rate[1], time.time())
    caches[CACHE_ALIAS].delete_many([key, f"{key}:{window}"])
