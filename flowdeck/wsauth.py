"""Who is on a websocket: the session (browser), or an API token (scripts, people/tokens.py),
and where from.

The browser sends its session cookie (``AuthMiddlewareStack``) and an ``Origin`` header that
must name an allowed host, or a page elsewhere could ride the cookie. Scripts send
``Authorization: Token <key>`` like the API (or ``?token=<key>``, which lands in proxy logs),
and may leave ``Origin`` out: that is not cross-site hijacking, which needs a browser, and a
browser always sends ``Origin``. A token that is unknown or of an inactive user leaves the
socket anonymous (4401), even with a session, as the API answers 401.
"""

from typing import Any
from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.security.websocket import AllowedHostsOriginValidator
from django.contrib.auth.models import AnonymousUser

Scope = dict[str, Any]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin1")
    return None


def token_key(scope: Scope) -> str | None:
    """The key of ``Authorization: Token <key>``, else of ``?token=<key>``, else None; ""
    for a malformed one. Another scheme in ``Authorization`` is ignored, as DRF does."""
    header = _header(scope, b"authorization")
    if header is not None:
        keyword, _, key = header.strip().partition(" ")
        if keyword.lower() == "token":
            return key.strip()
    values = parse_qs(scope.get("query_string", b"").decode("latin1")).get("token")
    return values[-1] if values else None


@database_sync_to_async
def _token_user(key: str) -> Any:
    from people.tokens import user_for_key

    return user_for_key(key) or AnonymousUser()


class TokenAuthMiddleware:
    """Inside ``AuthMiddlewareStack``: a token, when given, decides the user."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> Any:
        key = token_key(scope)
        if key is not None:
            scope = {**scope, "user": await _token_user(key) if key else AnonymousUser()}
        return await self.app(scope, receive, send)


class OriginValidator:
    """``AllowedHostsOriginValidator``, except that a script with a token may omit Origin."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.checked = AllowedHostsOriginValidator(app)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> Any:
        if _header(scope, b"origin") is None and token_key(scope):
            return await self.app(scope, receive, send)
        return await self.checked(scope, receive, send)


def websocket_stack(app: Any) -> Any:
    return OriginValidator(AuthMiddlewareStack(TokenAuthMiddleware(app)))
