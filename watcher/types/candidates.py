"""Images as the sources saw them and as the queue keeps them.

``CandidateData`` is what a source made of one record, ``Candidate`` the stored one waiting
for (or past) an editor's decision, ``CandidateFilter`` how the queue narrows them.
``JSONObject``, the shape of every JSON value these types carry, starts here: with the
record exactly as a source received it.
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
    # Curation's, stored by its background job: None/() until it has scored the candidate.
    # ``group_id`` is the group's leader (None when alone), ``group_kind`` a GroupKind's
    # value, ``group_hero`` whether the queue shows it as a card (its group's hero, or alone).
    score: float | None = None
    score_reasons: tuple[str, ...] = ()
    group_id: int | None = None
    group_kind: str | None = None
    group_size: int = 1
    group_hero: bool = True

    @property
    def group(self) -> int | None:
        """The group's id (its leader's candidate id), None when alone."""
        return self.group_id

    @property
    def kind(self) -> str:
        """``sequence`` for a frame of a sequence (offered as an animation), else ``frame``."""
        return "sequence" if self.group_kind == "sequence" else "frame"


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


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusCounts:
    """How many candidates match a filter, its status aside: in all and per status.

    Counting stops past ``cap``: a number above ``cap`` reads "more than ``cap``", so a count
    reads at most ``cap + 1`` index entries a status however large the table grows. A status
    missing from ``by_status`` was not counted: a text search matching more than ``cap``
    candidates is counted as a whole only (its index cannot count one status cheaply).
    """

    cap: int
    total: int
    by_status: Mapping[CandidateStatus, int] = field(default_factory=dict)
