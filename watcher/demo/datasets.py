"""What the emulator serves at ``/rss/api/``: the raw-image dataset contract and the
recorded dataset. The synthetic dataset is in ``synthetic``, the image library's in
``image_library``.

Ordering (both raw-image datasets): ``sol asc`` sorts by ``(sol, arrival)``, ``sol desc``
by ``(-sol, arrival)``, where arrival is the index of a synthetic record or the order in
which records were added. Within a sol, records keep arrival order in both directions, as
the real capture shows (frames ``_01, _02, _03`` of sol 1965 under ``sol desc``). Paging
is by position in that order, so a record added while a client pages (a late downlink)
shifts later pages, as on the real server. All datasets are safe to mutate while the
server reads them.
"""

from __future__ import annotations

import bisect
import copy
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from watcher.demo.queries import RawImagesQuery, RecordTimes, record_matches, record_times

__all__ = [
    "BATCH_WINDOW_S",
    "Entry",
    "LatestSummary",
    "RawImagesDataset",
    "RawImagesResult",
    "RecordedRawImages",
    "find_by_id",
    "insert_entry",
    "summary_of",
    "taken_order",
]

# Records received this long before the newest one make up NASA's "latest" downlink batch.
BATCH_WINDOW_S = 3_600


@dataclass(frozen=True, slots=True)
class RawImagesResult:
    images: list[dict[str, Any]]
    total_results: int  # records matching the query
    total_images: int  # records in the category, whatever the filters


@dataclass(frozen=True, slots=True)
class LatestSummary:
    """What ``latest=true`` reports: when the newest downlink batch was received (epoch
    seconds), the sols it touched (newest first), how many images it brought, the newest
    sol, how many images that sol has, and how many the category holds."""

    latest: float | None
    latest_sols: list[int]
    new_count: int
    latest_sol: int | None
    sol_count: int
    total: int


class RawImagesDataset(Protocol):
    """Anything the emulator can serve at ``/rss/api/?feed=raw_images&category=...``."""

    def query(self, query: RawImagesQuery) -> RawImagesResult: ...

    def summary(self) -> LatestSummary: ...

    def by_id(self, imageid: str) -> dict[str, Any] | None: ...

    def __len__(self) -> int: ...


# A held record: (sol, or -1 without a usable one; arrival; parsed times; the record).
Entry = tuple[int, int, RecordTimes, dict[str, Any]]


def _sol_key(entry: Entry) -> tuple[int, int]:
    return entry[0], entry[1]


def taken_order(entry: Entry) -> tuple[bool, float, int]:
    """The ``order=date_taken`` sort key: records without a time taken first, then by
    time taken, ties in arrival order."""
    return entry[2].taken is not None, entry[2].taken or 0.0, entry[1]


def insert_entry(entries: list[Entry], record: dict[str, Any]) -> None:
    """Hold ``record`` in ``entries`` (kept sorted by sol, then arrival); the caller holds
    the dataset's lock, so the arrival number is the count so far."""
    times = record_times(record)
    sol = times.sol if times.sol is not None else -1
    bisect.insort(entries, (sol, len(entries), times, record), key=_sol_key)


def find_by_id(entries: Iterable[Entry], imageid: str) -> dict[str, Any] | None:
    """The held record with ``imageid`` (ids compared without surrounding blanks)."""
    return next((e[3] for e in entries if str(e[3].get("imageid")).strip() == imageid), None)


def summary_of(entries: list[Entry], total: int) -> LatestSummary:
    """The summary of records given as entries (all of them, or the extras of a synthetic
    dataset merged with its generated batch by the caller)."""
    received = [e[2].received for e in entries if e[2].received is not None]
    latest = max(received, default=None)
    batch = [
        e for e in entries if latest is not None and (e[2].received or 0) >= latest - BATCH_WINDOW_S
    ]
    sols = sorted({e[0] for e in batch if e[0] >= 0}, reverse=True)
    top = max((e[0] for e in entries if e[0] >= 0), default=None)
    return LatestSummary(
        latest=latest,
        latest_sols=sols,
        new_count=len(batch),
        latest_sol=top,
        sol_count=sum(1 for e in entries if top is not None and e[0] == top),
        total=total,
    )


class RecordedRawImages:
    """Raw images held as a list of dicts (recorded captures, hand-made edge cases).

    ``add(record)`` appends one later (e.g. a late downlink with an old sol and a new
    ``date_received``). Records are served as given, unknown keys and missing fields kept;
    a record without a usable ``sol`` sorts first and never matches a sol condition.
    """

    def __init__(self, records: Iterable[Mapping[str, Any]] = ()) -> None:
        self._lock = threading.Lock()
        self._entries: list[Entry] = []
        for record in records:
            self.add(record)

    @classmethod
    def from_capture(cls, body: bytes | str) -> RecordedRawImages:
        """From a raw-images JSON response (its ``images`` list)."""
        import json

        return cls(json.loads(body)["images"])

    def add(self, record: Mapping[str, Any]) -> None:
        stored = copy.deepcopy(dict(record))
        with self._lock:
            insert_entry(self._entries, stored)

    def __len__(self) -> int:
        return len(self._entries)

    def query(self, query: RawImagesQuery) -> RawImagesResult:
        with self._lock:
            entries = list(self._entries)
        matching = [
            e
            for e in entries
            if record_matches(e[3], query.conditions, full_only=query.full_only, times=e[2])
        ]
        if query.order == "date_taken":
            matching.sort(key=taken_order)
            if query.descending:
                matching.reverse()
        elif query.descending:
            matching.sort(key=lambda e: -e[0])  # stable: arrival order kept within a sol
        start = query.page * query.num
        page = [e[3] for e in matching[start : start + query.num]]
        return RawImagesResult(page, len(matching), len(entries))

    def summary(self) -> LatestSummary:
        with self._lock:
            entries = list(self._entries)
        return summary_of(entries, len(entries))

    def by_id(self, imageid: str) -> dict[str, Any] | None:
        with self._lock:
            entries = list(self._entries)
        return find_by_id(entries, imageid)
