"""Row plumbing every table shares, so each module states only what is its own.

Watcher values are built from rows by field name (a column is named as the field it fills),
so a mapper names only the fields that need converting. A lookup by key either finds its
row or raises ``NotFound``. Inserts that may meet an existing key use each dialect's
``INSERT ... ON CONFLICT``, the one statement PostgreSQL and SQLite both understand.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, Executable, RowMapping, Select, Table
from sqlalchemy.dialects import postgresql, sqlite

from watcher.exceptions import NotFound

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")

ConflictInsert = Callable[[Table], postgresql.Insert | sqlite.Insert]


@cache
def _field_names(kind: type[DataclassInstance]) -> tuple[str, ...]:
    return tuple(field.name for field in fields(kind))


def from_row(kind: type[T], row: Mapping[Any, Any], **converted: Any) -> T:
    """A ``kind`` (a watcher dataclass) from the row's columns of the same names.

    ``converted`` gives the fields whose column needs converting (an enum, a tuple) or that
    no column of the row holds; every other field must have its column in ``row``.
    """
    plain = {name: row[name] for name in _field_names(kind) if name not in converted}
    return kind(**plain, **converted)


def row_or_not_found(connection: Connection, query: Select[Any], missing: str) -> RowMapping:
    """The row a lookup by key finds; ``NotFound(missing)`` when there is none."""
    row = connection.execute(query).mappings().first()
    if row is None:
        raise NotFound(missing)
    return row


def conflict_insert(dialect: str) -> ConflictInsert:
    """The dialect's ``insert``, whose statements take ``on_conflict_do_*``."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


@lru_cache(maxsize=16)
def _upsert_statement(
    dialect: str, table: Table, names: tuple[str, ...], keys: tuple[str, ...]
) -> Executable:
    """INSERT ... ON CONFLICT (keys) DO UPDATE, built once: polls run it with every page."""
    statement = conflict_insert(dialect)(table)
    return statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: statement.excluded[name] for name in names if name not in keys},
    )


def upsert(
    connection: Connection, table: Table, values: Mapping[str, Any], keys: tuple[str, ...]
) -> None:
    """Insert ``values``, or overwrite the row with the same ``keys`` with them."""
    statement = _upsert_statement(connection.dialect.name, table, tuple(values), keys)
    connection.execute(statement, dict(values))
