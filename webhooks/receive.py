"""What ``POST /api/hooks/<token>/`` does before a run starts, in this order (each refusal is
the contract's error shape):

1. the token: unknown, archived, or no webhook trigger in the newest version: 404, alike;
2. the token's rate (``FLOWDECK_WEBHOOK_RATE``): 429 with Retry-After;
3. the body's size against the trigger's ``max_body_bytes``: Content-Length before reading,
   and a capped read for bodies without one (chunked): 413;
4. the signature, when the trigger has one: 401 (missing, malformed, wrong, or a timestamp
   outside ``tolerance_s``: a replay);
5. the body: a JSON object, or a form: else 400 (unreadable) or 415 (another media type);
6. the input against the version's ``input_schema``: 400 naming the fields.

Then the run starts (trigger ``webhook``, no actor), once per ``Idempotency-Key``.
These are plain functions on a request, called from the async view through sync_to_async.
"""

import hashlib
import hmac
import json
import logging
import math
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.http import HttpRequest, QueryDict

from connectors.credentials import CredentialUnavailable, resolve
from connectors.crypto import CredentialKeyError
from connectors.kinds import CredentialKind
from engine import transitions
from engine.models import Run, Trigger
from flowdeck.throttling import cached_rate, over_rate
from webhooks.services import (
    DEFAULT_SIGNATURE_HEADER,
    DEFAULT_TIMESTAMP_HEADER,
    DEFAULT_TOLERANCE_S,
    Target,
    find_target,
)

log = logging.getLogger("flowdeck.webhooks")

IDEMPOTENCY_PREFIX = "hook:"
# Run.idempotency_key holds 200 characters, the prefix included.
MAX_IDEMPOTENCY_KEY = 200 - len(IDEMPOTENCY_PREFIX)
TIMESTAMP = re.compile(r"^[0-9]{1,12}$")


class HookRefused(Exception):
    """The request is refused with ``status``; ``errors`` in the contract's shape."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.errors = errors or [
            {"node": None, "edge": None, "field": field, "code": code, "message": message}
        ]
        self.headers = headers or {}


NOT_FOUND = (404, "not_found", "no such webhook")


@dataclass(frozen=True)
class Accepted:
    run_id: int
    status: str
    created: bool
    wait_s: float = 0.0


# --- the steps, in order ------------------------------------------------------------------------


def rate_limited(token_hash: str, now: float) -> int | None:
    """Count this request against its token; the seconds to wait when over the rate.

    The API's fixed-window counter (flowdeck/throttling.py), in the throttle cache that every
    process shares (files on one machine, Redis in scale-out). The key holds the token's hash,
    never the token. Redis counts exactly (INCR); the file cache's increment is a read and a
    write, so concurrent requests on one machine may each slip one extra request through.
    """
    text = settings.FLOWDECK_WEBHOOK_RATE
    if not text:
        return None
    rate = cached_rate(text)
    wait = over_rate(f"webhook-rate:{rate[1]}:{token_hash}", token_hash, rate, now)
    return None if wait is None else max(1, math.ceil(wait))


def content_length(request: HttpRequest) -> int | None:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    return length if length >= 0 else None


def read_body(request: HttpRequest, limit: int) -> bytes:
    """The raw body, refused with 413 beyond ``limit`` bytes: by its Content-Length before any
    byte is read, else (chunked) after reading at most limit + 1 bytes."""
    length = content_length(request)
    if length is not None and length > limit:
        raise HookRefused(
            413, "too_large", f"the body is {length} bytes; this webhook takes at most {limit}"
        )
    chunks, size = [], 0
    while size <= limit:
        chunk = request.read(min(64 * 1024, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise HookRefused(413, "too_large", f"the body is over {limit} bytes, this webhook's limit")
    return b"".join(chunks)


def expected_signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 of ``<timestamp>.<raw body>`` with the secret, as hex."""
    message = timestamp.encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_matches(secret: str, timestamp: str, body: bytes, given: str) -> bool:
    """``given`` is ``sha256=<hex>`` or the bare hex, any case; compared in constant time."""
    given = given.strip()
    if given[:7].lower() == "sha256=":
        given = given[7:]
    expected = expected_signature(secret, timestamp, body).encode("ascii")
    return hmac.compare_digest(expected, given.lower().encode("utf-8", "replace"))


def _unauthorized(code: str, message: str, header: str) -> HookRefused:
    return HookRefused(401, code, message, field=f"headers.{header}")


