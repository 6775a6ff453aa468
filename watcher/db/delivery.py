"""The outbox of deliveries, and the editions and entries it reads to build messages.

Claiming is the one subtle part. A worker claims due rows by writing its name and a lease
expiry on them; until the lease runs out no other worker takes them. On PostgreSQL the
claim is ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)``, so replicas
claiming at the same moment get disjoint rows without waiting on each other; on SQLite the
write transaction is ``BEGIN IMMEDIATE`` (see ``engine``), which serialises claimers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, func, or_, select, update

from watcher.db.schema import candidates, deliveries, editions, entries, entry_candidates
from watcher.db.subscribers import (
    SubscriberStore,
    confirmed_subscribers,
    enabled_webhook_ids,
    insert_deliveries,
)
from watcher.types import (
    Delivery,
    DeliveryChannel,
    DeliveryStatus,
    Edition,
    Frame,
    PublishedEntry,
)

__all__ = ["DeliveryStore", "confirmed_subscribers", "enabled_webhook_ids", "insert_deliveries"]


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=int(row.id),
        edition=row.edition,
        channel=DeliveryChannel(row.channel),
        target=row.target,
        key=row.key,
        status=DeliveryStatus(row.status),
        attempts=int(row.attempts),
        next_attempt_at=row.next_attempt_at,
        created_at=row.created_at,
        last_error=row.last_error,
        sent_at=row.sent_at,
    )


class DeliveryStore(SubscriberStore):
    """Subscribers and webhooks (``SubscriberStore``), and the outbox the delivery worker
    claims rows from."""

    # -- editions and entries (read-only here; publishing writes them) -------------------

    def get_edition(self, number: int) -> Edition | None:
        with self.read() as connection:
            row = connection.execute(
                select(editions).where(editions.c.number == number)
            ).one_or_none()
        if row is None:
            return None
        return Edition(
            number=int(row.number),
            published_at=row.published_at,
            added=tuple(row.added),
            changed=tuple(row.changed),
            removed=tuple(row.removed),
            reordered=bool(row.reordered),
            site_changed=bool(row.site_changed),
            entries=int(row.entries),
            audit_id=int(row.audit_id),
        )

    def entries_for_delivery(self, entry_ids: Sequence[int]) -> list[PublishedEntry]:
        """Entries with their frames, in list order (what a mail or a webhook carries)."""
        if not entry_ids:
            return []
        with self.read() as connection:
            rows = connection.execute(
                select(entries)
                .where(entries.c.id.in_(list(entry_ids)))
                .order_by(entries.c.position)
            ).all()
            frames = connection.execute(
                select(entry_candidates.c.entry_id, candidates)
                .join(candidates, candidates.c.id == entry_candidates.c.candidate_id)
                .where(entry_candidates.c.entry_id.in_(list(entry_ids)))
                .order_by(entry_candidates.c.entry_id, entry_candidates.c.position)
            ).all()
        by_entry: dict[int, list[Any]] = {}
        for frame in frames:
            by_entry.setdefault(int(frame.entry_id), []).append(frame)
        result = []
        for row in rows:
            shots = by_entry.get(int(row.id), [])
            first = shots[0] if shots else None
            result.append(
                PublishedEntry(
                    id=int(row.id),
                    position=int(row.position),
                    heading=row.heading,
                    body=row.body,
                    alt_text=row.alt_text,
                    credit=row.credit,
                    rendition=row.rendition,
                    frames=tuple(
                        Frame(
                            candidate_id=int(s.id),
                            taken_at=s.taken_at,
                            thumbnail_url=s.thumbnail_url,
                            medium_url=s.medium_url,
                            large_url=s.large_url,
                            full_url=s.full_url,
                            width=s.width,
                            height=s.height,
                        )
                        for s in shots
                    ),
                    mission=first.mission if first else None,
                    camera=first.camera if first else None,
                    sol=first.sol if first else None,
                    mars_local_time=first.mars_local_time if first else None,
                    taken_at=first.taken_at if first else None,
                    nasa_page_url=first.page_url if first else None,
                    created_at=row.created_at,
                    updated_at=row.updated_at,
                )
            )
        return result

    # -- the outbox ----------------------------------------------------------------------

    def enqueue(self, rows: Sequence[Any], now: datetime) -> int:
        with self.write() as connection:
            return insert_deliveries(connection, rows, now)

    def claim_deliveries(
        self, owner: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[Delivery]:
        """Lease up to ``limit`` due rows to ``owner`` and count the attempt."""
        due = and_(
            deliveries.c.status == DeliveryStatus.PENDING.value,
            deliveries.c.next_attempt_at <= now,
            or_(deliveries.c.lease_until.is_(None), deliveries.c.lease_until <= now),
        )
        pick = (
            select(deliveries.c.id)
            .where(due)
            .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
            .limit(limit)
        )
        with self.write() as connection:
            if connection.dialect.name == "postgresql":
                pick = pick.with_for_update(skip_locked=True)
            ids = [int(i) for i in connection.execute(pick).scalars()]
            if not ids:
                return []
            connection.execute(
                update(deliveries)
                .where(deliveries.c.id.in_(ids), due)
                .values(
                    lease_owner=owner,
                    lease_until=lease_until,
                    attempts=deliveries.c.attempts + 1,
                )
            )
            rows = connection.execute(
                select(deliveries)
                .where(deliveries.c.id.in_(ids), deliveries.c.lease_owner == owner)
                .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
            ).all()
        return [_delivery(row) for row in rows]

    def finish_deliveries(
        self,
        owner: str,
        now: datetime,
        *,
        sent: Sequence[int] = (),
        outcomes: Sequence[tuple[int, DeliveryStatus, datetime, str]] = (),
        released: Sequence[int] = (),
    ) -> None:
        """Write a cycle's results: ``sent`` ids; ``outcomes`` (id, status, next attempt,
        error) for failures and skips; ``released`` ids go back unattempted. Sent is
        written whoever holds the lease now (it *was* sent); the rest only while ours."""
        with self.write() as connection:
            if sent:
                connection.execute(
                    update(deliveries)
                    .where(deliveries.c.id.in_(list(sent)))
                    .values(
                        status=DeliveryStatus.SENT.value,
                        sent_at=now,
                        last_error=None,
                        lease_owner=None,
                        lease_until=None,
                    )
                )
            if outcomes:
                # One statement run for all rows (executemany): a batch failed together
                # (the SMTP server down) is hundreds of rows, each with its own backoff.
                connection.execute(
                    update(deliveries)
                    .where(
                        deliveries.c.id == bindparam("b_id"),
                        deliveries.c.lease_owner == owner,
                    )
                    .values(
                        status=bindparam("b_status"),
                        next_attempt_at=bindparam("b_next"),
                        last_error=bindparam("b_error"),
                        lease_owner=None,
                        lease_until=None,
                    ),
                    [
                        {"b_id": i, "b_status": st.value, "b_next": at, "b_error": error}
                        for i, st, at, error in outcomes
                    ],
                )
            if released:
                connection.execute(
                    update(deliveries)
                    .where(deliveries.c.id.in_(list(released)), deliveries.c.lease_owner == owner)
                    .values(attempts=deliveries.c.attempts - 1, lease_owner=None, lease_until=None)
                )

    def next_delivery_at(self) -> datetime | None:
        """When the earliest pending row becomes claimable (a leased one: when its lease
        runs out, if that is later)."""
        effective = case(
            (
                and_(
                    deliveries.c.lease_until.is_not(None),
                    deliveries.c.lease_until > deliveries.c.next_attempt_at,
                ),
                deliveries.c.lease_until,
            ),
            else_=deliveries.c.next_attempt_at,
        )
        with self.read() as connection:
            value = connection.execute(
                select(func.min(effective).label("due")).where(
                    deliveries.c.status == DeliveryStatus.PENDING.value
                )
            ).scalar_one_or_none()
        if value is None or isinstance(value, datetime):
            return value
        return deliveries.c.next_attempt_at.type.process_result_value(value, self.engine.dialect)  # type: ignore[no-any-return,attr-defined]

    def list_deliveries(
        self,
        *,
        edition: int | None,
        channel: DeliveryChannel | None,
        status: DeliveryStatus | None,
        limit: int,
    ) -> list[Delivery]:
        query = select(deliveries).order_by(deliveries.c.id.desc()).limit(limit)
        if edition is not None:
            query = query.where(deliveries.c.edition == edition)
        if channel is not None:
            query = query.where(deliveries.c.channel == channel.value)
        if status is not None:
            query = query.where(deliveries.c.status == status.value)
        with self.read() as connection:
            return [_delivery(row) for row in connection.execute(query)]
