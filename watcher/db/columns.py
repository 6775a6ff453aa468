"""Column types both databases share: aware UTC datetimes, JSON, and ids.

The tables (``schema``) and the migrations use these, so a column is declared the same way
in the code that queries it and in the migration that created it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Dialect, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out: ``timestamptz`` on PostgreSQL, ISO-8601 text on SQLite.

    On SQLite the text is naive UTC ("2026-08-30 20:47:41.638000", the layout SQLAlchemy's
    own DateTime uses), written and read with the C-level isoformat/fromisoformat: this
    type sits on the ingest hot path, three columns a row.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(32))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return sqlite_timestamp(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


def sqlite_timestamp(value: datetime | None) -> str | None:
    """How UTCDateTime stores a datetime in SQLite: naive UTC text, to the microsecond.

    On the ingest hot path (two a row): positional isoformat arguments and the identity
    test for UTC are measurably cheaper than their keyword / utcoffset() forms.
    """
    if value is None:
        return None
    if value.tzinfo is not UTC and value.tzinfo is not None:
        value = value.astimezone(UTC)
    # isoformat() of an aware time ends in "+00:00"; the first 26 characters are the rest.
    return value.isoformat(" ", "microseconds")[:26]


def json_type() -> Any:
    """JSON on SQLite, JSONB on PostgreSQL; Python None is SQL NULL, not the JSON 'null'."""
    return JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def id_type() -> Any:
    """BIGINT on PostgreSQL; INTEGER on SQLite, where only an INTEGER primary key is the
    rowid that numbers rows by itself."""
    return BigInteger().with_variant(Integer(), "sqlite")
