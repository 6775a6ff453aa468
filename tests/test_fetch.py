"""fetch.py against real loopback servers (the NASA emulator), and transport fakes only where a
real server cannot produce the failure (TLS)."""

from __future__ import annotations

import asyncio
import gzip
import logging
import socket
import time
import zlib
from collections.abc import Callable, Coroutine, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from watcher.config import FetchConfig
from watcher.demo import Fault, NasaEmulator, SyntheticRawImages
from watcher.exceptions import (
    FetchConnectError,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    ResponseTooLarge,
    TooManyRedirects,
)
from watcher.fetch import MAX_RETRY_AFTER, Fetcher, Response, build_url, parse_retry_after
from watcher.types import PageRequest

CONTACT = "https://example.org/watcher-tests"
PARAMS = (
    ("feed", "raw_images"),
    ("category", "mars2020"),
    ("feedtype", "json"),
    ("num", "5"),
    ("page", "0"),
    ("order", "sol desc"),
)


def config(**overrides: float) -> FetchConfig:
    values: dict[str, float] = {"connect_timeout": 2.0, "read_timeout": 2.0} | overrides
    return FetchConfig(
        contact=CONTACT,
        connect_timeout=values["connect_timeout"],
        read_timeout=values["read_timeout"],
        max_body_bytes=int(values.get("max_body_bytes", 1_000_000)),
        per_host=int(values.get("per_host", 1)),
        max_redirects=int(values.get("max_redirects", 5)),
    )


def fetch(request: PageRequest, cfg: FetchConfig | None = None, **kwargs: str | None) -> Response:
    async def body() -> Response:
        async with Fetcher(cfg or config()) as fetcher:
            return await fetcher.get(request, **kwargs)

    return asyncio.run(body())


def raises(exc: type[FetchError], call: Callable[[], Coroutine[Any, Any, Response]]) -> FetchError:
    with pytest.raises(exc) as info:
        asyncio.run(call())
    return info.value


@pytest.fixture
def nasa() -> Iterator[NasaEmulator]:
    data = SyntheticRawImages(50, per_sol=10)
    with NasaEmulator(
        raw_images={"mars2020": data}, rss={"": b"<rss version='2.0'></rss>"}
    ) as emulator:
        yield emulator


def raw_request(nasa: NasaEmulator, *, conditional: bool = False) -> PageRequest:
    return PageRequest(nasa.raw_images_url, PARAMS, conditional=conditional)


def failing(
    nasa: NasaEmulator, cfg: FetchConfig | None = None
) -> Callable[[], Coroutine[Any, Any, Response]]:
    async def call() -> Response:
        async with Fetcher(cfg or config()) as fetcher:
            return await fetcher.get(raw_request(nasa))

    return call


# -- success ---------------------------------------------------------------------------------


def test_success_returns_body_and_validators(nasa: NasaEmulator) -> None:
    response = fetch(raw_request(nasa))
    assert response.status == 200 and not response.not_modified
    assert response.body.startswith(b'{"images":[') and response.etag is None
    assert response.url.startswith(nasa.raw_images_url) and response.elapsed > 0
    rss = fetch(PageRequest(nasa.rss_url()))
    assert rss.body == b"<rss version='2.0'></rss>" and rss.last_modified and rss.etag


def test_query_string_is_built_in_order_without_repeats(nasa: NasaEmulator) -> None:
    stamp = "2026-08-31T02:02:58Z"
    params = (*PARAMS, ("condition_2", f"{stamp}:date_received:gte"))
    fetch(PageRequest(nasa.raw_images_url, params))
    sent = nasa.requests[-1]
    assert sent.query == params
    assert "order=sol+desc" in sent.raw_query
    assert f"condition_2={stamp}:date_received:gte" in sent.raw_query


def test_build_url() -> None:
    assert build_url("https://h/feed/", ()) == "https://h/feed/"
    assert build_url("https://h/a?x=1", (("order", "sol desc"), ("y", "a+b"))) == (
        "https://h/a?x=1&order=sol+desc&y=a%2Bb"
    )
    with pytest.raises(ValueError, match="page"):
        build_url("https://h/a", (("page", "1"), ("page", "2")))
    with pytest.raises(ValueError, match="x"):
        build_url("https://h/a?x=1", (("x", "2"),))


