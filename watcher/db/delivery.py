"""Subscribers, webhooks and the outbox of deliveries."""

from __future__ import annotations

from watcher.db.base import StoreBase


class DeliveryStore(StoreBase):
    """Subscribers and webhooks, and the outbox the delivery worker claims rows from."""
