"""What the emulator serves: raw-image datasets (recorded or synthetic) and image-library items.

Ordering (both raw-image datasets): ``sol asc`` sorts by ``(sol, arrival)``, ``sol desc``
by ``(-sol, arrival)``, where arrival is the index of a synthetic record or the order in
which records were added. Within a sol, records keep arrival order in both directions, as
the real capture shows (frames ``_01, _02, _03`` of sol 1965 under ``sol desc``). Paging
is by position in that order, so a record added while a client pages (a late downlink)
shifts later pages, as on the real server.

``SyntheticRawImages`` never materialises its base records: sol, times and sample type are
arithmetic on the index, filters become an index range (sol and ``date_received`` both
grow with the index) and a page is generated on demand. Only records ``add``-ed later
(late downlinks, hand-made oddities) are held in memory, and they are merged into the
order by rank arithmetic. All datasets are safe to mutate while the server reads them.
"""

from __future__ import annotations

import bisect
import copy
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from watcher.demo.queries import (
    Condition,
    ImageLibraryQuery,
    RawImagesQuery,
    parse_timestamp,
    record_matches,
    record_sol,
)
from watcher.demo.records import RecordFactory, sol_start_ms

__all__ = [
    "ImageLibraryDataset",
    "RawImagesDataset",
    "RawImagesResult",
    "RecordedRawImages",
    "SyntheticRawImages",
]

_RECEIVED_DELAY_S = 64_800  # a sol's images arrive from ~18 Earth hours after its midnight
_DAY_START_LMST_MS = 9 * 3_600_000  # imaging runs 09:00..17:00 local mean solar time
_DAY_LENGTH_LMST_MS = 8 * 3_600_000
_LATE_LMST_MS = 17 * 3_600_000 + 1_800_000  # late-downlink frames: after the day's imaging


@dataclass(frozen=True, slots=True)
class RawImagesResult:
    images: list[dict[str, Any]]
    total_results: int  # records matching the query
    total_images: int  # records in the category, whatever the filters


class RawImagesDataset(Protocol):
    """Anything the emulator can serve at ``/rss/api/?feed=raw_images&category=...``."""

    def query(self, query: RawImagesQuery) -> RawImagesResult: ...

    def __len__(self) -> int: ...


def _latest_condition(top: int | None) -> tuple[Condition, ...]:
    # latest=true means "records of the greatest sol present"; with no records, nothing.
    return (Condition("sol", "eq", float(top if top is not None else -1)),)


class RecordedRawImages:
    """Raw images held as a list of dicts (recorded captures, hand-made edge cases).

    ``add(record)`` appends one later (e.g. a late downlink with an old sol and a new
    ``date_received``). Records are served as given, unknown keys and missing fields kept;
    a record without a usable ``sol`` sorts first and never matches a sol condition.
    """

    def __init__(self, records: Iterable[Mapping[str, Any]] = ()) -> None:
        self._lock = threading.Lock()
        self._entries: list[tuple[int, int, float | None, dict[str, Any]]] = []
        for record in records:
            self.add(record)

    @classmethod
    def from_capture(cls, body: bytes | str) -> RecordedRawImages:
        """From a raw-images JSON response (its ``images`` list)."""
        import json

        return cls(json.loads(body)["images"])

    def add(self, record: Mapping[str, Any]) -> None:
        sol = record_sol(record)
        received = parse_timestamp(record.get("date_received"))
        stored = copy.deepcopy(dict(record))
        with self._lock:
            entry = (sol if sol is not None else -1, len(self._entries), received, stored)
            bisect.insort(self._entries, entry, key=lambda e: (e[0], e[1]))

    def __len__(self) -> int:
        return len(self._entries)

    def query(self, query: RawImagesQuery) -> RawImagesResult:
        with self._lock:
            entries = list(self._entries)
        conditions = query.conditions
        if query.latest:
            sols = [record_sol(e[3]) for e in entries]
            conditions += _latest_condition(max((s for s in sols if s is not None), default=None))
        matching = [
            e
            for e in entries
            if record_matches(e[3], conditions, full_only=query.full_only, received=e[2])
        ]
        if query.descending:
            matching.sort(key=lambda e: -e[0])  # stable: arrival order kept within a sol
        start = query.page * query.num
        page = [e[3] for e in matching[start : start + query.num]]
        return RawImagesResult(page, len(matching), len(entries))