def test_user_agent_and_accept_headers(nasa: NasaEmulator) -> None:
    fetch(raw_request(nasa))
    sent = nasa.requests[-1]
    agent = sent.header("User-Agent") or ""
    assert agent.startswith("watcher/") and CONTACT in agent
    assert "application/json" in (sent.header("Accept") or "")
    assert "application/rss+xml" in (sent.header("Accept") or "")


def test_conditional_get_returns_304(nasa: NasaEmulator) -> None:
    feed = PageRequest(nasa.rss_url(), conditional=True)
    first = fetch(feed)
    again = fetch(feed, etag=first.etag, last_modified="x")
    assert again.status == 304 and again.not_modified and again.body == b""
    sent = nasa.requests[-1]
    assert sent.header("If-None-Match") == first.etag
    assert sent.header("If-Modified-Since") == "x"
    rss = fetch(PageRequest(nasa.rss_url()))
    modified = fetch(PageRequest(nasa.rss_url(), conditional=True), last_modified=rss.last_modified)
    assert modified.not_modified and nasa.requests[-1].header("If-None-Match") is None


def test_validators_are_not_sent_unless_the_request_is_conditional(nasa: NasaEmulator) -> None:
    response = fetch(raw_request(nasa), etag='"abc"', last_modified="Wed, 21 Oct 2015 07:28:00 GMT")
    assert response.status == 200
    sent = nasa.requests[-1]
    assert sent.header("If-None-Match") is None and sent.header("If-Modified-Since") is None


def test_requests_are_logged_at_debug(nasa: NasaEmulator, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="watcher.fetch"):
        fetch(raw_request(nasa))
    record = next(r for r in caplog.records if r.name == "watcher.fetch")
    assert record.levelno == logging.DEBUG
    assert nasa.raw_images_url in record.getMessage() and "200" in record.getMessage()


def test_a_fetcher_survives_a_new_event_loop(nasa: NasaEmulator) -> None:
    fetcher = Fetcher(config())
    assert asyncio.run(fetcher.get(raw_request(nasa))).status == 200
    assert asyncio.run(fetcher.get(raw_request(nasa))).status == 200
    asyncio.run(fetcher.aclose())
    assert sum(fetcher.requests_made.values()) == 2


# -- status errors ---------------------------------------------------------------------------


def test_429_with_retry_after_seconds(nasa: NasaEmulator) -> None:
    nasa.inject(Fault.rate_limited(30))
    error = raises(HTTPStatusError, failing(nasa))
    assert isinstance(error, HTTPStatusError)
    assert error.status == 429 and error.retry_after == 30
    assert str(error).startswith("HTTP 429 Too Many Requests") and error.url.startswith(
        nasa.base_url
    )


def test_429_with_retry_after_http_date(nasa: NasaEmulator) -> None:
    when = datetime.now(UTC) + timedelta(seconds=120)
    nasa.inject(Fault.rate_limited(format_datetime(when, usegmt=True)))
    error = raises(HTTPStatusError, failing(nasa))
    assert error.retry_after is not None and 115 <= error.retry_after <= 121


def test_500_message_is_short_and_sanitised(nasa: NasaEmulator) -> None:
    nasa.inject(Fault.error_page(500))
    error = raises(HTTPStatusError, failing(nasa))
    assert isinstance(error, HTTPStatusError) and error.status == 500 and error.retry_after is None
    message = str(error)
    assert message.startswith("HTTP 500 Internal Server Error: ")
    assert "<" not in message and "\n" not in message and len(message) < 160


def test_503_with_retry_after(nasa: NasaEmulator) -> None:
    nasa.inject(Fault.unavailable(retry_after=90))
    error = raises(HTTPStatusError, failing(nasa))
    assert isinstance(error, HTTPStatusError) and (error.status, error.retry_after) == (503, 90)


def test_404_and_400_are_status_errors(nasa: NasaEmulator) -> None:
    async def call() -> Response:
        async with Fetcher(config()) as fetcher:
            return await fetcher.get(PageRequest(f"{nasa.base_url}/nowhere"))

    assert getattr(raises(HTTPStatusError, call), "status", None) == 404
    bad = PageRequest(nasa.raw_images_url, (("feed", "raw_images"), ("num", "x")))

    async def call_bad() -> Response:
        async with Fetcher(config()) as fetcher:
            return await fetcher.get(bad)

    error = raises(HTTPStatusError, call_bad)
    assert "num must be an integer" in str(error)


