"""The service's background loops: the publisher, the delivery worker, curation and
pruning.

The publisher turns changes to the running list into editions. It hears of changes two
ways: this process's facade calls ``poke`` right after a change commits (the change
listener), and every ``check_every`` seconds it asks the database whether the audit log
moved past what the last publish examined (``change_mark``), which catches changes made by
the CLI or by another replica. The debounce is *trailing*: each change restarts the wait,
so an editor approving ten images in a minute makes one edition, not ten; but a list that
never stops changing is still published ``MAX_DEBOUNCE_FACTOR`` debounces after its first
unpublished change.

The delivery worker drains the outbox: it sends whatever is due, then sleeps until the
next row is due (``next_delivery_at``), a publish wakes it, or ``idle_check`` seconds pass
(rows written by other processes, such as a confirmation mail, are found that way).

Curation fingerprints new candidates' pictures every ``[curate] interval`` (at low priority:
see ``watcher.curate.curator``); while a backlog remains after a full round it goes on
after a short pause instead of a whole interval.

Pruning removes what is past use (``watcher.retention``) once every ``[retention]
interval`` (a day) across all replicas: it sleeps until the last prune (by any replica) is
that old, looking again at least hourly, and starts a minute after the service does.

Every loop survives every error: it logs it, counts it, waits, and tries again; the service
never stops because a database blip or a receiver failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from watcher.core import Watcher
from watcher.exceptions import StorageError

log = logging.getLogger("watcher.background")

MAX_DEBOUNCE_FACTOR = 5.0
RETRY_AFTER_ERROR = 30.0
BUSY_RETRY = 5.0
BACKLOG_PAUSE = 1.0
# A round that gave an image host back to a poll resumes soon after: the poll is short.
DEFERRED_PAUSE = 1.0
FIRST_PRUNE_DELAY = 60.0  # start-up has enough to do
PRUNE_CHECK_AT_MOST = 3600.0  # another replica may have pruned meanwhile
PRUNE_BUSY_PAUSE = 60.0
PRUNE_MIN_PAUSE = 1.0


class _Wakeable:
    """An asyncio.Event that other threads may set (the facade's listeners run in the
    web app's worker threads)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self) -> None:
        self._loop = asyncio.get_running_loop()

    def poke(self) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._event.set()
        else:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._event.set)

    async def wait(self, stop: asyncio.Event, seconds: float) -> bool:
        """Wait for a poke, the stop event or the timeout; True when poked."""
        if self._event.is_set():
            self._event.clear()
            return True
        waiters = {asyncio.ensure_future(self._event.wait()), asyncio.ensure_future(stop.wait())}
        try:
            await asyncio.wait(waiters, timeout=max(seconds, 0.0), return_when="FIRST_COMPLETED")
        finally:
            for waiter in waiters:
                waiter.cancel()
        poked = self._event.is_set()
        self._event.clear()
        return poked


class DeliveryWorker(_Wakeable):
    def __init__(self, watcher: Watcher, *, idle_check: float = 2.0, batch: int = 500):
        super().__init__()
        self.watcher = watcher
        self.idle_check = idle_check
        self.batch = batch

    async def run(self, stop: asyncio.Event) -> None:
        self.bind()
        while not stop.is_set():
            pause = self.idle_check
            try:
                report = await self.watcher.deliver_pending(limit=self.batch)
                if report.claimed:
                    log.info(
                        "deliveries: %d sent, %d to retry, %d given up, %d skipped",
                        report.sent,
                        report.failed,
                        report.dead,
                        report.skipped,
                    )
                if report.claimed >= self.batch:
                    continue
                due = await asyncio.to_thread(self.watcher.next_delivery_at)
                if due is not None:
                    pause = min(pause, (due - datetime.now(UTC)).total_seconds())
            except StorageError as exc:
                log.error("delivery worker: database error, retrying: %s", exc)
                pause = RETRY_AFTER_ERROR
            except Exception:
                log.exception("delivery worker failed; retrying")
                pause = RETRY_AFTER_ERROR
            await self.wait(stop, pause)


