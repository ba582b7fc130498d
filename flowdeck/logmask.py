"""Which URLs carry a secret in their path, and how every log line names them: the one table.

A few URLs are credentials themselves: a task email's signed link (``/tasks/act/<token>/``),
a webhook trigger (``/api/hooks/<token>/``) and a password-reset link
(``/set-password/<uid>/<token>/``). Our secrets are never written to logs, so every place that
logs a path masks it here: daphne's access log (flowdeck/web.py), Django's request and
security loggers (``MaskSecretUrls``, installed by settings.LOGGING), and our own refusal lines
(flowdeck/bodylimit.py). A new URL with a secret in it is one more row of ``SECRET_PATHS``.

The table matches a path anywhere in a text (a log message, a full URL, a query), and also
when its slashes are percent-encoded, as in the login page's ``?next=%2Ftasks%2Fact%2F...``.
"""

import logging
import re
from urllib.parse import unquote

MASK = "<token>"

# "/" or its percent-encoding, once or more times over (a "next" inside a "next").
_SEP = r"(?:/|%(?:25)*2[Ff])"
# One path segment: up to the next slash (plain or encoded), query, fragment, space or quote.
_SEGMENT = r"(?:(?!%(?:25)*2[Ff])[^/?#&\s\"'<>])+"

# The URLs whose last segment here is a secret: the text before it is kept, the secret masked.
SECRET_PATHS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(rf"({prefix})({_SEGMENT})")
    for prefix in (
        rf"{_SEP}tasks{_SEP}act{_SEP}",  # engine/tasklinks.py, route "task-link"
        rf"{_SEP}api{_SEP}hooks{_SEP}",  # webhooks/urls.py, route "webhook-hook"
        rf"{_SEP}set-password{_SEP}{_SEGMENT}{_SEP}",  # flowdeck/urls.py, "set-password"
    )
)

_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def mask(text: str) -> str:
    """``text`` with the secret of every secret-bearing URL in it replaced by ``<token>``."""
    for pattern in SECRET_PATHS:
        text = pattern.sub(rf"\g<1>{MASK}", text)
    return text


def mask_uri(uri: str) -> str:
    """A request's URI as received (percent-encoded), masked for an access log.

    Django routes the decoded path, so ``/tasks/%61ct/<token>/`` reaches the task link too:
    when the decoded form still shows a secret URL once the received one is masked, the
    decoded form is logged, masked, with spaces and control characters encoded again (no
    forged log lines)."""
    masked = mask(uri)
    decoded = unquote(masked)
    if mask(decoded) == decoded:
        return masked
    return _CONTROL.sub(lambda m: f"%{ord(m.group()):02X}", mask(decoded))


class MaskSecretUrls(logging.Filter):
    """Masks secret URLs in a record's message, its arguments and its traceback, in place, so
    every handler after it (console, files, pytest's caplog) sees the masked text. A record
    without a secret URL is left exactly as it was.

    A filter on a logger sees only the records logged to that very logger, not its children's:
    settings.LOGGING puts it on each logger that writes request paths (``LOGGERS``), and on the
    console handler, which every record reaching the root passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            # Merged into one string: an argument of any type may hold the path.
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        return True


# Loggers that write request paths: Django's 4xx/5xx lines (django.request), its CSRF refusals
# ("Forbidden (CSRF token missing.): /tasks/act/<token>/"), daphne's runserver access lines.
LOGGERS = ("django.request", "django.security.csrf", "django.channels.server")
