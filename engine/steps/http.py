"""Calling HTTP services: http.request.

Every connection goes through the outbound-address guard (connectors/netguard.py). Secrets
come from a named credential and go only into the request: the step's input holds the name,
and its output and errors are scrubbed of the secret values here (and again by the engine).
"""

import base64
import json
import re
import time
from collections.abc import Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
from django.conf import settings
from django.utils import timezone

from connectors.credentials import ResolvedCredential, scrub
from connectors.kinds import HTTP_KINDS, CredentialKind
from connectors.netguard import AddressRefused, guarded_client
from engine import breakers
from engine.models import BreakerScope
from engine.steps.base import (
    ANY_VALUE,
    CREDENTIAL_NAME,
    HEADER_NAME,
    TEMPLATE,
    TEMPLATED_VALUE,
    StepContext,
    StepError,
    StepResult,
    StepType,
    object_schema,
    templated,
)

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
# Quick retries inside one attempt when the connection fails before any response (refused,
# reset, closed without an answer): the same request, so the same Idempotency-Key.
CONNECTION_RETRIES = 2
CONNECTION_RETRY_PAUSE_S = 0.1
# Statuses worth another attempt: the server's trouble, throttling, a request timeout.
RETRYABLE_STATUSES = frozenset({408, 429})
RETRY_AFTER_STATUSES = frozenset({429, 503})
EXCERPT_CHARS = 1000
MESSAGE_EXCERPT_CHARS = 200
USER_AGENT = "Flowdeck"
_HEADER_NAME = re.compile(HEADER_NAME["pattern"])
_BAD_HEADER_VALUE = re.compile(r"[\r\n\x00]")


