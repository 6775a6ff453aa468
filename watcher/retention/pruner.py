"""Pruning: removing what is past use, so that nothing watcher keeps grows forever.

``watcher prune`` calls ``prune``; the service calls ``prune_if_due`` (``background.
Pruning``), which prunes once every ``[retention] interval`` (a day) across all replicas:
the moment of the last prune is a site setting every replica reads, and the ``prune``
lease lets one replica prune at a time (the due check is made again once the lease is
held, so two replicas that both found it due do not both prune).

The rules (``rules``) make the plan; here it is carried out one kind at a time, each in
batches of ``[retention] batch`` rows, one short transaction each (``watcher.db.retention``
says what the SQL never touches). Cache files are removed by name pattern only, and a file
is looked at again just before it is removed, so a picture written meanwhile stays. A
prune stops between batches when its lease is lost or the service stops; what it did not
reach waits for the next one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass
from datetime import datetime
from pathlib import Path

from watcher import leases
from watcher.cache_layout import ANIMATIONS, FAILURE_NAME, PICTURE_NAME, PICTURES
from watcher.config import Settings
from watcher.plans import PrunePlan
from watcher.retention.rules import (
    RECORD_KINDS,
    ROW_KINDS,
    compact_record,
    due,
    kept_picture_names,
    next_due,
    plan,
    stale_files,
)
from watcher.retention.store import PruneStore
from watcher.types import PruneKind, PruneReport

log = logging.getLogger("watcher.retention")

LEASE_NAME = "prune"
LAST_RUN_KEY = "retention.last_run_at"
_FAN_OUT = re.compile(r"[0-9a-f]{2}")

Stop = Callable[[], bool]


@dataclass(eq=False, repr=False)
class Pruner:
    """Prune on demand (``watcher prune``) or when due (the service's daily job)."""

    settings: Settings
    store: PruneStore
    _: KW_ONLY
    clock: Callable[[], datetime]
    owner: str

    async def prune(self, *, dry_run: bool = False) -> PruneReport:
        """Prune now, by the ages configured; ``dry_run`` counts what would go and removes
        nothing (it needs no lease). Raises StorageError."""
        if dry_run:
            now = self.clock()
            return await asyncio.to_thread(self._carry_out, self._plan(now), True, _never)
        report = await self._under_lease(check_due=False, should_stop=None)
        assert report is not None  # None only when asked to check that a prune is due
        return report

    async def prune_if_due(self, should_stop: Stop | None = None) -> PruneReport | None:
        """Prune when ``[retention] interval`` has passed since the last prune (by any
        replica); None when it has not. ``should_stop`` is asked between batches."""
        if not await asyncio.to_thread(self._due):
            return None
        return await self._under_lease(check_due=True, should_stop=should_stop)

    def next_prune_at(self) -> datetime:
        """When ``prune_if_due`` prunes next (now, when due already)."""
        return next_due(self._last_run(), self.clock(), self.settings.retention.interval)

    async def _under_lease(
        self, *, check_due: bool, should_stop: Stop | None
    ) -> PruneReport | None:
        held = await leases.hold(self.store, LEASE_NAME, self.owner, self.clock)
        if not isinstance(held, leases.Hold):
            log.info("another watcher is pruning; skipped")
            return PruneReport(busy=True, held_by=held)

        def stop() -> bool:  # lost: the other holder carries on; stopping: the service ends
            return held.lost or (should_stop is not None and should_stop())

        try:
            if check_due and not await asyncio.to_thread(self._due):
                return None  # another replica pruned while this one waited for the lease
            now = self.clock()
            report = await asyncio.to_thread(self._carry_out, self._plan(now), False, stop)
            if not report.stopped:
                await asyncio.to_thread(self.store.set_setting, LAST_RUN_KEY, now.isoformat())
        finally:
            await held.release()
        log.info(
            "pruned %s%s",
            ", ".join(f"{count} {kind.value}" for kind, count in report.counts) or "nothing",
            " (stopped early; the rest waits for the next prune)" if report.stopped else "",
        )
        return report

    def _plan(self, now: datetime) -> PrunePlan:
        return plan(self.settings.retention, now)

    def _last_run(self) -> datetime | None:
        value = self.store.get_settings(LAST_RUN_KEY).get(LAST_RUN_KEY)
        try:
            return datetime.fromisoformat(value) if value else None
        except ValueError:
            return None

    def _due(self) -> bool:
        return due(self._last_run(), self.clock(), self.settings.retention.interval)

    # -- carrying out a plan (in a worker thread) ------------------------------------------

    def _carry_out(self, prune: PrunePlan, dry_run: bool, stop: Stop) -> PruneReport:
        counts: list[tuple[PruneKind, int]] = []
        for kind in PruneKind:
            before = prune.before.get(kind)
            if before is None:
                continue
            if stop():
                return PruneReport(counts=tuple(counts), dry_run=dry_run, stopped=True)
            counts.append((kind, self._kind(kind, before, prune, dry_run, stop)))
        return PruneReport(counts=tuple(counts), dry_run=dry_run, stopped=stop())

    def _kind(
        self, kind: PruneKind, before: datetime, prune: PrunePlan, dry_run: bool, stop: Stop
    ) -> int:
        if kind in RECORD_KINDS:
            if dry_run:
                return self.store.count_records(kind, before)
            return self._records(kind, before, prune, stop)
        if kind in ROW_KINDS:
            if dry_run:
                return self.store.count_rows(kind, before)
            return self._rows(kind, before, prune.batch, stop)
        if kind is PruneKind.EXPIRED_SESSIONS:
            if dry_run:
                return self.store.count_expired_sessions(before)
            return self.store.purge_sessions(before)
        cache_dir = self.settings.publish.cache_dir
        if kind is PruneKind.PICTURE_CACHE:
            keep = kept_picture_names(self.store.entry_picture_urls(), self.settings.image_hosts)
            folders = [p for p in _folders(cache_dir / PICTURES) if _FAN_OUT.fullmatch(p.name)]
            return sum(_remove(f, before, PICTURE_NAME, keep, dry_run) for f in folders)
        if kind is PruneKind.FAILED_ANIMATIONS:
            return _remove(cache_dir / ANIMATIONS, before, FAILURE_NAME, frozenset(), dry_run)
        raise ValueError(f"no way to prune {kind}")

    def _records(self, kind: PruneKind, before: datetime, prune: PrunePlan, stop: Stop) -> int:
        """Compact the records of ``kind``, a batch a transaction, in id order."""
        written, after_id = 0, 0
        while not stop():
            found = self.store.records_to_prune(kind, before, after_id, prune.batch)
            if not found:
                break
            pruned = [(i, compact_record(record, prune.now)) for i, record in found]
            written += self.store.replace_records(kind, before, pruned)
            after_id = found[-1][0]
            if len(found) < prune.batch:
                break
        return written

    def _rows(self, kind: PruneKind, before: datetime, batch: int, stop: Stop) -> int:
        """Delete the rows of ``kind``, a batch a transaction."""
        deleted = 0
        while not stop():
            count = self.store.prune_rows(kind, before, batch)
            deleted += count
            if count < batch:
                break
        return deleted


def _never() -> bool:
    return False


def _folders(folder: Path) -> list[Path]:
    try:
        with os.scandir(folder) as found:
            return [Path(e.path) for e in found if e.is_dir(follow_symlinks=False)]
    except FileNotFoundError:
        return []


def _files(folder: Path) -> list[tuple[str, float]]:
    """(name, modification time) of the plain files in ``folder`` (none: no folder)."""
    try:
        with os.scandir(folder) as found:
            return [
                (e.name, e.stat(follow_symlinks=False).st_mtime)
                for e in found
                if e.is_file(follow_symlinks=False)
            ]
    except FileNotFoundError:
        return []


def _remove(
    folder: Path, before: datetime, pattern: re.Pattern[str], keep: frozenset[str], dry_run: bool
) -> int:
    """Remove (or, ``dry_run``, count) the stale files of ``folder``; a file that changed
    since it was listed, or cannot be removed, stays (logged)."""
    removed = 0
    for name in stale_files(_files(folder), before, pattern, keep):
        path = folder / name
        if dry_run:
            removed += 1
            continue
        try:
            if path.stat().st_mtime >= before.timestamp():
                continue  # written again since it was listed
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("could not remove %s: %s", path, exc)
            continue
        removed += 1
    return removed
