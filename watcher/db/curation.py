"""Curation's scores and groups: the window the grouping job reads, the plan it writes, and
the queue listed by score or one card per group.

Listings are keyset pages on the indexes of ``schema_curation``: by score, the scored
candidates (score, then id, descending) and then the ones not scored yet (newest first),
each a stretch of ``ix_candidates_score`` (``ix_candidates_cards_score`` one card per
group); the next page starts after ``before_id``, whose score is read again, so a score
recomputed between two pages may move a candidate across them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, bindparam, func, select, true, tuple_, update

from watcher.db.candidates import candidate_from_row
from watcher.db.fingerprints import to_unsigned
from watcher.db.queue import _filtered, _in_order
from watcher.db.schema import candidates, fingerprints
from watcher.db.store_base import StoreBase
from watcher.plans import CurationPlan
from watcher.types import Candidate, CandidateFilter, CandidateStatus

WINDOW_LIMIT = 2000  # candidates of the touched sols read in one round, at most
PUBLISHED_LIMIT = 1000  # the most recent pictures of a status novelty compares with
_BATCH = 500


class CurationStore(StoreBase):
    def curation_window(self, candidate_ids: Sequence[int]) -> list[Candidate]:
        """The new candidates of the sols ``candidate_ids`` were taken on (those
        candidates too, whatever their sol), at most ``WINDOW_LIMIT``, newest first."""
        c = candidates.c
        with self.read() as connection:
            sols = set()
            for start in range(0, len(candidate_ids), _BATCH):
                chunk = list(candidate_ids[start : start + _BATCH])
                sols |= set(connection.execute(select(c.sol).where(c.id.in_(chunk))).scalars())
            known = sorted(sol for sol in sols if sol is not None)
            query = (
                select(candidates)
                .where(c.status == CandidateStatus.NEW.value, c.sol.in_(known))
                .order_by(c.id.desc())
                .limit(WINDOW_LIMIT)
            )
            found = {
                row["id"]: candidate_from_row(row) for row in connection.execute(query).mappings()
            }
            missing = [i for i in candidate_ids if i not in found]
            found |= {candidate.id: candidate for candidate in _in_order(connection, missing)}
        return list(found.values())

    def queued_windows(self, after: tuple[int, int], limit: int) -> list[tuple[int, int]]:
        """``(sol, one new candidate's id)`` for the next ``limit`` windows after
        ``after`` in ``(sol, id)`` order: one per sol with new candidates, then each new
        candidate without a sol (sol -1) by id; a walk over the whole queue in rounds."""
        c = candidates.c
        after_sol, after_id = after
        with self.read() as connection:
            found: list[tuple[int, int]] = []
            if after_sol >= 0 or after_id == 0:
                query = (
                    select(c.sol, func.min(c.id))
                    .where(c.status == CandidateStatus.NEW.value, c.sol.is_not(None))
                    .where(c.sol > after_sol)
                    .group_by(c.sol)
                    .order_by(c.sol)
                    .limit(limit)
                )
                found = [(int(sol), int(first)) for sol, first in connection.execute(query)]
                if len(found) >= limit:
                    return found
                after_id = 0
            query = (
                select(c.id)
                .where(c.status == CandidateStatus.NEW.value, c.sol.is_(None), c.id > after_id)
                .order_by(c.id)
                .limit(limit - len(found))
            )
            found += [(-1, int(i)) for i in connection.execute(query).scalars()]
        return found

    def score_digests(self, candidate_ids: Sequence[int]) -> dict[int, str | None]:
        """The stored digest of each candidate's score inputs (None: never scored)."""
        found: dict[int, str | None] = {}
        c = candidates.c
        with self.read() as connection:
            for start in range(0, len(candidate_ids), _BATCH):
                chunk = list(candidate_ids[start : start + _BATCH])
                query = select(c.id, c.score_digest).where(c.id.in_(chunk))
                found |= {row.id: row.score_digest for row in connection.execute(query)}
        return found

    def phashes_of(
        self, statuses: Sequence[CandidateStatus], sols: Sequence[int] | None = None
    ) -> list[tuple[int, int]]:
        """``(candidate id, pHash)`` of the measured candidates of ``statuses`` (on
        ``sols`` when given), the most recent ``PUBLISHED_LIMIT``."""
        c, f = candidates.c, fingerprints.c
        query = (
            select(c.id, f.phash)
            .select_from(candidates.join(fingerprints, f.candidate_id == c.id))
            .where(c.status.in_([status.value for status in statuses]))
            .order_by(c.id.desc())
            .limit(PUBLISHED_LIMIT)
        )
        if sols is not None:
            query = query.where(c.sol.in_(list(sols)))
        with self.read() as connection:
            return [(row.id, to_unsigned(row.phash)) for row in connection.execute(query)]

    def save_curation(self, plan: CurationPlan) -> None:
        """Write a grouping round's scores and groups, in one transaction."""
        c = candidates.c
        with self.write() as connection:
            if plan.scores:
                statement = (
                    update(candidates)
                    .where(c.id == bindparam("key"))
                    .values(
                        score=bindparam("value"),
                        score_reasons=bindparam("reasons"),
                        score_digest=bindparam("digest"),
                    )
                )
                connection.execute(
                    statement,
                    [
                        {
                            "key": s.candidate_id,
                            "value": s.value,
                            "reasons": list(s.reasons),
                            "digest": s.digest,
                        }
                        for s in plan.scores
                    ],
                )
            if plan.groups:
                statement = (
                    update(candidates)
                    .where(c.id == bindparam("key"))
                    .values(
                        group_id=bindparam("gid"),
                        group_kind=bindparam("kind"),
                        group_size=bindparam("size"),
                        group_hero=bindparam("hero"),
                    )
                )
                connection.execute(
                    statement,
                    [
                        {
                            "key": g.candidate_id,
                            "gid": g.group_id,
                            "kind": g.kind,
                            "size": g.size,
                            "hero": g.hero,
                        }
                        for g in plan.groups
                    ],
                )

    def list_cards(
        self,
        wanted: CandidateFilter,
        *,
        by_score: bool,
        grouped: bool,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[Candidate]:
        """A page of the queue by score (else newest first), one card per group when
        ``grouped`` (the hero, or a frame alone). Text is not matched here."""
        c = candidates.c
        base = _filtered(select(c.id), wanted)
        if grouped:
            base = base.where(c.group_hero == true())
        with self.read() as connection:
            if not by_score:
                if before_id is not None:
                    base = base.where(c.id < before_id)
                ids = list(connection.execute(base.order_by(c.id.desc()).limit(limit)).scalars())
                return _in_order(connection, ids)
            after: float | None = None
            if before_id is not None:
                query = select(c.score).where(c.id == before_id)
                after = connection.execute(query).scalar_one_or_none()
            ids = []
            if before_id is None or after is not None:
                scored = base.where(c.score.is_not(None))
                if after is not None:
                    scored = scored.where(tuple_(c.score, c.id) < tuple_(after, before_id))
                ordered = scored.order_by(c.score.desc(), c.id.desc()).limit(limit)
                ids = list(connection.execute(ordered).scalars())
            if len(ids) < limit:
                ids += _unscored(connection, base, limit - len(ids), before_id, after)
            return _in_order(connection, ids)

    def count_cards(self, wanted: CandidateFilter, *, cap: int) -> int:
        """How many cards ``list_cards(grouped=True)`` would list, counted up to ``cap + 1``
        (a stretch of the same index, like the status tabs' counts)."""
        c = candidates.c
        query = _filtered(select(c.id), wanted).where(c.group_hero == true()).limit(cap + 1)
        with self.read() as connection:
            return int(
                connection.execute(select(func.count()).select_from(query.subquery())).scalar_one()
            )

    def group_members(self, group_ids: Sequence[int]) -> dict[int, list[Candidate]]:
        """The candidates of each group (new or not), in taken order, by group id."""
        found: dict[int, list[Candidate]] = {gid: [] for gid in group_ids}
        if not group_ids:
            return found
        c = candidates.c
        query = select(candidates).where(c.group_id.in_(list(group_ids))).order_by(c.taken_at, c.id)
        with self.read() as connection:
            for row in connection.execute(query).mappings():
                member = candidate_from_row(row)
                found.setdefault(row["group_id"], []).append(member)
        for members in found.values():
            members.sort(key=lambda m: (m.taken_at is None, m.taken_at or m.first_seen_at, m.id))
        return found


def _unscored(
    connection: Any, base: Select[Any], limit: int, before_id: int | None, after: float | None
) -> list[int]:
    """Ids of the page's candidates not scored yet, newest first."""
    c = candidates.c
    query = base.where(c.score.is_(None))
    if before_id is not None and after is None:
        query = query.where(c.id < before_id)
    return list(connection.execute(query.order_by(c.id.desc()).limit(limit)).scalars())
