"""The one place watcher talks HTTP: a small, strict wrapper around ``httpx.AsyncClient``.

Why a wrapper: every upstream (NASA's raw-image API, the images API, RSS feeds) gets the
same protections without each source re-implementing them, and callers see only watcher's
own ``FetchError`` tree, never an httpx exception.

What a ``Fetcher`` guarantees:

- one shared client per Fetcher (connection reuse), created lazily inside the running
  event loop (and re-created if it is later used from a different loop);
- ``User-Agent: watcher/<version> (+<contact>)`` so NASA's operators can reach us;
- connect / read timeouts from config plus an overall deadline per request
  (``request_deadline``, from connecting to the body's last byte, redirects included), so
  a server that trickles one byte at a time holds a poll, and the host's slot, no longer;
- redirects followed by hand, at most ``max_redirects`` (a loop ends in
  ``TooManyRedirects``) and without reading redirect bodies;
- the body is streamed and decoded here (gzip/deflate) with the size cap applied to the
  *decoded* bytes, so a huge body or a gzip bomb costs at most ``max_body_bytes`` of memory;
- conditional GET (``If-None-Match`` / ``If-Modified-Since``) when the request asks for it;
- status mapping: 2xx and 304 come back as a ``Response``, anything else raises
  ``HTTPStatusError`` carrying ``retry_after`` parsed from ``Retry-After``;
- at most ``per_host`` requests in flight per host, because NASA's servers are shared,
  taken in turn by the parties asking (each source's poll, the publisher), so one party's
  many requests never starve another's; a low-priority GET (the curator's) never makes
  another request wait (``fetch_slots``).

``post`` (webhooks, WebSub pings) gets the same client, timeouts, per-host slots, status
mapping and response cap, with two differences: redirects are never followed (a redirected
POST would re-send a signed body to wherever the receiver points, possibly another host),
and ``connect_to`` pins the connection to an address the caller has already vetted (the
SSRF guard resolves the host once; connecting by that address, with the original ``Host``
header and TLS server name, leaves no second DNS lookup to rebind).

Retrying is deliberately *not* done here: the core records the failure and schedules the
next poll from ``retry_after`` and the failure count, which survives restarts.

Three helpers keep this module to the client itself: ``fetch_body`` reads a body within the
cap, ``fetch_failures`` turns a failure into a ``FetchError``, ``fetch_slots`` keeps the
per-host limit. Callers import only from
here (``parse_retry_after`` and ``MAX_RETRY_AFTER`` included).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from types import TracebackType
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from watcher.config import FetchConfig
from watcher.exceptions import FetchError, FetchTimeout, HTTPStatusError, TooManyRedirects
from watcher.fetch_body import ACCEPT_ENCODING, read_body, read_error_head
from watcher.fetch_failures import (
    MAX_RETRY_AFTER,
    FetchErrors,
    parse_retry_after,
    redirect_not_followed,
    status_error,
    timeout_message,
)
from watcher.fetch_slots import HostSlots
from watcher.types import PageRequest

__all__ = ["MAX_RETRY_AFTER", "Fetcher", "Response", "build_url", "parse_retry_after"]

logger = logging.getLogger("watcher.fetch")

ACCEPT = (
    "application/json, application/rss+xml, application/atom+xml, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)


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


class Fetcher:
    """Makes GET requests for sources; see the module docstring for what it guarantees.

    ``transport`` replaces the network (``httpx.MockTransport`` in tests). ``total_timeout``
    bounds one request end to end (default: ``request_deadline``).
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
        self.total_timeout = total_timeout if total_timeout is not None else config.request_deadline
        self.requests_made: Counter[str] = Counter()
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._host_slots: dict[str, HostSlots] = {}

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

    def _slot(self, host: str) -> HostSlots:
        slot = self._host_slots.get(host)
        if slot is None:
            slot = self._host_slots[host] = HostSlots(self.config.per_host)
        return slot

    async def get(
        self,
        request: PageRequest,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        max_bytes: int | None = None,
        low_priority: bool = False,
        party: str = "",
    ) -> Response:
        """GET ``request.url`` with ``request.params``; a 2xx or 304 ``Response``.

        ``max_bytes`` caps this body below the configured one. ``low_priority`` takes the
        host's slot only when it is free, and gives it up to any other request (see
        ``watcher.fetch_slots``): such a GET may raise ``Preempted``, to be asked again.
        ``party`` names who asks (``poll:<source>``, ``publish``): waiting requests of
        different parties take the host's slots in turn.

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
        slots = self._slot(urlsplit(url).netloc.lower())
        cap = self.config.max_body_bytes if max_bytes is None else max_bytes
        if low_priority:
            response = await slots.low(lambda: self._timed_get(client, url, headers, cap), url)
        else:
            async with slots.normal(party):
                response = await self._timed_get(client, url, headers, cap)
        logger.debug(
            "GET %s -> %d, %d bytes in %.3fs",
            url,
            response.status,
            len(response.body),
            response.elapsed,
        )
        return response

    async def _timed_get(
        self, client: httpx.AsyncClient, url: str, headers: dict[str, str], cap: int
    ) -> Response:
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.total_timeout):
                return await self._fetch(client, url, headers, started, cap)
        except FetchError as exc:
            logger.debug("GET %s failed after %.3fs: %s", url, time.monotonic() - started, exc)
            raise
        except TimeoutError as exc:
            message = f"no complete response within {self.total_timeout:g}s"
            logger.debug("GET %s failed: %s", url, message)
            raise FetchTimeout(message, url=url) from exc

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
        async with self._slot(host).normal():
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
        with FetchErrors(url, lambda _: f"no answer within {limit:g}s"):
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
                        raise await _status_error(resp, url)
                    raise redirect_not_followed(resp.status_code, location, url)
                final = await self._finish(resp, started, self.config.max_body_bytes)
                return Response(
                    url, final.status, final.body, final.etag, final.last_modified, final.elapsed
                )
            finally:
                await resp.aclose()

    async def _fetch(
        self,
        client: httpx.AsyncClient,
        url: str,
        headers: dict[str, str],
        started: float,
        cap: int,
    ) -> Response:
        with FetchErrors(url, lambda exc: timeout_message(exc, self.config)):
            request = client.build_request("GET", url, headers=headers)
            redirects = 0
            while True:
                self.requests_made[request.url.netloc.decode("ascii").lower()] += 1
                resp = await client.send(request, stream=True)
                try:
                    if resp.next_request is None:
                        return await self._finish(resp, started, cap)
                    if redirects >= self.config.max_redirects:
                        raise TooManyRedirects(
                            f"more than {self.config.max_redirects} redirects", url=url
                        )
                    redirects += 1
                    request = resp.next_request
                finally:
                    await resp.aclose()

    async def _finish(self, resp: httpx.Response, started: float, cap: int) -> Response:
        """Turn a final (non-redirect) streamed response into a Response or an error."""
        final_url = str(resp.url)
        status = resp.status_code
        etag = resp.headers.get("ETag")
        last_modified = resp.headers.get("Last-Modified")
        if status == HTTPStatus.NOT_MODIFIED:
            return Response(final_url, status, b"", etag, last_modified, time.monotonic() - started)
        if not 200 <= status < 300:
            raise await _status_error(resp, final_url)
        body = await read_body(resp, cap, final_url)
        return Response(final_url, status, body, etag, last_modified, time.monotonic() - started)


async def _status_error(resp: httpx.Response, url: str) -> HTTPStatusError:
    """The error for an unusable answer, quoting the start of its page when it has one."""
    return status_error(resp, url, await read_error_head(resp, url))