class HttpRequest(StepType):
    """Sends one HTTP request and outputs the response's status, headers and body."""

    type_name = "http.request"
    title = "HTTP request"
    category = "http"
    credential_fields = {"credential": HTTP_KINDS}
    description = (
        "Sends an HTTP request and outputs the response's status, headers and body. "
        "A status outside the expected ones fails the step."
    )
    config_schema = object_schema(
        {
            "method": {
                "type": "string",
                "enum": METHODS,
                "title": "Method",
                "description": "The HTTP method.",
                "default": "GET",
            },
            "url": {
                "type": "string",
                "format": "uri",
                "title": "URL",
                "description": "An http or https URL; may contain templates.",
                "minLength": 1,
                "maxLength": 8192,
            },
            "query": templated(
                {
                    "type": "object",
                    "propertyNames": {"minLength": 1, "maxLength": 256},
                    "additionalProperties": {**TEMPLATE, "maxLength": 8192},
                },
                title="Query parameters",
                description="Added to the URL's query string; values may contain templates.",
                default={},
            ),
            "headers": templated(
                {
                    "type": "object",
                    "propertyNames": HEADER_NAME,
                    "additionalProperties": {**TEMPLATE, "maxLength": 8192},
                },
                title="Headers",
                description=(
                    "Request headers; values may contain templates. Put secrets in a credential, "
                    "not here."
                ),
                default={},
            ),
            "body": {
                **ANY_VALUE,
                "title": "Body",
                "description": (
                    "Any JSON value; strings inside it are templates. Not sent when absent."
                ),
            },
            "body_type": {
                "type": "string",
                "enum": ["json", "form", "raw"],
                "title": "Body encoding",
                "description": (
                    "json sends the body as JSON, form URL-encodes an object, raw sends a string "
                    "as it is."
                ),
                "default": "json",
            },
            "credential": {
                **CREDENTIAL_NAME,
                "title": "Credential",
                "description": "The name of a stored credential used to authenticate the request.",
            },
            "expected_status": {
                "type": "array",
                "title": "Expected statuses",
                "description": "Statuses that count as success; empty means any 2xx status.",
                "items": {"type": "integer", "minimum": 100, "maximum": 599},
                "uniqueItems": True,
                "maxItems": 100,
                "default": [],
            },
            "follow_redirects": {
                "type": "boolean",
                "title": "Follow redirects",
                "description": "Follow 3xx responses to their Location instead of returning them.",
                "default": False,
            },
            "response_type": {
                "type": "string",
                "enum": ["auto", "json", "text"],
                "title": "Response type",
                "description": (
                    "How the body is read: auto parses JSON when the Content-Type says JSON, "
                    "json always parses (failing on invalid JSON), text never does."
                ),
                "default": "auto",
            },
            "circuit_breaker": breakers.CONFIG_SCHEMA,
            "max_response_bytes": {
                "type": "integer",
                "title": "Maximum response size (bytes)",
                "description": "A larger response body fails the step.",
                "minimum": 1,
                "maximum": 52_428_800,
                "default": 1_048_576,
            },
        },
        required=["url"],
        allOf=[
            # raw sends text as it is; form needs key/value pairs (or a template yielding them).
            {
                "if": {"properties": {"body_type": {"const": "raw"}}, "required": ["body_type"]},
                "then": {"properties": {"body": {"type": "string"}}},
            },
            {
                "if": {"properties": {"body_type": {"const": "form"}}, "required": ["body_type"]},
                "then": {"properties": {"body": {"anyOf": [{"type": "object"}, TEMPLATED_VALUE]}}},
            },
        ],
    )

    runnable = True
    blocking = True

    def run(self, ctx: StepContext) -> StepResult:
        try:
            return StepResult(output=scrub(self._call(ctx), ctx.secrets))
        except StepError as exc:
            raise _scrubbed(exc, ctx.secrets) from None

    def _call(self, ctx: StepContext) -> dict[str, Any]:
        config = ctx.config
        method = config.get("method", "GET")
        url = _parse_url(config.get("url"))
        shown = _shown(method, url)
        headers = _headers(config.get("headers", {}))
        params = _query(config.get("query", {}))
        if not any(name.lower() == "idempotency-key" for name in headers):
            headers["Idempotency-Key"] = ctx.idempotency_key
        secret_headers: set[str] = set()
        if config.get("credential"):
            credential = ctx.credential(config["credential"], HTTP_KINDS)
            secret_headers = _authenticate(credential, headers, params, ctx.secrets)
        body = _body(config, headers)
        request_timeout(ctx)  # no time left: fails here, before the breaker hears of it
        # Asked last, after every check of the config: a bad config says nothing of the service.
        permit = breakers.guard(*_breaker_target(config, url), breakers.Thresholds.of(config))
        try:
            result = self._exchange(
                ctx, config, method, url, shown, headers, params, body, secret_headers
            )
        except StepError as exc:
            breakers.report(permit, breaker_outcome(exc), scrub(exc.as_dict(), ctx.secrets))
            raise
        breakers.report(permit, "success")
        return result

    def _exchange(
        self,
        ctx: StepContext,
        config: Mapping[str, Any],
        method: str,
        url: httpx.URL,
        shown: str,
        headers: dict[str, str],
        params: dict[str, Any],
        body: dict[str, Any],
        secret_headers: set[str],
    ) -> dict[str, Any]:
        timeout = request_timeout(ctx)
        ends = time.monotonic() + timeout
        follow = bool(config.get("follow_redirects", False))
        hooks = {"request": [_strip_on_redirect(url, secret_headers)]} if secret_headers else {}
        try:
            with guarded_client(timeout=timeout, event_hooks=hooks) as client:
                # Merged by hand: httpx's params= would replace the URL's own query.
                target = url.copy_merge_params(params)
                request = client.build_request(method, target, headers=headers, **body)
                response = _open(client, request, follow, ctx, ends)
                try:
                    if _expected(config, response.status_code):
                        limit = config.get("max_response_bytes", 1_048_576)
                        raw = _read(response, limit, ends, ctx)
                    else:
                        # Only an excerpt for the error: a failing service's big page is no
                        # reason to call it a permanent response_too_large.
                        raw = _read(response, EXCERPT_CHARS * 4, ends, ctx, truncate=True)
                        raise _status_error(response, raw, shown)
                finally:
                    response.close()
        except AddressRefused as exc:
            raise StepError(str(exc), retryable=False, code="address_refused") from None
        except httpx.TimeoutException:
            raise StepError(
                f"{shown} did not answer within {timeout:g} s", code="request_timeout"
            ) from None
        except httpx.TooManyRedirects:
            raise StepError(
                f"{shown} redirected too many times", retryable=False, code="too_many_redirects"
            ) from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise StepError(f"{shown}: {exc}", retryable=False, code="invalid_url") from None
        except httpx.DecodingError as exc:
            raise StepError(
                f"{shown}: the response could not be decoded ({exc})",
                retryable=False,
                code="invalid_response",
            ) from None
        except httpx.TransportError as exc:
            # Refused, reset, unresolvable, cut mid-body: the network's trouble, worth retrying.
            raise StepError(f"{shown} failed: {_reason(exc)}", code="network_error") from None
        return {
            "status": response.status_code,
            "headers": {name.lower(): value for name, value in response.headers.items()},
            "body": _parse_body(config.get("response_type", "auto"), response, raw, shown),
        }


