"""What a failed request tells its caller: watcher's ``FetchError`` tree, never httpx's.

Two kinds of failure end a request. An upstream that answers with a status watcher cannot
use becomes ``HTTPStatusError`` carrying ``retry_after`` from its ``Retry-After`` header
(the poller schedules the next attempt from it) and a one-line message with the start of
the error page, because "HTTP 503" alone does not say whether NASA is down for maintenance
or rate-limiting us. An exception from httpx or the socket becomes the matching
``FetchError`` subclass. Every message is one printable line, whatever the server sent.
Only ``watcher.fetch`` uses this; every other module goes through ``Fetcher``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from types import TracebackType
from urllib.parse import urlsplit

import httpx

from watcher.config import FetchConfig
from watcher.exceptions import (
    FetchConnectError,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    TooManyRedirects,
)

MAX_RETRY_AFTER = 86_400.0
_SNIPPET_CHARS = 100
_DELTA_SECONDS = re.compile(r"^\s*(-?\d{1,30}(?:\.\d+)?)\s*$")
_TAG = re.compile(r"<[^>]{0,500}>")
_NON_PRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` value, or None when absent or unparseable.

    Accepts delta-seconds (``"120"``) and an HTTP-date (``"Wed, 21 Oct 2015 07:28:00 GMT"``)
    measured from ``now`` (a naive ``now`` is taken as UTC). The result is clamped to
    ``0 <= s <= MAX_RETRY_AFTER``: a date in the past means "now", and a hostile or buggy
    server cannot park a source for a year.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if match := _DELTA_SECONDS.match(text):
        seconds = float(match.group(1))
    else:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def status_error(resp: httpx.Response, url: str, head: bytes) -> HTTPStatusError:
    """The error for an answer watcher cannot use: its status and reason, the start of
    ``head`` (the error page's first bytes, tags dropped) and its ``Retry-After``."""
    status = resp.status_code
    retry_after = parse_retry_after(resp.headers.get("Retry-After"), datetime.now(UTC))
    reason = sanitise(resp.reason_phrase) or _standard_reason(status)
    message = f"HTTP {status} {reason}".rstrip()
    snippet = sanitise(_TAG.sub(" ", head.decode("utf-8", "replace")))
    if snippet:
        message += f": {snippet[:_SNIPPET_CHARS]}"
    return HTTPStatusError(message, url=url, status=status, retry_after=retry_after)


def redirect_not_followed(status: int, location: str, url: str) -> HTTPStatusError:
    """The error for a redirected POST: following it would re-send a signed body wherever
    the receiver points, so the caller is told to register the final URL instead."""
    where = urlsplit(location).netloc or "the same host"
    return HTTPStatusError(
        f"HTTP {status}: redirect to {sanitise(where)[:100]} not followed (register the final URL)",
        url=url,
        status=status,
    )


class FetchErrors:
    """``with FetchErrors(url, timed_out):`` re-raises what httpx or the socket raises inside
    as the matching ``FetchError`` (anything else passes through unchanged).

    ``timed_out`` words an httpx timeout: a GET and a POST describe their limits apart.
    """

    __slots__ = ("_timed_out", "_url")

    def __init__(self, url: str, timed_out: Callable[[httpx.TimeoutException], str]) -> None:
        self._url = url
        self._timed_out = timed_out

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        error = self._translate(exc) if exc is not None else None
        if error is not None:
            raise error from exc

    def _translate(self, exc: BaseException) -> FetchError | None:
        url = self._url
        if isinstance(exc, httpx.TimeoutException):
            return FetchTimeout(self._timed_out(exc), url=url)
        if isinstance(exc, httpx.TooManyRedirects):
            return TooManyRedirects(str(exc) or "too many redirects", url=url)
        if isinstance(exc, httpx.TransportError | httpx.DecodingError):
            return FetchConnectError(_with_reason(_describe(exc), exc), url=url)
        if isinstance(exc, httpx.HTTPError | httpx.InvalidURL | httpx.StreamError):
            return FetchError(_describe(exc), url=url)
        if isinstance(exc, OSError):  # belt and braces: a socket error httpx did not wrap
            return FetchConnectError(_describe(exc), url=url)
        return None


def timeout_message(exc: httpx.TimeoutException, config: FetchConfig) -> str:
    """Which of the configured limits a GET ran into, in words."""
    if isinstance(exc, httpx.ConnectTimeout):
        return f"connect timed out after {config.connect_timeout:g}s"
    if isinstance(exc, httpx.ReadTimeout):
        return f"no data for {config.read_timeout:g}s"
    if isinstance(exc, httpx.WriteTimeout):
        return f"send timed out after {config.read_timeout:g}s"
    return f"no free connection within {config.connect_timeout:g}s"


def sanitise(text: str) -> str:
    """One line of printable text: control characters and runs of whitespace collapsed."""
    return " ".join(_NON_PRINTABLE.sub(" ", text).split())


def _describe(exc: BaseException) -> str:
    text = sanitise(str(exc))
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _with_reason(message: str, exc: BaseException) -> str:
    """``message`` with what the socket said when the message leaves it out: anyio words
    a refused connection "All connection attempts failed", the refusal only in its cause,
    and "refused" is what an operator needs to read in ``watcher sources``."""
    reasons = []
    for error in _socket_errors(exc):
        reason = os.strerror(error.errno) if error.errno and error.errno > 0 else error.strerror
        if reason and reason not in message and reason not in reasons:
            reasons.append(reason)
    return f"{message} ({'; '.join(reasons)})" if reasons else message


def _socket_errors(exc: BaseException) -> Iterator[OSError]:
    """The OSErrors with an errno behind ``exc``: its causes, the error it wraps, and each
    attempt of a group (one per address tried)."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        error = pending.pop(0)
        if id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno is not None:
            yield error
        if isinstance(error, BaseExceptionGroup):
            pending.extend(error.exceptions)
        # httpcore may re-raise without the chain, the original error as its argument.
        pending.extend(arg for arg in error.args if isinstance(arg, BaseException))
        cause = error.__cause__
        if cause is None and not error.__suppress_context__:
            cause = error.__context__
        if cause is not None:
            pending.append(cause)


def _standard_reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
