"""Editions and the published state of the running list."""

from __future__ import annotations

from watcher.db.base import StoreBase


class PublishingStore(StoreBase):
    """Reads the list as readers will see it; writes editions and what they published."""
