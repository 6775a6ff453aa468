"""The base of the Watcher facade: what its parts (polling, review, accounts) share.

The facade is split by concept so no module grows past a few hundred lines; callers only
ever see the assembled ``watcher.core.Watcher``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import secrets
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from typing import ParamSpec, TypeVar

from sqlalchemy import Connection

from watcher.config import Settings, SourceConfig
from watcher.db import Store
from watcher.exceptions import NotFound
from watcher.fetch import Fetcher
from watcher.polling import decide
from watcher.types import Edition, PollState, SourceHealth

log = logging.getLogger("watcher.core")

P = ParamSpec("P")
T = TypeVar("T")


def utcnow() -> datetime:
    return datetime.now(UTC)


class FacadeBase:
    """Settings, the store, the fetcher, the clock; lifecycle and the thread hop for the
    database."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        fetcher: Fetcher,
        *,
        clock: Callable[[], datetime] = utcnow,
        rand: Callable[[], float] = random.random,
    ):
        self.settings = settings
        self.store = store
        self.fetcher = fetcher
        self.clock = clock
        self.rand = rand
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._stopping = False
        self._listeners: list[Callable[[], None]] = []

    # -- lifecycle -------------------------------------------------------------------

    async def aclose(self) -> None:
        await self.fetcher.aclose()
        self.store.close()

    def request_stop(self) -> None:
        """Finish the page in hand, then stop every poll and backfill."""
        self._stopping = True

    @property
    def stopping(self) -> bool:
        return self._stopping

    def prepare_database(self) -> None:
        """Create or migrate the schema when allowed, else insist it is current."""
        if self.settings.auto_upgrade:
            before, after = self.store.upgrade()
            if before != after:
                log.info("database migrated from %s to %s", before or "empty", after)
        else:
            self.store.check_schema()

    def upgrade_database(self) -> tuple[str | None, str | None]:
        return self.store.upgrade()

    def get_source(self, name: str) -> SourceConfig:
        try:
            return self.settings.source(name)
        except Exception as exc:
            raise NotFound(str(exc)) from exc

    def sources_health(self, *, with_counts: bool = True) -> list[SourceHealth]:
        """Each configured source's health from its stored poll state (``candidates`` is 0
        unless ``with_counts``: counting is the costly part)."""
        states = self.store.poll_states()
        counts = self.store.candidate_counts_by_source() if with_counts else {}
        result = []
        for source in self.settings.sources:
            state = states.get(source.name) or PollState(source=source.name)
            result.append(
                SourceHealth(
                    name=source.name,
                    kind=source.kind,
                    url=source.url,
                    enabled=source.enabled,
                    interval_seconds=source.interval,
                    health=decide.health(source, state),
                    last_attempt_at=state.last_attempt_at,
                    last_success_at=state.last_success_at,
                    last_error=state.last_error,
                    last_error_at=state.last_error_at,
                    consecutive_failures=state.consecutive_failures,
                    next_poll_at=state.next_poll_at,
                    cursor=state.cursor,
                    candidates=counts.get(source.name, 0),
                )
            )
        return result

    def add_change_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` (from any thread) after every change to the running list, so
        the service can publish soon after. Changes made by other processes are noticed
        through the audit log instead."""
        self._listeners.append(listener)

    def notify_changed(self) -> None:
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:  # a listener's bug must not undo a committed change
                log.exception("change listener failed")

    def enqueue_deliveries(self, connection: Connection, edition: Edition, now: datetime) -> int:
        """Write the outbox rows an edition owes its receivers, inside the transaction that
        creates the edition (so an edition and its deliveries exist together or not at all).
        The delivery part of the facade overrides this; returns how many rows it wrote."""
        return 0

    async def _db(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await asyncio.to_thread(fn, *args, **kwargs)
