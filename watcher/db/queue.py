"""The queue as editors read it: one candidate, a page of them, a frame's neighbours, the
filter values, and the search.

Search pages come from an index alone: every filter column is in one of the queue indexes
and text goes through the full-text index (FTS5 on SQLite, a ``tsvector`` GIN index on
PostgreSQL), so a deep page over a million candidates costs what the first does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Select, column, func, literal, select, table, text, union_all

from watcher.db.candidates import candidate_from_row, read_candidate
from watcher.db.schema import FACET_KINDS, FTS_TABLE, SEARCH_DOCUMENT, candidates, facets
from watcher.db.store_base import StoreBase
from watcher.types import Candidate, CandidateFilter, CandidateStatus, StatusCounts

_TOKEN = re.compile(r"[^\W_]+")
MAX_SEARCH_TOKENS = 8
NEIGHBOUR_WINDOW = timedelta(hours=2)


def search_tokens(text: str | None) -> list[str]:
    """Words of a search, as both text indexes split them (letters and digits only)."""
    return [token.lower() for token in _TOKEN.findall(text or "")][:MAX_SEARCH_TOKENS]


def _filtered(
    query: Select[Any], wanted: CandidateFilter, *, camera_first: bool = False
) -> Select[Any]:
    """``query`` narrowed to ``wanted``. ``camera_first`` keeps a sol range from choosing the
    index when a camera is asked for too: without range statistics SQLite prefers the sol
    index and reads every row of the range, while the camera index holds the sols itself."""
    c = candidates.c
    sol: Any = c.sol + 0 if camera_first and wanted.camera else c.sol
    if wanted.status is not None:
        query = query.where(c.status == wanted.status.value)
    if wanted.mission:
        query = query.where(c.mission == wanted.mission)
    if wanted.camera:
        query = query.where(c.camera == wanted.camera)
    if wanted.source:
        query = query.where(c.source == wanted.source)
    if wanted.sol_min is not None:
        query = query.where(sol >= wanted.sol_min)
    if wanted.sol_max is not None:
        query = query.where(sol <= wanted.sol_max)
    if wanted.taken_from is not None:
        query = query.where(c.taken_at >= wanted.taken_from)
    if wanted.taken_to is not None:
        query = query.where(c.taken_at < wanted.taken_to)
    return query


def _matching(
    columns: Sequence[Any],
    dialect: str,
    wanted: CandidateFilter,
    *,
    prefix: bool,
    camera_first: bool = False,
) -> tuple[Select[Any], Any]:
    """``columns`` of the candidates matching ``wanted``, and the id to order them by (the
    full-text index's own on SQLite); with ``prefix`` the last word of the text also matches
    as the start of a longer one."""
    tokens = search_tokens(wanted.text)
    last = len(tokens) - 1
    key: Any = candidates.c.id
    query = select(*columns)
    if tokens and dialect == "sqlite":
        fts = table(FTS_TABLE, column("rowid"))
        key = fts.c.rowid
        query = (
            select(*columns)
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
    return _filtered(query, wanted, camera_first=camera_first), key


def _page_ids(
    dialect: str, wanted: CandidateFilter, limit: int, before_id: int | None, *, prefix: bool
) -> Select[Any]:
    """The ids of one search page, newest first."""
    query, key = _matching([candidates.c.id], dialect, wanted, prefix=prefix)
    if before_id is not None:
        query = query.where(key < before_id)
    return query.order_by(key.desc()).limit(limit)


def _count_each_status(
    connection: Connection, wanted: CandidateFilter, cap: int, *, prefix: bool
) -> StatusCounts:
    """Per status, one count over that status's stretch of a queue index, stopped past
    ``cap``: one statement of small index reads."""
    dialect = connection.dialect.name
    parts = []
    for status in CandidateStatus:
        one = replace(wanted, status=status)
        matching, _ = _matching([literal(1)], dialect, one, prefix=prefix, camera_first=True)
        counted = select(func.count()).select_from(matching.limit(cap + 1).subquery())
        parts.append(select(literal(status.value), counted.scalar_subquery()))
    found = {CandidateStatus(s): int(n) for s, n in connection.execute(union_all(*parts))}
    return StatusCounts(cap=cap, total=sum(found.values()), by_status=found)


def _count_text(
    connection: Connection, wanted: CandidateFilter, cap: int, *, prefix: bool
) -> StatusCounts:
    """A text search: its first ``cap + 1`` matches of any status, grouped by status. The
    full-text index finds a word's matches, not one status's, so past ``cap`` the counts
    per status are unknown and only the total ("more than cap") is told."""
    dialect = connection.dialect.name
    everything = replace(wanted, status=None)
    matching, _ = _matching([candidates.c.status], dialect, everything, prefix=prefix)
    window = matching.limit(cap + 1).subquery()
    query = select(window.c.status, func.count()).group_by(window.c.status)
    found = {CandidateStatus(s): int(n) for s, n in connection.execute(query)}
    total = sum(found.values())
    if total > cap:
        return StatusCounts(cap=cap, total=total)
    every = {status: found.get(status, 0) for status in CandidateStatus}
    return StatusCounts(cap=cap, total=total, by_status=every)


def _shown(counts: StatusCounts, status: CandidateStatus | None) -> int:
    """How many of ``counts`` a listing of ``status`` (None: every status) holds."""
    if status is None or not counts.by_status:
        return counts.total
    return counts.by_status.get(status, 0)


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

    def count_by_status(self, wanted: CandidateFilter, *, cap: int, page: int) -> StatusCounts:
        """How many candidates match ``wanted`` (its status aside), per status, each count
        stopped past ``cap``. Text is matched as ``search_candidates`` matches it for a page
        of ``page``: whole words, and the last word as a prefix too when whole words do not
        fill that page.

        Each status's count reads its stretch of a queue index (``status`` leads each one),
        and a text search its first ``cap + 1`` matches, so at a million candidates the
        counts cost about what a page does.
        """
        count = _count_text if search_tokens(wanted.text) else _count_each_status
        with self.read() as connection:
            counts = count(connection, wanted, cap, prefix=False)
            if search_tokens(wanted.text) and _shown(counts, wanted.status) < page:
                counts = count(connection, wanted, cap, prefix=True)
            return counts

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
