"""A test-only fault for the web process: it stops dead once a matching request's work has
committed and before its response is written, so that a test can ``kill -9`` it exactly
there (tests/faults/test_web_crash.py). tests/worker_settings.py installs it, outermost, when
``FLOWDECK_TEST_HANG_PATH`` (a regular expression of request paths) is set; it writes the
status the response would have had to ``FLOWDECK_TEST_HANG_MARKER``, then blocks for good."""

import os
import re
import threading
from collections.abc import Callable
from pathlib import Path

from django.http import HttpRequest, HttpResponse


class HangAfterCommit:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.paths = re.compile(os.environ["FLOWDECK_TEST_HANG_PATH"])
        self.marker = Path(os.environ["FLOWDECK_TEST_HANG_MARKER"])

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The view has returned: its transaction committed and its on_commit hand-overs ran.
        response = self.get_response(request)
        if request.method == "POST" and self.paths.fullmatch(request.path):
            self.marker.write_text(str(response.status_code))
            threading.Event().wait()  # never set: the response is never written
        return response
