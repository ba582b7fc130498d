"""A hard cap on webhook bodies before Django reads them.

Django's ASGI handler receives a request's whole body (spooled to a temporary file past
FILE_UPLOAD_MAX_MEMORY_SIZE) before any view runs, so the view's own limit (the trigger's
``max_body_bytes``, webhooks/receive.py) cannot stop an endless chunked upload to an
unauthenticated URL from filling the disk. This middleware counts the bytes of requests to
``/api/hooks/`` as they arrive and answers 413 past the largest ``max_body_bytes`` any
trigger may set, without reading further.
"""

import json
from collections.abc import Awaitable, Callable
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

# The maximum of trigger.webhook's max_body_bytes (engine/steps/triggers.py).
HARD_LIMIT = 10_485_760
PREFIX = "/api/hooks/"


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "errors": [
                {
                    "node": None,
                    "edge": None,
                    "field": None,
                    "code": "too_large",
                    "message": f"a webhook body is at most {limit} bytes",
                }
            ]
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class HookBodyLimit:
    """ASGI middleware: 413 for a webhook request whose body passes ``limit`` bytes."""

    def __init__(self, app: App, limit: int = HARD_LIMIT) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        length = _content_length(scope)
        if length is not None and length > self.limit:
            await _too_large(send, self.limit)
            return
        received = 0
        over = False
        started = False

        async def counted() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    # Tell Django the client went away: it drops what it spooled and
                    # answers nothing; the 413 is sent below.
                    over = True
                    return {"type": "http.disconnect"}
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counted, tracked)
        if over and not started:
            await _too_large(send, self.limit)
