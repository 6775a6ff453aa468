"""Frozen values passed between layers.

Nothing here does I/O. The store returns these, never ORM rows; sources produce
``CandidateData``; the core hands ``PollState`` to the pure rules in ``decide``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

JSONObject = Mapping[str, Any]

PERSEVERANCE = "perseverance"
INGENUITY = "ingenuity"


def cursor_time(moment: datetime) -> str:
    """A moment as a poll cursor: ``YYYY-MM-DDTHH:MM:SSZ`` in UTC, fractions dropped.

    Fixed width, so string order is time order; flooring to the second keeps a ``gte``
    condition built from it inclusive of everything at that second (duplicates are cheap,
    gaps are not).
    """
    m = moment.astimezone(UTC) if moment.utcoffset() else moment
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}Z"


class CandidateStatus(StrEnum):
    NEW = "new"
    APPROVED = "approved"
    REJECTED = "rejected"
    PUBLISHED = "published"


@dataclass(frozen=True, slots=True, kw_only=True)
class Tile:
    """One piece of a frame NASA sent in tiles (``…_01_…``, ``…_02_…``): where it sits in
    the whole frame (NASA's ``subframeRect``: 1-based left, top, width, height) and its
    files."""

    imageid: str
    left: int
    top: int
    width: int
    height: int
    thumbnail_url: str | None = None
    medium_url: str | None = None
    large_url: str | None = None
    full_url: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    @classmethod
    def from_json(cls, data: JSONObject) -> Tile:
        """From ``to_json``'s output (what the store keeps)."""
        urls = {name: data.get(name) for name in _TILE_URLS}
        return cls(
            imageid=str(data["imageid"]),
            left=int(data["left"]),
            top=int(data["top"]),
            width=int(data["width"]),
            height=int(data["height"]),
            **{name: str(url) if url is not None else None for name, url in urls.items()},
        )


_TILE_URLS = ("thumbnail_url", "medium_url", "large_url", "full_url")


@dataclass(frozen=True, slots=True, kw_only=True)
class CandidateData:
    """One image as a source saw it, normalised; not yet stored.

    ``(source, external_id)`` identifies it: the same image seen twice is one candidate.
    URLs have passed the image-host allowlist. ``raw`` is the record exactly as received,
    unknown keys included. ``tiles``: the pieces of a frame NASA sent in tiles, as far as
    they have been seen (the candidate's own files are one of them); empty for a frame
    sent whole.
    """

    source: str
    external_id: str
    mission: str | None = None
    title: str = ""
    caption: str = ""
    credit: str | None = None
    camera: str | None = None
    sol: int | None = None
    taken_at: datetime | None = None
    mars_local_time: str | None = None
    received_at: datetime | None = None
    page_url: str | None = None
    thumbnail_url: str | None = None
    medium_url: str | None = None
    large_url: str | None = None
    full_url: str | None = None
    width: int | None = None
    height: int | None = None
    raw: JSONObject = field(default_factory=dict)
    tiles: tuple[Tile, ...] = ()

    @property
    def image_url(self) -> str | None:
        """The largest rendition we know of: what "click for the full-size file" opens."""
        return self.full_url or self.large_url or self.medium_url or self.thumbnail_url


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate(CandidateData):
    """A stored candidate: an image waiting for (or past) an editor's decision.

    ``version`` grows with every decision: a decision made on a stale version is refused.
    """

    id: int
    status: CandidateStatus
    first_seen_at: datetime
    version: int = 1
    decided_by: str | None = None
    decided_at: datetime | None = None
    reject_reason: str | None = None


@dataclass(frozen=True, slots=True)
class PageRequest:
    """One request a source wants made. Serialisable, so a sweep can resume after a crash.

    ``params`` keep their order and never repeat a key (NASA's API rejects repeats).
    ``conditional`` asks the fetcher to send the stored ETag / Last-Modified.
    ``context`` is the adapter's own bookkeeping (page number, query index, ...).
    """

    url: str
    params: tuple[tuple[str, str], ...] = ()
    conditional: bool = False
    context: JSONObject = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "params": [list(p) for p in self.params],
            "conditional": self.conditional,
            "context": dict(self.context),
        }

    @classmethod
    def from_json(cls, data: JSONObject) -> PageRequest:
        return cls(
            url=str(data["url"]),
            params=tuple((str(k), str(v)) for k, v in data.get("params", ())),
            conditional=bool(data.get("conditional", False)),
            context=dict(data.get("context") or {}),
        )


