"""A private Redis and a private PostgreSQL cluster for the tests that restart them
(tests/faults/test_service_restarts.py): the machine's shared services are never stopped.

Each server listens on 127.0.0.1 on a free port and keeps its files in a temporary directory
that ``close()`` removes. Redis keeps nothing on disk (``--save ''``, no append-only file), like
the machine's: a restart loses every queued task. PostgreSQL runs without fsync (a test does not
survive a power cut, and the cluster's fsyncs would cost every test on the machine).
"""

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.helpers import free_port, wait_until

PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def missing_binaries() -> str | None:
    """Why the private servers cannot be started here, or None."""
    if shutil.which("redis-server") is None:
        return "redis-server is not installed"
    if pg_bin() is None:
        return "PostgreSQL's initdb and pg_ctl are not installed (/usr/lib/postgresql/*/bin)"
    if os.geteuid() == 0 and not has_user("postgres"):
        return "running as root and there is no 'postgres' user for initdb to run as"
    return None


def require_binaries() -> None:
    """Skip (on a developer's machine) or fail (with CI=true) without the server binaries."""
    reason = missing_binaries()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and the private servers cannot start: {reason}")
    pytest.skip(f"the private servers cannot start: {reason}")


def pg_bin() -> Path | None:
    configured = os.environ.get("FLOWDECK_TEST_PG_BIN")
    candidates = [Path(configured)] if configured else PG_BIN_DIRS
    return next(
        (d for d in candidates if (d / "initdb").exists() and (d / "pg_ctl").exists()), None
    )


def has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


class PrivateRedis:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> "PrivateRedis":
        """Start (or start again, on the same port), empty."""
        import redis

        log = (self.directory / "redis.log").open("ab")
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no", "--daemonize", "no"]
            + ["--dir", str(self.directory)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        def answers() -> bool:
            assert self.process.poll() is None, "redis-server stopped"
            return redis.Redis.from_url(self.url, socket_connect_timeout=1).ping()

        wait_until(answers, timeout=20, what="the private redis-server")
        return self

    def kill(self) -> None:
        """kill -9: whatever it held is gone, as after a crash or a restart without disk."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)


class PrivatePostgres:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.data = directory / "pgdata"
        self.port = free_port()
        self.bin = pg_bin()
        self.started = False

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, check: bool = True) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]  # initdb refuses root
        result = subprocess.run(command, capture_output=True, text=True, timeout=90)
        if check:
            assert result.returncode == 0, f"{args[0]} failed:\n{result.stdout}\n{result.stderr}"

    def start(self) -> "PrivatePostgres":
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust")
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._pg_ctl("start", "-o", options)
        self.started = True
        return self

    def _pg_ctl(self, action: str, *more: str, check: bool = True) -> None:
        # -l: its log in the directory (else it keeps our pipe open); -w: wait until done.
        log = str(self.directory / "postgres.log")
        self._run(
            "pg_ctl", action, "-D", str(self.data), "-l", log, "-w", "-t", "60", *more, check=check
        )

    def restart(self) -> None:
        """Stop (fast: every session is cut, as a crash of the server would) and start again
        on the same port with the same options."""
        self._pg_ctl("restart", "-m", "fast")

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(
            self.url().replace("postgres://", "postgresql://"), autocommit=True
        ) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.started:
            self.started = False
            self._pg_ctl("stop", "-m", "immediate", check=False)


class PrivateServices:
    """Both servers in one temporary directory, owned by ``postgres`` when we are root."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="flowdeck-faults-"))
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.directory, user.pw_uid, user.pw_gid)
        self.redis = PrivateRedis(self.directory)
        self.postgres = PrivatePostgres(self.directory)

    def start(self) -> "PrivateServices":
        self.redis.start()
        self.postgres.start()
        return self

    def close(self) -> None:
        """Stop both and remove their files; safe to call after any failure, and twice."""
        try:
            self.redis.kill()
        finally:
            try:
                self.postgres.stop()
            finally:
                shutil.rmtree(self.directory, ignore_errors=True)
