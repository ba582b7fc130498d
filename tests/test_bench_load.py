"""bench/load.py keeps working: a tiny run of it (2 web and 2 worker processes on a database
of its own, 5 runs decided over the API, 3 websocket clients) ends without an error. The
figures are the benchmark's business (bench/README.md), not this test's."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.scaleout,
    pytest.mark.skipif(
        settings.EMBEDDED,
        reason="the load script's smoke run belongs to the scale-out pass (DATABASE_URL)",
    ),
]


def test_a_small_load_run_ends_with_every_run_succeeded_and_no_error(tmp_path):
    figures = tmp_path / "figures.json"
    # The script makes its own database next to DATABASE_URL's and drops it; its data dir too.
    env = {**os.environ, "FLOWDECK_DATA_DIR": str(tmp_path / "var")}
    command = [sys.executable, "bench/load.py", "--runs", "5", "--clients", "3"]
    command += ["--json", str(figures)]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    result = json.loads(figures.read_text())
    assert result["total_errors"] == 0
    assert result["figures"]["statuses"] == {"succeeded": 5}
    assert result["websockets"]["messages"] == 3 * result["figures"]["feed_events"] > 0
    assert result["api"]["latency_ms"]["decide"]["n"] == 5
