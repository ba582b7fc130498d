"""Real worker processes for the tests: ``manage.py flowdeck_worker`` (a django-q2 cluster
and the engine's sweeper) on the test database, in its own process group so a test can
``kill -9`` all of it at once."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import wait_until

ROOT = Path(__file__).resolve().parent.parent

# Short leases and a quick sweeper, so recovery happens in test time.
FAST = {
    "FLOWDECK_LEASE_S": "2",
    "FLOWDECK_SWEEP_INTERVAL_S": "0.2",
    "FLOWDECK_REQUEUE_AFTER_S": "4",
    "FLOWDECK_WORKERS": "4",
}


class Workers:
    def __init__(self, log_path: Path, **env: str) -> None:
        self.log_path = log_path
        self.env = {
            **os.environ,
            **FAST,
            **env,
            "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
            "PYTHONUNBUFFERED": "1",
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> "Workers":
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "flowdeck_worker"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill -9 reaches every worker
        )
        wait_until(
            lambda: b"running" in self.log_path.read_bytes() or self.process.poll() is not None,
            timeout=60,
            what="the worker cluster to start",
        )
        assert self.process.poll() is None, "the workers did not start:\n" + self.log()
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def kill(self) -> None:
        """kill -9 the whole process group: no cleanup, no goodbye, as in a crash."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        # The group's children are killed too; give the kernel a moment to reap them.
        time.sleep(0.2)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # The main process only: it stops its sentinel and workers in order (the workers reset
        # SIGTERM to the default, and killed first they would leave the sentinel waiting).
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


class WebServer:
    """daphne (HTTP and websockets) on the test database, started as ``manage.py serve``'s web
    program starts it (flowdeck/web.py, its access log masked): pytest-django's
    ``live_server`` speaks WSGI only. Stop and start it again on the same port to cut every
    socket."""

    def __init__(self, log_path: Path, port: int, **env: str) -> None:
        self.log_path = log_path
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.env = {
            **os.environ,
            **env,
            "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
            "PYTHONUNBUFFERED": "1",
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> "WebServer":
        import socket

        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flowdeck.web", "-b", "127.0.0.1", "-p", str(self.port)]
            + ["flowdeck.asgi:application"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        def listening() -> bool:
            assert self.process.poll() is None, "daphne stopped:\n" + self.log()
            with socket.socket() as probe:
                return probe.connect_ex(("127.0.0.1", self.port)) == 0

        wait_until(listening, timeout=60, what="daphne to listen")
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
