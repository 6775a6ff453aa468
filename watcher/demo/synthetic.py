"""``SyntheticRawImages``: a raw-image dataset of any size that never materialises its records.

Sol, times and sample type are arithmetic on a record's index, filters become an index
range (sol and ``date_received`` both grow with the index) and a page is generated on
demand (``records.RecordFactory``), so a million records cost no memory. Only records
``add``-ed later (late downlinks, hand-made oddities) are held, and they are merged into
the order by rank arithmetic. The ordering is the one ``datasets`` describes.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Mapping
from typing import Any

from watcher.demo.datasets import (
    BATCH_WINDOW_S,
    Entry,
    LatestSummary,
    RawImagesResult,
    RecordedRawImages,
    find_by_id,
    insert_entry,
    summary_of,
    taken_order,
)
from watcher.demo.queries import Condition, RawImagesQuery, record_matches
from watcher.demo.records import RecordFactory, sol_start_ms, taken_ms

__all__ = ["MATERIALISE_LIMIT", "SyntheticRawImages"]

MATERIALISE_LIMIT = 200_000

_RECEIVED_DELAY_S = 64_800  # a sol's images arrive from ~18 Earth hours after its midnight
_DAY_START_LMST_MS = 9 * 3_600_000  # imaging runs 09:00..17:00 local mean solar time
_DAY_LENGTH_LMST_MS = 8 * 3_600_000
_LATE_LMST_MS = 17 * 3_600_000 + 1_800_000  # late-downlink frames: after the day's imaging


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
        self._extras: list[Entry] = []

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
        with self._lock:
            insert_entry(self._extras, dict(record))

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
            chosen.sort(key=taken_order)
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

    def _after(self, extra: Entry, by_time: bool, visible: int) -> int:
        """The first generated index that sorts after ``extra``."""
        if not by_time:
            return self.first_index_of_sol(extra[0] + 1)
        taken = extra[2].taken
        if taken is None:
            return 0
        return bisect.bisect_right(range(visible), taken, key=self.taken_s)

    def _materialised(
        self, query: RawImagesQuery, lo: int, hi: int, extras: list[Entry], visible: int
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
            return summary_of(extras, visible + len(extras))
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
        extra = find_by_id(extras, imageid)
        if extra is not None:
            return extra
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
        """The generated records matching every condition: indexes ``lo <= i < hi``.

        A sol's records, and a date's, are one run of indexes: ``at`` is where the
        compared value's run starts and ``past`` where it ends, for every field alike.
        """
        lo, hi = 0, visible
        indexes = range(visible)
        for cond in conditions:
            if cond.op == "in":
                if cond.field == "sol" and cond.values:
                    lo = max(lo, self.first_index_of_sol(int(min(cond.values))))
                    hi = min(hi, self.first_index_of_sol(int(max(cond.values)) + 1))
                continue
            if cond.field == "sol":
                sol = int(cond.value)
                at, past = self.first_index_of_sol(sol), self.first_index_of_sol(sol + 1)
            else:
                key = self.received_s if cond.field == "date_received" else self.taken_s
                at = bisect.bisect_left(indexes, cond.value, key=key)
                past = bisect.bisect_right(indexes, cond.value, key=key)
            lo, hi = _narrowed(lo, hi, cond.op, at, past)
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


def _narrowed(lo: int, hi: int, op: str, at: int, past: int) -> tuple[int, int]:
    """The index range ``lo <= i < hi`` narrowed by one comparison with a value whose
    records are the indexes ``at <= i < past``."""
    if op in ("gte", "eq"):
        lo = max(lo, at)
    if op == "gt":
        lo = max(lo, past)
    if op in ("lte", "eq"):
        hi = min(hi, past)
    if op == "lt":
        hi = min(hi, at)
    return lo, hi
