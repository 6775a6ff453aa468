"""The figures ``/metrics`` reads from the database at each scrape.

A scraper asks every few seconds, from every replica, and the tables grow without bound
(a million candidates; an outbox row per subscriber per edition), so each figure comes from
an index alone: candidates per status from a queue index (``status`` leads each one), the
oldest waiting candidate as the first entry of the ``new`` stretch of ``ix_candidates_queue``
(ids grow with arrival), deliveries from ``ix_deliveries_state``, editions by primary key.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import CompoundSelect, func, literal, select, union_all

from watcher.db.schema import candidates, deliveries, editions
from watcher.db.store_base import StoreBase
from watcher.types import CandidateStatus, OperationsFigures


def _per_status() -> CompoundSelect[Any]:
    """One count per status, each over its own stretch of a status-led index: at a million
    candidates about a third quicker on SQLite than one GROUP BY over the whole index."""
    return union_all(
        *(
            select(
                literal(status.value),
                select(func.count())
                .select_from(candidates)
                .where(candidates.c.status == status.value)
                .scalar_subquery(),
            )
            for status in CandidateStatus
        )
    )


class MetricsStore(StoreBase):
    """The figures of ``watcher.types.OperationsFigures``."""

    def operations_figures(self) -> OperationsFigures:
        """Everything in one read transaction, so the figures agree with each other."""
        c, d, e = candidates.c, deliveries.c, editions.c
        with self.read() as connection:
            by_status = {
                str(status): int(count) for status, count in connection.execute(_per_status())
            }
            oldest_new_at = connection.execute(
                select(c.first_seen_at)
                .where(c.status == CandidateStatus.NEW.value)
                .order_by(c.id)
                .limit(1)
            ).scalar_one_or_none()
            count = int(connection.execute(select(func.count()).select_from(editions)).scalar_one())
            latest = connection.execute(
                select(e.number, e.published_at).order_by(e.number.desc()).limit(1)
            ).first()
            outbox = {
                (str(channel), str(status)): int(n)
                for status, channel, n in connection.execute(
                    select(d.status, d.channel, func.count()).group_by(d.status, d.channel)
                )
            }
        return OperationsFigures(
            candidates=by_status,
            oldest_new_at=oldest_new_at,
            editions=count,
            latest_edition=int(latest.number) if latest is not None else None,
            latest_published_at=latest.published_at if latest is not None else None,
            deliveries=outbox,
        )
