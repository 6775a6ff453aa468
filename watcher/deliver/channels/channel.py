"""The one interface every delivery channel implements.

Its failures are ``watcher.exceptions.DeliveryError``: the outbox, the worker and every
channel share that one class and its flags.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeVar

P_contra = TypeVar("P_contra", contravariant=True)


class Channel(Protocol[P_contra]):
    """Sends one kind of delivery (mail, webhook POST, WebSub ping, team notice).

    Contract:

    - ``send(key, payload)`` delivers ``payload`` once and returns when the receiver has
      accepted it (SMTP 250 after DATA, an HTTP 2xx, Apprise reporting success). It puts
      ``key`` in the message where the receiver can see it (the Message-ID, the
      ``X-Watcher-Delivery`` header) so a resend after a crash can be recognised.
    - Every failure of the receiver or the network is raised as ``DeliveryError`` (see its
      flags); nothing else escapes for those. Other exceptions are bugs.
    - It bounds its own time: no ``send`` outlives the channel's configured timeout by much.
    - It never retries by itself: the outbox owns retries (with backoff, across restarts).
    - ``send`` may be called concurrently; connections are reused between calls and
      released by ``aclose``.
    """

    async def send(self, key: str, payload: P_contra) -> None: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryReport:
    """What one worker cycle did. ``failed``: will be retried; ``dead``: given up (or
    nothing left to send: ``skipped`` counts those, e.g. a subscriber who left);
    ``released``: claimed but not attempted before the lease ran short."""

    claimed: int = 0
    sent: int = 0
    failed: int = 0
    dead: int = 0
    skipped: int = 0
    released: int = 0
