"""The seam between the curator and the database: the store methods it calls, so it depends
on this Protocol, not on SQLAlchemy. ``watcher.db.Store`` implements it (checked where
``make_watcher`` builds the part)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from watcher.leases import LeaseKeeper
from watcher.plans import CurationPlan, PictureFailure
from watcher.types import Candidate, CandidateStatus, Fingerprint, PictureToDo


class CurateStore(LeaseKeeper, Protocol):
    """What the curator needs of the database."""

    def curation_window(self, candidate_ids: Sequence[int]) -> list[Candidate]: ...

    def score_digests(self, candidate_ids: Sequence[int]) -> dict[int, str | None]: ...

    def queued_windows(self, after: tuple[int, int], limit: int) -> list[tuple[int, int]]: ...

    def get_settings(self, *keys: str) -> dict[str, str]: ...

    def set_setting(self, key: str, value: str) -> None: ...

    def phashes_of(
        self, statuses: Sequence[CandidateStatus], sols: Sequence[int] | None = None
    ) -> list[tuple[int, int]]: ...

    def save_curation(self, plan: CurationPlan) -> None: ...

    def fingerprint_backlog(self, now: datetime, *, archive: bool = False) -> tuple[int, int]: ...

    def fingerprints_for(self, candidate_ids: Sequence[int]) -> dict[int, Fingerprint]: ...

    def pictures_to_fingerprint(
        self, now: datetime, limit: int, *, archive: bool = False
    ) -> list[PictureToDo]: ...

    def record_picture_failures(self, failures: Sequence[PictureFailure]) -> None: ...

    def save_fingerprints(self, measured: Sequence[tuple[Fingerprint, str | None]]) -> None: ...