# --- The circuit breaker --------------------------------------------------------------------------

# Errors that say the service is in trouble: no answer in time, no connection, a 5xx. A 4xx is
# the request's fault, not the service's, and does not count.
BREAKER_FAILURES = frozenset({"request_timeout", "network_error"})
# Refused or stopped before the request left: nothing learnt about the service.
BREAKER_NEUTRAL = frozenset({"address_refused", "invalid_url", "cancelled", "invalid_config"})


def breaker_outcome(exc: StepError) -> str:
    """How a failed call counts for the breaker: failure, neutral, or success (it answered)."""
    if exc.code in BREAKER_FAILURES:
        return "failure"
    if exc.code == "http_status" and exc.details.get("status", 0) >= 500:
        return "failure"
    if exc.code in BREAKER_NEUTRAL:
        return "neutral"
    return "success"


def _breaker_target(config: Mapping[str, Any], url: httpx.URL) -> tuple[str, str]:
    """Per credential when the step has one, else per host (with its port when not the
    scheme's default)."""
    if config.get("credential"):
        return BreakerScope.CREDENTIAL, str(config["credential"])
    host = url.host.lower()
    return BreakerScope.HOST, f"{host}:{url.port}" if url.port else host


# --- The request ----------------------------------------------------------------------------------


def _invalid(message: str) -> StepError:
    return StepError(message, retryable=False, code="invalid_config")


def _parse_url(value: Any) -> httpx.URL:
    if not isinstance(value, str) or not value:
        raise StepError("the URL is empty", retryable=False, code="invalid_url")
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL as exc:
        raise StepError(
            f"the URL is not valid: {exc}", retryable=False, code="invalid_url"
        ) from None
    if url.scheme not in ("http", "https") or not url.host:
        raise StepError(
            "the URL must be an http or https URL with a host", retryable=False, code="invalid_url"
        )
    return url


def _shown(method: str, url: httpx.URL) -> str:
    """The request as errors name it: no user info, no query (either may carry a secret)."""
    return f"{method} {url.copy_with(query=None, fragment=None, userinfo=b'')}"


