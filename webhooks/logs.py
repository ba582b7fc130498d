"""Keep webhook tokens out of the logs: Django logs every 4xx/5xx response with its path
(``Not Found: /api/hooks/<token>/``), and the path of a webhook is its secret."""

import logging
import re
from typing import Any

HOOK_PATH = re.compile(r"(/api/hooks/)[^/\s?#\"']+")
MASK = r"\1***"


def redact(text: str) -> str:
    return HOOK_PATH.sub(MASK, text)


class RedactHookTokens(logging.Filter):
    """Rewrites the record in place, so every handler (console, files, tests) sees the
    redacted text."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_clean(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _clean(v) for k, v in record.args.items()}
        return True


def _clean(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


_FILTER = RedactHookTokens()
# Loggers that write request paths: responses (django.request), runserver's access lines
# (django.server). Filters on a logger see the records logged to it, before any handler.
LOGGERS = ("django.request", "django.server")


def install() -> None:
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
