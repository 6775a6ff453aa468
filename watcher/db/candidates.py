"""Candidates as stored: the row of an image waiting for (or past) an editor's decision.

This module writes them: a page's worth at a time (duplicates dropped, the tiles of a frame
seen again merged into the stored ones, the filter values recorded), and the status moves
of a decision (to approved or rejected, back to the queue). It turns rows back into
``Candidate`` values; ``queue`` reads them for the editors. The counts the poller asks for
are here too, beside the insert they describe.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from operator import attrgetter
from typing import Any

import orjson
from sqlalchemy import Connection, Dialect, RowMapping, func, select, update
from sqlalchemy.dialects import postgresql

from watcher.db.columns import sqlite_timestamp
from watcher.db.refusals import refusal_reason, refused_for_content
from watcher.db.rows import conflict_insert, from_row, row_or_not_found
from watcher.db.schema import (
    FACET_KINDS,
    FINGERPRINT_ARCHIVE,
    FINGERPRINT_NEW,
    candidates,
    facets,
)
from watcher.db.store_base import StoreBase, when
from watcher.exceptions import Conflict
from watcher.limits import MAX_FACET_VALUE, fit_limits
from watcher.types import Candidate, CandidateData, CandidateStatus, PageStored, Tile

log = logging.getLogger("watcher.db")

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
    "tiles",
)


def insert_candidates(
    connection: Connection,
    items: Iterable[CandidateData],
    now: datetime,
    *,
    backfilled: bool = False,
) -> PageStored:
    """Insert the ones not stored yet, inside the caller's transaction; returns how many
    were new, and how many the database refused. ``backfilled`` ones are archive to the
    curation job (fingerprinted only when asked).

    Seeing an image again is normal (pages overlap, sweeps resume): duplicates, within the
    batch or against the table, are dropped without error. This is the ingest hot path, so
    no ORM, and on SQLite a statement compiled once and fed plain tuples.

    The batch is written under a savepoint. When the database refuses it for a record's
    content (``refusals``), the batch is written again one record at a time, each under its
    own savepoint, so the good records are stored and only the refused ones are skipped
    and counted; any other failure is raised, failing the caller's whole transaction.
    """
    unique: dict[tuple[str, str], CandidateData] = {}
    refused: list[str] = []
    given = 0
    for item in items:
        given += 1
        fitted = fit_limits(item)  # the sources do this already; here it is the last guard
        if isinstance(fitted, str):
            refused.append(f"{_label(item)}: {fitted}")
            continue
        unique.setdefault((fitted.source, fitted.external_id), fitted)
    batch = list(unique.values())
    due = FINGERPRINT_ARCHIVE if backfilled else FINGERPRINT_NEW
    inserted, kept = 0, batch
    if batch:
        try:
            with connection.begin_nested():
                inserted = _insert(connection, batch, now, due)
        except Exception as exc:
            if not refused_for_content(exc):
                raise
            inserted, kept = _insert_each(connection, batch, now, due, refused)
    if kept:
        _record_facets(connection, kept)
    if refused:
        log.warning(
            "not storing %d of %d record(s) the database cannot keep; the first: %s",
            *(len(refused), given, refused[0]),
        )
    return PageStored(inserted, len(refused), refused[0] if refused else None)


def _insert(connection: Connection, items: Sequence[CandidateData], now: datetime, due: int) -> int:
    """Write ``items`` (unique, within limits) and merge the tiles of frames seen again."""
    if connection.dialect.name == "sqlite":
        inserted = _insert_sqlite(connection, items, now, due)
    else:
        rows = [_row(item, now, due) for item in items]
        statement = (
            postgresql.insert(candidates)
            .on_conflict_do_nothing(index_elements=["source", "external_id"])
            .returning(candidates.c.id)
        )
        inserted = len(connection.execute(statement, rows).all())
    tiled = [item for item in items if item.tiles]
    if tiled:
        _merge_tiles(connection, tiled)
    return inserted


def _insert_each(
    connection: Connection,
    items: Sequence[CandidateData],
    now: datetime,
    due: int,
    refused: list[str],
) -> tuple[int, list[CandidateData]]:
    """The slow path, after the database refused the batch: each record under its own
    savepoint. Returns how many were new and the records kept; appends each refusal to
    ``refused``. A failure that is not a refusal is raised."""
    inserted, kept = 0, []
    for item in items:
        try:
            with connection.begin_nested():
                inserted += _insert(connection, [item], now, due)
        except Exception as exc:
            if not refused_for_content(exc):
                raise
            refused.append(f"{_label(item)}: {refusal_reason(exc)}")
        else:
            kept.append(item)
    return inserted, kept


def _label(item: CandidateData) -> str:
    return f"{item.source[:64]}/{item.external_id[:64]}"


def _merge_tiles(connection: Connection, items: Sequence[CandidateData]) -> None:
    """Tiles of a frame seen before join the tiles already stored: the pieces of one frame
    may come on different pages, or in different polls."""
    c = candidates.c
    for source in {item.source for item in items}:
        incoming = {item.external_id: item.tiles for item in items if item.source == source}
        query = select(c.id, c.external_id, c.tiles).where(
            c.source == source, c.external_id.in_(list(incoming))
        )
        for row in connection.execute(query).all():
            stored = _stored_tiles(row.tiles)
            merged = merge_tiles(stored, incoming[row.external_id])
            if merged != stored:
                connection.execute(
                    update(candidates)
                    .where(c.id == row.id)
                    .values(tiles=[tile.to_json() for tile in merged])
                )


def _record_facets(connection: Connection, items: Iterable[CandidateData]) -> None:
    """The filter values a page brings (usually the same few again: a cheap no-op)."""
    found = {
        (kind, value)
        for item in items
        for kind in FACET_KINDS
        if (value := getattr(item, kind)) is not None
    }
    if found:
        insert = conflict_insert(connection.dialect.name)
        connection.execute(
            insert(facets).on_conflict_do_nothing(),
            [{"kind": kind, "value": value[:MAX_FACET_VALUE]} for kind, value in sorted(found)],
        )


def merge_tiles(stored: Sequence[Tile], seen: Sequence[Tile]) -> tuple[Tile, ...]:
    """Every tile once (by image id; a tile seen again replaces the stored one), left to
    right, top to bottom."""
    by_id = {tile.imageid: tile for tile in (*stored, *seen)}
    return tuple(sorted(by_id.values(), key=lambda t: (t.top, t.left, t.imageid)))


def _tiles_json(tiles: tuple[Tile, ...]) -> list[dict[str, Any]] | None:
    return [tile.to_json() for tile in tiles] if tiles else None


def _stored_tiles(value: list[Any] | None) -> tuple[Tile, ...]:
    """The tiles of a stored row (anything but a tile's object in the JSON is skipped)."""
    return tuple(Tile.from_json(t) for t in value or () if isinstance(t, dict))


def _row(item: CandidateData, now: datetime, due: int) -> dict[str, Any]:
    row = {name: getattr(item, name) for name in _DATA_COLUMNS}
    row["tiles"] = _tiles_json(item.tiles)
    row["status"] = CandidateStatus.NEW.value
    row["first_seen_at"] = now
    row["fingerprint_due"] = due
    return row


# Columns in the order the SQLite fast path binds them: plain attributes first, then the
# ones it converts, then the ones it adds.
_CONVERTED = ("taken_at", "received_at", "raw", "tiles")
_PLAIN = tuple(name for name in _DATA_COLUMNS if name not in _CONVERTED)
_SQLITE_ORDER = (*_PLAIN, *_CONVERTED, "status", "first_seen_at", "fingerprint_due")
_plain_values = attrgetter(*_PLAIN)


@lru_cache(maxsize=4)
def _sqlite_insert_sql(dialect: Dialect) -> str:
    quote = dialect.identifier_preparer.quote
    # Only constant, dialect-quoted identifiers go into the text; values are bound.
    return (
        f"INSERT INTO {quote(candidates.name)} ({', '.join(map(quote, _SQLITE_ORDER))}) "  # noqa: S608
        f"VALUES ({', '.join('?' * len(_SQLITE_ORDER))}) "
        f"ON CONFLICT ({quote('source')}, {quote('external_id')}) DO NOTHING"
    )


def _insert_sqlite(
    connection: Connection, items: Iterable[CandidateData], now: datetime, due: int
) -> int:
    status, seen = CandidateStatus.NEW.value, sqlite_timestamp(now)
    dumps = orjson.dumps
    rows = [
        (
            *_plain_values(item),
            sqlite_timestamp(item.taken_at),
            sqlite_timestamp(item.received_at),
            dumps(item.raw).decode(),
            dumps(_tiles_json(item.tiles)).decode() if item.tiles else None,
            status,
            seen,
            due,
        )
        for item in items
    ]
    # Within a BEGIN IMMEDIATE transaction nobody else writes, so rowcount is exact.
    return int(connection.exec_driver_sql(_sqlite_insert_sql(connection.dialect), rows).rowcount)


def candidate_from_row(row: RowMapping) -> Candidate:
    return from_row(
        Candidate,
        row,
        status=CandidateStatus(row["status"]),
        tiles=_stored_tiles(row["tiles"]),
        score_reasons=tuple(str(reason) for reason in row["score_reasons"] or ()),
    )


def read_candidate(connection: Connection, candidate_id: int) -> Candidate:
    """Raises NotFound."""
    query = select(candidates).where(candidates.c.id == candidate_id)
    return candidate_from_row(
        row_or_not_found(connection, query, f"no candidate with id {candidate_id}")
    )


def decide(
    connection: Connection,
    candidate_id: int,
    version: int | None,
    status: CandidateStatus,
    actor: str,
    now: datetime,
    reason: str | None,
) -> Candidate:
    """Move a new candidate to ``status``; Conflict if it was decided (or changed).
    Returns the candidate as it was before."""
    current = read_candidate(connection, candidate_id)
    stale = version is not None and version != current.version
    if current.status is not CandidateStatus.NEW or stale:
        what = current.status.value if current.status is not CandidateStatus.NEW else "changed"
        raise _decided_already(current, what)
    result = connection.execute(
        update(candidates)
        .where(candidates.c.id == candidate_id, candidates.c.version == current.version)
        .values(
            status=status.value,
            version=current.version + 1,
            decided_by=actor,
            decided_at=now,
            reject_reason=reason,
        )
    )
    if result.rowcount != 1:  # another transaction got there between our read and write
        latest = read_candidate(connection, candidate_id)
        raise _decided_already(latest, latest.status.value)
    if current.group_id is not None and current.group_hero:
        _next_hero(connection, current.group_id)
    return current


def _next_hero(connection: Connection, group_id: int) -> None:
    """A group's hero was decided: its best new member (by score) becomes the card, so
    the rest of the group stays in the grouped queue until curation groups it again."""
    c = candidates.c
    best = (
        select(c.id)
        .where(c.group_id == group_id, c.status == CandidateStatus.NEW.value)
        .order_by(c.score.desc().nulls_last(), c.id)
        .limit(1)
        .scalar_subquery()
    )
    connection.execute(update(candidates).where(c.id == best).values(group_hero=True))


def _decided_already(candidate: Candidate, what: str) -> Conflict:
    """The refusal naming who decided (or changed) the candidate first, and when."""
    return Conflict(
        f"candidate {candidate.id} was already {what} by {candidate.decided_by or 'someone'}"
        f" at {when(candidate.decided_at)}",
        by=candidate.decided_by,
        at=candidate.decided_at,
    )


def return_to_queue(connection: Connection, candidate_id: int) -> None:
    """Undecide a candidate (its entry removed, or its rejection undone): new again."""
    connection.execute(
        update(candidates)
        .where(candidates.c.id == candidate_id)
        .values(
            status=CandidateStatus.NEW.value,
            version=candidates.c.version + 1,
            decided_by=None,
            decided_at=None,
            reject_reason=None,
        )
    )


class CandidateStore(StoreBase):
    """New candidates, and how many are stored (per source, per status)."""

    def add_candidates(self, items: Sequence[CandidateData], now: datetime) -> int:
        """Insert in one transaction; returns how many were new."""
        with self.write() as connection:
            return insert_candidates(connection, items, now).inserted

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

    def known_external_ids(self, source: str, external_ids: Sequence[str]) -> set[str]:
        """Which of ``external_ids`` are stored for ``source`` (a page's worth at a time)."""
        query = select(candidates.c.external_id).where(
            candidates.c.source == source, candidates.c.external_id.in_(list(external_ids))
        )
        with self.read() as connection:
            return set(connection.execute(query).scalars())

    def external_ids(self, source: str) -> set[str]:
        """Every external id stored for a source (for checks and tests, not hot paths)."""
        query = select(candidates.c.external_id).where(candidates.c.source == source)
        with self.read() as connection:
            return set(connection.execute(query).scalars())
