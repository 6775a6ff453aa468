"""Polling and backfilling: the Watcher's part that walks NASA's feeds page by page.

It wires the pure parts (sources, decide) to the edges (fetch, db). Database calls run in
a worker thread so a slow disk or a remote PostgreSQL never stalls the event loop; each
page is one transaction, so cancelling a poll between pages loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field, replace
from datetime import datetime

from watcher import leases
from watcher.config import Settings, SourceConfig
from watcher.exceptions import (
    FetchError,
    HTTPStatusError,
    NotFound,
    ParseError,
    StorageError,
    UsageError,
)
from watcher.fetch import Fetcher
from watcher.plans import Lease
from watcher.polling import decide
from watcher.polling.sources import make_adapter
from watcher.polling.sources.adapter import SourceAdapter
from watcher.polling.store import PollStore
from watcher.types import (
    Backfill,
    Page,
    PageRequest,
    PollOutcome,
    PollRecord,
    PollReport,
    PollState,
    SourceHealth,
)

log = logging.getLogger("watcher.core")

# A poller holds a source's lease while it sweeps, renewed by its heartbeat and with every
# page; a crashed poller's lease lapses this long after (at once if it ran on this host).
POLL_LEASE = leases.TTL
BACKFILL_RETRIES = 5
BACKFILL_MAX_WAIT = 300.0  # a backfill sleeps between tries; a CLI must not hang for hours


@dataclass
class _Tally:
    """What one poll did so far, since ``started``."""

    started: datetime
    requests: int = 0
    pages: int = 0
    seen: int = 0
    inserted: int = 0
    skipped: int = 0
    not_modified: bool = False

    def log(self, source: str) -> None:
        if self.inserted or self.skipped:
            log.info(
                "%s: %d new candidates (%d seen, %d skipped, %d requests)",
                *(source, self.inserted, self.seen, self.skipped, self.requests),
            )

    def record(
        self, source: str, finished: datetime, outcome: PollOutcome, error: str | None = None
    ) -> PollRecord:
        """The poll as the log keeps it, ending at ``finished``."""
        return PollRecord(
            source=source,
            started_at=self.started,
            finished_at=finished,
            outcome=outcome,
            requests=self.requests,
            inserted=self.inserted,
            error=error,
        )

    def report(
        self,
        source: str,
        *,
        error: str | None = None,
        deferred_until: datetime | None = None,
        internal: bool = False,
    ) -> PollReport:
        return PollReport(
            source=source,
            requests=self.requests,
            pages=self.pages,
            seen=self.seen,
            inserted=self.inserted,
            skipped=self.skipped,
            not_modified=self.not_modified,
            error=error,
            deferred_until=deferred_until,
            internal=internal,
        )


@dataclass(eq=False, repr=False)
class Poller:
    """Poll sources on demand (the scheduler calls ``poll_source``) and backfill history.

    Every way of polling (the service, ``watcher poll``) goes through
    ``poll_source``, so each one announces new candidates to the team the same way.
    """

    settings: Settings
    store: PollStore
    fetcher: Fetcher
    _: KW_ONLY
    clock: Callable[[], datetime]
    rand: Callable[[], float]
    owner: str
    announce: Callable[[int], None] | None = None
    # Told of every poll's report and how long it took (seconds): the Watcher's metrics.
    observe: Callable[[PollReport, float], None] | None = None
    _adapters: dict[str, SourceAdapter] = field(default_factory=dict, init=False)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict, init=False)
    _stopping: bool = field(default=False, init=False)

    def request_stop(self) -> None:
        """Finish the page in hand, then stop every poll and backfill."""
        self._stopping = True

    def adapter(self, source: SourceConfig) -> SourceAdapter:
        if source.name not in self._adapters:
            self._adapters[source.name] = make_adapter(source, self.settings.image_hosts)
        return self._adapters[source.name]

    def get_source(self, name: str) -> SourceConfig:
        try:
            return self.settings.source(name)
        except Exception as exc:
            raise NotFound(str(exc)) from exc

    def sources_health(self, *, with_counts: bool = True) -> list[SourceHealth]:
        """Each configured source's health from its stored poll state (``candidates`` is 0
        unless ``with_counts``: counting is the costly part)."""
        states = self.store.poll_states()
        counts = self.store.candidate_counts_by_source() if with_counts else {}
        return [
            decide.source_health(
                source,
                states.get(source.name) or PollState(source=source.name),
                counts.get(source.name, 0),
            )
            for source in self.settings.sources
        ]

    async def poll_all(self, *, force: bool = False) -> list[PollReport]:
        """Poll every enabled source once, one after another (NASA is one host family).

        One source's failure never stops the others: a poll that raised (the database
        failed, even to record the failure) is reported as that source's ``internal``
        failure, and the next source is polled."""
        reports = []
        for source in self.settings.sources:
            if source.enabled and not self._stopping:
                try:
                    report = await self.poll_source(source.name, force=force)
                except Exception as exc:
                    log.error("%s: poll failed: %s", source.name, describe_error(exc))
                    report = PollReport(
                        source=source.name, error=describe_error(exc), internal=True
                    )
                reports.append(report)
        return reports

    async def poll_source(self, name: str, *, force: bool = False) -> PollReport:
        """Poll one source: walk its sweep page by page, one transaction per page.

        Failures are recorded in the source's state (with backoff) and reported, never
        raised: upstream ones, and the database's or a bug's (``internal``), the page in
        hand rolled back. ``force`` ignores a pending backoff. Raises StorageError when the
        database cannot even read the state or record the failure. A poll that ends (not
        one stopped or taken over midway) leaves a ``PollRecord`` for the Status page,
        written with its last state.
        """
        started = time.perf_counter()
        try:
            report = await self._poll_source(name, force)
        except StorageError as exc:
            self._observe(PollReport(source=name, error=describe_error(exc)), started)
            raise
        self._observe(report, started)
        return report

    def _observe(self, report: PollReport, started: float) -> None:
        if self.observe is not None:
            self.observe(report, time.perf_counter() - started)

    async def _poll_source(self, name: str, force: bool) -> PollReport:
        source = self.settings.source(name)
        self.adapter(source)
        lock = self._locks.setdefault(name, asyncio.Lock())
        if lock.locked():
            return PollReport(source=name, busy=True)
        async with lock:
            now = self.clock()
            state = await asyncio.to_thread(self.store.get_poll_state, name)
            if not force and not decide.is_due(state, now):
                return PollReport(source=name, deferred_until=state.next_poll_at)
            held = await leases.hold(self.store, lease_name(name), self.owner, self.clock)
            if not isinstance(held, leases.Hold):
                log.info("%s: another watcher is polling it; skipped", name)
                return PollReport(source=name, busy=True, held_by=held)
            try:
                report = await self._sweep(source, state, held)
            finally:
                await held.release()
        if report.inserted and self.announce is not None:
            try:
                await asyncio.to_thread(self.announce, report.inserted)
            except Exception as exc:  # a team notice is a courtesy; the poll is done
                log.warning("%s: could not queue the new-candidates notice: %s", name, exc)
        return report

    async def _sweep(self, source: SourceConfig, state: PollState, held: leases.Hold) -> PollReport:
        adapter = self.adapter(source)
        tally = _Tally(started=self.clock())
        budget = adapter.page_budget()
        request: PageRequest | None = decide.resume_request(state) or adapter.first_request(state)
        # The state as stored: a failure is recorded on it, never on the state a page that
        # could not be stored would have led to (its cursor would pass unstored records).
        committed = state
        try:
            while request is not None and tally.pages < budget:
                if self._stopping or held.lost:  # lost: another poller carries on
                    break
                response = await self.fetcher.get(
                    request,
                    etag=state.etag if request.conditional else None,
                    last_modified=state.last_modified if request.conditional else None,
                    party=lease_name(source.name),
                )
                tally.requests += 1
                now = self.clock()
                if response.not_modified:
                    state = decide.after_not_modified(state, now, source.interval)
                    done = tally.record(source.name, now, PollOutcome.NOT_MODIFIED)
                    await asyncio.to_thread(self.store.save_poll_state, state, done)
                    committed = state
                    tally.not_modified = True
                    break
                page = adapter.parse_page(response.body, request)
                page, details = await self._with_details(adapter, source, page)
                tally.requests += details
                tally.not_modified = page.unchanged
                state = decide.after_page(
                    state,
                    page,
                    now,
                    source.interval,
                    etag=response.etag if request.conditional else None,
                    last_modified=response.last_modified if request.conditional else None,
                )
                lease = Lease(lease_name(source.name), self.owner, now + POLL_LEASE)
                ends = decide.resume_request(state) is None or tally.pages + 1 >= budget
                outcome = PollOutcome.NOT_MODIFIED if page.unchanged else PollOutcome.OK
                record = tally.record(source.name, now, outcome) if ends else None
                stored = await asyncio.to_thread(
                    self.store.save_poll_page, page.candidates, now, state, lease, record
                )
                committed = state
                tally.pages += 1
                tally.seen += len(page.candidates)
                tally.inserted += stored.inserted
                tally.skipped += page.skipped + stored.refused
                _log_skipped(source.name, page)
                request = decide.resume_request(state)
        except (FetchError, ParseError) as exc:
            return await self._failed(source, committed, exc, tally)
        except Exception as exc:  # the database, or a bug: recorded, never the service's end
            if not isinstance(exc, StorageError):
                log.exception("%s: unexpected error while polling", source.name)
            return await self._failed(source, committed, exc, tally, internal=True)
        tally.log(source.name)
        return tally.report(source.name)

    async def _with_details(
        self, adapter: SourceAdapter, source: SourceConfig, page: Page
    ) -> tuple[Page, int]:
        """The page with each new candidate completed by its detail request (the image
        library's asset manifest), made once per candidate: never for one already stored.
        Also returns how many requests that took.

        A detail answered with a client error (the manifest is gone) leaves the candidate
        as the page gave it; a failure that may pass (a timeout, a 5xx) fails the poll
        before the page is stored, so the page and its details are fetched again later.
        A stop request waits for the page's details: a candidate stored without them would
        never get them.
        """
        wanted = [
            (index, candidate, request)
            for index, candidate in enumerate(page.candidates)
            if (request := adapter.detail_request(candidate)) is not None
        ]
        if not wanted:
            return page, 0
        ids = [candidate.external_id for _, candidate, _ in wanted]
        known = await asyncio.to_thread(self.store.known_external_ids, source.name, ids)
        candidates = list(page.candidates)
        requests = 0
        for index, candidate, request in wanted:
            if candidate.external_id in known:
                continue
            known.add(candidate.external_id)  # once, even if the page lists it twice
            requests += 1
            try:
                response = await self.fetcher.get(request, party=lease_name(source.name))
            except HTTPStatusError as exc:
                if not exc.permanent:
                    raise
                log.info("%s: no details for %s: %s", source.name, candidate.external_id, exc)
                continue
            candidates[index] = adapter.with_details(candidate, response.body)
        return replace(page, candidates=tuple(candidates)), requests

    async def _failed(
        self,
        source: SourceConfig,
        state: PollState,
        exc: Exception,
        tally: _Tally,
        *,
        internal: bool = False,
    ) -> PollReport:
        """Record the failure on the stored ``state``, with the backoff before the next try.
        Raises StorageError when even that cannot be written."""
        message = describe_error(exc)
        retry_after = exc.retry_after if isinstance(exc, FetchError) else None
        now = self.clock()
        state = decide.after_failure(
            state, now, message, self.settings.fetch, self.rand(), retry_after
        )
        record = tally.record(source.name, now, PollOutcome.FAILED, message)
        await asyncio.to_thread(self.store.save_poll_state, state, record)
        log.warning(
            "%s: poll failed (%d in a row, next try %s): %s",
            source.name,
            state.consecutive_failures,
            state.next_poll_at.isoformat(timespec="seconds") if state.next_poll_at else "-",
            message,
        )
        return tally.report(
            source.name, error=message, deferred_until=state.next_poll_at, internal=internal
        )

    # -- backfill --------------------------------------------------------------------

    async def backfill(
        self,
        name: str,
        *,
        from_sol: int | None = None,
        to_sol: int | None = None,
        restart: bool = False,
        progress: Callable[[Backfill], None] | None = None,
    ) -> Backfill:
        """Walk a source's history (a sol range for raw images), resumable at any point.

        Progress is saved with each page; running the same backfill again continues where it
        stopped. Transient upstream failures are retried with backoff; a persistent one
        raises FetchError/ParseError with the progress kept. Raises UsageError.
        """
        source = self.settings.source(name)
        if from_sol is not None and to_sol is not None and from_sol > to_sol:
            raise UsageError(f"--from-sol {from_sol} is after --to-sol {to_sol}")
        if (from_sol is not None and from_sol < 0) or (to_sol is not None and to_sol < 0):
            raise UsageError("sols start at 0")
        adapter = self.adapter(source)
        first = adapter.backfill_request(from_sol, to_sol)
        backfill = await asyncio.to_thread(self.store.get_backfill, name, from_sol, to_sol)
        if backfill is None or restart:
            backfill = decide.new_backfill(name, from_sol, to_sol, first, self.clock())
            await asyncio.to_thread(self.store.save_backfill, backfill)
        if progress:
            progress(backfill)
        failures = 0
        while backfill.next_request is not None and not self._stopping:
            request = backfill.next_request
            try:
                response = await self.fetcher.get(request, party=lease_name(name))
                page = adapter.parse_page(response.body, request)
                page, _ = await self._with_details(adapter, source, page)
            except (FetchError, ParseError) as exc:
                failures += 1
                if failures > BACKFILL_RETRIES:
                    raise
                retry_after = exc.retry_after if isinstance(exc, FetchError) else None
                delay = decide.failure_delay(
                    failures, self.settings.fetch, self.rand(), retry_after, cap=BACKFILL_MAX_WAIT
                )
                log.warning("%s backfill: %s; retrying in %.0fs", name, describe_error(exc), delay)
                await asyncio.sleep(delay)
                continue
            failures = 0
            backfill = await self._save_backfill_page(backfill, page)
            if progress:
                progress(backfill)
        return backfill

    async def _save_backfill_page(self, backfill: Backfill, page: Page) -> Backfill:
        after = decide.backfill_after_page(backfill, page, self.clock())
        return await asyncio.to_thread(self.store.save_backfill_page, page.candidates, after)


def _log_skipped(source: str, page: Page) -> None:
    """One line for a page whose records a source skipped: how many, why (the first few).
    The store logs the records the database refused, once a page too."""
    if page.skipped:
        more = page.skipped - len(page.problems)
        extra = f" (and {more} more)" if more > 0 else ""
        log.info(
            "%s: skipped %d record(s) on a page: %s%s",
            *(source, page.skipped, "; ".join(page.problems) or "-", extra),
        )


def lease_name(source: str) -> str:
    return f"poll:{source}"


def describe_error(exc: BaseException) -> str:
    """One line for logs, ``watcher sources`` and /healthz."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    name = type(exc).__name__
    return f"{name}: {text}"[:500] if text else name
