"""The seam between the pruner and the database: the store methods it calls, so it depends
on this Protocol, not on SQLAlchemy. ``watcher.db.Store`` implements it (checked where
``make_watcher`` builds the part)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from watcher.leases import LeaseKeeper
from watcher.types import JSONObject, PruneKind


class PruneStore(LeaseKeeper, Protocol):
    """What the pruner needs of the database."""

    def records_to_prune(
        self, kind: PruneKind, before: datetime, after_id: int, limit: int
    ) -> list[tuple[int, JSONObject]]: ...

    def replace_records(
        self, kind: PruneKind, before: datetime, records: Sequence[tuple[int, JSONObject]]
    ) -> int: ...

    def count_records(self, kind: PruneKind, before: datetime) -> int: ...

    def prune_rows(self, kind: PruneKind, before: datetime, limit: int) -> int: ...

    def count_rows(self, kind: PruneKind, before: datetime) -> int: ...

    def purge_sessions(self, now: datetime) -> int: ...

    def count_expired_sessions(self, now: datetime) -> int: ...

    def entry_picture_urls(self) -> set[str]: ...

    def get_settings(self, *keys: str) -> dict[str, str]: ...

    def set_setting(self, key: str, value: str) -> None: ...
