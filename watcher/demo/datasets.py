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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from watcher.demo.queries import (
    Condition,
    ImageLibraryQuery,
    RawImagesQuery,
    RecordTimes,
    record_matches,
    record_times,
)
from watcher.demo.records import RecordFactory, sol_start_ms, taken_ms

__all__ = [
    "ImageLibraryDataset",
    "LatestSummary",
    "RawImagesDataset",
    "RawImagesResult",
    "RecordedRawImages",
    "SyntheticRawImages",
]

# Records received this long before the newest one make up NASA's "latest" downlink batch.
BATCH_WINDOW_S = 3_600
MATERIALISE_LIMIT = 200_000

_RECEIVED_DELAY_S = 64_800  # a sol's images arrive from ~18 Earth hours after its midnight
_DAY_START_LMST_MS = 9 * 3_600_000  # imaging runs 09:00..17:00 local mean solar time
_DAY_LENGTH_LMST_MS = 8 * 3_600_000
_LATE_LMST_MS = 17 * 3_600_000 + 1_800_000  # late-downlink frames: after the day's imaging


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


_Entry = tuple[int, int, RecordTimes, dict[str, Any]]  # (sol or -1, arrival, times, record)


def _sol_key(entry: _Entry) -> tuple[int, int]:
    return entry[0], entry[1]


