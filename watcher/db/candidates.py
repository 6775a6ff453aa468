"""Candidates: images waiting for (or past) an editor's decision."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from operator import attrgetter
from typing import Any

import orjson
from sqlalchemy import (
    Connection,
    Dialect,
    RowMapping,
    Select,
    column,
    func,
    select,
    table,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from watcher.db.schema import (
    FACET_KINDS,
    FTS_TABLE,
    SEARCH_DOCUMENT,
    candidates,
    facets,
    sqlite_timestamp,
)
from watcher.db.store_base import StoreBase
from watcher.exceptions import NotFound
from watcher.limits import MAX_FACET_VALUE, fit_limits
from watcher.types import (
    Candidate,
    CandidateData,
    CandidateFilter,
    CandidateStatus,
    Tile,
)

log = logging.getLogger("watcher.db")

_TOKEN = re.compile(r"[^\W_]+")
MAX_SEARCH_TOKENS = 8

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


def insert_candidates(connection: Connection, items: Iterable[CandidateData], now: datetime) -> int:
    """Insert the ones not stored yet, inside the caller's transaction; returns how many.

    Seeing an image again is normal (pages overlap, sweeps resume): duplicates, within the
    batch or against the table, are dropped without error. This is the ingest hot path, so
    no ORM, and on SQLite a statement compiled once and fed plain tuples.
    """
    unique: dict[tuple[str, str], CandidateData] = {}
    for item in items:
        fitted = fit_limits(item)  # the sources do this already; here it is the last guard
        if isinstance(fitted, str):
            log.warning("not storing %s/%s: %s", item.source[:64], item.external_id[:64], fitted)
            continue
        unique.setdefault((fitted.source, fitted.external_id), fitted)
    if not unique:
        return 0
    _record_facets(connection, unique.values())
    if connection.dialect.name == "sqlite":
        inserted = _insert_sqlite(connection, unique.values(), now)
    else:
        rows = [_row(item, now) for item in unique.values()]
        statement = (
            postgresql.insert(candidates)
            .on_conflict_do_nothing(index_elements=["source", "external_id"])
            .returning(candidates.c.id)
        )
        inserted = len(connection.execute(statement, rows).all())
    tiled = [item for item in unique.values() if item.tiles]
    if tiled:
        _merge_tiles(connection, tiled)
    return inserted


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
            stored = [Tile.from_json(t) for t in row.tiles or () if isinstance(t, dict)]
            merged = merge_tiles(stored, incoming[row.external_id])
            if merged != tuple(stored):
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
        insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
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


def _row(item: CandidateData, now: datetime) -> dict[str, Any]:
    row = {name: getattr(item, name) for name in _DATA_COLUMNS}
    row["tiles"] = _tiles_json(item.tiles)
    row["status"] = CandidateStatus.NEW.value
    row["first_seen_at"] = now
    return row


# Columns in the order the SQLite fast path binds them: plain attributes first, then the
# ones it converts, then the ones it adds.
_CONVERTED = ("taken_at", "received_at", "raw", "tiles")
_PLAIN = tuple(name for name in _DATA_COLUMNS if name not in _CONVERTED)
_SQLITE_ORDER = (*_PLAIN, *_CONVERTED, "status", "first_seen_at")
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


def _insert_sqlite(connection: Connection, items: Iterable[CandidateData], now: datetime) -> int:
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
        )
        for item in items
    ]
    # Within a BEGIN IMMEDIATE transaction nobody else writes, so rowcount is exact.
    return int(connection.exec_driver_sql(_sqlite_insert_sql(connection.dialect), rows).rowcount)


def candidate_from_row(row: RowMapping) -> Candidate:
    return Candidate(
        id=row["id"],
        status=CandidateStatus(row["status"]),
        first_seen_at=row["first_seen_at"],
        version=row["version"],
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
        reject_reason=row["reject_reason"],
        **{name: row[name] for name in _DATA_COLUMNS if name != "tiles"},
        tiles=tuple(Tile.from_json(t) for t in row["tiles"] or () if isinstance(t, dict)),
    )


def search_tokens(text: str | None) -> list[str]:
    """Words of a search, as both text indexes split them (letters and digits only)."""
    return [token.lower() for token in _TOKEN.findall(text or "")][:MAX_SEARCH_TOKENS]


def _filtered(query: Select[Any], wanted: CandidateFilter) -> Select[Any]:
    c = candidates.c
    if wanted.status is not None:
        query = query.where(c.status == wanted.status.value)
    if wanted.mission:
        query = query.where(c.mission == wanted.mission)
    if wanted.camera:
        query = query.where(c.camera == wanted.camera)
    if wanted.source:
        query = query.where(c.source == wanted.source)
    if wanted.sol_min is not None:
        query = query.where(c.sol >= wanted.sol_min)
    if wanted.sol_max is not None:
        query = query.where(c.sol <= wanted.sol_max)
    if wanted.taken_from is not None:
        query = query.where(c.taken_at >= wanted.taken_from)
    if wanted.taken_to is not None:
        query = query.where(c.taken_at < wanted.taken_to)
    return query


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
        return candidate_from_row(row)

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
            return [candidate_from_row(row) for row in connection.execute(query).mappings()]

    def search_candidates(
        self, wanted: CandidateFilter, *, limit: int = 50, before_id: int | None = None
    ) -> list[Candidate]:
        """Newest first, ``limit`` at a time; the next page starts ``before_id`` (keyset,
        so a deep page costs what the first does).

        Two steps: the page's ids come from an index alone (every filter column is in one of
        the queue indexes; text from the full-text index, newest first), then only those
        rows are read. Over a million candidates this keeps a page to a few milliseconds.
        """
        with self.read() as connection:
            dialect = connection.dialect.name
            query = self._page_ids(dialect, wanted, limit, before_id, prefix=False)
            ids = list(connection.execute(query).scalars())
            if len(ids) < limit and search_tokens(wanted.text):
                # Whole words first (fast even for words in every caption); when they do not
                # fill the page, also match the last word as a prefix ("0841393" finds
                # "0841393386"). The prefix query returns a superset in the same order.
                query = self._page_ids(dialect, wanted, limit, before_id, prefix=True)
                ids = list(connection.execute(query).scalars())
            if not ids:
                return []
            rows = connection.execute(select(candidates).where(candidates.c.id.in_(ids)))
            found = {row["id"]: candidate_from_row(row) for row in rows.mappings()}
        return [found[i] for i in ids if i in found]

    @staticmethod
    def _page_ids(
        dialect: str, wanted: CandidateFilter, limit: int, before_id: int | None, *, prefix: bool
    ) -> Select[Any]:
        tokens = search_tokens(wanted.text)
        last = len(tokens) - 1
        key: Any = candidates.c.id
        query = select(candidates.c.id)
        if tokens and dialect == "sqlite":
            fts = table(FTS_TABLE, column("rowid"))
            key = fts.c.rowid
            query = (
                select(candidates.c.id)
                .select_from(fts.join(candidates, candidates.c.id == fts.c.rowid))
                .where(
                    text(f"{FTS_TABLE} MATCH :match").bindparams(
                        match=" ".join(
                            f'"{token}"' + ("*" if prefix and i == last else "")
                            for i, token in enumerate(tokens)
                        )
                    )
                )
            )
        elif tokens:
            query = query.where(
                text(
                    f"to_tsvector('simple', {SEARCH_DOCUMENT}) @@ to_tsquery('simple', :tsq)"
                ).bindparams(
                    tsq=" & ".join(
                        token + (":*" if prefix and i == last else "")
                        for i, token in enumerate(tokens)
                    )
                )
            )
        query = _filtered(query, wanted)
        if before_id is not None:
            query = query.where(key < before_id)
        return query.order_by(key.desc()).limit(limit)

    def get_candidates(self, ids: Sequence[int]) -> list[Candidate]:
        """The candidates with these ids, in the order given (missing ones left out)."""
        if not ids:
            return []
        with self.read() as connection:
            rows = connection.execute(select(candidates).where(candidates.c.id.in_(ids)))
            found = {row["id"]: candidate_from_row(row) for row in rows.mappings()}
        return [found[i] for i in ids if i in found]

    def neighbours(self, candidate: Candidate, limit: int = 12) -> list[Candidate]:
        """Frames of the same camera and sol, closest in time first: the rest of a sequence,
        so an editor can pick the best frame."""
        if candidate.sol is None or candidate.camera is None:
            return []
        query = select(candidates).where(
            candidates.c.sol == candidate.sol,
            candidates.c.camera == candidate.camera,
            candidates.c.id != candidate.id,
        )
        if candidate.taken_at is not None:
            window = timedelta(hours=2)
            query = query.where(
                candidates.c.taken_at >= candidate.taken_at - window,
                candidates.c.taken_at <= candidate.taken_at + window,
            )
        with self.read() as connection:
            rows = connection.execute(query.limit(500)).mappings()
            found = [candidate_from_row(row) for row in rows]
        moment = candidate.taken_at
        if moment is not None:
            found.sort(
                key=lambda c: abs((c.taken_at - moment).total_seconds()) if c.taken_at else 1e12
            )
        nearest = found[:limit]
        nearest.sort(key=lambda c: (c.taken_at is None, c.taken_at or moment, c.id))
        return nearest

    def facets(self) -> dict[str, list[str]]:
        """The values the queue's filters can take (cameras, missions, sources seen)."""
        result: dict[str, list[str]] = {kind: [] for kind in FACET_KINDS}
        query = select(facets.c.kind, facets.c.value).order_by(facets.c.kind, facets.c.value)
        with self.read() as connection:
            for kind, value in connection.execute(query):
                result.setdefault(kind, []).append(value)
        return result

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
