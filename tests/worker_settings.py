"""Settings for worker processes that the tests start: the same as the test process's, but on
the test database that pytest-django created (test.sqlite3, or test_<name> on PostgreSQL)."""

import os

from flowdeck.settings import *  # noqa: F403
from flowdeck.settings import DATABASES, MIDDLEWARE

_db = DATABASES["default"]
_db["NAME"] = _db.get("TEST", {}).get("NAME") or f"test_{_db['NAME']}"

# API rate limits count in a cache that outlives each test (and each run): the servers the tests
# start never throttle, unless a test of the throttle sets the rate for them.
if not os.environ.get("FLOWDECK_API_RATE_USER"):
    FLOWDECK_API_RATE_USER = None
if not os.environ.get("FLOWDECK_API_RATE_ANON"):
    FLOWDECK_API_RATE_ANON = None
# Failed logins too (browser tests type wrong passwords on purpose).
if not os.environ.get("FLOWDECK_LOGIN_FAILURES"):
    FLOWDECK_LOGIN_FAILURES = 0

# tests/faults/test_web_crash.py: a web process that stops dead after a matching request has
# committed, before its response, for the test to kill -9 it right there.
if os.environ.get("FLOWDECK_TEST_HANG_PATH"):
    MIDDLEWARE = ["tests.faults.hang_after_commit.HangAfterCommit", *MIDDLEWARE]
