"""The server's clock on every response: ``X-Server-Time``, milliseconds since the epoch.

Countdowns in the browser (a task's time left) must not drift with the browser's own clock,
which may be minutes off. The page measures its offset from this header on each API response
(frontend/src/clock.ts); the ``Date`` header would do at one-second resolution, but a proxy may
rewrite it, and milliseconds let the page take the round trip into account.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

HEADER = "X-Server-Time"


def server_time(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable:
    """Middleware: stamp each response with the time it leaves the server."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        # Taken after the view ran: the closest this process gets to when the bytes leave.
        response[HEADER] = str(round(timezone.now().timestamp() * 1000))
        return response

    return middleware
