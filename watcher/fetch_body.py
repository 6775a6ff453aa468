"""Reading a response body within the size cap: the fetcher's guard against huge bodies.

The cap applies to the *decoded* bytes, so the body is streamed and decoded here
(gzip/deflate) instead of by httpx: a declared ``Content-Length`` over the cap is refused
before a byte is read, and a body that grows past it (a lying length, a chunked stream, a
gzip bomb) is abandoned after at most ``cap + 1`` decoded bytes, whatever the compression
ratio. Only ``watcher.fetch`` uses this; every other module goes through ``Fetcher``.
"""

from __future__ import annotations

import zlib

import httpx

from watcher.exceptions import FetchConnectError, FetchError, ResponseTooLarge

# We decode bodies ourselves (to cap decoded size exactly), so we only offer what we decode.
ACCEPT_ENCODING = "gzip, deflate"
# How much of an error page is read for its message: enough for a short explanation.
ERROR_HEAD_BYTES = 2048


class BodyDecoder:
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


async def read_body(resp: httpx.Response, cap: int, url: str) -> bytes:
    """The whole decoded body of a usable answer; ``ResponseTooLarge`` past ``cap`` bytes,
    refused up front when ``Content-Length`` already says so."""
    declared = resp.headers.get("Content-Length", "").strip()
    if declared.isdigit() and int(declared) > cap:
        raise ResponseTooLarge(
            f"Content-Length {int(declared):,} bytes exceeds the {cap:,}-byte cap", url=url
        )
    body = await _read_capped(resp, cap, url)
    if body is None:
        raise ResponseTooLarge(f"body exceeds the {cap:,}-byte cap", url=url)
    return body


async def read_error_head(resp: httpx.Response, url: str) -> bytes:
    """The start of an error answer's body when it is text (HTML, JSON, XML) that may say
    why; b"" for anything else, or when even that much cannot be read."""
    content_type = resp.headers.get("Content-Type", "").lower()
    if not (content_type.startswith("text/") or "json" in content_type or "xml" in content_type):
        return b""
    try:
        head = await _read_capped(resp, ERROR_HEAD_BYTES, url, truncate=True)
    except FetchError:
        return b""
    return head or b""


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
    decoder = BodyDecoder(resp.headers.get("Content-Encoding", ""), url)
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