def check_signature(request: HttpRequest, target: Target, body: bytes, now: float) -> None:
    """401 unless the request is signed with the trigger's secret at a time within
    ``tolerance_s`` of now (0: any time). The timestamp is part of what is signed, so an old
    request replayed as is fails here."""
    config = target.signature
    if config is None:
        return
    header = config.get("header") or DEFAULT_SIGNATURE_HEADER
    ts_header = config.get("timestamp_header") or DEFAULT_TIMESTAMP_HEADER
    tolerance = int(config.get("tolerance_s", DEFAULT_TOLERANCE_S))
    given = request.headers.get(header)
    if not given:
        raise _unauthorized("missing_signature", f"this webhook needs a {header} header", header)
    timestamp = (request.headers.get(ts_header) or "").strip()
    if not TIMESTAMP.match(timestamp):
        raise _unauthorized(
            "missing_timestamp",
            f"this webhook needs a {ts_header} header: the signing time in Unix seconds",
            ts_header,
        )
    try:
        credential = resolve(
            config["secret_credential"],
            user_id=target.credential_user_id,
            kinds=[CredentialKind.SECRET],
        )
    except (CredentialUnavailable, CredentialKeyError):
        # The sender cannot fix this; the workflow's editors can. No detail to the sender.
        log.warning(
            "webhook of workflow %s: its signing credential cannot be opened", target.workflow.pk
        )
        raise HookRefused(
            503,
            "secret_unavailable",
            "this webhook's signing secret is unavailable; tell the workflow's owner",
        ) from None
    if not signature_matches(credential.secret["value"], timestamp, body, given):
        raise _unauthorized("bad_signature", "the signature does not match", header)
    if tolerance and abs(now - int(timestamp)) > tolerance:
        raise _unauthorized(
            "stale_timestamp",
            f"the timestamp is more than {tolerance} s away from the server's clock",
            ts_header,
        )


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    return False


def parse_body(request: HttpRequest, body: bytes) -> dict[str, Any]:
    """The run's input: a JSON object, or a form (application/x-www-form-urlencoded) as an
    object whose repeated fields are lists. An empty body is ``{}``."""
    if not body:
        return {}
    media = (request.content_type or "").lower()
    charset = request.content_params.get("charset") or "utf-8"
    if media == "application/json" or media.endswith("+json"):
        try:
            # NaN and Infinity are not JSON, and PostgreSQL refuses them.
            data = json.loads(body.decode(charset), parse_constant=_refuse_constant)
        except (ValueError, LookupError, RecursionError) as exc:
            raise HookRefused(
                400, "parse_error", f"the body is not JSON: {exc}", field="body"
            ) from None
        if not isinstance(data, dict):
            raise HookRefused(400, "invalid_type", "the body must be a JSON object", field="body")
    elif media == "application/x-www-form-urlencoded":
        try:
            form = QueryDict(body.decode(charset), encoding=charset)
        except (ValueError, LookupError, TooManyFieldsSent) as exc:
            raise HookRefused(
                400, "parse_error", f"the form is unreadable: {exc}", field="body"
            ) from None
        data = {k: v[0] if len(v) == 1 else v for k, v in form.lists()}
    else:
        raise HookRefused(
            415,
            "unsupported_media_type",
            f"the body is {media or 'of no declared type'}; send application/json (an object) "
            "or application/x-www-form-urlencoded",
            field="headers.Content-Type",
        )
    if _has_nul(data):
        # PostgreSQL's jsonb cannot hold U+0000.
        raise HookRefused(400, "invalid", "the body may not contain U+0000", field="body")
    return data


def idempotency_key(request: HttpRequest) -> str | None:
    raw = request.headers.get("Idempotency-Key")
    if raw is None:
        return None
    key = raw.strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable():
        raise HookRefused(
            400,
            "invalid",
            f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} printable characters",
            field="headers.Idempotency-Key",
        )
    return IDEMPOTENCY_PREFIX + key


NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


def wait_seconds(request: HttpRequest) -> float:
    """``?wait=<seconds>``: how long the response may wait for the run to end, capped by
    FLOWDECK_WEBHOOK_MAX_WAIT_S; 0 without it."""
    raw = request.GET.get("wait")
    if raw is None:
        return 0.0
    try:
        # A number as JSON writes one (float() would also take "1_0", " 1" and "", the last
        # found by schemathesis: an empty ?wait= was taken as no wait).
        wanted = float(raw) if NUMBER.fullmatch(raw) else -1.0
    except ValueError:
        wanted = -1.0
    if not math.isfinite(wanted) or wanted < 0:
        raise HookRefused(400, "invalid", "wait is a number of seconds", field="wait")
    return min(wanted, settings.FLOWDECK_WEBHOOK_MAX_WAIT_S)


# --- the whole of it ----------------------------------------------------------------------------


def receive(request: HttpRequest, token: str, now: float) -> Accepted:
    """Check the request in the module's order and start its run (or find the run its
    Idempotency-Key started). Raises HookRefused."""
    target = find_target(token)
    if target is None:
        raise HookRefused(*NOT_FOUND)
    retry_after = rate_limited(target.token_hash, now)
    if retry_after is not None:
        raise HookRefused(
            429,
            "rate_limited",
            f"too many requests to this webhook; try again in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )
    body = read_body(request, target.max_body_bytes)
    check_signature(request, target, body, now)
    wait = wait_seconds(request)
    key = idempotency_key(request)
    data = parse_body(request, body)
    try:
        transitions.check_start_input(target.graph, data)
    except transitions.InputInvalid as exc:  # 413 for InputTooLarge
        raise HookRefused(
            exc.status,
            "invalid_input",
            str(exc),
            errors=[
                {
                    "node": None,
                    "edge": None,
                    "field": e["field"],
                    "code": e["code"],
                    "message": e["message"],
                }
                for e in exc.errors
            ],
        ) from None
    run, created = transitions.do_start_run(
        version=target.version,
        input=data,
        trigger=Trigger.WEBHOOK,
        actor=None,
        idempotency_key=key,
    )
    if created:
        log.info("webhook of workflow %s started run %s", target.workflow.pk, run.pk)
    status = Run.objects.values_list("status", flat=True).get(pk=run.pk)
    return Accepted(run_id=run.pk, status=status, created=created, wait_s=wait)