# -- timeouts, size cap, redirects, connections ----------------------------------------------


def test_read_timeout(nasa: NasaEmulator) -> None:
    nasa.inject(Fault.delay(3))
    started = time.monotonic()
    error = raises(FetchTimeout, failing(nasa, config(read_timeout=0.5)))
    assert time.monotonic() - started < 2 and "0.5" in str(error)


def test_total_deadline_stops_a_slow_server(nasa: NasaEmulator) -> None:
    nasa.latency = 1.0

    async def call() -> Response:
        async with Fetcher(config(), total_timeout=0.3) as fetcher:
            return await fetcher.get(raw_request(nasa))

    assert "0.3" in str(raises(FetchTimeout, call))


@pytest.mark.parametrize(
    "fault",
    [
        Fault.oversized(50_000_000),
        Fault.oversized(50_000_000, content_length=False),
        Fault.gzip_bomb(50_000_000),
    ],
    ids=["content-length", "streamed", "gzip-bomb"],
)
def test_oversized_bodies_are_cut_off(nasa: NasaEmulator, fault: Fault) -> None:
    nasa.inject(fault)
    started = time.monotonic()
    error = raises(ResponseTooLarge, failing(nasa, config(max_body_bytes=1_000_000)))
    assert time.monotonic() - started < 2 and "1,000,000" in str(error)


def test_a_body_exactly_at_the_cap_is_fine(nasa: NasaEmulator) -> None:
    size = len(fetch(raw_request(nasa)).body)
    assert len(fetch(raw_request(nasa), config(max_body_bytes=size)).body) == size
    with pytest.raises(ResponseTooLarge):
        fetch(raw_request(nasa), config(max_body_bytes=size - 1))


def test_redirect_loop(nasa: NasaEmulator) -> None:
    nasa.inject(Fault.redirect_loop())

    async def call() -> Response:
        async with Fetcher(config(max_redirects=3)) as fetcher:
            try:
                return await fetcher.get(raw_request(nasa))
            finally:
                assert sum(fetcher.requests_made.values()) == 4

    raises(TooManyRedirects, call)
    assert nasa.request_count("/__loop/") == 3


def test_redirects_are_followed(nasa: NasaEmulator) -> None:
    nasa.inject(Fault.respond(301, headers=(("Location", nasa.rss_url()),)))
    response = fetch(raw_request(nasa))
    assert response.url == nasa.rss_url() and response.body == b"<rss version='2.0'></rss>"
    assert [r.path for r in nasa.requests[-2:]] == ["/rss/api/", "/feed/"]
    assert (nasa.requests[-1].header("User-Agent") or "").startswith("watcher/")


def test_connection_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    request = PageRequest(f"http://127.0.0.1:{port}/rss/api/")

    async def call() -> Response:
        async with Fetcher(config()) as fetcher:
            return await fetcher.get(request)

    error = raises(FetchConnectError, call)
    assert error.url == f"http://127.0.0.1:{port}/rss/api/"
    # What the operator reads in `watcher sources`: the refusal, not only "attempts failed".
    assert str(error) == "ConnectError: All connection attempts failed (Connection refused)"


def test_an_unresolvable_name_says_so_once() -> None:
    request = PageRequest("http://nasa-emulator.invalid/rss/api/")

    async def call() -> Response:
        async with Fetcher(config()) as fetcher:
            return await fetcher.get(request)

    message = str(raises(FetchConnectError, call))
    # The resolver's words are in the message already: nothing is added after them.
    assert message.startswith("ConnectError: [Errno ") and "(" not in message, message


@pytest.mark.parametrize(
    "fault", [Fault.disconnect(0.5), Fault.drop()], ids=["mid-body", "no-answer"]
)
def test_connection_closed(nasa: NasaEmulator, fault: Fault) -> None:
    nasa.inject(fault)
    raises(FetchConnectError, failing(nasa))


