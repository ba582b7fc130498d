"""Plain django-q2 tasks, the baseline the engine is compared with (on the same broker)."""

import time

from django.core.cache import cache


def hop(remaining: int, key: str, sent_at: float) -> None:
    """One link of a chain: note how long the hand-over took, then enqueue the next link."""
    from django_q.tasks import async_task

    # One growing list: the chain is sequential, and a file cache culls beyond 300 keys.
    cache.set(key, [*cache.get(key, []), time.time() - sent_at], 3600)
    if remaining:
        async_task("bench.raw_tasks.hop", remaining - 1, key, time.time(), save=False)


def noop() -> None:
    return None
