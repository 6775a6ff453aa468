"""The one place watcher talks HTTP: a small, strict wrapper around ``httpx.AsyncClient``.

Why a wrapper: every upstream (NASA's raw-image API, the images API, RSS feeds) gets the
same protections without each source re-implementing them, and callers see only watcher's
own ``FetchError`` tree, never an httpx exception.

What a ``Fetcher`` guarantees:

- one shared client per Fetcher (connection reuse), created lazily inside the running
  event loop (and re-created if it is later used from a different loop);
- ``User-Agent: watcher/<version> (+<contact>)`` so NASA's operators can reach us;
- connect / read timeouts from config plus an overall deadline per request, so a server
  that trickles one byte at a time cannot hold a poll forever;
- redirects followed by hand, at most ``max_redirects`` (a loop ends in
  ``TooManyRedirects``) and without reading redirect bodies;
- the body is streamed and decoded here (gzip/deflate) with the size cap applied to the
  *decoded* bytes, so a huge body or a gzip bomb costs at most ``max_body_bytes`` of memory;
- conditional GET (``If-None-Match`` / ``If-Modified-Since``) when the request asks for it;
- status mapping: 2xx and 304 come back as a ``Response``, anything else raises
  ``HTTPStatusError`` carrying ``retry_after`` parsed from ``Retry-After``;
- at most ``per_host`` requests in flight per host, because NASA's servers are shared.

``post`` (webhooks, WebSub pings) gets the same client, timeouts, per-host slots, status
mapping and response cap, with two differences: redirects are never followed (a redirected
POST would re-send a signed body to wherever the receiver points, possibly another host),
and ``connect_to`` pins the connection to an address the caller has already vetted (the
SSRF guard resolves the host once; connecting by that address, with the original ``Host``
header and TLS server name, leaves no second DNS lookup to rebind).

Retrying is deliberately *not* done here: the core records the failure and schedules the
next poll from ``retry_after`` and the failure count, which survives restarts.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import zlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from types import TracebackType
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from watcher.config import FetchConfig
from watcher.exceptions import (
    FetchConnectError,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    ResponseTooLarge,
    TooManyRedirects,
)
from watcher.types import PageRequest

__all__ = ["MAX_RETRY_AFTER", "Fetcher", "Response", "build_url", "parse_retry_after"]

logger = logging.getLogger("watcher.fetch")

ACCEPT = (
    "application/json, application/rss+xml, application/atom+xml, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
# We decode bodies ourselves (to cap decoded size exactly), so we only offer what we decode.
ACCEPT_ENCODING = "gzip, deflate"
MAX_RETRY_AFTER = 86_400.0
_SNIPPET_BYTES = 2048
_SNIPPET_CHARS = 100
_DELTA_SECONDS = re.compile(r"^\s*(-?\d{1,30}(?:\.\d+)?)\s*$")
_TAG = re.compile(r"<[^>]{0,500}>")
_NON_PRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


@dataclass(frozen=True, slots=True)
class Response:
    """A usable upstream answer: a 2xx with its body, or a 304 with ``body == b""``."""

    url: str
    status: int
    body: bytes
    etag: str | None
    last_modified: str | None
    elapsed: float

    @property
    def not_modified(self) -> bool:
        """True for a 304: the stored ETag / Last-Modified still describe the resource."""
        return self.status == HTTPStatus.NOT_MODIFIED


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


def build_url(url: str, params: tuple[tuple[str, str], ...]) -> str:
    """``url`` with ``params`` appended in order, spaces as ``+`` (``order=sol+desc``).

    ``:`` and ``,`` stay literal, as in NASA's own examples
    (``condition_2=2026-08-31T02:02:58Z:date_received:gte``, ``extended=sample_type::full,``).

    A query already in ``url`` is kept verbatim. A key given twice (in ``params`` or in both)
    raises ValueError: NASA's raw-image API misbehaves on repeated keys, so a repeat is a
    bug in the caller, not something to paper over.
    """
    if not params:
        return url
    parts = urlsplit(url)
    existing = [key for key, _ in parse_qsl(parts.query, keep_blank_values=True)]
    keys = existing + [key for key, _ in params]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise ValueError(f"query key(s) repeated in request to {url}: {', '.join(repeated)}")
    added = urlencode(params, safe=":,")  # keep NASA's documented form readable
    query = f"{parts.query}&{added}" if parts.query else added
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


class _BodyDecoder:
    """Decodes a gzip/deflate/identity body incrementally, never producing more than asked.

    ``zlib``'s ``max_length`` bounds each step's output, so a gzip bomb is stopped after at
    most ``limit + 1`` decoded bytes, whatever the compression ratio.
    """

    def __init__(self, content_encoding: str, url: str) -> None:
        encoding = content_encoding.strip().lower()
        self._url = url
        self._z: zlib._Decompress | None = None
        self._deflate_first = False
        if encoding in ("", "identity"):
            return
        if encoding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            # "deflate" is zlib-wrapped by the spec, raw deflate by some servers: try both.
            self._z = zlib.decompressobj()
            self._deflate_first = True
        else:
            raise FetchConnectError(f"unsupported Content-Encoding {encoding!r}", url=url)

    def decode(self, data: bytes, limit: int) -> bytes:
        """Decoded bytes of ``data``; at most ``limit + 1`` of them (more means: over cap)."""
        if self._z is None:
            return data
        try:
            try:
                out = self._z.decompress(data, limit + 1)
            except zlib.error:
                if not self._deflate_first:
                    raise
                self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                out = self._z.decompress(data, limit + 1)
        except zlib.error as exc:
            raise FetchConnectError(f"could not decode body: {exc}", url=self._url) from exc
        self._deflate_first = False
        return out


class Fetcher:
    """Makes GET requests for sources; see the module docstring for what it guarantees.

    ``transport`` replaces the network (``httpx.MockTransport`` in tests). ``total_timeout``
    bounds one request end to end (default: ``connect_timeout + 4 * read_timeout``).
    ``requests_made`` counts requests started per host (``host[:port]``), redirects included.
    """

    def __init__(
        self,
        config: FetchConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        total_timeout: float | None = None,
    ) -> None:
        self.config = config
        self.total_timeout = (
            total_timeout
            if total_timeout is not None
            else config.connect_timeout + 4 * config.read_timeout
        )
        self.requests_made: Counter[str] = Counter()
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._host_slots: dict[str, asyncio.Semaphore] = {}

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close pooled connections. The Fetcher stays usable: a later ``get`` reconnects."""
        client, loop = self._client, self._loop
        self._client, self._loop, self._host_slots = None, None, {}
        # A client made in another (finished) event loop cannot be closed from this one;
        # its connections went with that loop.
        if client is not None and loop is asyncio.get_running_loop():
            await client.aclose()

    def _ensure_client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            # A client (and its semaphores) belong to one event loop; a new loop (a second
            # asyncio.run) gets fresh ones. The old client's sockets die with its loop.
            self._client = httpx.AsyncClient(
                headers={
                    "User-Agent": self.config.user_agent,
                    "Accept": ACCEPT,
                    "Accept-Encoding": ACCEPT_ENCODING,
                },
                timeout=httpx.Timeout(
                    connect=self.config.connect_timeout,
                    read=self.config.read_timeout,
                    write=self.config.read_timeout,
                    pool=self.config.connect_timeout,
                ),
                follow_redirects=False,
                transport=self._transport,
            )
            self._loop = loop
            self._host_slots = {}
        return self._client

    def _slot(self, host: str) -> asyncio.Semaphore:
        slot = self._host_slots.get(host)
        if slot is None:
            slot = self._host_slots[host] = asyncio.Semaphore(self.config.per_host)
        return slot

    async def get(
        self,
        request: PageRequest,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Response:
        """GET ``request.url`` with ``request.params``; a 2xx or 304 ``Response``.

        Raises FetchTimeout, FetchConnectError, HTTPStatusError, ResponseTooLarge or
        TooManyRedirects (all FetchError, all with ``url``). ValueError only for a request
        that repeats a query key (a caller bug).
        """
        url = build_url(request.url, request.params)
        headers: dict[str, str] = {}
        if request.conditional:
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified
        client = self._ensure_client()
        host = urlsplit(url).netloc.lower()
        async with self._slot(host):
            started = time.monotonic()
            try:
                async with asyncio.timeout(self.total_timeout):
                    response = await self._fetch(client, url, headers, started)
            except FetchError as exc:
                logger.debug("GET %s failed after %.3fs: %s", url, time.monotonic() - started, exc)
                raise
            except TimeoutError as exc:
                message = f"no complete response within {self.total_timeout:g}s"
                logger.debug("GET %s failed: %s", url, message)
                raise FetchTimeout(message, url=url) from exc
        logger.debug(
            "GET %s -> %d, %d bytes in %.3fs",
            url,
            response.status,
            len(response.body),
            response.elapsed,
        )
        return response

    async def post(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        *,
        time_limit: float | None = None,
        connect_to: str | None = None,
    ) -> Response:
        """POST ``body`` to ``url``; a 2xx ``Response`` (its body capped like a GET's).

        ``time_limit`` bounds the whole request (default: the fetcher's ``total_timeout``).
        ``connect_to`` is an IP address to connect to instead of resolving the URL's host
        (the ``Host`` header and the TLS server name stay the URL's). A 3xx is not followed:
        it raises ``HTTPStatusError``. Raises the same FetchError family as ``get``.
        """
        limit = time_limit if time_limit is not None else self.total_timeout
        parts = urlsplit(url)
        host = parts.netloc.lower()
        send_headers = dict(headers)
        extensions: dict[str, str] = {}
        target = url
        if connect_to is not None and parts.hostname:
            address = f"[{connect_to}]" if ":" in connect_to else connect_to
            netloc = address if parts.port is None else f"{address}:{parts.port}"
            target = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
            send_headers["Host"] = parts.netloc.rpartition("@")[2]
            if parts.scheme == "https":
                extensions["sni_hostname"] = parts.hostname
        client = self._ensure_client()
        async with self._slot(host):
            started = time.monotonic()
            try:
                async with asyncio.timeout(limit):
                    response = await self._post(
                        client, url, target, body, send_headers, extensions, limit, started
                    )
            except FetchError as exc:
                logger.debug("POST %s failed after %.3fs: %s", url, time.monotonic() - started, exc)
                raise
            except TimeoutError as exc:
                raise FetchTimeout(f"no complete response within {limit:g}s", url=url) from exc
        logger.debug("POST %s -> %d in %.3fs", url, response.status, response.elapsed)
        return response

    async def _post(
        self,
        client: httpx.AsyncClient,
        url: str,
        target: str,
        body: bytes,
        headers: dict[str, str],
        extensions: dict[str, str],
        limit: float,
        started: float,
    ) -> Response:
        try:
            request = client.build_request(
                "POST",
                target,
                content=body,
                headers=headers,
                timeout=httpx.Timeout(limit, connect=min(limit, self.config.connect_timeout)),
                extensions=extensions,
            )
            self.requests_made[urlsplit(url).netloc.lower()] += 1
            resp = await client.send(request, stream=True)
            try:
                if 300 <= resp.status_code < 400:
                    location = resp.headers.get("Location")
                    if resp.status_code == HTTPStatus.NOT_MODIFIED or not location:
                        raise await self._status_error(resp, url)
                    where = urlsplit(location).netloc or "the same host"
                    raise HTTPStatusError(
                        f"HTTP {resp.status_code}: redirect to {_sanitise(where)[:100]} not "
                        "followed (register the final URL)",
                        url=url,
                        status=resp.status_code,
                    )
                final = await self._finish(resp, started)
                return Response(
                    url, final.status, final.body, final.etag, final.last_modified, final.elapsed
                )
            finally:
                await resp.aclose()
        except httpx.TimeoutException as exc:
            raise FetchTimeout(f"no answer within {limit:g}s", url=url) from exc
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise FetchConnectError(_describe(exc), url=url) from exc
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
            raise FetchError(_describe(exc), url=url) from exc
        except OSError as exc:
            raise FetchConnectError(_describe(exc), url=url) from exc

    async def _fetch(
        self, client: httpx.AsyncClient, url: str, headers: dict[str, str], started: float
    ) -> Response:
        try:
            request = client.build_request("GET", url, headers=headers)
            redirects = 0
            while True:
                self.requests_made[request.url.netloc.decode("ascii").lower()] += 1
                resp = await client.send(request, stream=True)
                try:
                    if resp.next_request is None:
                        return await self._finish(resp, started)
                    if redirects >= self.config.max_redirects:
                        raise TooManyRedirects(
                            f"more than {self.config.max_redirects} redirects", url=url
                        )
                    redirects += 1
                    request = resp.next_request
                finally:
                    await resp.aclose()
        except httpx.TimeoutException as exc:
            raise FetchTimeout(_timeout_message(exc, self.config), url=url) from exc
        except httpx.TooManyRedirects as exc:
            raise TooManyRedirects(str(exc) or "too many redirects", url=url) from exc
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise FetchConnectError(_describe(exc), url=url) from exc
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
            raise FetchError(_describe(exc), url=url) from exc
        except OSError as exc:  # belt and braces: a socket error httpx did not wrap
            raise FetchConnectError(_describe(exc), url=url) from exc

    async def _finish(self, resp: httpx.Response, started: float) -> Response:
        """Turn a final (non-redirect) streamed response into a Response or an error."""
        final_url = str(resp.url)
        status = resp.status_code
        etag = resp.headers.get("ETag")
        last_modified = resp.headers.get("Last-Modified")
        if status == HTTPStatus.NOT_MODIFIED:
            return Response(final_url, status, b"", etag, last_modified, time.monotonic() - started)
        if not 200 <= status < 300:
            raise await self._status_error(resp, final_url)
        cap = self.config.max_body_bytes
        declared = resp.headers.get("Content-Length", "").strip()
        if declared.isdigit() and int(declared) > cap:
            raise ResponseTooLarge(
                f"Content-Length {int(declared):,} bytes exceeds the {cap:,}-byte cap",
                url=final_url,
            )
        body = await _read_capped(resp, cap, final_url)
        if body is None:
            raise ResponseTooLarge(f"body exceeds the {cap:,}-byte cap", url=final_url)
        return Response(final_url, status, body, etag, last_modified, time.monotonic() - started)

    async def _status_error(self, resp: httpx.Response, url: str) -> HTTPStatusError:
        status = resp.status_code
        retry_after = parse_retry_after(resp.headers.get("Retry-After"), datetime.now(UTC))
        reason = _sanitise(resp.reason_phrase) or _standard_reason(status)
        message = f"HTTP {status} {reason}".rstrip()
        content_type = resp.headers.get("Content-Type", "").lower()
        if content_type.startswith("text/") or "json" in content_type or "xml" in content_type:
            try:
                raw = await _read_capped(resp, _SNIPPET_BYTES, url, truncate=True)
            except FetchError:
                raw = None
            snippet = _sanitise(_TAG.sub(" ", (raw or b"").decode("utf-8", "replace")))
            if snippet:
                message += f": {snippet[:_SNIPPET_CHARS]}"
        return HTTPStatusError(message, url=url, status=status, retry_after=retry_after)


async def _read_capped(
    resp: httpx.Response, cap: int, url: str, *, truncate: bool = False
) -> bytes | None:
    """Decoded body up to ``cap`` bytes; None when it is longer (or its head if ``truncate``)."""
    if resp.is_stream_consumed:
        # Only transport fakes (httpx.MockTransport with content=...) hand over a body that
        # httpx has already read and decoded; a network response is always a stream.
        content = resp.content
        if len(content) > cap:
            return content[:cap] if truncate else None
        return content
    decoder = _BodyDecoder(resp.headers.get("Content-Encoding", ""), url)
    chunks: list[bytes] = []
    size = 0
    async for raw in resp.aiter_raw():
        data = decoder.decode(raw, cap - size)
        size += len(data)
        if size > cap:
            if truncate:
                chunks.append(data)
                return b"".join(chunks)[:cap]
            return None
        chunks.append(data)
    return b"".join(chunks)


def _timeout_message(exc: httpx.TimeoutException, config: FetchConfig) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return f"connect timed out after {config.connect_timeout:g}s"
    if isinstance(exc, httpx.ReadTimeout):
        return f"no data for {config.read_timeout:g}s"
    if isinstance(exc, httpx.WriteTimeout):
        return f"send timed out after {config.read_timeout:g}s"
    return f"no free connection within {config.connect_timeout:g}s"


def _describe(exc: BaseException) -> str:
    text = _sanitise(str(exc))
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _sanitise(text: str) -> str:
    """One line of printable text: control characters and runs of whitespace collapsed."""
    return " ".join(_NON_PRINTABLE.sub(" ", text).split())


def _standard_reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
