"""The site follower: a replica that serves the site keeps its own ``site_dir`` on the
latest edition, whichever replica made it.

Replicas share the database, not a disk. Editions are made from the database alone, so
each replica can render the latest one itself; the follower asks every ``every`` seconds
for the latest edition's number (one indexed query) and compares it with the marker of the
served files; when they differ it renders that edition (``Watcher.follow_site``, under the
site's file lock, never the ``publish`` lease). A publish made by this replica leaves
nothing to do.

Like the service's other loops it survives every error: it logs it, waits and tries again
(a database restarting, a full disk); the files it serves stay the previous edition's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from watcher.core import Watcher
from watcher.exceptions import StorageError

log = logging.getLogger("watcher.follower")

EVERY_SECONDS = 2.0
RETRY_AFTER_ERROR = 10.0


class SiteFollower:
    """``run(stop)`` until ``stop`` is set; ``renders`` and ``errors`` count what happened
    (for logs and tests)."""

    def __init__(self, watcher: Watcher, *, every: float = EVERY_SECONDS):
        self.watcher = watcher
        self.every = every
        self.renders = 0
        self.errors = 0

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            pause = self.every
            try:
                report = await self.watcher.follow_site()
                if report is not None and report.rendered:
                    self.renders += 1
                    log.info(
                        "site files rendered for edition %d (%s)", report.edition, report.reason
                    )
            except StorageError as exc:
                self.errors += 1
                log.error("site follower: %s; retrying in %.0fs", exc, RETRY_AFTER_ERROR)
                pause = RETRY_AFTER_ERROR
            except Exception:
                self.errors += 1
                log.exception("site follower failed; retrying in %.0fs", RETRY_AFTER_ERROR)
                pause = RETRY_AFTER_ERROR
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=pause)
