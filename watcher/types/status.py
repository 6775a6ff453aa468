"""What the admins' Status page shows, as the store reads it: recent figures only, each
bounded (a window of sols, the last polls of each source, the latest editions), so the
page costs the same at a million candidates as at a thousand."""

from __future__ import annotations

from dataclasses import dataclass

from watcher.types.polling import PollRecord


@dataclass(frozen=True, slots=True)
class SolCount:
    """How many candidates of a mission one camera took on one sol (``camera`` None when
    the source did not say)."""

    sol: int
    camera: str | None
    count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class MissionSols:
    """A mission's images per sol and camera over its latest sols ``first``..``last``
    (``last`` is the newest sol stored for it); sols without images have no count."""

    mission: str
    first: int
    last: int
    counts: tuple[SolCount, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class EditionDeliveries:
    """The messages owed for one edition, by state: ``failed`` ones were given up."""

    edition: int
    sent: int = 0
    pending: int = 0
    failed: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusFigures:
    """Everything the Status page charts. ``polls`` holds each configured source's latest
    polls, oldest first (an empty tuple for a source never polled since the log began)."""

    missions: tuple[MissionSols, ...]
    polls: tuple[tuple[str, tuple[PollRecord, ...]], ...]
    deliveries: tuple[EditionDeliveries, ...]
