"""The figures of the admins' Status page, read in one transaction.

Every query is bounded whatever the tables hold: a mission's newest sol is one step down
``ix_candidates_mission_sol`` and its images per sol and camera a range of that index
(the window's rows, never the table); the polls are the newest few of each source along
``ix_poll_log_source_id`` (a table pruned as it is written); the deliveries a range of
editions along ``ix_deliveries_edition_status``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, func, select

from watcher.db.schema import candidates, deliveries, editions, facets, poll_log
from watcher.db.store_base import StoreBase
from watcher.types import (
    DeliveryStatus,
    EditionDeliveries,
    MissionSols,
    PollOutcome,
    PollRecord,
    SolCount,
    StatusFigures,
)

# Missions charted at most (the shipped sources have two): the page stays a page.
MAX_MISSIONS = 8


def _mission_sols(connection: Connection, mission: str, sols: int) -> MissionSols | None:
    newest = connection.execute(
        select(func.max(candidates.c.sol)).where(candidates.c.mission == mission)
    ).scalar()
    if newest is None:
        return None
    first = max(0, int(newest) - sols + 1)
    rows = connection.execute(
        select(candidates.c.sol, candidates.c.camera, func.count())
        .where(candidates.c.mission == mission, candidates.c.sol.between(first, newest))
        .group_by(candidates.c.sol, candidates.c.camera)
        .order_by(candidates.c.sol, candidates.c.camera)
    ).all()
    counts = tuple(SolCount(int(sol), camera, int(count)) for sol, camera, count in rows)
    return MissionSols(mission=mission, first=first, last=int(newest), counts=counts)


def _missions(connection: Connection, sols: int) -> tuple[MissionSols, ...]:
    names = connection.execute(
        select(facets.c.value)
        .where(facets.c.kind == "mission")
        .order_by(facets.c.value)
        .limit(MAX_MISSIONS)
    ).scalars()
    found = (_mission_sols(connection, name, sols) for name in list(names))
    return tuple(mission for mission in found if mission is not None)


def _polls(connection: Connection, source: str, limit: int) -> tuple[PollRecord, ...]:
    rows = connection.execute(
        select(poll_log)
        .where(poll_log.c.source == source)
        .order_by(poll_log.c.id.desc())
        .limit(limit)
    ).mappings()
    newest_first = [
        PollRecord(
            source=row["source"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            outcome=PollOutcome(row["outcome"]),
            requests=int(row["requests"]),
            inserted=int(row["inserted"]),
            error=row["error"],
        )
        for row in rows
    ]
    return tuple(reversed(newest_first))


def _deliveries(connection: Connection, count: int) -> tuple[EditionDeliveries, ...]:
    newest = connection.execute(select(func.max(editions.c.number))).scalar()
    if newest is None:
        return ()
    first = max(1, int(newest) - count + 1)
    rows = connection.execute(
        select(deliveries.c.edition, deliveries.c.status, func.count())
        .where(deliveries.c.edition.between(first, newest))
        .group_by(deliveries.c.edition, deliveries.c.status)
    ).all()
    by_edition: dict[int, dict[str, int]] = {}
    for edition, status, n in rows:
        by_edition.setdefault(int(edition), {})[status] = int(n)
    return tuple(
        EditionDeliveries(
            edition=number,
            sent=by_edition.get(number, {}).get(DeliveryStatus.SENT, 0),
            pending=by_edition.get(number, {}).get(DeliveryStatus.PENDING, 0),
            failed=by_edition.get(number, {}).get(DeliveryStatus.DEAD, 0),
        )
        for number in range(first, int(newest) + 1)
    )


class StatusStore(StoreBase):
    def status_figures(
        self, sources: Sequence[str], *, sols: int, polls: int, editions: int
    ) -> StatusFigures:
        """Each mission's images per sol and camera over its latest ``sols`` sols, the
        latest ``polls`` polls of each of ``sources`` (oldest first), and the deliveries
        of the latest ``editions`` editions, as of one moment."""
        with self.read() as connection:
            return StatusFigures(
                missions=_missions(connection, sols),
                polls=tuple((name, _polls(connection, name, polls)) for name in sources),
                deliveries=_deliveries(connection, editions),
            )
