"""The seam between the editors' desk and the database: the store methods it calls, so it depends
on this Protocol, not on SQLAlchemy. ``watcher.db.Store`` implements it (checked where
``make_watcher`` builds the part)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from watcher.types import (
    AuditEvent,
    Candidate,
    CandidateFilter,
    CandidateStatus,
    Entry,
    EntryDraft,
    EntryStatus,
    StatusCounts,
)


class DeskStore(Protocol):
    """What the editors' desk needs of the database."""

    def approve(
        self,
        candidate_ids: Sequence[int],
        versions: Mapping[int, int],
        draft: EntryDraft,
        credit: str,
        actor: str,
        now: datetime,
        status: EntryStatus = EntryStatus.PUBLISHED,
    ) -> Entry: ...

    def audit_events(
        self,
        *,
        limit: int = 100,
        before_id: int | None = None,
        actor: str | None = None,
        subject_type: str | None = None,
        subject_id: str | None = None,
    ) -> list[AuditEvent]: ...

    def count_by_status(self, wanted: CandidateFilter, *, cap: int, page: int) -> StatusCounts: ...

    def delete_entry(self, entry_id: int, version: int, actor: str, now: datetime) -> Entry: ...

    def entry_of(self, candidate_id: int) -> int | None: ...

    def facets(self) -> dict[str, list[str]]: ...

    def get_candidate(self, candidate_id: int) -> Candidate: ...

    def get_candidates(self, ids: Sequence[int]) -> list[Candidate]: ...

    def get_entry(self, entry_id: int) -> Entry: ...

    def list_candidates(
        self,
        *,
        status: CandidateStatus | None = None,
        source: str | None = None,
        limit: int | None = 100,
        before_id: int | None = None,
    ) -> list[Candidate]: ...

    def list_cards(
        self,
        wanted: CandidateFilter,
        *,
        by_score: bool,
        grouped: bool,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[Candidate]: ...

    def count_cards(self, wanted: CandidateFilter, *, cap: int) -> int: ...

    def group_members(self, group_ids: Sequence[int]) -> dict[int, list[Candidate]]: ...

    def list_entries(self, status: EntryStatus | None = None) -> list[Entry]: ...

    def neighbours(self, candidate: Candidate, limit: int = 12) -> list[Candidate]: ...

    def reject(
        self, candidate_id: int, version: int | None, reason: str | None, actor: str, now: datetime
    ) -> Candidate: ...

    def reorder_entries(self, order: Sequence[int], actor: str, now: datetime) -> list[Entry]: ...

    def search_candidates(
        self, wanted: CandidateFilter, *, limit: int = 50, before_id: int | None = None
    ) -> list[Candidate]: ...

    def set_entry_status(
        self, entry_id: int, version: int, status: EntryStatus, actor: str, now: datetime
    ) -> Entry: ...

    def undo_last(self, actor: str, now: datetime) -> AuditEvent: ...

    def update_entry(
        self,
        entry_id: int,
        version: int,
        draft: EntryDraft,
        credit: str,
        candidate_ids: Sequence[int] | None,
        actor: str,
        now: datetime,
        status: EntryStatus | None = None,
    ) -> Entry: ...
