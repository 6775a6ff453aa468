"""The facade's delivery part: subscribers, webhooks, and the outbox worker."""

from __future__ import annotations

from watcher.facade import FacadeBase


class Deliveries(FacadeBase):
    """Subscribe and unsubscribe, register webhooks, deliver what editions owe."""