def _text(value: Any, field: str) -> str | None:
    """A scalar from a rendered template as it goes on the wire; None leaves it out."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise _invalid(f"{field} must be text or a number, not {type(value).__name__}")


def _headers(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise _invalid("headers must be an object")
    headers = {"User-Agent": USER_AGENT}
    for name, raw in value.items():
        if not isinstance(name, str) or not _HEADER_NAME.match(name):
            raise _invalid(f"headers: {name!r} is not a header name")
        text = _text(raw, f"headers.{name}")
        if text is None:
            continue
        if _BAD_HEADER_VALUE.search(text):
            raise _invalid(f"headers.{name} contains a line break")
        if not text.isascii():
            raise _invalid(f"headers.{name} has characters other than ASCII")
        headers = {k: v for k, v in headers.items() if k.lower() != name.lower()}
        headers[name] = text
    return headers


def _query(value: Any) -> dict[str, str | list[str]]:
    if not isinstance(value, Mapping):
        raise _invalid("query must be an object")
    params: dict[str, str | list[str]] = {}
    for name, raw in value.items():
        if isinstance(raw, list):
            items = [_text(item, f"query.{name}") for item in raw]
            params[str(name)] = [item for item in items if item is not None]
        else:
            text = _text(raw, f"query.{name}")
            if text is not None:
                params[str(name)] = text
    return params


def _body(config: Mapping[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    """httpx keyword arguments for the body; none when the config has no body."""
    if "body" not in config:
        return {}
    body = config["body"]
    body_type = config.get("body_type", "json")
    if body_type == "form":
        if not isinstance(body, Mapping):
            raise _invalid("a form body must be an object")
        return {"data": _query(body)}
    if body_type == "raw":
        if not isinstance(body, str):
            raise _invalid("a raw body must be text")
        if not any(name.lower() == "content-type" for name in headers):
            headers["Content-Type"] = "text/plain; charset=utf-8"
        return {"content": body.encode()}
    try:
        # NaN is not JSON: a service would refuse it, and no store could keep it.
        content = json.dumps(body, allow_nan=False).encode()
    except ValueError as exc:
        raise _invalid(f"the body is not valid JSON: {exc}") from None
    if not any(name.lower() == "content-type" for name in headers):
        headers["Content-Type"] = "application/json"
    return {"content": content}


def _authenticate(
    credential: ResolvedCredential,
    headers: dict[str, str],
    params: dict[str, Any],
    secrets: list[str],
) -> set[str]:
    """Put the credential into the request (it wins over a header or parameter of the same
    name); returns the headers that now carry a secret. The secret's forms on the wire
    (base64, URL-encoded) join ``secrets``: a service that echoes the request must not put
    them into the step's output either."""

    def put(name: str, value: str) -> str:
        if not value.isascii() or _BAD_HEADER_VALUE.search(value):
            # Named, never shown: the value is the secret.
            raise _invalid(f"the credential {credential.name} cannot be sent as a header")
        for existing in [k for k in headers if k.lower() == name.lower()]:
            del headers[existing]
        headers[name] = value
        return name

    secret, public = credential.secret, credential.public
    if credential.kind == CredentialKind.HTTP_BEARER:
        return {put("Authorization", f"Bearer {secret['token']}")}
    if credential.kind == CredentialKind.HTTP_BASIC:
        pair = f"{public['username']}:{secret['password']}".encode()
        token = base64.b64encode(pair).decode()
        secrets.append(token)
        return {put("Authorization", f"Basic {token}")}
    if credential.kind == CredentialKind.HTTP_HEADER:
        return {put(public["header"], secret["value"])}
    if credential.kind == CredentialKind.API_KEY:
        if public["in"] == "query":
            params[public["name"]] = secret["value"]
            secrets.extend({quote(secret["value"], safe=""), quote_plus(secret["value"])})
            return set()
        return {put(public["name"], secret["value"])}
    raise StepError(f"{credential.name} cannot authenticate HTTP", retryable=False)


def _strip_on_redirect(origin: httpx.URL, secret_headers: set[str]) -> Any:
    """A request hook: a redirect to another host (or port, or down to plain http) loses the
    credential's headers, as browsers and httpx do for Authorization."""

    def hook(request: httpx.Request) -> None:
        url = request.url
        same = (url.scheme, url.host, url.port) == (origin.scheme, origin.host, origin.port)
        upgrade = (
            origin.scheme == "http"
            and url.scheme == "https"
            and url.host == origin.host
            and origin.port in (None, 80)
            and url.port in (None, 443)
        )
        if not (same or upgrade):
            for name in secret_headers:
                request.headers.pop(name, None)

    return hook


def request_timeout(ctx: StepContext, now: datetime | None = None) -> float:
    """FLOWDECK_HTTP_TIMEOUT_S, and never past the attempt's deadline (the node's timeout_s)."""
    limit = float(settings.FLOWDECK_HTTP_TIMEOUT_S)
    if ctx.deadline_at is not None:
        left = (ctx.deadline_at - (now or timezone.now())).total_seconds()
        if left <= 0:
            raise StepError("no time left for the request", code="request_timeout")
        limit = min(limit, left)
    return limit


# --- The exchange ---------------------------------------------------------------------------------


