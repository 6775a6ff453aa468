"""The seam between the deliverer and the database: the store methods it calls, so it depends
on this Protocol, not on SQLAlchemy. ``watcher.db.Store`` implements it (checked where
``make_watcher`` builds the part)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from watcher.plans import NewDelivery
from watcher.types import (
    Delivery,
    DeliveryChannel,
    DeliveryStatus,
    Edition,
    PublishedEntry,
    Subscriber,
    SubscriberStatus,
    Webhook,
)


class DeliveryStore(Protocol):
    """What the deliverer needs of the database."""

    def add_subscriber(
        self,
        email: str,
        status: SubscriberStatus,
        now: datetime,
        actor: str,
        confirmation: NewDelivery | None,
    ) -> Subscriber: ...

    def add_webhook(self, url: str, secret: str, actor: str, now: datetime) -> Webhook: ...

    def claim_deliveries(
        self, owner: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[Delivery]: ...

    def enable_webhook(self, webhook_id: int, actor: str, now: datetime) -> Webhook: ...

    def enqueue(self, rows: Sequence[NewDelivery], now: datetime) -> int: ...

    def find_subscriber(self, email: str) -> Subscriber | None: ...

    def finish_deliveries(
        self,
        owner: str,
        now: datetime,
        *,
        sent: Sequence[int] = (),
        outcomes: Sequence[tuple[int, DeliveryStatus, datetime, str]] = (),
        released: Sequence[int] = (),
    ) -> None: ...

    def get_edition(self, number: int) -> Edition: ...

    def get_or_create_setting(self, key: str, value: str) -> str: ...

    def get_settings(self, *keys: str) -> dict[str, str]: ...

    def get_subscriber(self, subscriber_id: int) -> Subscriber: ...

    def list_deliveries(
        self,
        *,
        edition: int | None,
        channel: DeliveryChannel | None,
        status: DeliveryStatus | None,
        limit: int,
    ) -> list[Delivery]: ...

    def list_subscribers(
        self, *, status: SubscriberStatus | None, limit: int, after_id: int | None
    ) -> list[Subscriber]: ...

    def list_webhooks(self) -> list[Webhook]: ...

    def next_delivery_at(self) -> datetime | None: ...

    def receivers(self, *, email: bool) -> tuple[list[tuple[int, str]], list[int]]: ...

    def record_webhook_result(
        self, webhook_id: int, now: datetime, error: str | None, max_failures: int
    ) -> bool: ...

    def remove_subscriber(self, subscriber_id: int, now: datetime, actor: str) -> Subscriber: ...

    def remove_webhook(self, webhook_id: int, actor: str, now: datetime) -> Webhook: ...

    def request_subscription(
        self, email: str, client: str, now: datetime, per_hour: int, confirmation: NewDelivery
    ) -> tuple[Subscriber | None, bool, datetime | None, str | None]: ...

    def set_subscriber_status(
        self, subscriber_id: int, status: SubscriberStatus, now: datetime
    ) -> tuple[Subscriber, Subscriber]: ...

    def entries_for_delivery(self, entry_ids: Sequence[int]) -> list[PublishedEntry]: ...

    def webhooks_with_secrets(self, ids: Iterable[int]) -> dict[int, tuple[Webhook, str]]: ...

    def subscribers_by_email(self, emails: Sequence[str]) -> dict[str, Subscriber]: ...
