"""The values the publishing layer passes around: what a site shows, what a publish did.

They live here rather than in ``watcher.types`` because only publishing makes them; the
facade returns them, so callers never need to import this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import NamedTuple

from watcher.types import Edition, LeaseHolder, PublishedEntry

# What a publish reads in one transaction: (change watermark, the list in order, the
# published state as entry id -> (digest, position, edition), the latest edition).
Snapshot = tuple[int, list[PublishedEntry], dict[int, tuple[str, int, int]], Edition | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteSettings:
    """The list's title and intro (admins edit them; the config gives the first ones)."""

    title: str
    intro: str
    updated_by: str | None = None
    updated_at: datetime | None = None


class StoredEntry(NamedTuple):
    """What the last edition published for one entry (a row of ``published_entries``).
    A named tuple: a publish makes 10,000 of them."""

    digest: str
    position: int
    edition: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ListDiff:
    """How the list now differs from what the last edition published."""

    added: tuple[int, ...] = ()
    changed: tuple[int, ...] = ()
    removed: tuple[int, ...] = ()
    reordered: bool = False

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed or self.reordered)


@dataclass(frozen=True, slots=True, kw_only=True)
class Animation:
    """An entry's frame sequence as an animated WebP plus a GIF fallback.

    ``key`` is the content hash of (frame URLs, caps): the file names, and the cache key.
    """

    key: str
    webp: bytes
    gif: bytes
    width: int
    height: int
    frames: int

    @property
    def webp_path(self) -> str:
        return f"animations/{self.key}.webp"

    @property
    def gif_path(self) -> str:
        return f"animations/{self.key}.gif"


@dataclass(frozen=True, slots=True, kw_only=True)
class AnimationFailure:
    """Why the last attempt at an animation failed, kept beside the cache (see ``animate``).

    ``reason`` names the frame and what went wrong ("frame 3 (candidate 12, https://...)
    could not be fetched: HTTP 404 Not Found"), in words an editor may read; ``frame`` is
    that frame's place in the editor's order (None when no one frame is to blame).
    ``attempts`` counts failures in a row; no publish tries again before ``retry_at``.
    """

    reason: str
    frame: int | None
    at: datetime
    attempts: int
    retry_at: datetime


class AnimationStatus(StrEnum):
    """Where an entry's animation stands: made (in the cache), not made yet, or failed."""

    READY = "ready"
    PENDING = "pending"
    FAILED = "failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class AnimationState:
    """What became of one sequence's animation, read from the publisher's cache.

    ``key`` names the animation the entry's frames make now (``<key>.webp``, ``.gif``);
    ``frames`` is how many it holds (or would). ``width`` and ``height`` are the made
    animation's; ``failure`` is the last attempt's, for the current frames only.
    """

    entry_id: int
    status: AnimationStatus
    key: str
    frames: int
    width: int | None = None
    height: int | None = None
    failure: AnimationFailure | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteContent:
    """Everything one rendering of the site depends on; rendering reads nothing else.

    ``edition`` is 0 before the first edition. ``updated`` is the time the status line and
    the feeds' ``updated`` show (the edition's time). ``notes`` explain quiet periods
    (a feed failing, solar conjunction). ``digests`` (entry id -> digest) lets a renderer
    reuse what it rendered for an unchanged entry; it is computed when left out.
    ``subscribe`` is where the email sign-up form posts (None: no form, email is off or
    an export has no address of a watcher to post to). ``public_url`` is the site's
    address as readers know it (``[server] public_url``, no trailing slash): shared links'
    Open Graph tags and canonical links are absolute, so without it they are left out.
    ``templates_dir`` holds the operator's templates, used before the shipped ones.
    ``policy`` is the Content-Security-Policy every page carries in a ``<meta>`` tag (the
    header ``watcher run`` sends, ``watcher.csp``), so a copy on any static host keeps it.
    """

    title: str
    intro: str
    base_url: str
    entries: tuple[PublishedEntry, ...]
    edition: int
    updated: datetime
    notes: tuple[str, ...] = ()
    animations: Mapping[int, Animation] = field(default_factory=dict)
    feed_items: int = 50
    hubs: tuple[str, ...] = ()
    digests: Mapping[int, str] | None = None
    subscribe: str | None = None
    public_url: str | None = None
    templates_dir: Path | None = None
    policy: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderedSite:
    """A render for the writer: ``files`` (relative path -> bytes) to write unless the
    current version has the same bytes; ``reused`` paths not rendered at all, because the
    current version holds them under the same reuse tag (hardlinked); ``tags`` (path ->
    reuse tag) for the files that have one, kept in the version's manifest."""

    files: dict[str, bytes]
    tags: dict[str, str] = field(default_factory=dict)
    reused: tuple[str, ...] = ()
    timings: Mapping[str, float] = field(default_factory=dict)  # seconds, by stage


@dataclass(frozen=True, slots=True, kw_only=True)
class WriteReport:
    """What the site writer did: the version it made current and how much it wrote."""

    version: str
    edition: int
    written: int
    linked: int
    removed_versions: int = 0
    synced: float = 0.0  # seconds spent making the new files durable


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishReport:
    """The outcome of one ``publish()``.

    ``edition`` is the new edition, or None when nothing changed (``changed`` False) or
    another publisher held the lease (``busy``; ``held_by`` says who, when known).
    ``audit_id`` is the change watermark the publish looked at: changes with a higher
    audit id are not in it. ``site`` says what the site writer did (None when no file was
    touched). ``animations_failed`` counts
    entries shown as a still because a frame could not be fetched or decoded, or because an
    earlier attempt failed and its wait is not over (see ``Animator``). ``pending``: the
    list changed again while this publish ran.
    """

    edition: Edition | None
    changed: bool
    busy: bool = False
    entries: int = 0
    audit_id: int = 0
    deliveries: int = 0
    site: WriteReport | None = None
    animations_built: int = 0
    animations_failed: int = 0
    timings: Mapping[str, float] = field(default_factory=dict)
    pending: bool = False
    held_by: LeaseHolder | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncReport:
    """The outcome of ``sync_site()``: whether the files were re-rendered, and why.

    ``pending``: the list differs from the latest edition (a publish is due).
    """

    edition: int
    rendered: bool
    reason: str = ""
    pending: bool = False
    site: WriteReport | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeMark:
    """The newest change to the list (audit id and time) versus what was last examined:
    ``due`` when a change is newer than the last publish looked at."""

    audit_id: int
    at: datetime | None
    checked_audit_id: int

    @property
    def due(self) -> bool:
        return self.audit_id > self.checked_audit_id
