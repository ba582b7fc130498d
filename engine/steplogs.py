"""Step logs: the lines one attempt writes through ``ctx.log(message, level)``.

An attempt collects its lines in memory (``LogBuffer``, on its StepContext); the engine takes a
``snapshot`` when the attempt ends and stores it as one ``StepLog`` row in the same transaction
that records the attempt's outcome (engine/transitions.py). A crash therefore keeps all of an
attempt's lines or none, and the late result of an abandoned attempt (fenced by attempt number)
adds none.

Bounds, so that a chatty step cannot fill the database: each line is cut to ``LINE_CHARS``; an
attempt keeps its first ``HEAD_LINES`` lines and its last ``TAIL_LINES`` (each half within
``HALF_CHARS`` characters) and counts the lines dropped between them; a step keeps the lines of
its last ``KEEP_ATTEMPTS`` attempts.
"""

import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.utils import timezone

LEVELS = ("debug", "info", "warning", "error")
LINE_CHARS = 2_000
HEAD_LINES = 100
TAIL_LINES = 100
HALF_CHARS = 25_000  # so at most 50,000 characters an attempt
KEEP_ATTEMPTS = 5


@dataclass(frozen=True)
class AttemptLog:
    """What one attempt logged: ``lines`` ({t, level, message}), and how many lines were
    dropped (``dropped``) at which index of ``lines`` (``dropped_at``, None when none were)."""

    lines: list[dict[str, str]]
    dropped: int = 0
    dropped_at: int | None = None


def _cut(text: str) -> str:
    if len(text) <= LINE_CHARS:
        return text
    return f"{text[:LINE_CHARS]}… ({len(text) - LINE_CHARS} characters cut)"


def _scrub(text: str, secrets: Iterable[str]) -> str:
    from connectors.credentials import scrub

    return scrub(text, secrets)


class LogBuffer:
    """An attempt's lines while it runs. Thread-safe: a blocking step runs in a thread of its
    own, and the worker takes the snapshot from another (at a timeout, while the abandoned
    thread may still be logging)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._head: list[dict[str, str]] = []
        self._head_chars = 0
        self._tail: deque[dict[str, str]] = deque()
        self._tail_chars = 0
        self._dropped = 0
        self._closed = False

    def add(self, message: Any, level: str, secrets: list[str]) -> None:
        if level not in LEVELS:
            raise ValueError(f"ctx.log: level must be one of {', '.join(LEVELS)}, not {level!r}")
        text = message if isinstance(message, str) else str(message)
        # Scrubbed before it is cut: a secret cut in half would no longer match.
        text = _cut(_scrub(text, secrets) if secrets else text)
        # UTC with a Z, as the API writes every other time.
        now = timezone.now().astimezone(UTC).isoformat().replace("+00:00", "Z")
        line = {"t": now, "level": level, "message": text}
        with self._lock:
            if self._closed:
                return  # the attempt was abandoned: its late lines are not its log
            head_has_room = (
                len(self._head) < HEAD_LINES and self._head_chars + len(text) <= HALF_CHARS
            )
            if not self._tail and head_has_room:
                self._head.append(line)
                self._head_chars += len(text)
                return
            # The head is full: the newest lines are kept, the oldest of the tail dropped.
            self._tail.append(line)
            self._tail_chars += len(text)
            while len(self._tail) > TAIL_LINES or self._tail_chars > HALF_CHARS:
                self._tail_chars -= len(self._tail.popleft()["message"])
                self._dropped += 1

    def close(self) -> None:
        """Take no more lines: the worker gave up on the attempt (timeout, lost lease)."""
        with self._lock:
            self._closed = True

    def snapshot(self, secrets: Iterable[str]) -> AttemptLog | None:
        """The lines so far, scrubbed again of every secret the attempt opened (a line may have
        been logged before its credential was opened); None when nothing was logged."""
        with self._lock:
            lines = [*self._head, *self._tail]
            dropped, dropped_at = self._dropped, len(self._head) if self._dropped else None
        if not lines and not dropped:
            return None
        secrets = list(secrets)
        if secrets:
            lines = [{**line, "message": _scrub(line["message"], secrets)} for line in lines]
        return AttemptLog(lines=lines, dropped=dropped, dropped_at=dropped_at)
