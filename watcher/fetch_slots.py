"""Requests in flight per host, in two priorities: the fetcher's politeness limit.

NASA's servers are shared, so at most ``per_host`` requests go to one host at a time. Polls,
publishes and deliveries take a slot in turn, *by party*: each waiting request names who
asks (``poll:perseverance``, ``publish``), and a freed slot goes to the next party in
turn, first come first served within a party. So a publish asking for sixty animation
frames at once, or a source whose requests each take the whole request deadline, delays
another source's poll by one request, never by its whole queue. A *low-priority* request
(the curator fetching thumbnails) never makes them wait behind it:

- it takes a slot only when one is free and no normal request is waiting for one;
- while it holds a slot, a normal request that finds none free stops it at once (its
  ``work`` is cancelled and ``low`` raises ``Preempted``) and takes the slot it frees.

So a poll waits at most for a cancellation to unwind, never for a picture's download, and
the host never sees more than ``per_host`` requests from watcher. Only ``watcher.fetch``
uses this module.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from watcher.exceptions import Preempted

T = TypeVar("T")


class HostSlots:
    """``size`` slots of one host; see the module docstring."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._busy = 0
        # Normal requests waiting, by party; the parties in turn order (the dict's order).
        self._normal: dict[str, deque[asyncio.Future[None]]] = {}
        self._low: deque[asyncio.Future[None]] = deque()
        self._yielding: list[asyncio.Task[Any]] = []  # low-priority work holding a slot
        self._stopped: set[asyncio.Task[Any]] = set()

    @asynccontextmanager
    async def normal(self, party: str = "") -> AsyncIterator[None]:
        """Hold a slot for the block, stopping a low-priority holder when none is free;
        ``party`` waits its turn among the others waiting (see the module docstring)."""
        await self._acquire(party)
        try:
            yield
        finally:
            self._release(after=party)

    async def low(self, work: Callable[[], Coroutine[Any, Any, T]], url: str) -> T:
        """``work()`` in a slot taken only when free; raises Preempted when a normal
        request needs the slot before ``work`` is done."""
        await self._acquire(None)
        task = asyncio.create_task(work())
        self._yielding.append(task)
        try:
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if task in self._stopped and (current is None or not current.cancelling()):
                raise Preempted(
                    "gave the host's slot to a request of higher priority", url=url
                ) from None
            raise
        finally:
            self._yielding.remove(task)
            self._stopped.discard(task)
            self._release()

    async def _acquire(self, party: str | None) -> None:
        """A slot for ``party`` (None: low priority), at once or when handed over."""
        normal = party is not None
        if self._busy < self.size and not self._normal and (normal or not self._low):
            self._busy += 1
            return
        if normal:
            self._preempt()
        waiter = asyncio.get_running_loop().create_future()
        queue = self._low if party is None else self._normal.setdefault(party, deque())
        queue.append(waiter)
        try:
            await waiter  # a release hands its slot over: the count stays
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # handed over just as we were cancelled: pass it on
            elif waiter in queue:
                queue.remove(waiter)
                if party is not None and not queue and self._normal.get(party) is queue:
                    del self._normal[party]
            raise

    def _preempt(self) -> None:
        for task in self._yielding:
            if task not in self._stopped:
                self._stopped.add(task)
                task.cancel()
                return

    def _release(self, after: str | None = None) -> None:
        """Hand the freed slot to the next party's first live waiter (``after``, the party
        that just had it, goes behind the others), else to a low-priority waiter."""
        if after in self._normal and len(self._normal) > 1:
            self._normal[after] = self._normal.pop(after)  # to the back of the turn
        while self._normal:
            party = next(iter(self._normal))
            queue = self._normal.pop(party)
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    if queue:
                        self._normal[party] = queue  # its next request waits its turn
                    waiter.set_result(None)
                    return
        while self._low:
            waiter = self._low.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._busy -= 1
