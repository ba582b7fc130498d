"""Settings for worker processes that the tests start: the same as the test process's, but on
the test database that pytest-django created (test.sqlite3, or test_<name> on PostgreSQL)."""

from flowdeck.settings import *  # noqa: F403
from flowdeck.settings import DATABASES

_db = DATABASES["default"]
_db["NAME"] = _db.get("TEST", {}).get("NAME") or f"test_{_db['NAME']}"