@pytest.mark.parametrize("per_host, expected", [(1, 1), (2, 2)])
def test_per_host_concurrency(per_host: int, expected: int) -> None:
    data = SyntheticRawImages(10, per_sol=10)
    with NasaEmulator(raw_images={"mars2020": data}, latency=0.15) as nasa:

        async def body() -> None:
            async with Fetcher(config(per_host=per_host)) as fetcher:
                await asyncio.gather(*(fetcher.get(raw_request(nasa)) for _ in range(4)))
                assert fetcher.requests_made[f"127.0.0.1:{nasa.port}"] == 4

        asyncio.run(body())
        assert nasa.max_in_flight == expected


# -- transport fakes (failures a loopback server cannot produce) -----------------------------


def with_transport(
    handler: Callable[[httpx.Request], httpx.Response],
) -> Callable[[], Coroutine[Any, Any, Response]]:
    async def call() -> Response:
        async with Fetcher(config(), transport=httpx.MockTransport(handler)) as fetcher:
            return await fetcher.get(PageRequest("https://mars.nasa.gov/rss/api/", PARAMS))

    return call


def test_tls_and_transport_errors_are_wrapped() -> None:
    def tls(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")

    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out")

    error = raises(FetchConnectError, with_transport(tls))
    assert "CERTIFICATE_VERIFY_FAILED" in str(error) and error.url.startswith(
        "https://mars.nasa.gov/"
    )
    assert "connect" in str(raises(FetchTimeout, with_transport(timeout)))


@pytest.mark.parametrize(
    "encoding, encode",
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda b: zlib.compress(b)[2:-4]),  # raw deflate, as some servers send
    ],
)
def test_compressed_bodies_are_decoded(encoding: str, encode: Callable[[bytes], bytes]) -> None:
    payload = b'{"images": []}' * 100

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["Accept-Encoding"] == "gzip, deflate"
        stream = httpx.ByteStream(encode(payload))
        return httpx.Response(200, stream=stream, headers={"Content-Encoding": encoding})

    assert asyncio.run(with_transport(handler)()).body == payload


def test_corrupt_or_unknown_encodings_are_connect_errors() -> None:
    def corrupt(request: httpx.Request) -> httpx.Response:
        stream = httpx.ByteStream(b"not gzip at all")
        return httpx.Response(200, stream=stream, headers={"Content-Encoding": "gzip"})

    def brotli(request: httpx.Request) -> httpx.Response:
        stream = httpx.ByteStream(b"xx")
        return httpx.Response(200, stream=stream, headers={"Content-Encoding": "br"})

    assert "decode" in str(raises(FetchConnectError, with_transport(corrupt)))
    assert "br" in str(raises(FetchConnectError, with_transport(brotli)))


def test_pre_read_bodies_from_transport_fakes_are_capped_too() -> None:
    def small(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"{}", headers={"ETag": '"e"'})

    def large(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b" " * 2_000_000)

    response = asyncio.run(with_transport(small)())
    assert (response.body, response.etag) == (b"{}", '"e"')
    raises(ResponseTooLarge, with_transport(large))


# -- parse_retry_after -----------------------------------------------------------------------

NOW = datetime(2026, 8, 31, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, None),
        ("", None),
        ("soon", None),
        ("120", 120.0),
        (" 7 ", 7.0),
        ("1.5", 1.5),
        ("0", 0.0),
        ("-5", 0.0),
        ("99999999999999999999", MAX_RETRY_AFTER),
        ("Mon, 31 Aug 2026 12:02:00 GMT", 120.0),
        ("Monday, 31-Aug-26 12:00:30 GMT", 30.0),  # RFC 850, obsolete but allowed
        ("Mon Aug 31 12:01:00 2026", 60.0),  # asctime
        ("Mon, 31 Aug 2026 11:00:00 GMT", 0.0),  # in the past
        ("Mon, 31 Aug 2036 12:00:00 GMT", MAX_RETRY_AFTER),  # absurdly far
        ("Mon, 99 Foo 2026 12:00:00 GMT", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


def test_parse_retry_after_naive_now_is_utc() -> None:
    naive = NOW.replace(tzinfo=None)
    assert parse_retry_after("Mon, 31 Aug 2026 12:00:10 GMT", naive) == 10.0
