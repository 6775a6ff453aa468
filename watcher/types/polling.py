"""What polling passes between a source, its pure rules, the store and the operator.

A source turns a ``PageRequest`` into a ``Page``; ``PollState`` and ``Backfill`` are what the
store keeps so an interrupted sweep resumes instead of starting over; ``PollReport``,
``SourceHealth`` and ``SourceCheck`` are what the operator is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from watcher.types.candidates import CandidateData, JSONObject
from watcher.types.leases import LeaseHolder


def cursor_time(moment: datetime) -> str:
    """A moment as a poll cursor: ``YYYY-MM-DDTHH:MM:SSZ`` in UTC, fractions dropped.

    Fixed width, so string order is time order; flooring to the second keeps a ``gte``
    condition built from it inclusive of everything at that second (duplicates are cheap,
    gaps are not).
    """
    m = moment.astimezone(UTC) if moment.utcoffset() else moment
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}Z"


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


@dataclass(frozen=True, slots=True)
class PageStored:
    """What storing a page's candidates did: how many were new, and how many the database
    refused for what they hold (skipped and counted, like a record a source skips: the
    cursor moves past them), with the first refusal's reason for the log."""

    inserted: int
    refused: int = 0
    reason: str | None = None


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
    ``busy``: another poll of it (here or in another replica) was already running;
    ``held_by``: who held its lease then, when known. ``internal``: the failure was
    watcher's own (its database, a bug), not NASA's: ``poll --once`` exits 1 for it.
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
    held_by: LeaseHolder | None = None
    internal: bool = False

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


class PollOutcome(StrEnum):
    """How one poll ended: new or unchanged records read (``ok``), nothing new since the last
    complete sweep (``not_modified``: a 304 or an unchanged marker), or a failure."""

    OK = "ok"
    NOT_MODIFIED = "not_modified"
    FAILED = "failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class PollRecord:
    """One finished poll, as the operator's status page charts it (the ``poll_log`` table).

    Written in the transaction that stores the poll's last state, so the log never tells of
    a poll whose outcome the source's state does not hold. ``inserted`` counts the new
    candidates of the whole poll; ``requests`` every request it made.
    """

    source: str
    started_at: datetime
    finished_at: datetime
    outcome: PollOutcome
    requests: int = 0
    inserted: int = 0
    error: str | None = None

    @property
    def duration_ms(self) -> int:
        return max(0, round((self.finished_at - self.started_at).total_seconds() * 1000))
