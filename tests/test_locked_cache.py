"""The embedded throttle cache counts exactly with several processes counting at once: the API
rate's read-modify-write and the login throttle's add + incr run under the cache's file lock
(flowdeck/cache.py). Without it, processes racing lost counts and passed over the limit."""

import multiprocessing
from pathlib import Path

from flowdeck.cache import LOCK_FILE, LockedFileBasedCache
from flowdeck.throttling import _count

PROCESSES = 4
COUNTS = 150


def count_requests(directory: str, start, how: str) -> None:
    """One 'web process': count COUNTS requests of one client, as fast as it can."""
    cache = LockedFileBasedCache(directory, {})
    start.wait(30)  # all processes count at once
    for _ in range(COUNTS):
        if how == "window":
            _count(cache, "throttle:user:60:7", window=1, ttl=300)
        else:
            cache.add("login:counter", 0, 300)
            cache.incr("login:counter")


def race(directory: Path, how: str) -> None:
    context = multiprocessing.get_context("spawn")  # no forked copies of pytest's threads
    start = context.Barrier(PROCESSES)
    processes = [
        context.Process(target=count_requests, args=(str(directory), start, how))
        for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
        assert process.exitcode == 0


def test_processes_counting_one_clients_window_at_once_lose_no_request(tmp_path):
    race(tmp_path, "window")

    seen_window, count = LockedFileBasedCache(str(tmp_path), {}).get("throttle:user:60:7")
    assert (seen_window, count) == (1, PROCESSES * COUNTS)


def test_processes_adding_and_incrementing_one_counter_at_once_lose_no_count(tmp_path):
    race(tmp_path, "incr")

    assert LockedFileBasedCache(str(tmp_path), {}).get("login:counter") == PROCESSES * COUNTS


def test_the_lock_file_survives_culling_and_clearing(tmp_path):
    cache = LockedFileBasedCache(str(tmp_path), {"OPTIONS": {"MAX_ENTRIES": 3}})
    for n in range(10):
        cache.add(f"key-{n}", n, 300)

    cache.clear()

    assert (tmp_path / LOCK_FILE).exists()
    assert cache.add("again", 1, 300) is True
    assert cache.incr("again") == 2
