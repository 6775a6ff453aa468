"""Every error watcher raises on purpose, as one tree.

::

    WatcherError
    ├── ConfigError        the config file or environment is invalid (CLI exit 2)
    ├── UsageError         a command was asked for something it cannot do (CLI exit 2)
    │   ├── InvalidInput       a field's value is not acceptable (carries field -> message)
    │   │   └── RateLimited        too many sign-ups from one client or for one mailbox
    │   ├── BadLink            a confirmation or unsubscribe link is malformed, altered or old
    │   ├── AddressProblem     a typed email address cannot receive mail (says why)
    │   └── Refused            a webhook URL the guard will not connect to (says why)
    ├── NotFound           no such candidate, source, ...
    ├── Conflict           someone else decided or changed it first (who, when)
    ├── AuthError          wrong name or password, throttled, disabled, expired session
    ├── PermissionDenied   signed in, but the role does not allow it
    ├── StorageError       the database failed or is unreachable (CLI exit 1)
    │   └── ReuseFailed        a file the render reused is gone from the served version
    ├── ParseError         an upstream body is not in the shape its source expects
    ├── FetchError         an upstream HTTP request failed
    │   ├── FetchTimeout       connect or read timed out
    │   ├── FetchConnectError  DNS, refused, reset, TLS
    │   ├── HTTPStatusError    a status other than 2xx/304 (carries status, retry_after)
    │   ├── ResponseTooLarge   the body passed the configured size cap
    │   ├── TooManyRedirects   a redirect loop or chain longer than the cap
    │   └── Preempted          a low-priority request gave its host's slot to another
    ├── DeliveryError      one mail, webhook POST, ping or notice failed (the outbox retries)
    └── ServiceError       the service could not start (e.g. its port is taken)

Upstream failures (FetchError, ParseError) are recorded against the source and retried
later with backoff; they never stop the service; a DeliveryError likewise only reschedules
its delivery. Callers catch the narrowest class they can act on. Every class lives here,
even one raised and caught inside a single package, so this drawing is the whole tree (a
test compares it with the classes).
"""

from __future__ import annotations


class WatcherError(Exception):
    """Base of every error watcher raises on purpose."""


class ConfigError(WatcherError):
    """Invalid configuration. The message names the file and the key."""

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None):
        self.path = path
        self.key = key
        where = ": ".join(part for part in (path, key) if part)
        super().__init__(f"{where}: {message}" if where else message)


class UsageError(WatcherError):
    """A request that cannot be served as asked (e.g. a sol range for an RSS source)."""


class InvalidInput(UsageError):
    """Values a user typed that cannot be accepted. ``errors`` maps field -> message, so a
    form can show each message next to its field."""

    def __init__(self, errors: dict[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))


class RateLimited(InvalidInput):
    """Too many sign-ups from one address or for one mailbox; ``retry_after`` seconds.

    An ``InvalidInput``, so a form shows it beside the email field."""

    def __init__(self, field: str, message: str, *, retry_after: float):
        self.retry_after = retry_after
        super().__init__({field: message})


class BadLink(UsageError):
    """A confirmation or unsubscribe link that is malformed, tampered with, or expired."""

    def __init__(self, message: str, *, expired: bool = False):
        self.expired = expired
        super().__init__(message)


class AddressProblem(UsageError):
    """Why a typed email address is not usable; the message is shown beside the field."""


class Refused(UsageError):
    """A webhook URL the guard will not connect to (not http(s), credentials in it, or a
    host resolving to a private, loopback or reserved address); the message says why."""


class NotFound(WatcherError):
    """The named thing (candidate, source, ...) does not exist."""


class Conflict(WatcherError):
    """The thing changed since the caller last saw it: "already decided by X at T".

    Raised instead of overwriting another editor's decision or edit.
    """

    def __init__(self, message: str, *, by: str | None = None, at: object = None):
        self.by = by
        self.at = at
        super().__init__(message)


class AuthError(WatcherError):
    """Authentication failed. ``retry_after`` (seconds) is set while sign-in is throttled."""

    def __init__(self, message: str, *, retry_after: float | None = None):
        self.retry_after = retry_after
        super().__init__(message)


class PermissionDenied(WatcherError):
    """The signed-in editor (or token) may not do this."""


class StorageError(WatcherError):
    """The database failed: unreachable, locked for too long, or out of date."""


class ReuseFailed(StorageError):
    """A file the render left out (``reused``) could not be linked from the current
    version (deleted by hand?): render it again without reuse."""


class ParseError(WatcherError):
    """An upstream body could not be used as a whole (not JSON, an HTML page, wrong shape).

    A single bad record inside a good page is never a ParseError: it is skipped and counted.
    """


class FetchError(WatcherError):
    """An upstream HTTP request failed. ``retry_after`` is seconds the server asked us to wait."""

    def __init__(self, message: str, *, url: str, retry_after: float | None = None):
        self.url = url
        self.retry_after = retry_after
        super().__init__(message)


class FetchTimeout(FetchError):
    """Connecting or reading took longer than the configured timeout."""


class FetchConnectError(FetchError):
    """The host could not be reached (DNS failure, connection refused or reset, TLS error)."""


class HTTPStatusError(FetchError):
    """The server answered with a status watcher cannot use (4xx, 5xx, unexpected 3xx)."""

    # Client errors that say "later", not "never": timeout, too early, too many requests.
    TRANSIENT_STATUS = frozenset({408, 425, 429})

    def __init__(self, message: str, *, url: str, status: int, retry_after: float | None = None):
        self.status = status
        super().__init__(message, url=url, retry_after=retry_after)

    @property
    def permanent(self) -> bool:
        """Asking again will not help: a 4xx other than ``TRANSIENT_STATUS`` (or a 3xx
        watcher does not follow); a 5xx or a transient 4xx may pass."""
        return self.status < 500 and self.status not in self.TRANSIENT_STATUS


class ResponseTooLarge(FetchError):
    """The body grew past the configured cap; the rest was not read."""


class TooManyRedirects(FetchError):
    """The server redirected more times than allowed (usually a loop)."""


class Preempted(FetchError):
    """A low-priority request (the curator's) was stopped so a normal one (a poll's) could
    have the host's slot: nothing is wrong with the resource; ask again later."""


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


class ServiceError(WatcherError):
    """The service could not start (e.g. its port is taken)."""
