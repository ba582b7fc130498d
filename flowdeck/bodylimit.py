"""One body-size limit for every request under ``/api/`` (CONTRACT §5: 413 ``too_large``).

A body over the limit is refused with 413 and the contract's JSON before anything reads it:

- ``BodyLimitMiddleware`` (in ``MIDDLEWARE``, before sessions, CSRF and authentication) compares
  the request's ``Content-Length`` with the limit of the view the path resolves to. Nothing
  reads the body first, so an anonymous caller gets 413 too, not 401: the size is checked
  before who is asking, as a reverse proxy would.
- ``AsgiBodyLimit`` wraps Django's ASGI application (flowdeck/asgi.py). Django's ASGI handler
  reads a whole body into a temporary file before the first middleware runs; this wrapper
  stands in front of it, so that a body over the limit never reaches that file: with a
  ``Content-Length`` over the limit it hands Django an empty body (the middleware then answers
  413 by the header), and a body without one (``Transfer-Encoding: chunked``) is counted
  while it arrives and cut one chunk past the limit. daphne itself still receives the whole
  request before any application runs (Twisted buffers it); a reverse proxy's limit
  (nginx ``client_max_body_size``) is the only thing that stops a client from sending it.

The limit of a view, in the order looked up:

1. ``max_body_bytes`` on the view function (``@body_limit(n)`` sets it, for function views
   such as the webhook);
2. ``max_body_bytes`` in a DRF action's initkwargs (``@action(..., max_body_bytes=n)``, when
   the viewset class declares the attribute too);
3. ``max_body_bytes`` on the view class (an ``APIView``, a viewset, a Django class-based view);
4. else ``settings.FLOWDECK_MAX_BODY_BYTES`` (a run's input and most bodies; see settings.py).

The value is a number of bytes, the name of a setting holding it, or a function of no
arguments returning it, read per request (so a view can follow a setting and tests can
override it). A view may declare a larger or a
smaller limit than the default. For example the attachment upload, whose limit is its own
setting::

    class AttachmentView(APIView):
        parser_classes = [MultiPartParser]
        max_body_bytes = "FLOWDECK_ATTACHMENT_MAX_BYTES"

or, when the limit is computed (a file and its multipart envelope)::

        max_body_bytes = staticmethod(upload_limit)

Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` still caps what ``request.body`` and DRF's JSON and
form parsers hold in memory (settings.py keeps it at least the default limit). A view that
declares more than that must read a stream: multipart files (Django spools them to disk) or
``request.read()`` in chunks, as the webhook does. A refusal from Django's own checks
(``RequestDataTooBig`` and the others) is JSON under /api/ too: flowdeck/errors.py and
flowdeck/views.py.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TypeVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve

from flowdeck.logmask import mask

API_PREFIX = "/api/"
# Where ASGI scope keeps the counting wrapper's finding for the middleware.
SCOPE_KEY = "flowdeck.body_over"

View = TypeVar("View", bound=Callable[..., Any])
Scope = MutableMapping[str, Any]
Message = dict[str, Any]


Limit = int | str | Callable[[], int]


def body_limit(limit: Limit) -> Callable[[View], View]:
    """Decorator for a function view: its own limit (bytes, or a setting's name)."""

    def mark(view: View) -> View:
        view.max_body_bytes = limit  # type: ignore[attr-defined]
        return view

    return mark


def _value(limit: Limit) -> int:
    if callable(limit):
        return int(limit())
    return int(getattr(settings, limit) if isinstance(limit, str) else limit)


def limit_for(path: str) -> int:
    """The body limit of the view that ``path`` resolves to (the default for no view)."""
    try:
        match = resolve(path)
    except Resolver404:
        return _value("FLOWDECK_MAX_BODY_BYTES")
    view = match.func
    declared = getattr(view, "max_body_bytes", None)
    if declared is None:
        declared = (getattr(view, "initkwargs", None) or {}).get("max_body_bytes")
    if declared is None:
        cls = getattr(view, "cls", None) or getattr(view, "view_class", None)
        declared = getattr(cls, "max_body_bytes", None)
    return _value(declared if declared is not None else "FLOWDECK_MAX_BODY_BYTES")


def warn_refused(
    request: HttpRequest, logger: str, status: int, code: str, message: object
) -> None:
    """One WARNING line for a request refused as the client's mistake: no traceback, and the
    path without a webhook's token (flowdeck/logmask.py)."""
    logging.getLogger(logger).warning(
        "%s %s refused with %s %s: %s",
        request.method,
        mask(request.path),
        status,
        code,
        message,
    )


def refusal(request: HttpRequest, status: int, code: str, message: str) -> JsonResponse:
    """The contract's error response for a request refused before its view, logged once
    (``warn_refused``) and marked as logged, so that Django's request logger does not log it
    a second time."""
    error = {"node": None, "edge": None, "field": None, "code": code, "message": message}
    response = JsonResponse({"errors": [error]}, status=status)
    warn_refused(request, "django.request", status, code, message)
    response._has_been_logged = True  # read by django.utils.log.log_response
    return response


def content_length(value: str | bytes | None) -> int | None:
    """A Content-Length as a number; None when absent or not a number (Django reads such a
    body as empty)."""
    if value is None:
        return None
    try:
        length = int(value)
    except ValueError:
        return None
    return length if length >= 0 else None


def too_large(length: int, limit: int) -> str:
    return f"the body is {length} bytes; this endpoint takes at most {limit}"


class BodyLimitMiddleware:
    """Refuse an API request whose body is over its view's limit (module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PREFIX):
            # Set by AsgiBodyLimit: a chunked body was cut at the limit; what is left of it
            # must reach no view.
            over = getattr(request, "scope", {}).get(SCOPE_KEY)
            if over is not None:
                message = f"the body is over {over} bytes, this endpoint's limit"
                return refusal(request, 413, "too_large", message)
            length = content_length(request.META.get("CONTENT_LENGTH"))
            if length:
                limit = limit_for(request.path_info)
                if length > limit:
                    return refusal(request, 413, "too_large", too_large(length, limit))
        return self.get_response(request)


class AsgiBodyLimit:
    """ASGI wrapper around Django's application: a body over the limit never reaches Django's
    temporary file (module docstring). The refusal itself is the middleware's, so that it
    carries the headers every response gets."""

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app

    async def __call__(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        path = scope.get("path", "")
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        if scope["type"] != "http" or not path.startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = content_length(headers.get(b"content-length"))
        if length is None and b"transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body
            return
        limit = limit_for(path)
        scope = dict(scope)
        ended = refused = False
        received = 0

        async def limited() -> Message:
            nonlocal ended, refused, received
            if refused:
                # Django listens for a disconnect once it has the body. The rest of a refused
                # body is not read to find one: the 413 is sent at once, and Django cancels
                # this wait when its response is done.
                await asyncio.Event().wait()
            if ended:
                return await receive()
            if length is not None and length > limit:
                # Refused by its Content-Length (the middleware answers): read none of it.
                ended = refused = True
                return {"type": "http.request", "body": b"", "more_body": False}
            message = await receive()
            if message["type"] != "http.request":
                return message
            received += len(message.get("body", b""))
            if received > limit:
                ended = refused = True
                scope[SCOPE_KEY] = limit
                return {"type": "http.request", "body": b"", "more_body": False}
            ended = not message.get("more_body", False)
            return message

        await self.app(scope, limited, send)
