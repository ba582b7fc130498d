"""Two SQL expressions the figures need, in native SQL on both databases.

Django's ``TruncHour`` and datetime subtraction run as Python functions on SQLite (registered
UDFs, called once per row, parsing each timestamp): ten times slower than SQLite's own
``substr`` and ``julianday`` at the tens of thousands of rows a dashboard aggregates
(bench/stats.py). On PostgreSQL both are native anyway.
"""

from datetime import UTC
from typing import Any

from django.db.models import CharField, DateTimeField, Expression, F, FloatField, Func
from django.db.models.functions import Substr, TruncDay, TruncHour


class Seconds(Func):
    """``end - start`` in seconds (a float; NULL when either is NULL)."""

    output_field = FloatField()
    arity = 2

    def __init__(self, start: str, end: str) -> None:
        super().__init__(F(start), F(end))

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # julianday (days as a double) is off by ~20 µs at our dates: round to the millisecond,
        # so that 10 s is exactly 10.0 (a histogram bucket edge).
        start, end = self.source_expressions
        sql_start, params_start = compiler.compile(start)
        sql_end, params_end = compiler.compile(end)
        sql = f"ROUND((julianday({sql_end}) - julianday({sql_start})) * 86400.0, 3)"
        return sql, [*params_end, *params_start]

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        start, end = self.source_expressions
        sql_start, params_start = compiler.compile(start)
        sql_end, params_end = compiler.compile(end)
        return f"EXTRACT(EPOCH FROM ({sql_end} - {sql_start}))::float8", [
            *params_end,
            *params_start,
        ]


def bucket(field: str, interval: str, vendor: str) -> Expression:
    """The start of the hour or day of ``field`` (UTC): a datetime on PostgreSQL, on SQLite the
    text ``YYYY-MM-DD HH`` or ``YYYY-MM-DD`` (timestamps are stored as UTC text there)."""
    if vendor == "sqlite":
        return Substr(field, 1, 13 if interval == "1h" else 10, output_field=CharField())
    trunc = TruncHour if interval == "1h" else TruncDay
    return trunc(field, tzinfo=UTC, output_field=DateTimeField())
