"""Who hears about a new edition, and the messages owed to them.

``Subscriber`` and ``Webhook`` are the receivers; a ``Delivery`` is one outbox row, one
message to one receiver, retried until it is sent or given up as dead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class SubscriberStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscriber:
    id: int
    email: str
    status: SubscriberStatus
    created_at: datetime
    confirmed_at: datetime | None = None
    unsubscribed_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Webhook:
    """A registered receiver. Its secret is shown once, at creation."""

    id: int
    url: str
    created_by: str
    created_at: datetime
    enabled: bool
    consecutive_failures: int = 0
    disabled_reason: str | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None


class DeliveryChannel(StrEnum):
    EMAIL = "email"
    CONFIRM = "confirm"
    WEBHOOK = "webhook"
    WEBSUB = "websub"
    APPRISE = "apprise"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """One message owed to one receiver (an outbox row). ``key`` is its idempotency key:
    the email's Message-ID and the webhook's ``X-Watcher-Delivery`` header."""

    id: int
    edition: int | None
    channel: DeliveryChannel
    target: str
    key: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    last_error: str | None = None
    sent_at: datetime | None = None
