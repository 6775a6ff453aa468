"""Holding a named lease (one poller per source, one publisher, one curator), for every
part alike.

Why it is built this way: a holder can die without a word (SIGKILL, a power cut, a
container stopped), and its lease must not block the job for long after.

- **Short and renewed.** A lease runs ``TTL`` (30 s) ahead and its live holder renews it
  every third of that (``Hold``'s heartbeat) while it works, however long the work takes.
  So a holder that died on another host blocks the others for at most ``TTL``.
- **Proved gone at once.** A lease records its holder's process (``ProcessId``: host name,
  pid and a start token). A process on the same host reads ``/proc`` and takes the lease
  over at once when that pid is gone, is a zombie, or is a later process given the same
  pid (its start time differs). A holder in another pid namespace or on another host
  cannot be proved gone from here: its lease lapses after ``TTL``.
- **Lost, noticed.** A holder whose renewal finds the lease taken (its heartbeat was held
  up past ``TTL``) sets ``Hold.lost``; the poller and the curator stop at their next step,
  the publisher before it commits an edition.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from watcher.exceptions import StorageError
from watcher.types import LeaseHolder, ProcessId

log = logging.getLogger("watcher.leases")

TTL = timedelta(seconds=30)
_PROC = Path("/proc")


class LeaseKeeper(Protocol):
    """What holding a lease needs of the store (the poller's, the publisher's and the
    curator's store Protocols take it in whole)."""

    def take_lease(
        self,
        name: str,
        owner: str,
        now: datetime,
        until: datetime,
        *,
        process: ProcessId | None = None,
        take_from: str | None = None,
    ) -> bool: ...

    def lease_holder(self, name: str, now: datetime) -> LeaseHolder | None: ...

    def drop_lease(self, name: str, owner: str) -> None: ...


def new_owner() -> str:
    """``host:pid:token``: who holds a lease; two Watchers of one process differ by token."""
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(4).hex()}"


# -- processes ------------------------------------------------------------------------


def this_process() -> ProcessId:
    """This process as a lease records it."""
    pid = os.getpid()
    return ProcessId(socket.gethostname(), pid, start_token(pid) or "")


def start_token(pid: int) -> str | None:
    """``<boot id>/<pid namespace>/<start time>`` of process ``pid``: the same for as long
    as that process lives, different for a later process given the same pid. None when no
    such process is running (none at all, or one that exited and awaits its parent: a
    zombie); ``""`` when it runs but this system has no ``/proc`` to say more."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        return _exists_token(pid)
    # "pid (comm) state ppid ... starttime ...": comm may hold spaces and parentheses.
    fields = stat.rpartition(")")[2].split()
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return f"{_place()}/{fields[19]}"


def _exists_token(pid: int) -> str | None:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return ""
    return ""


def _place() -> str:
    """Where pids mean the same thing: this boot of this kernel, this pid namespace."""
    try:
        boot = (_PROC / "sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink(_PROC / "self/ns/pid")
    except OSError:
        return "?"
    return f"{boot}/{namespace}"


def is_gone(process: ProcessId) -> bool:
    """True only when ``process`` is provably not running: it ran on this host, where
    pids mean what they mean here, and its pid is free, a zombie, or another process's."""
    if process.host != socket.gethostname():
        return False
    recorded_place, _, _ = process.started.rpartition("/")
    if process.started and recorded_place != _place():
        return False  # another pid namespace, or a host of the same name: cannot tell
    current = start_token(process.pid)
    if current is None:
        return True
    return bool(process.started) and bool(current) and current != process.started


# -- taking and holding -----------------------------------------------------------------


def take(store: LeaseKeeper, name: str, owner: str, now: datetime, until: datetime) -> bool:
    """Hold ``name`` until ``until`` for this process; False while another live holder has
    it. A holder proved gone (``is_gone``) is taken over at once."""
    process = this_process()
    if store.take_lease(name, owner, now, until, process=process):
        return True
    holder = store.lease_holder(name, now)
    if holder is not None and holder.process is not None and is_gone(holder.process):
        log.info("%s: taking over the lease of %s, which is gone", name, describe(holder))
        return store.take_lease(name, owner, now, until, process=process, take_from=holder.owner)
    return False


class Hold:
    """A lease this process holds: renewed every ``ttl / 3`` until ``release``. ``lost``
    turns True when a renewal finds the lease gone to another holder.

    A renewal runs in a worker thread, which cancelling the heartbeat does not stop: the
    lock makes a renewal either finish before ``release`` drops the lease or see it
    released and do nothing, so no late renewal takes a given-up lease back."""

    def __init__(
        self,
        store: LeaseKeeper,
        name: str,
        owner: str,
        clock: Callable[[], datetime],
        ttl: timedelta,
    ) -> None:
        self.store, self.name, self.owner, self.clock, self.ttl = store, name, owner, clock, ttl
        self.lost = False
        self._process = this_process()
        self._lock = threading.Lock()
        self._released = False
        self._beat = asyncio.create_task(self._renew_while_held(), name=f"lease {name}")

    async def _renew_while_held(self) -> None:
        while True:
            await asyncio.sleep(self.ttl.total_seconds() / 3)
            try:
                kept = await asyncio.to_thread(self.renew)
            except StorageError as exc:  # the next beat tries again; the lease may lapse
                log.warning("%s: could not renew the lease: %s", self.name, exc)
                continue
            if not kept:
                self.lost = True
                log.warning("%s: the lease was lost to another holder", self.name)
                return

    def renew(self) -> bool:
        """Extend the lease by ``ttl`` from now; False when another holder has it."""
        with self._lock:
            if self._released:
                return True
            now = self.clock()
            return self.store.take_lease(
                self.name, self.owner, now, now + self.ttl, process=self._process
            )

    async def release(self) -> None:
        """Stop renewing and give the lease up."""
        self._beat.cancel()
        await asyncio.to_thread(self._drop)

    def _drop(self) -> None:
        with self._lock:
            self._released = True
            self.store.drop_lease(self.name, self.owner)


async def hold(
    store: LeaseKeeper,
    name: str,
    owner: str,
    clock: Callable[[], datetime],
    *,
    ttl: timedelta = TTL,
) -> Hold | LeaseHolder | None:
    """Take ``name`` and keep it renewed (a ``Hold``: call ``release`` when done); when
    another live holder has it, that holder (None if it let go just then)."""
    for _ in range(2):  # a holder that lets go between our two reads: try once more
        now = clock()
        if await asyncio.to_thread(take, store, name, owner, now, now + ttl):
            return Hold(store, name, owner, clock, ttl)
        holder = await asyncio.to_thread(store.lease_holder, name, now)
        if holder is not None:
            return holder
    return None


def describe(holder: LeaseHolder) -> str:
    """``pid 4242 on web-2`` (or the owner, for a lease taken before processes were
    recorded): who holds a lease, in words."""
    if holder.process is None:
        return holder.owner
    return f"pid {holder.process.pid} on {holder.process.host}"
