"""The Watcher facade: the one object the CLI, the web app and the scheduler call.

``Watcher`` is assembled from its parts, one concept each: ``polling`` (feeds),
``checking`` (whether NASA's answers still have the shapes watcher expects), ``review``
(decisions, entries, audit), ``accounts`` (editors, sessions, tokens), ``publishing``
(editions and the site's files) and ``delivery`` (subscribers, webhooks, the outbox).
``make_watcher(settings)`` builds it with everything it owns; nothing is global.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime
from typing import Any

from watcher.accounts.editors import Accounts
from watcher.config import Settings
from watcher.db import Store
from watcher.deliver.channels.channel import DeliveryReport
from watcher.deliver.deliverer import Deliveries
from watcher.exceptions import StorageError
from watcher.facade import utcnow
from watcher.fetch import Fetcher
from watcher.polling.checker import Checking
from watcher.polling.poller import Polling
from watcher.publish.model import PublishReport, WriteReport
from watcher.publish.publisher import Publishing
from watcher.review.desk import Review
from watcher.types import Candidate, CandidateStatus
from watcher.views import source_health_json


class Watcher(Polling, Checking, Review, Accounts, Publishing, Deliveries):
    """Everything watcher does, as methods. Build it with ``make_watcher(settings)``."""

    async def __aenter__(self) -> Watcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def list_candidates(
        self,
        *,
        status: CandidateStatus | None = CandidateStatus.NEW,
        source: str | None = None,
        limit: int | None = 100,
        before_id: int | None = None,
    ) -> list[Candidate]:
        if source is not None:
            self.settings.source(source)
        return self.store.list_candidates(
            status=status, source=source, limit=limit, before_id=before_id
        )

    def get_candidate(self, candidate_id: int) -> Candidate:
        return self.store.get_candidate(candidate_id)

    def health(self) -> dict[str, Any]:
        """For ``/healthz``: is the database reachable, and how is each source doing."""
        try:
            self.store.ping()
            sources = self.sources_health()
        except StorageError as exc:
            return {"status": "unavailable", "database": {"ok": False, "error": str(exc)}}
        failing = [s.name for s in sources if s.health.value == "failing"]
        return {
            "status": "degraded" if failing else "ok",
            "database": {"ok": True, "error": None},
            "sources": [source_health_json(s) for s in sources],
        }


def make_watcher(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    rand: Callable[[], float] = random.random,
    transport: Any = None,
) -> Watcher:
    """Build a Watcher and everything it owns. Nothing is global: tests build their own."""
    store = Store(settings.database_url)
    fetcher = Fetcher(settings.fetch, transport=transport)
    watcher = Watcher(settings, store, fetcher, clock=clock, rand=rand)
    return watcher


__all__ = [
    "DeliveryReport",
    "PublishReport",
    "Watcher",
    "WriteReport",
    "make_watcher",
    "utcnow",
]
