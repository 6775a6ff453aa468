"""The queue as editors read it: one candidate, a page of them, a frame's neighbours, the
filter values, and the search.

Search pages come from an index alone: every filter column is in one of the queue indexes
and text goes through the full-text index (FTS5 on SQLite, a ``tsvector`` GIN index on
PostgreSQL), so a deep page over a million candidates costs what the first does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Select, column, select, table, text

from watcher.db.candidates import candidate_from_row, read_candidate
from watcher.db.schema import FACET_KINDS, FTS_TABLE, SEARCH_DOCUMENT, candidates, facets
from watcher.db.store_base import StoreBase
from watcher.types import Candidate, CandidateFilter, CandidateStatus

_TOKEN = re.compile(r"[^\W_]+")
MAX_SEARCH_TOKENS = 8
NEIGHBOUR_WINDOW = timedelta(hours=2)


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


def _page_ids(
    dialect: str, wanted: CandidateFilter, limit: int, before_id: int | None, *, prefix: bool
) -> Select[Any]:
    """The ids of one search page, newest first; with ``prefix`` the last word also
    matches as the start of a longer one."""
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
                    token + (":*" if prefix and i == last else "") for i, token in enumerate(tokens)
                )
            )
        )
    query = _filtered(query, wanted)
    if before_id is not None:
        query = query.where(key < before_id)
    return query.order_by(key.desc()).limit(limit)


def _in_order(connection: Connection, ids: Sequence[int]) -> list[Candidate]:
    """The candidates with these ids, in the order given (missing ones left out)."""
    rows = connection.execute(select(candidates).where(candidates.c.id.in_(ids)))
    found = {row["id"]: candidate_from_row(row) for row in rows.mappings()}
    return [found[i] for i in ids if i in found]


class QueueStore(StoreBase):
    """Reads of the queue for the editors' desk; writes are ``CandidateStore``'s (new
    candidates) and ``DecisionStore``'s (their status)."""

    def get_candidate(self, candidate_id: int) -> Candidate:
        with self.read() as connection:
            return read_candidate(connection, candidate_id)

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
            query = _page_ids(dialect, wanted, limit, before_id, prefix=False)
            ids = list(connection.execute(query).scalars())
            if len(ids) < limit and search_tokens(wanted.text):
                # Whole words first (fast even for words in every caption); when they do not
                # fill the page, also match the last word as a prefix ("0841393" finds
                # "0841393386"). The prefix query returns a superset in the same order.
                query = _page_ids(dialect, wanted, limit, before_id, prefix=True)
                ids = list(connection.execute(query).scalars())
            if not ids:
                return []
            return _in_order(connection, ids)

    def get_candidates(self, ids: Sequence[int]) -> list[Candidate]:
        """The candidates with these ids, in the order given (missing ones left out)."""
        if not ids:
            return []
        with self.read() as connection:
            return _in_order(connection, ids)

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
            query = query.where(
                candidates.c.taken_at >= candidate.taken_at - NEIGHBOUR_WINDOW,
                candidates.c.taken_at <= candidate.taken_at + NEIGHBOUR_WINDOW,
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
