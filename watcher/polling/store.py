"""The seam between the poller and the database: the store methods it calls, so it depends
on this Protocol, not on SQLAlchemy. ``watcher.db.Store`` implements it (checked where
``make_watcher`` builds the part)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from watcher.leases import LeaseKeeper
from watcher.plans import Lease
from watcher.types import (
    Backfill,
    CandidateData,
    PageStored,
    PollRecord,
    PollState,
)


class PollStore(LeaseKeeper, Protocol):
    """What the poller needs of the database."""

    def candidate_counts_by_source(self) -> dict[str, int]: ...

    def get_backfill(
        self, source: str, from_sol: int | None, to_sol: int | None
    ) -> Backfill | None: ...

    def get_poll_state(self, source: str) -> PollState: ...

    def known_external_ids(self, source: str, external_ids: Sequence[str]) -> set[str]: ...

    def poll_states(self) -> dict[str, PollState]: ...

    def save_backfill(self, backfill: Backfill) -> None: ...

    def save_backfill_page(
        self, items: Sequence[CandidateData], backfill: Backfill
    ) -> Backfill: ...

    def save_poll_page(
        self,
        items: Sequence[CandidateData],
        now: datetime,
        state: PollState,
        lease: Lease | None = None,
        record: PollRecord | None = None,
    ) -> PageStored: ...

    def save_poll_state(self, state: PollState, record: PollRecord | None = None) -> None: ...
