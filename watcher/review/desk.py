"""The editors' desk: the Watcher's part for decisions, the running list's entries, the audit.

Validation and permissions live here, so the CLI, the web pages and the JSON API all accept
and refuse exactly the same things.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass
from datetime import datetime

from watcher.changes import Changes
from watcher.config import Settings
from watcher.exceptions import ConfigError, InvalidInput, NotFound
from watcher.markup import MAX_BODY
from watcher.permissions import require_admin, require_write
from watcher.review.store import DeskStore
from watcher.text import clean_optional, clean_text, text_errors, text_problem, unify_newlines
from watcher.types import (
    RENDITIONS,
    Actor,
    AuditEvent,
    Candidate,
    CandidateFilter,
    CandidateStatus,
    Entry,
    EntryDraft,
    EntryStatus,
    StatusCounts,
)

MAX_HEADING = 200
MAX_ALT_TEXT = 500
MAX_CREDIT = 300
MAX_REASON = 500
MAX_FRAMES = 200
# The queue's counts stop past this many a status ("1,000+"): each costs at most this many
# index entries, so the queue page stays as fast at a million candidates as at a hundred.
COUNT_CAP = 1_000


def check_draft(draft: EntryDraft) -> EntryDraft:
    """The draft with whitespace trimmed and line ends made LF; InvalidInput naming each bad
    field. A control character is refused as typed, before whitespace is folded: ``split``
    would quietly turn some of them (U+001F, U+0085) into spaces."""
    errors = _typed_errors(draft)
    cleaned = EntryDraft(
        heading=" ".join(draft.heading.split()),
        body=unify_newlines(draft.body).strip(),
        alt_text=" ".join(draft.alt_text.split()),
        credit=" ".join(draft.credit.split()) if draft.credit is not None else None,
        rendition=draft.rendition.strip().lower(),
    )
    if not cleaned.heading:
        errors.setdefault("heading", "write a heading")
    elif len(cleaned.heading) > MAX_HEADING:
        errors.setdefault("heading", f"keep it under {MAX_HEADING} characters")
    if len(cleaned.body) > MAX_BODY:
        errors.setdefault("body", f"keep it under {MAX_BODY} characters")
    if len(cleaned.alt_text) > MAX_ALT_TEXT:
        errors.setdefault("alt_text", f"keep it under {MAX_ALT_TEXT} characters")
    if cleaned.credit is not None and len(cleaned.credit) > MAX_CREDIT:
        errors.setdefault("credit", f"keep it under {MAX_CREDIT} characters")
    if cleaned.rendition not in RENDITIONS:
        errors.setdefault("rendition", f"choose one of {', '.join(RENDITIONS)}")
    if errors:
        raise InvalidInput(errors)
    return cleaned


def _typed_errors(draft: EntryDraft) -> dict[str, str]:
    """Each field of ``draft`` holding a character no page or feed can show, as typed."""
    typed: dict[str, str | None] = {"heading": draft.heading, "body": draft.body}
    typed |= {"alt_text": draft.alt_text, "credit": draft.credit, "rendition": draft.rendition}
    return text_errors(typed)


def _check_ranges(wanted: CandidateFilter) -> None:
    """InvalidInput when a range of the filter ends before it starts, or when a typed
    filter holds a control character (PostgreSQL refuses NUL in any query)."""
    typed = {"mission": wanted.mission, "camera": wanted.camera, "source": wanted.source}
    errors = text_errors(typed | {"text": wanted.text})
    if errors:
        raise InvalidInput(errors)
    if (
        wanted.sol_min is not None
        and wanted.sol_max is not None
        and wanted.sol_min > wanted.sol_max
    ):
        raise InvalidInput({"sol_max": "must not be below the first sol"})
    if wanted.taken_from and wanted.taken_to and wanted.taken_from >= wanted.taken_to:
        raise InvalidInput({"to": "must not be before the first day"})


def _page_size(limit: int) -> int:
    return max(1, min(limit, 500))


@dataclass(eq=False, repr=False)
class Desk:
    """Approve, reject, undo; edit, reorder and unpublish entries; read the audit log."""

    settings: Settings
    store: DeskStore
    _: KW_ONLY
    clock: Callable[[], datetime]
    changes: Changes

    # -- reading ---------------------------------------------------------------------

    def list_candidates(
        self,
        *,
        status: CandidateStatus | None = CandidateStatus.NEW,
        source: str | None = None,
        limit: int | None = 100,
        before_id: int | None = None,
    ) -> list[Candidate]:
        """The queue (newest first, keyset-paginated by id). Raises ConfigError for a
        source that is not configured."""
        if source is not None:
            self.settings.source(source)
        return self.store.list_candidates(
            status=status, source=source, limit=limit, before_id=before_id
        )

    def get_candidate(self, candidate_id: int) -> Candidate:
        return self.store.get_candidate(candidate_id)

    def search_candidates(
        self, wanted: CandidateFilter, *, limit: int = 50, before_id: int | None = None
    ) -> list[Candidate]:
        _check_ranges(wanted)
        return self.store.search_candidates(wanted, limit=_page_size(limit), before_id=before_id)

    def list_cards(
        self,
        wanted: CandidateFilter,
        *,
        by_score: bool = False,
        grouped: bool = False,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[Candidate]:
        """The queue as cards: by curation's score (highest first, the ones not scored yet
        after them, newest first) or newest first; with ``grouped``, one card per group
        (its hero) and the frames alone. A text search is matched by ``search_candidates``
        instead: newest first, one item per frame."""
        _check_ranges(wanted)
        if wanted.text or not (by_score or grouped):
            return self.search_candidates(wanted, limit=limit, before_id=before_id)
        return self.store.list_cards(
            wanted,
            by_score=by_score,
            grouped=grouped,
            limit=_page_size(limit),
            before_id=before_id,
        )

    def count_cards(self, wanted: CandidateFilter) -> int | None:
        """How many cards the grouped queue of ``wanted`` holds, stopped past
        ``COUNT_CAP``; None for a text search (it lists frames, not cards) and for filters
        no cards index leads with (mission, camera, source, dates: counting those cards
        reads rows, not index entries, 0.2-0.4 s at 1M candidates)."""
        _check_ranges(wanted)
        narrowed = (wanted.mission, wanted.camera, wanted.source, wanted.taken_from)
        if wanted.text or any(narrowed) or wanted.taken_to is not None:
            return None
        return self.store.count_cards(wanted, cap=COUNT_CAP)

    def group_members(self, group_ids: Sequence[int]) -> dict[int, list[Candidate]]:
        """Each group's candidates (any status), in taken order, by group id."""
        return self.store.group_members(group_ids)

    def queue_counts(self, wanted: CandidateFilter, *, limit: int = 50) -> StatusCounts:
        """How many candidates match ``wanted`` in each status (``wanted.status`` aside: the
        tabs of one filter), each count stopped past ``COUNT_CAP``. ``limit`` is the page
        size of the listing they sit beside, whose text matching they follow."""
        _check_ranges(wanted)
        return self.store.count_by_status(wanted, cap=COUNT_CAP, page=_page_size(limit))

    def get_candidates(self, ids: Sequence[int]) -> list[Candidate]:
        """The candidates with these ids, in the order given (unknown ids left out)."""
        return self.store.get_candidates(ids)

    def neighbours(self, candidate: Candidate, limit: int = 12) -> list[Candidate]:
        return self.store.neighbours(candidate, limit)

    def entry_of(self, candidate_id: int) -> int | None:
        return self.store.entry_of(candidate_id)

    def facets(self) -> dict[str, list[str]]:
        """Cameras, missions and sources seen so far (for the queue's filters)."""
        return self.store.facets()

    def list_entries(self, status: EntryStatus | None = None) -> list[Entry]:
        return self.store.list_entries(status)

    def get_entry(self, entry_id: int) -> Entry:
        return self.store.get_entry(entry_id)

    def audit_events(
        self,
        actor: Actor,
        *,
        limit: int = 100,
        before_id: int | None = None,
        by: str | None = None,
        subject_type: str | None = None,
        subject_id: str | None = None,
    ) -> list[AuditEvent]:
        require_admin(actor)
        typed = {"actor": by, "subject_type": subject_type, "subject_id": subject_id}
        if errors := text_errors(typed):
            raise InvalidInput(errors)
        return self.store.audit_events(
            limit=max(1, min(limit, 500)),
            before_id=before_id,
            actor=by,
            subject_type=subject_type,
            subject_id=subject_id,
        )

    # -- decisions -------------------------------------------------------------------

    def approve(
        self,
        candidate_ids: Sequence[int],
        draft: EntryDraft | None,
        actor: Actor,
        versions: Mapping[int, int] | None = None,
    ) -> Entry:
        """One entry from one candidate (a still) or several (a sequence, in this order).

        With the editor's heading and paragraph the entry is published. Without them (no
        draft, an empty heading or an empty paragraph) it is a draft while ``require_words``
        is on, so one keypress never mails NASA's raw title to subscribers; its heading
        starts from NASA's title, a placeholder for the editor to replace.
        """
        require_write(actor)
        ids = self._frame_ids(candidate_ids)
        first = self.store.get_candidate(ids[0])
        given = draft or EntryDraft(heading="")
        if errors := _typed_errors(given):  # as typed, before the trimming below
            raise InvalidInput(errors)
        worded = bool(given.heading.strip() and given.body.strip())
        publish = worded or not self.settings.publish.require_words
        # NASA's words stand in for the editor's, cleaned (a row stored before the text rule
        # may hold a control character): only what the editor typed is refused.
        title = clean_text(first.title)
        cleaned = check_draft(
            EntryDraft(
                heading=given.heading.strip() or title or f"Candidate {first.id}",
                body=given.body,
                alt_text=given.alt_text.strip() or title,
                credit=given.credit,
                rendition=given.rendition,
            )
        )
        nasa_credit = clean_optional(first.credit)
        credit = cleaned.credit or nasa_credit or self._fallback_credit(first.source)
        status = EntryStatus.PUBLISHED if publish else EntryStatus.DRAFT
        entry = self.store.approve(
            ids, versions or {}, cleaned, credit, actor.label, self.clock(), status
        )
        self.changes.notify()
        return entry

    def approve_each(self, candidate_ids: Sequence[int], actor: Actor) -> list[Entry]:
        """Bulk approve: one entry per candidate, each starting from NASA's title (so each
        a draft while ``require_words`` is on)."""
        return [self.approve([candidate_id], None, actor) for candidate_id in candidate_ids]

    def reject(
        self,
        candidate_id: int,
        actor: Actor,
        *,
        reason: str | None = None,
        version: int | None = None,
    ) -> Candidate:
        require_write(actor)
        if reason is not None and (problem := text_problem(reason)) is not None:
            raise InvalidInput({"reason": problem})
        reason = " ".join((reason or "").split()) or None
        if reason is not None and len(reason) > MAX_REASON:
            raise InvalidInput({"reason": f"keep it under {MAX_REASON} characters"})
        return self.store.reject(candidate_id, version, reason, actor.label, self.clock())

    def undo_last(self, actor: Actor) -> AuditEvent:
        """Take back the actor's latest approve or reject (an approval whose entry was
        edited since cannot be undone: unpublish it instead)."""
        require_write(actor)
        event = self.store.undo_last(actor.label, self.clock())
        self.changes.notify()
        return event

    # -- entries ---------------------------------------------------------------------

    def edit_entry(
        self,
        entry_id: int,
        version: int,
        draft: EntryDraft,
        actor: Actor,
        candidate_ids: Sequence[int] | None = None,
        status: EntryStatus | None = None,
    ) -> Entry:
        """Change an entry's text, frames and (optionally) status, as one transaction.
        A published entry, or one being published, keeps its heading and paragraph (see
        ``check_publishable``)."""
        require_write(actor)
        draft = check_draft(draft)
        ids = self._frame_ids(candidate_ids) if candidate_ids is not None else None
        current = self.store.get_entry(entry_id)
        if (status or current.status) is EntryStatus.PUBLISHED:
            self.check_publishable(draft.heading, draft.body)
        credit = draft.credit if draft.credit is not None else current.credit
        entry = self.store.update_entry(
            entry_id, version, draft, credit, ids, actor.label, self.clock(), status
        )
        self.changes.notify()
        return entry

    def set_entry_status(
        self, entry_id: int, version: int, status: EntryStatus, actor: Actor
    ) -> Entry:
        """Publish, unpublish or shelve an entry as it is; publishing needs its words."""
        require_write(actor)
        if status is EntryStatus.PUBLISHED:
            current = self.store.get_entry(entry_id)
            self.check_publishable(current.heading, current.body)
        entry = self.store.set_entry_status(entry_id, version, status, actor.label, self.clock())
        self.changes.notify()
        return entry

    def delete_entry(self, entry_id: int, version: int, actor: Actor) -> Entry:
        """Take an entry off the list for good; its candidates return to the queue."""
        require_write(actor)
        entry = self.store.delete_entry(entry_id, version, actor.label, self.clock())
        self.changes.notify()
        return entry

    def reorder_entries(self, order: Sequence[int], actor: Actor) -> list[Entry]:
        require_write(actor)
        entries = self.store.reorder_entries(list(order), actor.label, self.clock())
        self.changes.notify()
        return entries

    def check_publishable(self, heading: str, body: str) -> None:
        """InvalidInput naming each missing field, while ``require_words`` is on: an entry
        reaches readers only with an editor's heading and paragraph."""
        if not self.settings.publish.require_words:
            return
        errors: dict[str, str] = {}
        if not heading.strip():
            errors["heading"] = "write a heading before publishing"
        if not body.strip():
            errors["body"] = "write a paragraph before publishing"
        if errors:
            raise InvalidInput(errors)

    def _fallback_credit(self, source: str) -> str:
        """The credit table's words for the source's kind (DESIGN.md "Credits"), so an
        entry is never approved without a credit; "NASA" for a source no longer configured."""
        # Imported here: the sources' package holds every feed's parser (feedparser among
        # them), which reading the queue never needs.
        from watcher.polling.sources.credits import DEFAULT_CREDIT, fallback_credit

        try:
            kind = self.settings.source(source).kind
        except ConfigError:
            return DEFAULT_CREDIT
        return fallback_credit(kind)

    def _frame_ids(self, candidate_ids: Sequence[int]) -> list[int]:
        ids = list(dict.fromkeys(int(i) for i in candidate_ids))
        if not ids:
            raise InvalidInput({"candidates": "choose at least one candidate"})
        if len(ids) > MAX_FRAMES:
            raise InvalidInput({"candidates": f"an entry holds at most {MAX_FRAMES} frames"})
        found = {c.id: c for c in self.store.get_candidates(ids)}
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFound(f"no candidate with id {missing[0]}")
        return ids


__all__ = ["Desk", "check_draft"]
