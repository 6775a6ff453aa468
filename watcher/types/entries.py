"""The running list: entries as editors write them and as the public list shows them.

``EntryDraft`` and ``Entry`` are the editors' side. A ``PublishedEntry`` and its frames are
what the page, the feeds and the mail render; an ``Edition`` is one publish that changed
something.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class EntryStatus(StrEnum):
    """Where an entry stands: only ``published`` ones reach the page, the feeds and the mail.

    A ``draft`` is an approval made without an editor's heading and paragraph (while
    ``[publish] require_words`` is on): it waits on the Entries page for its words.
    """

    PUBLISHED = "published"
    UNPUBLISHED = "unpublished"
    DRAFT = "draft"


RENDITIONS = ("medium", "large", "full")


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One item of the running list: a heading, the editor's paragraph (Markdown subset),
    alt text, credit, and one or more candidates (several make a sequence)."""

    id: int
    heading: str
    body: str
    alt_text: str
    credit: str
    rendition: str
    position: int
    status: EntryStatus
    version: int
    candidate_ids: tuple[int, ...]
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class EntryDraft:
    """What an editor writes when approving, or edits later."""

    heading: str
    body: str = ""
    alt_text: str = ""
    credit: str | None = None  # None: NASA's credit of the first candidate
    rendition: str = "large"


@dataclass(frozen=True, slots=True, kw_only=True)
class Frame:
    """One picture of a published entry (a still has one; a sequence several)."""

    candidate_id: int
    taken_at: datetime | None
    thumbnail_url: str | None
    medium_url: str | None
    large_url: str | None
    full_url: str | None
    width: int | None
    height: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishedEntry:
    """An entry as the public list shows it: what the page, the feeds and the mail need.

    ``frames`` are in the editor's order, which the animation plays.
    """

    id: int
    position: int
    heading: str
    body: str
    alt_text: str
    credit: str
    rendition: str
    frames: tuple[Frame, ...]
    mission: str | None
    camera: str | None
    sol: int | None
    mars_local_time: str | None
    taken_at: datetime | None
    nasa_page_url: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Edition:
    """One publish that changed something: what it added, changed and removed."""

    number: int
    published_at: datetime
    added: tuple[int, ...]
    changed: tuple[int, ...]
    removed: tuple[int, ...]
    reordered: bool
    site_changed: bool
    entries: int
    audit_id: int
