"""The seam between the publisher and the database: the store methods it calls, so it depends
on this Protocol, not on SQLAlchemy. ``watcher.db.Store`` implements it (checked where
``make_watcher`` builds the part)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from watcher.leases import LeaseKeeper
from watcher.plans import EditionPlan
from watcher.types import (
    Edition,
    PublishedEntry,
)


class PublishStore(LeaseKeeper, Protocol):
    """What the publisher needs of the database."""

    def change_mark(self) -> tuple[int, datetime | None, int]: ...

    def commit_edition(self, plan: EditionPlan) -> tuple[Edition, int]: ...

    def get_edition(self, number: int) -> Edition: ...

    def latest_edition(self) -> Edition | None: ...

    def latest_edition_number(self) -> int | None: ...

    def list_editions(self, limit: int = 50, before: int | None = None) -> list[Edition]: ...

    def mark_checked(self, audit_id: int) -> None: ...

    def publish_snapshot(
        self,
    ) -> tuple[int, list[PublishedEntry], dict[int, tuple[str, int, int]], Edition | None]: ...

    def published_list(self) -> list[PublishedEntry]: ...

    def set_site_text(
        self, title: str, intro: str, before: Mapping[str, str], actor: str, now: datetime
    ) -> None: ...

    def site_text(self) -> tuple[dict[str, str], str | None]: ...