@dataclass(frozen=True, slots=True)
class Page:
    """What a source made of one response body.

    ``next`` is the following request of the same sweep, or None when the sweep is complete.
    ``high_water`` is the largest cursor value on this page (e.g. a ``date_received``);
    the core commits it as the source's cursor only when the sweep completes.
    ``problems`` describes the first few skipped records, for the log.
    ``marker`` is the feed's own change marker the sweep started from (NASA's ``latest``);
    the core stores it with the cursor when the sweep completes. ``unchanged``: the marker
    equals the stored one, so nothing arrived since the last complete sweep and the poll
    ends with this one request (like a 304).
    """

    candidates: tuple[CandidateData, ...]
    skipped: int = 0
    next: PageRequest | None = None
    high_water: str | None = None
    total: int | None = None
    problems: tuple[str, ...] = ()
    marker: str | None = None
    unchanged: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class PollState:
    """Where a source's polling stands; one row per source, updated with each page.

    ``cursor`` is committed only at the end of a complete sweep; ``sweep`` holds the
    in-progress sweep (next request, high water, marker) so a crash resumes it instead of
    losing it. ``marker`` is the feed's change marker as of the last complete sweep (for
    raw images NASA's ``latest``: when the newest downlink was received).
    """

    source: str
    cursor: str | None = None
    marker: str | None = None
    sweep: JSONObject | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    consecutive_failures: int = 0
    next_poll_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Backfill:
    """Progress of one backfill (a source and a sol range); re-running it continues here."""

    source: str
    from_sol: int | None
    to_sol: int | None
    next_request: PageRequest | None
    done: bool
    fetched: int
    inserted: int
    total: int | None
    started_at: datetime
    updated_at: datetime


class Health(StrEnum):
    OK = "ok"
    PENDING = "pending"
    FAILING = "failing"
    DISABLED = "disabled"


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceHealth:
    """A source's health at a glance, for ``watcher sources`` and ``/healthz``."""

    name: str
    kind: str
    url: str
    enabled: bool
    interval_seconds: float
    health: Health
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    consecutive_failures: int
    next_poll_at: datetime | None
    cursor: str | None
    candidates: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PollReport:
    """The outcome of polling one source once.

    ``deferred_until`` without an error: the source is backing off and was not polled.
    ``busy``: another poll of it (here or in another replica) was already running.
    """

    source: str
    requests: int = 0
    pages: int = 0
    seen: int = 0
    inserted: int = 0
    skipped: int = 0
    not_modified: bool = False
    busy: bool = False
    deferred_until: datetime | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckedRequest:
    """One live request of ``watcher check`` and what its answer showed.

    ``problems``: the answer no longer has the shape watcher expects (a non-2xx status is
    one: ``status`` says which). ``notes``: worth knowing, not a failure. ``error``: no
    answer at all (the host could not be reached), so nothing could be checked.
    """

    what: str
    url: str
    host: str
    status: int | None = None
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceCheck:
    """``watcher check`` of one source: the requests a first poll would make, checked.

    ``result`` is ``changed`` when any answer's shape changed (that outranks a later request
    that could not be made), ``unreachable`` when a host did not answer, else ``ok``.
    """

    source: str
    kind: str
    host: str
    requests: tuple[CheckedRequest, ...]

    @property
    def problems(self) -> tuple[str, ...]:
        return tuple(f"{r.what}: {problem}" for r in self.requests for problem in r.problems)

    @property
    def notes(self) -> tuple[str, ...]:
        return tuple(f"{r.what}: {note}" for r in self.requests for note in r.notes)

    @property
    def unreachable(self) -> tuple[CheckedRequest, ...]:
        return tuple(r for r in self.requests if r.error is not None)

    @property
    def result(self) -> str:
        if self.problems:
            return "changed"
        return "unreachable" if self.unreachable else "ok"

    @property
    def ok(self) -> bool:
        return self.result == "ok"


