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

from sqlalchemy import RowMapping, and_, bindparam, case, func, or_, select, update

from watcher.db.publishing import published_list
from watcher.db.rows import from_row
from watcher.db.schema import deliveries
from watcher.db.subscribers import (
    SubscriberStore,
    confirmed_subscribers,
    enabled_webhook_ids,
    insert_deliveries,
)
from watcher.plans import NewDelivery
from watcher.types import (
    Delivery,
    DeliveryChannel,
    DeliveryStatus,
    PublishedEntry,
)

__all__ = ["DeliveryStore", "confirmed_subscribers", "enabled_webhook_ids", "insert_deliveries"]


def _delivery(row: RowMapping) -> Delivery:
    return from_row(
        Delivery,
        row,
        id=int(row["id"]),
        channel=DeliveryChannel(row["channel"]),
        status=DeliveryStatus(row["status"]),
        attempts=int(row["attempts"]),
    )


class DeliveryStore(SubscriberStore):
    """Subscribers and webhooks (``SubscriberStore``), and the outbox the delivery worker
    claims rows from."""

    # -- entries (read-only here; publishing writes them) -------------------------------

    def entries_for_delivery(self, entry_ids: Sequence[int]) -> list[PublishedEntry]:
        """Entries with their frames, in list order (what a mail or a webhook carries),
        whatever their status now: the edition published them."""
        if not entry_ids:
            return []
        with self.read() as connection:
            return published_list(connection, entry_ids)

    # -- the outbox ----------------------------------------------------------------------

    def enqueue(self, rows: Sequence[NewDelivery], now: datetime) -> int:
        with self.write() as connection:
            return insert_deliveries(connection, rows, now)

    def receivers(self, *, email: bool) -> tuple[list[tuple[int, str]], list[int]]:
        """Who hears of an edition now: confirmed subscribers (none unless ``email``) as
        (id, address), and enabled webhooks' ids."""
        with self.read() as connection:
            subscribers = confirmed_subscribers(connection) if email else []
            return subscribers, enabled_webhook_ids(connection)

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
            )
            return [_delivery(row) for row in rows.mappings()]

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
            return [_delivery(row) for row in connection.execute(query).mappings()]