def _open(
    client: httpx.Client, request: httpx.Request, follow: bool, ctx: StepContext, ends: float
) -> httpx.Response:
    """Send the request and return the response with its body unread. A connection that fails
    before any response is tried again at once (up to CONNECTION_RETRIES times): the same
    request object, so the same Idempotency-Key for the service to deduplicate."""
    for tries_left in range(CONNECTION_RETRIES, -1, -1):
        try:
            return client.send(request, stream=True, follow_redirects=follow)
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
            pause = CONNECTION_RETRY_PAUSE_S
            if not tries_left or time.monotonic() + pause >= ends:
                raise
            # wait() rather than sleep: a cancelled attempt stops at once.
            if ctx.cancelled.wait(pause):
                raise
    raise AssertionError("unreachable")


def _read(
    response: httpx.Response, limit: int, ends: float, ctx: StepContext, truncate: bool = False
) -> bytes:
    """The body, decoded (gzip and the like), stopping as soon as it is over ``limit`` bytes:
    a huge or endless response costs at most that much memory. Over the limit is an error,
    or with ``truncate`` the first ``limit`` bytes."""
    length = response.headers.get("content-length", "")
    too_large = StepError(
        f"the response is larger than {limit} bytes (max_response_bytes)",
        retryable=False,
        code="response_too_large",
        details={"status": response.status_code},
    )
    big = length.isdigit() and int(length) > limit
    if big and not truncate and response.request.method != "HEAD":
        raise too_large
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            if truncate:
                chunks.append(chunk[: len(chunk) - (size - limit)])
                break
            raise too_large
        chunks.append(chunk)
        if time.monotonic() > ends:
            # Per-read timeouts do not bound a server that trickles bytes; this does.
            raise httpx.ReadTimeout("the response took too long", request=response.request)
        if ctx.cancelled.is_set():
            raise StepError("the attempt was cancelled", code="cancelled")
    return b"".join(chunks)


def _reason(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


# --- The response ---------------------------------------------------------------------------------


def _expected(config: Mapping[str, Any], status: int) -> bool:
    expected = config.get("expected_status") or []
    return status in expected if expected else 200 <= status < 300


def _status_error(response: httpx.Response, raw: bytes, shown: str) -> StepError:
    """An unexpected status: retryable when the server is in trouble (5xx), throttling (429)
    or timed out (408); permanent otherwise. Carries the status and an excerpt of the body."""
    status = response.status_code
    excerpt = _decode(response, raw)[:EXCERPT_CHARS]
    message = f"{shown} answered {status} {response.reason_phrase}".rstrip()
    if excerpt.strip():
        message += f": {excerpt[:MESSAGE_EXCERPT_CHARS]}"
    retry_after = None
    if status in RETRY_AFTER_STATUSES:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
    return StepError(
        message,
        retryable=status >= 500 or status in RETRYABLE_STATUSES,
        code="http_status",
        retry_after_s=retry_after,
        details={"status": status, "body": excerpt},
    )


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After in seconds, from delay-seconds or an HTTP date (RFC 9110 10.2.3); None when
    absent or unreadable. A date in the past is 0."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None  # RFC 9110 dates are GMT; one without a zone is junk
    return max(0.0, (when - (now or timezone.now())).total_seconds())


def _is_json(response: httpx.Response) -> bool:
    media = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _decode(response: httpx.Response, raw: bytes) -> str:
    try:
        return raw.decode(response.charset_encoding or "utf-8", errors="replace")
    except LookupError:  # an unknown charset
        return raw.decode("utf-8", errors="replace")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse_body(response_type: str, response: httpx.Response, raw: bytes, shown: str) -> Any:
    """The output's body: JSON when asked (json) or when the Content-Type says so (auto),
    else text. An empty body is null where JSON was expected."""
    if response_type == "text" or (response_type == "auto" and not _is_json(response)):
        return _decode(response, raw)
    if not raw.strip():
        return None
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except ValueError as exc:
        if response_type == "auto":
            return _decode(response, raw)  # it said JSON but is not: keep what came
        raise StepError(
            f"{shown}: the response is not JSON ({exc})", retryable=False, code="invalid_json"
        ) from None


def _scrubbed(exc: StepError, secrets: list[str]) -> StepError:
    if not secrets:
        return exc
    return StepError(
        scrub(exc.message, secrets),
        retryable=exc.retryable,
        code=exc.code,
        retry_after_s=exc.retry_after_s,
        details=scrub(exc.details, secrets),
    )