class Role(StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"


@dataclass(frozen=True, slots=True, kw_only=True)
class Editor:
    id: int
    name: str
    role: Role
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    """A signed-in browser. ``id`` is the hash of the cookie's token, never the token."""

    id: str
    editor: Editor
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Throttle:
    """Failed sign-ins counted under one key (an account, or a client address). The store
    keeps it and ``accounts.passwords`` decides on it, so it lives with the other values
    passed between the two."""

    key: str
    failures: int
    window_started_at: datetime
    locked_until: datetime | None


class TokenScope(StrEnum):
    READ = "read"
    WRITE = "write"


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiToken:
    """An API token as listed to admins; the secret itself is shown once, at creation."""

    id: int
    name: str
    prefix: str
    scope: TokenScope
    created_by: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Actor:
    """Who does something: an editor (by browser or CLI) or an API token."""

    name: str
    role: Role
    kind: str = "editor"  # editor | token | cli
    can_write: bool = True

    @property
    def label(self) -> str:
        return self.name if self.kind == "editor" else f"{self.kind}:{self.name}"

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


class EntryStatus(StrEnum):
    PUBLISHED = "published"
    UNPUBLISHED = "unpublished"


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
class AuditEvent:
    id: int
    at: datetime
    actor: str
    action: str
    subject_type: str
    subject_id: str
    before: JSONObject | None
    after: JSONObject | None
    undone_by: int | None = None


def day_start(day: date | None, *, after: bool = False) -> datetime | None:
    """Midnight UTC at the start of ``day``, or (``after``) of the day after it: the
    exclusive end that makes a range of whole days inclusive of its last day."""
    if day is None:
        return None
    return datetime.combine(day, time(), tzinfo=UTC) + timedelta(days=1 if after else 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class CandidateFilter:
    """The queue's filters; every one optional. ``taken_from`` <= taken_at < ``taken_to``
    (build whole days with ``day_start``)."""

    status: CandidateStatus | None = CandidateStatus.NEW
    mission: str | None = None
    camera: str | None = None
    source: str | None = None
    sol_min: int | None = None
    sol_max: int | None = None
    taken_from: datetime | None = None
    taken_to: datetime | None = None
    text: str | None = None


# -- publishing ------------------------------------------------------------------------


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

    ``frames`` are in the editor's order (the animation sorts them by time taken).
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


# -- subscribers and deliveries -----------------------------------------------------------


class SubscriberStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscriber:
    id: int
    email: str
    status: SubscriberStatus
    created_at: datetime
    confirmed_at: datetime | None = None
    unsubscribed_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Webhook:
    """A registered receiver. Its secret is shown once, at creation."""

    id: int
    url: str
    created_by: str
    created_at: datetime
    enabled: bool
    consecutive_failures: int = 0
    disabled_reason: str | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None


class DeliveryChannel(StrEnum):
    EMAIL = "email"
    CONFIRM = "confirm"
    WEBHOOK = "webhook"
    WEBSUB = "websub"
    APPRISE = "apprise"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """One message owed to one receiver (an outbox row). ``key`` is its idempotency key:
    the email's Message-ID and the webhook's ``X-Watcher-Delivery`` header."""

    id: int
    edition: int | None
    channel: DeliveryChannel
    target: str
    key: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    last_error: str | None = None
    sent_at: datetime | None = None


def name_key(name: str) -> str:
    """Editors' names are unique regardless of case: "Alice" and "alice" are one editor."""
    return name.strip().casefold()
