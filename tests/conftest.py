"""The same people in every test (STYLE 11): alice owns workflows, bob approves in finance,
dave is a second approver in finance, charlie has no access, admin is staff."""

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient


@pytest.fixture
def alice(db) -> User:
    return User.objects.create_user("alice", password="alice-pass-123")


@pytest.fixture
def bob(db) -> User:
    user = User.objects.create_user("bob", password="bob-pass-123")
    finance, _ = Group.objects.get_or_create(name="finance")
    user.groups.add(finance)
    return user


@pytest.fixture
def dave(db) -> User:
    user = User.objects.create_user("dave", password="dave-pass-123")
    finance, _ = Group.objects.get_or_create(name="finance")
    user.groups.add(finance)
    return user


@pytest.fixture
def charlie(db) -> User:
    return User.objects.create_user("charlie", password="charlie-pass-123")


@pytest.fixture
def admin(db) -> User:
    return User.objects.create_superuser("admin", password="admin-pass-123")


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture(autouse=True, scope="session")
def _no_api_throttling():
    """API rate limits count in a cache that outlives each test (and each run within the same
    minute): no test may be throttled by what others did. tests/test_api_throttle.py sets the
    rates it tests with the ``settings`` fixture; tests/worker_settings.py does the same as this
    for the servers that tests start."""
    from django.test import override_settings

    # Failed logins likewise (flowdeck/login_throttle.py): tests/test_web_hardening.py sets it.
    with override_settings(
        FLOWDECK_API_RATE_USER=None, FLOWDECK_API_RATE_ANON=None, FLOWDECK_LOGIN_FAILURES=0
    ):
        yield


@pytest.fixture(autouse=True)
def _fresh_version_cache():
    """Versions are immutable, so the engine caches them by id; but a test's rollback lets the
    next test reuse the ids, so each test starts with an empty cache."""
    from engine.transitions import load_version

    load_version.cache_clear()
    yield


@pytest.fixture(scope="module")
def workers(django_db_setup, tmp_path_factory):
    """Real worker processes on the test database for the tests of one module. The tests
    that use them need ``@pytest.mark.django_db(transaction=True)``: workers see only what
    was committed."""
    from tests.workers import Workers

    running = Workers(tmp_path_factory.mktemp("workers") / "worker.log").start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def local_http_workers(django_db_setup, tmp_path_factory):
    """Real worker processes that may call 127.0.0.1 (the tests' local HTTP server), as the
    tests in this process may (``settings.FLOWDECK_HTTP_ALLOW_NETWORKS``)."""
    from tests.workers import Workers

    running = Workers(
        tmp_path_factory.mktemp("workers") / "worker.log",
        FLOWDECK_HTTP_ALLOW_NETWORKS="127.0.0.1/32",
    ).start()
    yield running
    running.stop()


@pytest.fixture
def fresh_channel_layer():
    """A new channel layer object for the test: each test runs its sockets in an event loop of
    its own, and channels_redis binds a layer's receive lock to the first loop that waits on
    it (in production one daphne process has one loop)."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture(autouse=True, scope="session")
def _flush_survives_a_deadlock():
    """Scale-out: the end of a ``transaction=True`` test empties the database (one TRUNCATE of
    every table) while a module's worker processes may still be sweeping. PostgreSQL takes the
    TRUNCATE's locks table by table, so a worker's short transaction can cross it and one of
    them is picked as a deadlock victim; when it is the TRUNCATE, the next test starts on a
    dirty database. Try it again: the workers' transactions last milliseconds."""
    from django.db import OperationalError
    from django.db.backends.base.operations import BaseDatabaseOperations

    original = BaseDatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list) -> None:
        for attempt in range(5):
            try:
                return original(self, sql_list)
            except OperationalError as exc:
                if "deadlock" not in str(exc) or attempt == 4:
                    raise

    BaseDatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    BaseDatabaseOperations.execute_sql_flush = original