def _summary_of(entries: list[_Entry], total: int) -> LatestSummary:
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
        self._entries: list[_Entry] = []
        for record in records:
            self.add(record)

    @classmethod
    def from_capture(cls, body: bytes | str) -> RecordedRawImages:
        """From a raw-images JSON response (its ``images`` list)."""
        import json

        return cls(json.loads(body)["images"])

    def add(self, record: Mapping[str, Any]) -> None:
        times = record_times(record)
        stored = copy.deepcopy(dict(record))
        with self._lock:
            sol = times.sol if times.sol is not None else -1
            bisect.insort(self._entries, (sol, len(self._entries), times, stored), key=_sol_key)

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
            matching.sort(key=lambda e: (e[2].taken is not None, e[2].taken or 0.0, e[1]))
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
        return _summary_of(entries, len(entries))

    def by_id(self, imageid: str) -> dict[str, Any] | None:
        with self._lock:
            entries = list(self._entries)
        return next((e[3] for e in entries if str(e[3].get("imageid")).strip() == imageid), None)


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
        # Added records, sorted by (sol, seq).
        self._extras: list[_Entry] = []

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

    def taken_s(self, index: int) -> float:
        """``date_taken_utc`` of record ``index`` as Unix seconds (strictly increasing)."""
        lmst_ms = _DAY_START_LMST_MS + (index % self.per_sol) * self._lmst_step_ms
        return taken_ms(self.sol_of(index), lmst_ms) / 1000

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
        times = record_times(record)
        with self._lock:
            sol = times.sol if times.sol is not None else -1
            bisect.insort(self._extras, (sol, len(self._extras), times, dict(record)), key=_sol_key)

    def add_late(self, sol: int, *, date_received: str | None = None) -> dict[str, Any]:
        """Add and return a record of ``sol`` received after everything so far.

        Its ``date_received`` defaults to one second after the latest one served, so an
        incremental poll on ``date_received`` finds it while a poll by sol would not.
        """
        with self._lock:
            latest = self.received_s(self._visible - 1) if self._visible else 0
            extras_latest = max(
                (e[2].received for e in self._extras if e[2].received is not None), default=0.0
            )
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
        """Generated records and extras merged, paged without materialising the range.

        Generated records are in index order for both orders (sol and time taken grow with
        the index); an extra's place among them is found by bisection on its sol, or on its
        time taken for ``order=date_taken``.
        """
        with self._lock:
            visible = self._visible
            extras = list(self._extras)
        conditions = query.conditions
        lo, hi = self._index_range(conditions, visible)
        if any(cond.op == "in" for cond in conditions):
            return self._materialised(query, lo, hi, extras, visible)
        full = query.full_only and self.thumbnails_every >= 2
        base_len = self._count(lo, hi, full)
        chosen = [
            e
            for e in extras
            if record_matches(e[3], conditions, full_only=query.full_only, times=e[2])
        ]
        # Merged position of extra j: generated records ahead of it (those of lower or
        # equal sol, or taken no later, inside the range) plus the j extras before it.
        by_time = query.order == "date_taken"
        if by_time:
            chosen.sort(key=lambda e: (e[2].taken is not None, e[2].taken or 0.0, e[1]))
        positions = [
            self._count(lo, min(hi, max(lo, self._after(e, by_time, visible))), full) + j
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
            if by_time:
                pos = total - 1 - offset if query.descending else offset
            elif query.descending:
                # Sol groups come in reverse order, each group in arrival order.
                sol = at(total - 1 - offset)[0]
                pos = through(sol - 1) + offset - (total - through(sol))
            _, extra, index = at(pos)
            images.append(extra if extra is not None else self.record(index))
        return RawImagesResult(images, total, visible + len(extras))

    def _after(self, extra: _Entry, by_time: bool, visible: int) -> int:
        """The first generated index that sorts after ``extra``."""
        if not by_time:
            return self.first_index_of_sol(extra[0] + 1)
        taken = extra[2].taken
        if taken is None:
            return 0
        return bisect.bisect_right(range(visible), taken, key=self.taken_s)

    def _materialised(
        self, query: RawImagesQuery, lo: int, hi: int, extras: list[_Entry], visible: int
    ) -> RawImagesResult:
        """A set condition (``<a>,<b>:sol:in``) cannot be index arithmetic: the records of
        the narrowed range are listed (a few sols at most, as NASA's gallery asks) and
        served as a recorded dataset would."""
        if hi - lo > MATERIALISE_LIMIT:
            raise ValueError(f"a set condition over {hi - lo} records is not emulated")
        listed = RecordedRawImages(self.record(i) for i in range(lo, hi))
        for entry in extras:
            listed.add(entry[3])
        result = listed.query(query)
        return RawImagesResult(result.images, result.total_results, visible + len(extras))

    def summary(self) -> LatestSummary:
        """Generated records of the batch come from index arithmetic (``date_received``
        grows with the index); extras are few and looked at one by one."""
        with self._lock:
            visible = self._visible
            extras = list(self._extras)
        newest = self.received_s(visible - 1) if visible else None
        extra_times = [e[2].received for e in extras if e[2].received is not None]
        latest = max([t for t in (newest, *extra_times) if t is not None], default=None)
        if latest is None:
            return _summary_of(extras, visible + len(extras))
        first = bisect.bisect_left(range(visible), latest - BATCH_WINDOW_S, key=self.received_s)
        generated_sols = {self.sol_of(i) for i in (first, visible - 1) if 0 <= i < visible}
        generated_sols |= set(
            range(min(generated_sols, default=0), max(generated_sols, default=-1))
        )
        batch = [e for e in extras if (e[2].received or 0) >= latest - BATCH_WINDOW_S]
        top_generated = self.sol_of(visible - 1) if visible else -1
        top = max([top_generated, *(e[0] for e in extras)])
        generated_in_top = (
            visible - self.first_index_of_sol(top) if visible and top == top_generated else 0
        )
        return LatestSummary(
            latest=latest,
            latest_sols=sorted(generated_sols | {e[0] for e in batch if e[0] >= 0}, reverse=True),
            new_count=max(0, visible - first) + len(batch),
            latest_sol=top if top >= 0 else None,
            sol_count=generated_in_top + sum(1 for e in extras if e[0] == top),
            total=visible + len(extras),
        )

    def by_id(self, imageid: str) -> dict[str, Any] | None:
        """A generated id names its sol (``NLF_1965_...``): only that sol is searched."""
        with self._lock:
            visible = self._visible
            extras = list(self._extras)
        for entry in extras:
            if str(entry[3].get("imageid")).strip() == imageid:
                return entry[3]
        sol_text = imageid[4:8]
        if not sol_text.isdigit():
            return None
        first = self.first_index_of_sol(int(sol_text))
        for index in range(first, min(visible, first + self.per_sol)):
            record = self.record(index)
            if record["imageid"] == imageid:
                return record
        return None

    def _index_range(self, conditions: tuple[Condition, ...], visible: int) -> tuple[int, int]:
        """The generated records matching every condition: indexes ``lo <= i < hi``."""
        lo, hi = 0, visible
        indexes = range(visible)
        for cond in conditions:
            if cond.op == "in":
                if cond.field == "sol" and cond.values:
                    lo = max(lo, self.first_index_of_sol(int(min(cond.values))))
                    hi = min(hi, self.first_index_of_sol(int(max(cond.values)) + 1))
            elif cond.field == "sol":
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
                key = self.received_s if cond.field == "date_received" else self.taken_s
                at = bisect.bisect_left(indexes, cond.value, key=key)
                past = bisect.bisect_right(indexes, cond.value, key=key)
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
    ``manifests`` gives an item's asset manifest (its file URLs) by ``nasa_id``; without
    one, the manifest follows the preview's name: ``~orig.jpg``, ``~large.jpg``,
    ``~medium.jpg``, ``~small.jpg``, ``~thumb.jpg`` and ``metadata.json``.
    """

    def __init__(
        self,
        items: Iterable[Mapping[str, Any]] = (),
        manifests: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._items: list[dict[str, Any]] = [copy.deepcopy(dict(i)) for i in items]
        self.manifests: dict[str, list[str]] = {k: list(v) for k, v in (manifests or {}).items()}

    def manifest(self, nasa_id: str) -> list[str] | None:
        """The files of an item (None for an unknown item, or one without a preview)."""
        if nasa_id in self.manifests:
            return list(self.manifests[nasa_id])
        with self._lock:
            items = list(self._items)
        for item in items:
            if str(_first_data(item).get("nasa_id", "")).strip() != nasa_id:
                continue
            previews = [
                link.get("href")
                for link in item.get("links") or ()
                if isinstance(link, dict) and link.get("rel") == "preview"
            ]
            preview = previews[0] if previews and isinstance(previews[0], str) else ""
            stem, marker, _ = preview.rpartition("~thumb")
            if not marker:
                return None
            folder = stem.rpartition("/")[0]
            names = ("~orig.jpg", "~large.jpg", "~medium.jpg", "~small.jpg", "~thumb.jpg")
            return [f"{stem}{name}" for name in names] + [f"{folder}/metadata.json"]
        return None

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
