"""Subscribers, public sign-up attempts and webhooks (the receivers of the outbox)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, func, insert, select, update

from watcher.db.audit import write_audit
from watcher.db.rows import conflict_insert, from_row, row_or_not_found
from watcher.db.schema import deliveries, subscribe_attempts, subscribers, webhooks
from watcher.db.store_base import StoreBase
from watcher.plans import NewDelivery
from watcher.types import DeliveryStatus, Subscriber, SubscriberStatus, Webhook

INSERT_CHUNK = 500
ATTEMPT_WINDOW = timedelta(hours=1)


def insert_deliveries(connection: Connection, rows: Sequence[NewDelivery], now: datetime) -> int:
    """Insert outbox rows (``NewDelivery``); a key already present is left alone.
    Returns how many rows are new."""
    written = 0
    values = [
        {
            "edition": row.edition,
            "channel": row.channel.value,
            "target": row.target,
            "key": row.key,
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": row.next_attempt_at,
            "created_at": now,
        }
        for row in rows
    ]
    for start in range(0, len(values), INSERT_CHUNK):
        statement = conflict_insert(connection.dialect.name)(deliveries).values(
            values[start : start + INSERT_CHUNK]
        )
        # Counted by RETURNING: rowcount of a multi-row insert is -1 under psycopg.
        result = connection.execute(
            statement.on_conflict_do_nothing(index_elements=["key"]).returning(deliveries.c.id)
        )
        written += len(result.all())
    return written


def addressed(row: NewDelivery, subscriber: Subscriber) -> NewDelivery:
    """A planned mail made out to ``subscriber`` (see ``NewDelivery``)."""
    return replace(
        row, target=row.target or subscriber.email, key=row.key.format(subscriber=subscriber.id)
    )


def _audit_json(subscriber: Subscriber | None) -> dict[str, Any] | None:
    if subscriber is None:
        return None
    return {"email": subscriber.email, "status": subscriber.status.value}


def confirmed_subscribers(connection: Connection) -> list[tuple[int, str]]:
    rows = connection.execute(
        select(subscribers.c.id, subscribers.c.email)
        .where(subscribers.c.status == SubscriberStatus.CONFIRMED.value)
        .order_by(subscribers.c.id)
    ).all()
    return [(int(i), str(e)) for i, e in rows]


def enabled_webhook_ids(connection: Connection) -> list[int]:
    rows = connection.execute(
        select(webhooks.c.id).where(webhooks.c.enabled.is_(True)).order_by(webhooks.c.id)
    ).scalars()
    return [int(i) for i in rows]


def _subscriber(row: RowMapping) -> Subscriber:
    return from_row(Subscriber, row, id=int(row["id"]), status=SubscriberStatus(row["status"]))


def _webhook(row: RowMapping) -> Webhook:
    return from_row(
        Webhook,
        row,
        id=int(row["id"]),
        enabled=bool(row["enabled"]),
        consecutive_failures=int(row["consecutive_failures"]),
    )


def _subscriber_by_email(connection: Connection, email: str) -> Subscriber | None:
    query = select(subscribers).where(subscribers.c.email == email)
    row = connection.execute(query).mappings().one_or_none()
    return _subscriber(row) if row is not None else None


def _subscriber_by_id(connection: Connection, subscriber_id: int) -> Subscriber:
    query = select(subscribers).where(subscribers.c.id == subscriber_id)
    return _subscriber(row_or_not_found(connection, query, f"no subscriber {subscriber_id}"))


class SubscriberStore(StoreBase):
    """Who receives editions: subscribers (and their sign-up attempts) and webhooks."""

    # -- subscribers ---------------------------------------------------------------------

    def request_subscription(
        self,
        email: str,
        client: str,
        now: datetime,
        per_hour: int,
        confirmation: NewDelivery,
    ) -> tuple[Subscriber | None, bool, datetime | None, str | None]:
        """Record a sign-up and decide it, in one transaction (so replicas agree).

        Returns ``(subscriber, needs_confirmation, limited_until, limited_by)``: when the
        client or the mailbox made ``per_hour`` requests within the last hour,
        ``subscriber`` is None and ``limited_until`` says when the oldest one ages out.
        A confirmed address is left as it is (``needs_confirmation`` False); any other
        is (again) pending and gets the ``confirmation`` mail, made out to it.
        """
        since = now - ATTEMPT_WINDOW
        with self.write() as connection:
            connection.execute(delete(subscribe_attempts).where(subscribe_attempts.c.at < since))
            for column, value, name in (
                (subscribe_attempts.c.client, client, "client"),
                (subscribe_attempts.c.email, email, "email"),
            ):
                count, oldest = connection.execute(
                    select(func.count(), func.min(subscribe_attempts.c.at)).where(
                        column == value, subscribe_attempts.c.at >= since
                    )
                ).one()
                if count >= per_hour:
                    return None, False, oldest + ATTEMPT_WINDOW, name
            connection.execute(
                insert(subscribe_attempts).values(client=client, email=email, at=now)
            )
            connection.execute(
                conflict_insert(connection.dialect.name)(subscribers)
                .values(email=email, status=SubscriberStatus.PENDING.value, created_at=now)
                .on_conflict_do_nothing(index_elements=["email"])
            )
            stored = _subscriber_by_email(connection, email)
            assert stored is not None  # inserted just above when it was not there
            if stored.status is SubscriberStatus.CONFIRMED:
                return stored, False, None, None
            connection.execute(
                update(subscribers)
                .where(subscribers.c.id == stored.id)
                .values(status=SubscriberStatus.PENDING.value, confirmation_sent_at=now)
            )
            subscriber = _subscriber_by_id(connection, stored.id)
            insert_deliveries(connection, [addressed(confirmation, subscriber)], now)
            return subscriber, True, None, None

    def add_subscriber(
        self,
        email: str,
        status: SubscriberStatus,
        now: datetime,
        actor: str,
        confirmation: NewDelivery | None,
    ) -> Subscriber:
        """An admin's add: create or update the address to ``status`` (a confirmed one stays
        confirmed), queue ``confirmation`` if it ends up pending, and audit it; one
        transaction."""
        with self.write() as connection:
            before = _subscriber_by_email(connection, email)
            values: dict[str, Any] = {"status": status.value}
            if status is SubscriberStatus.CONFIRMED:
                values["confirmed_at"] = now
            else:
                values["confirmation_sent_at"] = now
            if before is None:
                connection.execute(
                    insert(subscribers).values(email=email, created_at=now, **values)
                )
            elif before.status is not SubscriberStatus.CONFIRMED:
                connection.execute(
                    update(subscribers).where(subscribers.c.email == email).values(**values)
                )
            after = _subscriber_by_email(connection, email)
            assert after is not None  # inserted just above when it was not there
            if after.status is SubscriberStatus.PENDING and confirmation is not None:
                insert_deliveries(connection, [addressed(confirmation, after)], now)
            write_audit(
                connection, actor, "add", "subscriber", after.id,
                _audit_json(before), _audit_json(after), now,
            )  # fmt: skip
        return after

    def remove_subscriber(self, subscriber_id: int, now: datetime, actor: str) -> Subscriber:
        """An admin's removal: unsubscribed (kept, so the history stays), and audited."""
        with self.write() as connection:
            after, before = self._set_status(
                connection, subscriber_id, SubscriberStatus.UNSUBSCRIBED, now
            )
            write_audit(
                connection, actor, "remove", "subscriber", after.id,
                _audit_json(before), _audit_json(after), now,
            )  # fmt: skip
        return after

    def get_subscriber(self, subscriber_id: int) -> Subscriber:
        with self.read() as connection:
            return _subscriber_by_id(connection, subscriber_id)

    def find_subscriber(self, email: str) -> Subscriber | None:
        with self.read() as connection:
            return _subscriber_by_email(connection, email)

    def subscribers_by_email(self, emails: Sequence[str]) -> dict[str, Subscriber]:
        with self.read() as connection:
            rows = connection.execute(
                select(subscribers).where(subscribers.c.email.in_(list(set(emails))))
            ).mappings()
            return {row["email"]: _subscriber(row) for row in rows}

    def set_subscriber_status(
        self, subscriber_id: int, status: SubscriberStatus, now: datetime
    ) -> tuple[Subscriber, Subscriber]:
        """Move a subscriber to ``status`` (no-op when already there); (after, before)."""
        with self.write() as connection:
            return self._set_status(connection, subscriber_id, status, now)

    def _set_status(
        self, connection: Connection, subscriber_id: int, status: SubscriberStatus, now: datetime
    ) -> tuple[Subscriber, Subscriber]:
        before = _subscriber_by_id(connection, subscriber_id)
        if before.status is status:
            return before, before
        stamp = "confirmed_at" if status is SubscriberStatus.CONFIRMED else "unsubscribed_at"
        connection.execute(
            update(subscribers)
            .where(subscribers.c.id == subscriber_id)
            .values(status=status.value, **{stamp: now})
        )
        return _subscriber_by_id(connection, subscriber_id), before

    def list_subscribers(
        self, *, status: SubscriberStatus | None, limit: int, after_id: int | None
    ) -> list[Subscriber]:
        query = select(subscribers).order_by(subscribers.c.id).limit(limit)
        if status is not None:
            query = query.where(subscribers.c.status == status.value)
        if after_id is not None:
            query = query.where(subscribers.c.id > after_id)
        with self.read() as connection:
            return [_subscriber(row) for row in connection.execute(query).mappings()]

    # -- webhooks ------------------------------------------------------------------------

    def add_webhook(self, url: str, secret: str, actor: str, now: datetime) -> Webhook:
        """Register a receiver, audited, in one transaction."""
        with self.write() as connection:
            webhook_id = connection.execute(
                insert(webhooks)
                .values(url=url, secret=secret, created_by=actor, created_at=now, enabled=True)
                .returning(webhooks.c.id)
            ).scalar_one()
            hook = self.webhook_with_secret(webhook_id, connection=connection)[0]
            write_audit(connection, actor, "add", "webhook", hook.id, None, {"url": url}, now)
        return hook

    def remove_webhook(self, webhook_id: int, actor: str, now: datetime) -> Webhook:
        """Delete a receiver (NotFound if there is none), audited, in one transaction."""
        with self.write() as connection:
            hook = self.webhook_with_secret(webhook_id, connection=connection)[0]
            connection.execute(delete(webhooks).where(webhooks.c.id == webhook_id))
            write_audit(
                connection, actor, "remove", "webhook", hook.id, {"url": hook.url}, None, now
            )
        return hook

    def enable_webhook(self, webhook_id: int, actor: str, now: datetime) -> Webhook:
        """Re-enable after an auto-disable, the failure count from zero; audited."""
        with self.write() as connection:
            before = self.webhook_with_secret(webhook_id, connection=connection)[0]
            connection.execute(
                update(webhooks)
                .where(webhooks.c.id == webhook_id)
                .values(enabled=True, consecutive_failures=0, disabled_reason=None)
            )
            write_audit(
                connection, actor, "enable", "webhook", webhook_id,
                {"enabled": before.enabled, "reason": before.disabled_reason},
                {"enabled": True}, now,
            )  # fmt: skip
            return self.webhook_with_secret(webhook_id, connection=connection)[0]

    def webhook_with_secret(
        self, webhook_id: int, *, connection: Connection | None = None
    ) -> tuple[Webhook, str]:
        if connection is None:
            with self.read() as own:
                return self.webhook_with_secret(webhook_id, connection=own)
        query = select(webhooks).where(webhooks.c.id == webhook_id)
        row = row_or_not_found(connection, query, f"no webhook {webhook_id}")
        return _webhook(row), str(row["secret"])

    def webhooks_with_secrets(self, ids: Iterable[int]) -> dict[int, tuple[Webhook, str]]:
        with self.read() as connection:
            rows = connection.execute(select(webhooks).where(webhooks.c.id.in_(list(ids))))
            return {int(row["id"]): (_webhook(row), str(row["secret"])) for row in rows.mappings()}

    def list_webhooks(self) -> list[Webhook]:
        with self.read() as connection:
            rows = connection.execute(select(webhooks).order_by(webhooks.c.id)).mappings()
            return [_webhook(row) for row in rows]

    def record_webhook_result(
        self, webhook_id: int, now: datetime, error: str | None, max_failures: int
    ) -> bool:
        """Count a success (resets the count) or a failure; a failure that reaches
        ``max_failures`` in a row disables the webhook with the reason. True if it did."""
        with self.write() as connection:
            if error is None:
                connection.execute(
                    update(webhooks)
                    .where(webhooks.c.id == webhook_id)
                    .values(consecutive_failures=0, last_success_at=now)
                )
                return False
            failures = webhooks.c.consecutive_failures + 1
            connection.execute(
                update(webhooks)
                .where(webhooks.c.id == webhook_id)
                .values(consecutive_failures=failures, last_error=error, last_error_at=now)
            )
            disabled = connection.execute(
                update(webhooks)
                .where(
                    webhooks.c.id == webhook_id,
                    webhooks.c.enabled.is_(True),
                    webhooks.c.consecutive_failures >= max_failures,
                )
                .values(
                    enabled=False,
                    disabled_reason=f"disabled after {max_failures} failures in a row; "
                    f"last: {error}"[:500],
                )
            )
            return bool(disabled.rowcount == 1)
