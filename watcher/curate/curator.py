"""Fingerprinting: the Watcher's part that measures candidates' pictures in the background.

Each round takes the candidates still due (new ones, newest first; the backfilled archive
only when asked), fetches each one's smallest rendition and stores its ``Fingerprint``.
It is built to be the least important thing watcher does:

- **Never in a poll's way.** Pictures are fetched one at a time through the one HTTP
  client at low priority (``Fetcher.get(low_priority=True)``): a picture takes its host's
  slot only when it is free, and a poll (or a publish) that needs the slot stops the
  download at once. The round then ends; the rest of it waits for the next round, and
  nothing is counted against those pictures. So the per-host limit is kept and a poll
  never waits for a thumbnail. Nothing here runs inside a poll's transaction: the curator
  reads what polls committed and writes its own rows.
- **Polite.** Only hosts on ``[security] image_hosts`` (a redirect off them is refused
  too), at most ``[curate] max_picture_bytes`` a picture, and each picture is kept in
  ``[publish] cache_dir``/``pictures`` by URL (written to a temporary name and renamed), so
  measuring it again never asks the host twice.
- **Never blocked.** A picture that cannot be had or read is recorded with why and tried
  again after ``retry_after`` (doubling with each failure in a row, up to a day); its
  candidate keeps no fingerprint meanwhile and the others go on. Decoding and measuring
  (Pillow, numpy) run in a worker thread, so the event loop (and the web app) stay free.

One replica curates at a time (the ``curate`` lease); the others find it taken and skip.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from watcher import leases
from watcher.cache_layout import picture_path
from watcher.config import Settings
from watcher.curate.fingerprint import PictureError, fingerprint
from watcher.curate.grouper import catch_up, regroup
from watcher.curate.store import CurateStore
from watcher.exceptions import FetchError, Preempted, ResponseTooLarge
from watcher.fetch import Fetcher
from watcher.files import write_atomic
from watcher.plans import PictureFailure
from watcher.types import CurateReport, Fingerprint, PageRequest, PictureToDo
from watcher.urls import clean_url

log = logging.getLogger("watcher.curate")

LEASE_NAME = "curate"
ROUND = timedelta(minutes=8)  # a round ends after this; the rest waits for the next one
LONGEST_WAIT = timedelta(days=1)
SAVE_EVERY = 20  # pictures measured between writes: a crash loses at most these
_ERROR_CHARS = 300


def retry_wait(retry_after: float, attempts: int) -> timedelta:
    """How long after its ``attempts``-th failure in a row a picture waits."""
    doublings = min(max(0, attempts - 1), 16)
    return min(LONGEST_WAIT, timedelta(seconds=retry_after) * (1 << doublings))


def cache_path(cache_dir: Path, url: str) -> Path:
    """Where the picture at ``url`` is kept (``cache_layout``: the pruner reads it too)."""
    return picture_path(cache_dir, url)


class _Deferred(Exception):
    """The host was needed by a request of higher priority: the round ends here."""


@dataclass
class _Round:
    """What one round did so far, and what it has yet to write."""

    measured: list[tuple[Fingerprint, str | None]] = field(default_factory=list)
    failures: list[PictureFailure] = field(default_factory=list)
    fingerprinted: int = 0
    failed: int = 0
    deferred: int = 0
    cached: int = 0
    requests: int = 0
    why: list[tuple[int, str]] = field(default_factory=list)
    touched: list[int] = field(default_factory=list)


@dataclass(eq=False, repr=False)
class Curator:
    """Fingerprint candidates' pictures on demand (the service's job and ``watcher curate``
    call ``run_once``); see the module docstring for how it keeps out of the way."""

    settings: Settings
    store: CurateStore
    fetcher: Fetcher
    _: KW_ONLY
    clock: Callable[[], datetime]
    owner: str

    def fingerprints_for(self, candidate_ids: Sequence[int]) -> dict[int, Fingerprint]:
        """The stored fingerprints of those candidates, by id (none for one not measured)."""
        return self.store.fingerprints_for(candidate_ids)

    async def run_once(
        self,
        limit: int | None = None,
        *,
        backfilled: bool | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> CurateReport:
        """One round: up to ``limit`` (default ``[curate] batch``) due candidates, the
        backfilled archive too when ``backfilled`` (default ``[curate] backfilled``).
        ``should_stop`` is asked between pictures. Upstream failures are recorded, never
        raised; raises StorageError."""
        config = self.settings.curate
        archive = config.backfilled if backfilled is None else backfilled
        now = self.clock()
        held = await leases.hold(self.store, LEASE_NAME, self.owner, self.clock)
        if not isinstance(held, leases.Hold):
            log.debug("another watcher is curating; skipped")
            return CurateReport(busy=True, held_by=held)

        def stop() -> bool:  # lost: another curator carries on
            return held.lost or (should_stop is not None and should_stop())

        try:
            todo = await asyncio.to_thread(
                self.store.pictures_to_fingerprint,
                now,
                config.batch if limit is None else limit,
                archive=archive,
            )
            tally = await self._measure_all(todo, now + ROUND, stop)
            regrouped = await asyncio.to_thread(regroup, config, self.store, tally.touched)
            caught_up = await asyncio.to_thread(catch_up, config, self.store)
            waiting, retrying = await asyncio.to_thread(
                self.store.fingerprint_backlog, self.clock(), archive=archive
            )
        finally:
            await held.release()
        return CurateReport(
            fingerprinted=tally.fingerprinted,
            failed=tally.failed,
            deferred=tally.deferred,
            cached=tally.cached,
            requests=tally.requests,
            waiting=waiting,
            retrying=retrying,
            failures=tuple(tally.why),
            groups=regrouped.groups + caught_up.groups,
            scored=regrouped.scored + caught_up.scored,
        )

    async def _measure_all(
        self,
        todo: list[PictureToDo],
        deadline: datetime,
        should_stop: Callable[[], bool] | None,
    ) -> _Round:
        tally = _Round()
        for index, item in enumerate(todo):
            if (should_stop and should_stop()) or self.clock() >= deadline:
                tally.deferred = len(todo) - index
                break
            try:
                await self._measure(item, tally)
            except _Deferred:
                tally.deferred = len(todo) - index
                log.debug("an image host was needed elsewhere: %d pictures wait", tally.deferred)
                break
            if len(tally.measured) + len(tally.failures) >= SAVE_EVERY:
                await self._save(tally)
        await self._save(tally)
        return tally

    async def _save(self, tally: _Round) -> None:
        measured, failures = tally.measured, tally.failures
        tally.measured, tally.failures = [], []
        if measured:
            await asyncio.to_thread(self.store.save_fingerprints, measured)
        if failures:
            await asyncio.to_thread(self.store.record_picture_failures, failures)

    async def _measure(self, item: PictureToDo, tally: _Round) -> None:
        """Fingerprint one picture, or record why not; raises _Deferred when preempted."""
        hosts = self.settings.image_hosts
        # The URL as checked: what is fetched is what was found allowed.
        url = next((c for u in item.urls if (c := clean_url(u, hosts)) is not None), None)
        fetched = False
        try:
            if url is None:
                what = "has no picture" if not item.urls else "has no picture on an allowed host"
                raise PictureError(what)
            data, fetched = await self._picture(url)
            measured = await asyncio.to_thread(fingerprint, item.candidate_id, data, self.clock())
        except Preempted as exc:
            tally.requests += 1
            raise _Deferred from exc
        except (FetchError, PictureError) as exc:
            tally.requests += isinstance(exc, FetchError) or fetched
            if url is not None and not fetched and isinstance(exc, PictureError):
                await asyncio.to_thread(cache_path(self._cache_dir, url).unlink, missing_ok=True)
            self._failed(item, url, exc, tally)
            return
        if fetched:
            tally.requests += 1
            await asyncio.to_thread(_keep, cache_path(self._cache_dir, url), data)
        else:
            tally.cached += 1
        tally.measured.append((measured, url))
        tally.touched.append(item.candidate_id)
        tally.fingerprinted += 1

    @property
    def _cache_dir(self) -> Path:
        return self.settings.publish.cache_dir

    async def _picture(self, url: str) -> tuple[bytes, bool]:
        """The picture's bytes, and whether they were fetched (False: from the cache)."""
        kept = await asyncio.to_thread(_read, cache_path(self._cache_dir, url))
        if kept is not None:
            return kept, False
        response = await self.fetcher.get(
            PageRequest(url=url),
            max_bytes=self.settings.curate.max_picture_bytes,
            low_priority=True,
        )
        if clean_url(response.url, self.settings.image_hosts) is None:
            raise PictureError(f"was redirected off the allowed image hosts, to {response.url}")
        return response.body, True

    def _failed(self, item: PictureToDo, url: str | None, exc: Exception, tally: _Round) -> None:
        now = self.clock()
        attempts = item.attempts + 1
        if isinstance(exc, ResponseTooLarge):
            reason = f"is larger than {self.settings.curate.max_picture_bytes:,} bytes"
        elif isinstance(exc, FetchError):
            reason = f"could not be fetched: {exc}"
        else:
            reason = str(exc)
        reason = (f"{url} {reason}" if url else reason)[:_ERROR_CHARS]
        log.info("candidate %d: no fingerprint yet: %s", item.candidate_id, reason)
        tally.failures.append(
            PictureFailure(
                candidate_id=item.candidate_id,
                error=reason,
                attempts=attempts,
                archive=item.archive,
                failed_at=now,
                retry_at=now + retry_wait(self.settings.curate.retry_after, attempts),
            )
        )
        tally.failed += 1
        tally.why.append((item.candidate_id, reason))


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _keep(path: Path, data: bytes) -> None:
    """Write the picture under a temporary name and rename it: a reader never sees half of
    one. A cache: a disk problem is logged, never a failure of the picture."""
    try:
        write_atomic(path, data)
    except OSError as exc:
        log.warning("could not keep picture %s: %s", path, exc)