class Publisher(_Wakeable):
    def __init__(
        self,
        watcher: Watcher,
        *,
        debounce: float,
        check_every: float = 5.0,
        on_edition: Callable[[], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        super().__init__()
        self.watcher = watcher
        self.debounce = debounce
        self.check_every = check_every
        self.on_edition = on_edition
        self.monotonic = monotonic
        self.first_change: float | None = None
        self.last_change: float | None = None

    def _changed(self) -> None:
        now = self.monotonic()
        if self.first_change is None:
            self.first_change = now
        self.last_change = now

    def _due_in(self) -> float | None:
        if self.first_change is None or self.last_change is None:
            return None
        due = min(
            self.last_change + self.debounce,
            self.first_change + self.debounce * MAX_DEBOUNCE_FACTOR,
        )
        return due - self.monotonic()

    async def run(self, stop: asyncio.Event) -> None:
        self.bind()
        await self._start()
        last_check = self.monotonic()
        while not stop.is_set():
            due_in = self._due_in()
            if due_in is not None and due_in <= 0:
                await self._publish()
                continue
            until_check = self.check_every - (self.monotonic() - last_check)
            timeout = until_check if due_in is None else min(due_in, until_check)
            if await self.wait(stop, timeout):
                self._changed()
            elif self.monotonic() - last_check >= self.check_every:
                last_check = self.monotonic()
                await self._check()

    async def _start(self) -> None:
        """Bring the files up to the latest edition; publish what changed while down."""
        try:
            report = await self.watcher.sync_site()
        except Exception:
            log.exception("could not bring the site up to date; will retry with the next publish")
            self._changed()
            return
        if report.rendered:
            log.info("site files re-rendered for edition %d (%s)", report.edition, report.reason)
        if report.pending:
            self._changed()

    async def _check(self) -> None:
        try:
            mark = await asyncio.to_thread(self.watcher.change_mark)
        except Exception as exc:
            log.warning("could not check for changes: %s", exc)
            return
        if mark.due and self.first_change is None:
            self._changed()

    async def _publish(self) -> None:
        try:
            report = await self.watcher.publish()
        except Exception:
            log.exception("publishing failed; retrying in %.0fs", RETRY_AFTER_ERROR)
            self._postpone(RETRY_AFTER_ERROR)
            return
        if report.busy:
            self._postpone(BUSY_RETRY)
            return
        self.first_change = self.last_change = None
        if report.edition is not None:
            log.info(
                "published edition %d: %d entries, %d added, %d changed, %d removed, "
                "%d deliveries queued",
                report.edition.number,
                report.entries,
                len(report.edition.added),
                len(report.edition.changed),
                len(report.edition.removed),
                report.deliveries,
            )
            if self.on_edition is not None:
                self.on_edition()

    def _postpone(self, seconds: float) -> None:
        now = self.monotonic()
        self.first_change = now + seconds - self.debounce * MAX_DEBOUNCE_FACTOR
        self.last_change = now + seconds - self.debounce


class Curation:
    """Rounds of ``curate_once`` every ``interval`` seconds until ``stop`` is set; a full
    round with more waiting is followed after ``BACKLOG_PAUSE``, one that gave its host
    back to a poll after ``DEFERRED_PAUSE``. ``rounds`` and ``errors``
    count what happened (for logs and tests)."""

    def __init__(self, watcher: Watcher, *, interval: float, batch: int):
        self.watcher = watcher
        self.interval = interval
        self.batch = batch
        self.rounds = 0
        self.errors = 0

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            pause = self.interval
            try:
                report = await self.watcher.curate_once(should_stop=stop.is_set)
                self.rounds += 1
                if report.fingerprinted or report.failed:
                    log.info(
                        "curation: %d fingerprinted, %d failed (tried again later), %d waiting",
                        report.fingerprinted,
                        report.failed,
                        report.waiting,
                    )
                done = report.fingerprinted + report.failed
                if report.waiting and report.deferred:
                    pause = min(pause, DEFERRED_PAUSE)
                elif report.waiting and done >= self.batch:
                    pause = min(pause, BACKLOG_PAUSE)
            except StorageError as exc:
                self.errors += 1
                log.error("curation: database error, retrying: %s", exc)
                pause = max(pause, RETRY_AFTER_ERROR)
            except Exception:
                self.errors += 1
                log.exception("curation failed; retrying")
                pause = max(pause, RETRY_AFTER_ERROR)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=pause)


class Pruning:
    """``prune_if_due`` whenever the last prune is ``interval`` seconds old (see the module
    docstring); ``runs`` and ``errors`` count what happened (for logs and tests)."""

    def __init__(self, watcher: Watcher, *, interval: float):
        self.watcher = watcher
        self.interval = interval
        self.runs = 0
        self.errors = 0

    async def run(self, stop: asyncio.Event) -> None:
        pause = min(FIRST_PRUNE_DELAY, self.interval)
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=pause)
            if stop.is_set():
                return
            pause = await self._once(stop)

    async def _once(self, stop: asyncio.Event) -> float:
        """Prune if due; how long to sleep before looking again."""
        try:
            report = await self.watcher.prune_if_due(should_stop=stop.is_set)
            if report is not None and report.busy:
                return min(PRUNE_BUSY_PAUSE, self.interval)
            if report is not None:
                self.runs += 1
            next_at = await asyncio.to_thread(self.watcher.next_prune_at)
        except StorageError as exc:
            self.errors += 1
            log.error("pruning: database error, retrying: %s", exc)
            return RETRY_AFTER_ERROR
        except Exception:
            self.errors += 1
            log.exception("pruning failed; retrying")
            return RETRY_AFTER_ERROR
        wait = (next_at - self.watcher.clock()).total_seconds()
        return min(max(wait, PRUNE_MIN_PAUSE), PRUNE_CHECK_AT_MOST)
