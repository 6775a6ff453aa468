"""Candidates: images waiting for (or past) an editor's decision."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from operator import attrgetter
from typing import Any

import orjson
from sqlalchemy import Connection, Dialect, RowMapping, func, select
from sqlalchemy.dialects import postgresql, sqlite

from watcher.db.base import StoreBase
from watcher.db.schema import candidates, sqlite_timestamp
from watcher.exceptions import NotFound
from watcher.types import Candidate, CandidateData, CandidateStatus

_DATA_COLUMNS = (
    "source",
    "external_id",
    "mission",
    "title",
    "caption",
    "credit",
    "camera",
    "sol",
    "taken_at",
    "mars_local_time",
    "received_at",
    "page_url",
    "thumbnail_url",
    "medium_url",
    "large_url",
    "full_url",
    "width",
    "height",
    "raw",
)
_ADDED = ("status", "first_seen_at")


def insert_candidates(connection: Connection, items: Iterable[CandidateData], now: datetime) -> int:
    """Insert the ones not stored yet, inside the caller's transaction; returns how many.

    Seeing an image again is normal (pages overlap, sweeps resume): duplicates, within the
    batch or against the table, are dropped without error. This is the ingest hot path, so
    no ORM, and on SQLite a statement compiled once and fed plain tuples.
    """
    unique: dict[tuple[str, str], CandidateData] = {}
    for item in items:
        unique.setdefault((item.source, item.external_id), item)
    if not unique:
        return 0
    if connection.dialect.name == "sqlite":
        return _insert_sqlite(connection, unique.values(), now)
    rows = [_row(item, now) for item in unique.values()]
    statement = (
        postgresql.insert(candidates)
        .on_conflict_do_nothing(index_elements=["source", "external_id"])
        .returning(candidates.c.id)
    )
    return len(connection.execute(statement, rows).all())


def _row(item: CandidateData, now: datetime) -> dict[str, Any]:
    row = {name: getattr(item, name) for name in _DATA_COLUMNS}
    row["status"] = CandidateStatus.NEW.value
    row["first_seen_at"] = now
    return row


@lru_cache(maxsize=4)
def _sqlite_insert(
    dialect: Dialect,
) -> tuple[str, Callable[[CandidateData, str, str | None], tuple[Any, ...]]]:
    """The INSERT compiled once, and a function giving a candidate's parameters in order."""
    statement = sqlite.insert(candidates).on_conflict_do_nothing(
        index_elements=["source", "external_id"]
    )
    compiled = statement.compile(dialect=dialect, column_keys=[*_DATA_COLUMNS, *_ADDED])
    order = tuple(compiled.positiontup or ())
    assert sorted(order) == sorted((*_DATA_COLUMNS, *_ADDED)), order
    plain = [name for name in order if name in _DATA_COLUMNS]
    fetch = attrgetter(*plain)
    converters: dict[str, Callable[[Any], Any]] = {
        "taken_at": sqlite_timestamp,
        "received_at": sqlite_timestamp,
        "raw": lambda raw: orjson.dumps(raw).decode(),
    }
    convert = [(plain.index(name), fn) for name, fn in converters.items()]
    added = sorted((order.index(name), name) for name in _ADDED)

    def parameters(item: CandidateData, status: str, seen: str | None) -> tuple[Any, ...]:
        values = list(fetch(item))
        for index, fn in convert:
            values[index] = fn(values[index])
        for index, name in added:
            values.insert(index, status if name == "status" else seen)
        return tuple(values)

    return str(compiled), parameters


def _insert_sqlite(connection: Connection, items: Iterable[CandidateData], now: datetime) -> int:
    sql, parameters = _sqlite_insert(connection.dialect)
    status, seen = CandidateStatus.NEW.value, sqlite_timestamp(now)
    rows = [parameters(item, status, seen) for item in items]
    # Within a BEGIN IMMEDIATE transaction nobody else writes, so rowcount is exact.
    return int(connection.exec_driver_sql(sql, rows).rowcount)


def _candidate(row: RowMapping) -> Candidate:
    return Candidate(
        id=row["id"],
        status=CandidateStatus(row["status"]),
        first_seen_at=row["first_seen_at"],
        **{name: row[name] for name in _DATA_COLUMNS},
    )


class CandidateStore(StoreBase):
    def add_candidates(self, items: Sequence[CandidateData], now: datetime) -> int:
        """Insert in one transaction; returns how many were new."""
        with self.write() as connection:
            return insert_candidates(connection, items, now)

    def get_candidate(self, candidate_id: int) -> Candidate:
        with self.read() as connection:
            row = (
                connection.execute(select(candidates).where(candidates.c.id == candidate_id))
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(f"no candidate with id {candidate_id}")
        return _candidate(row)

    def list_candidates(
        self,
        *,
        status: CandidateStatus | None = None,
        source: str | None = None,
        limit: int | None = 100,
        before_id: int | None = None,
    ) -> list[Candidate]:
        """Newest first (by id, i.e. by arrival), keyset-paginated with ``before_id``."""
        query = select(candidates).order_by(candidates.c.id.desc())
        if status is not None:
            query = query.where(candidates.c.status == status.value)
        if source is not None:
            query = query.where(candidates.c.source == source)
        if before_id is not None:
            query = query.where(candidates.c.id < before_id)
        if limit is not None:
            query = query.limit(limit)
        with self.read() as connection:
            return [_candidate(row) for row in connection.execute(query).mappings()]

    def count_candidates(
        self, *, source: str | None = None, status: CandidateStatus | None = None
    ) -> int:
        query = select(func.count()).select_from(candidates)
        if source is not None:
            query = query.where(candidates.c.source == source)
        if status is not None:
            query = query.where(candidates.c.status == status.value)
        with self.read() as connection:
            return int(connection.execute(query).scalar_one())

    def candidate_counts_by_source(self) -> dict[str, int]:
        query = select(candidates.c.source, func.count()).group_by(candidates.c.source)
        with self.read() as connection:
            return {source: int(count) for source, count in connection.execute(query)}

    def external_ids(self, source: str) -> set[str]:
        """Every external id stored for a source (for checks and tests, not hot paths)."""
        query = select(candidates.c.external_id).where(candidates.c.source == source)
        with self.read() as connection:
            return set(connection.execute(query).scalars())
