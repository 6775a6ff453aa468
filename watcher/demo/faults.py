"""Faults the emulator can inject: the ways NASA's servers (and networks) really fail.

A ``Fault`` is a frozen value built with one of the named constructors; the emulator's
``inject(fault, path_prefix=..., times=...)`` applies it to the next matching requests.
Faults that need a normal answer first (``delay``, ``truncated``, ``disconnect``, ``drip``)
wrap the response the emulator would have given; the others replace it.

A ``Retry-After`` is given as seconds (``120``), as an HTTP-date string, or as a
``timedelta``: an HTTP-date that far after the moment the answer is sent, as a server
working out "try again at 12:02" writes it, whenever it is asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum


class FaultKind(StrEnum):
    RESPOND = "respond"  # replace the response: status, headers, body
    DELAY = "delay"  # sleep, then the normal response (a client read timeout)
    TRUNCATE = "truncate"  # the normal body cut short, with an honest Content-Length
    DISCONNECT = "disconnect"  # the full Content-Length promised, connection closed midway
    DRIP = "drip"  # the normal answer, its body one byte every ``seconds`` (a slow drip)
    DROP = "drop"  # connection closed before any response
    OVERSIZED = "oversized"  # ``size`` filler bytes, streamed (never held in memory)
    GZIP_BOMB = "gzip_bomb"  # a small gzip body that decodes to ``size`` bytes
    REDIRECT_LOOP = "redirect_loop"  # 302 -> 302 -> ... forever


_HTML_ERROR = (
    "<!DOCTYPE html><html><head><title>{status} {reason}</title></head>"
    "<body><h1>{reason}</h1><p>The server encountered a temporary error.</p></body></html>"
)
_HTML_PAGE = (
    b'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
    b"<title>Scheduled Maintenance | NASA Mars Exploration</title></head>\n"
    b"<body><h1>We'll be back soon</h1><p>mars.nasa.gov is undergoing scheduled "
    b"maintenance. Please check back later.</p></body></html>\n"
)


@dataclass(frozen=True, slots=True)
class Fault:
    kind: FaultKind
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    seconds: float = 0.0
    size: int = 0
    fraction: float = 0.5
    content_length: bool = True
    retry_after_in: float | None = None  # Retry-After: the HTTP-date this long after sending

    @classmethod
    def respond(
        cls,
        status: int,
        body: bytes = b"",
        *,
        headers: tuple[tuple[str, str], ...] = (),
        content_type: str = "text/plain; charset=utf-8",
        retry_after: str | float | timedelta | None = None,
    ) -> Fault:
        """Any status/headers/body instead of the normal answer."""
        headers = (("Content-Type", content_type), *headers, *_retry_after(retry_after))
        later = retry_after.total_seconds() if isinstance(retry_after, timedelta) else None
        return cls(FaultKind.RESPOND, status, headers, body, retry_after_in=later)

    @classmethod
    def error_page(
        cls,
        status: int = 500,
        *,
        reason: str = "Internal Server Error",
        retry_after: str | float | timedelta | None = None,
    ) -> Fault:
        """An HTML error page, as NASA's front ends serve them."""
        body = _HTML_ERROR.format(status=status, reason=reason).encode()
        return cls.respond(
            status, body, content_type="text/html; charset=utf-8", retry_after=retry_after
        )

    @classmethod
    def rate_limited(cls, retry_after: str | float | timedelta | None = 120) -> Fault:
        """429 with ``Retry-After`` (seconds, an HTTP-date string, or a ``timedelta``: the
        HTTP-date that long after the answer)."""
        return cls.respond(429, b"Too Many Requests\n", retry_after=retry_after)

    @classmethod
    def unavailable(cls, retry_after: str | float | timedelta | None = None) -> Fault:
        """503, optionally with ``Retry-After``."""
        return cls.error_page(503, reason="Service Unavailable", retry_after=retry_after)

    @classmethod
    def html_page(cls, status: int = 200) -> Fault:
        """An HTML maintenance page served with status 200 instead of JSON/XML."""
        return cls.respond(status, _HTML_PAGE, content_type="text/html; charset=utf-8")

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """Wait ``seconds`` before answering normally (longer than a read timeout: a timeout)."""
        return cls(FaultKind.DELAY, seconds=seconds)

    @classmethod
    def truncated(cls, fraction: float = 0.5) -> Fault:
        """The normal body cut to ``fraction`` of its length (e.g. JSON missing its end)."""
        return cls(FaultKind.TRUNCATE, fraction=fraction)

    @classmethod
    def disconnect(cls, fraction: float = 0.5) -> Fault:
        """Promise the whole body, send ``fraction`` of it, close the connection."""
        return cls(FaultKind.DISCONNECT, fraction=fraction)

    @classmethod
    def drip(cls, seconds: float = 1.0) -> Fault:
        """The normal answer's headers at once, then its body one byte every ``seconds``:
        never silent long enough for a read timeout, never finished in time either."""
        return cls(FaultKind.DRIP, seconds=seconds)

    @classmethod
    def drop(cls) -> Fault:
        """Close the connection without answering."""
        return cls(FaultKind.DROP)

    @classmethod
    def oversized(cls, size: int = 50_000_000, *, content_length: bool = True) -> Fault:
        """Stream ``size`` bytes; without Content-Length the body ends when the socket closes."""
        return cls(FaultKind.OVERSIZED, size=size, content_length=content_length)

    @classmethod
    def gzip_bomb(cls, size: int = 50_000_000) -> Fault:
        """A gzip body (about ``size / 1000`` bytes on the wire) that decodes to ``size``."""
        return cls(FaultKind.GZIP_BOMB, size=size)

    @classmethod
    def redirect_loop(cls) -> Fault:
        """302 to ``/__loop/1``, which redirects to ``/__loop/2``, ... without end."""
        return cls(FaultKind.REDIRECT_LOOP, status=302)


def _retry_after(value: str | float | timedelta | None) -> tuple[tuple[str, str], ...]:
    """The fixed ``Retry-After`` header (a ``timedelta`` is written when sending)."""
    if value is None or isinstance(value, timedelta):
        return ()
    text = value if isinstance(value, str) else f"{value:g}"
    return (("Retry-After", text),)
