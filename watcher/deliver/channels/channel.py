"""The one interface every delivery channel implements, and the errors around it.

``exceptions.py`` has no delivery errors yet, so they live here; each one subclasses the
``WatcherError`` branch callers already handle (``RateLimited`` is an ``InvalidInput``, so a
form shows it beside the email field; ``BadLink`` is a ``UsageError``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeVar

from watcher.exceptions import InvalidInput, UsageError, WatcherError

P_contra = TypeVar("P_contra", contravariant=True)


class DeliveryError(WatcherError):
    """One delivery failed; the outbox decides what happens next.

    ``permanent``: trying again cannot help (a refused recipient, a blocked address); the
    delivery ends dead at once. ``retry_after``: the receiver asked for this many seconds.
    ``broken``: the channel itself is down (the SMTP server refuses connections), so the
    rest of the batch for that channel is failed at once instead of each waiting a timeout.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        broken: bool = False,
    ):
        self.permanent = permanent
        self.retry_after = retry_after
        self.broken = broken
        super().__init__(message)


class RateLimited(InvalidInput):
    """Too many sign-ups from one address or for one mailbox; ``retry_after`` seconds."""

    def __init__(self, field: str, message: str, *, retry_after: float):
        self.retry_after = retry_after
        super().__init__({field: message})


class BadLink(UsageError):
    """A confirmation or unsubscribe link that is malformed, tampered with, or expired."""

    def __init__(self, message: str, *, expired: bool = False):
        self.expired = expired
        super().__init__(message)


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