class SyntheticRawImages:
    """``count`` generated records, more on ``release(n)``; memory use independent of count.

    Record ``i`` has sol ``start_sol + i // per_sol``; its ``date_received`` grows strictly
    with ``i`` (and with the sol), so released records are always received later than
    earlier ones. With ``thumbnails_every=N`` (N >= 2) every N-th record is a
    ``Thumbnail`` (``extended=sample_type::full,`` filters them out). ``add_late(sol)``
    adds a record of an old sol received now-ish: what a late downlink looks like.
    """

    def __init__(
        self,
        count: int,
        *,
        category: str = "mars2020",
        start_sol: int | None = None,
        per_sol: int = 300,
        thumbnails_every: int = 0,
        seed: int = 0,
    ) -> None:
        if count < 0:
            raise ValueError("count must be >= 0")
        if not 1 <= per_sol <= 20_000:
            raise ValueError("per_sol must be within 1..20000")
        if thumbnails_every == 1 or thumbnails_every < 0:
            raise ValueError("thumbnails_every must be 0 (none) or >= 2")
        self.category = category
        self.start_sol = (
            start_sol if start_sol is not None else (46 if category == "ingenuity" else 0)
        )
        if self.start_sol < 0:
            raise ValueError("start_sol must be >= 0")
        self.per_sol = per_sol
        self.thumbnails_every = thumbnails_every
        self.seed = seed
        self._factory = RecordFactory(category, seed)
        self._step_s = max(1, min(60, 20_000 // per_sol))
        self._lmst_step_ms = _DAY_LENGTH_LMST_MS // per_sol
        self._lock = threading.Lock()
        self._visible = count
        # Added records, sorted by (sol, seq): (sol, seq, received epoch s, record).
        self._extras: list[tuple[int, int, float | None, dict[str, Any]]] = []

    # -- the index arithmetic -------------------------------------------------------------

    @property
    def visible_count(self) -> int:
        """Generated records currently served (``release`` raises it)."""
        return self._visible

    def __len__(self) -> int:
        return self._visible + len(self._extras)

    def release(self, n: int = 1) -> int:
        """Make ``n`` more generated records visible; returns the new visible count."""
        if n < 0:
            raise ValueError("n must be >= 0")
        with self._lock:
            self._visible += n
            return self._visible

    def sol_of(self, index: int) -> int:
        return self.start_sol + index // self.per_sol

    def first_index_of_sol(self, sol: int) -> int:
        """Index of the first generated record of ``sol`` (may be past the visible ones)."""
        return max(0, (sol - self.start_sol) * self.per_sol)

    def received_s(self, index: int) -> int:
        """``date_received`` of record ``index`` as Unix seconds (strictly increasing)."""
        sol, k = divmod(index, self.per_sol)
        sol += self.start_sol
        return sol_start_ms(sol) // 1000 + _RECEIVED_DELAY_S + k * self._step_s

    def is_thumbnail(self, index: int) -> bool:
        n = self.thumbnails_every
        return n >= 2 and index % n == n - 1

    def record(self, index: int) -> dict[str, Any]:
        """Generated record ``index`` (a fresh dict; visible or not)."""
        k = index % self.per_sol
        return self._factory.make(
            sol=self.sol_of(index),
            lmst_ms=_DAY_START_LMST_MS + k * self._lmst_step_ms,
            received_s=self.received_s(index),
            salt=index,
            thumbnail=self.is_thumbnail(index),
        )

    # -- records added by hand ------------------------------------------------------------

    def add(self, record: Mapping[str, Any]) -> None:
        """Hold one extra record; it sorts after the generated records of its sol."""
        sol = record_sol(record)
        received = parse_timestamp(record.get("date_received"))
        with self._lock:
            entry = (sol if sol is not None else -1, len(self._extras), received, dict(record))
            bisect.insort(self._extras, entry, key=lambda e: (e[0], e[1]))

    def add_late(self, sol: int, *, date_received: str | None = None) -> dict[str, Any]:
        """Add and return a record of ``sol`` received after everything so far.

        Its ``date_received`` defaults to one second after the latest one served, so an
        incremental poll on ``date_received`` finds it while a poll by sol would not.
        """
        with self._lock:
            latest = self.received_s(self._visible - 1) if self._visible else 0
            extras_latest = max((e[2] for e in self._extras if e[2] is not None), default=0.0)
            seq = len(self._extras)
        received = max(latest, int(extras_latest)) + 1
        record = self._factory.make(
            sol=sol,
            lmst_ms=_LATE_LMST_MS + (seq % 4000) * 1_500,
            received_s=received,
            salt=-(seq + 1),
            frame=90 + seq % 10,
        )
        if date_received is not None:
            record["date_received"] = date_received
        self.add(record)
        return record

    # -- serving --------------------------------------------------------------------------

    def query(self, query: RawImagesQuery) -> RawImagesResult:
        with self._lock:
            visible = self._visible
            extras = list(self._extras)
        conditions = query.conditions
        if query.latest:
            tops = [e[0] for e in extras if e[0] >= 0]
            if visible:
                tops.append(self.sol_of(visible - 1))
            conditions += _latest_condition(max(tops, default=None))
        lo, hi = self._index_range(conditions, visible)
        full = query.full_only and self.thumbnails_every >= 2
        base_len = self._count(lo, hi, full)
        chosen = [
            e
            for e in extras
            if record_matches(e[3], conditions, full_only=query.full_only, received=e[2])
        ]
        # Merged position of extra j: generated records ahead of it (those of lower or
        # equal sol inside the range) plus the j extras before it.
        positions = [
            self._count(lo, min(hi, max(lo, self.first_index_of_sol(e[0] + 1))), full) + j
            for j, e in enumerate(chosen)
        ]
        total = base_len + len(chosen)
        chosen_sols = [e[0] for e in chosen]

        def at(pos: int) -> tuple[int, dict[str, Any] | None, int]:
            """(sol, extra record or None, generated index) at ascending position ``pos``."""
            j = bisect.bisect_left(positions, pos)
            if j < len(positions) and positions[j] == pos:
                return chosen[j][0], chosen[j][3], -1
            index = self._nth(lo, pos - j, full)
            return self.sol_of(index), None, index

        def through(sol: int) -> int:
            """How many matching records have a sol <= ``sol``."""
            end = min(hi, max(lo, self.first_index_of_sol(sol + 1)))
            return self._count(lo, end, full) + bisect.bisect_right(chosen_sols, sol)

        start = query.page * query.num
        images: list[dict[str, Any]] = []
        for offset in range(start, min(start + query.num, total)):
            pos = offset
            if query.descending:
                # Sol groups come in reverse order, each group in arrival order.
                sol = at(total - 1 - offset)[0]
                pos = through(sol - 1) + offset - (total - through(sol))
            _, extra, index = at(pos)
            images.append(extra if extra is not None else self.record(index))
        return RawImagesResult(images, total, visible + len(extras))

    def _index_range(self, conditions: tuple[Condition, ...], visible: int) -> tuple[int, int]:
        """The generated records matching every condition: indexes ``lo <= i < hi``."""
        lo, hi = 0, visible
        indexes = range(visible)
        for cond in conditions:
            if cond.field == "sol":
                sol = int(cond.value)
                first, after = self.first_index_of_sol(sol), self.first_index_of_sol(sol + 1)
                if cond.op in ("gte", "eq"):
                    lo = max(lo, first)
                if cond.op == "gt":
                    lo = max(lo, after)
                if cond.op in ("lte", "eq"):
                    hi = min(hi, after)
                if cond.op == "lt":
                    hi = min(hi, first)
            else:
                at = bisect.bisect_left(indexes, cond.value, key=self.received_s)
                past = bisect.bisect_right(indexes, cond.value, key=self.received_s)
                if cond.op in ("gte", "eq"):
                    lo = max(lo, at)
                if cond.op == "gt":
                    lo = max(lo, past)
                if cond.op in ("lte", "eq"):
                    hi = min(hi, past)
                if cond.op == "lt":
                    hi = min(hi, at)
        return min(lo, visible), max(min(hi, visible), min(lo, visible))

    def _fulls_before(self, index: int) -> int:
        return index - index // self.thumbnails_every

    def _count(self, lo: int, hi: int, full: bool) -> int:
        if hi <= lo:
            return 0
        return self._fulls_before(hi) - self._fulls_before(lo) if full else hi - lo

    def _nth(self, lo: int, n: int, full: bool) -> int:
        if not full:
            return lo + n
        j = self._fulls_before(lo) + n
        return j + j // (self.thumbnails_every - 1)


def _first_data(item: Mapping[str, Any]) -> Mapping[str, Any]:
    data = item.get("data")
    if isinstance(data, list) and data and isinstance(data[0], Mapping):
        return data[0]
    return {}


class ImageLibraryDataset:
    """images-api.nasa.gov items (Collection+JSON ``items``), served in list order.

    ``q`` matches case-insensitively as a substring of title, description or a keyword;
    ``media_type`` is a comma list; ``year_start``/``year_end`` test ``date_created``.
    """

    def __init__(self, items: Iterable[Mapping[str, Any]] = ()) -> None:
        self._lock = threading.Lock()
        self._items: list[dict[str, Any]] = [copy.deepcopy(dict(i)) for i in items]

    @classmethod
    def from_capture(cls, body: bytes | str) -> ImageLibraryDataset:
        import json

        return cls(json.loads(body)["collection"]["items"])

    def add(self, item: Mapping[str, Any], *, first: bool = False) -> None:
        with self._lock:
            self._items.insert(0 if first else len(self._items), copy.deepcopy(dict(item)))

    def __len__(self) -> int:
        return len(self._items)

    def search(self, query: ImageLibraryQuery) -> tuple[list[dict[str, Any]], int]:
        """The page's items and the total number of hits."""
        with self._lock:
            items = list(self._items)
        needle = query.q.lower()
        hits = []
        for item in items:
            data = _first_data(item)
            if (
                query.media_types
                and str(data.get("media_type", "")).lower() not in query.media_types
            ):
                continue
            year = str(data.get("date_created", ""))[:4]
            if query.year_start is not None and not (
                year.isdigit() and int(year) >= query.year_start
            ):
                continue
            if query.year_end is not None and not (year.isdigit() and int(year) <= query.year_end):
                continue
            if needle:
                keywords = data.get("keywords")
                texts = [str(data.get("title", "")), str(data.get("description", ""))]
                texts += [str(k) for k in keywords] if isinstance(keywords, list) else []
                if not any(needle in text.lower() for text in texts):
                    continue
            hits.append(item)
        start = (query.page - 1) * query.page_size
        return hits[start : start + query.page_size], len(hits)
