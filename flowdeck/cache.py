"""A file cache whose read-modify-writes are atomic across processes: the embedded mode's
``throttle`` cache, where every web process counts API requests and failed logins.

Django's FileBasedCache writes each entry atomically (a temporary file renamed over it), but
its ``add`` is a look then a write and its ``incr`` a read then a write, so two processes
counting at once could both read 4 and both write 5: a burst across daphne processes lost
counts and passed over the limit. Here those run under an exclusive ``flock`` on one lock file
in the cache's directory (named without the cache's suffix, so culling and ``clear`` leave it
alone), and ``locked()`` lets a caller make its own read-modify-write atomic the same way. A
check holds the lock for well under a millisecond (bench/throttle.py); Redis, in scale-out, has
its own atomic INCR and needs none of this.
"""

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache

LOCK_FILE = "lock"


class LockedFileBasedCache(FileBasedCache):
    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the cache's lock: no other process or thread that asks for it runs meanwhile
        (each call opens its own descriptor, so threads of one process exclude each other too)."""
        self._createdir()
        with open(os.path.join(self._dir, LOCK_FILE), "ab") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def add(
        self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> bool:
        with self.locked():
            return super().add(key, value, timeout, version)

    def incr(self, key: str, delta: int = 1, version: Any = None) -> int:
        with self.locked():
            return super().incr(key, delta, version)
