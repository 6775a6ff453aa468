"""``NasaEmulator``: a loopback HTTP server that behaves like NASA's image feeds.

Used by tests, benchmarks and ``watcher demo``. It binds to a loopback address only and
serves, on one port:

``/rss/api/?feed=raw_images&category=C&feedtype=json``  (mars.nasa.gov raw images)
    Everything NASA is recorded or reported to do, one row each in ``behaviours.py``:
    ``latest=true`` answers the summary of the newest downlink, ``id=`` one image under
    ``image``, ``sol=`` a whole sol (other sols' images when it is empty), listings take
    ``num`` (capped at 100), ``page`` (0-based), ``order=sol|date_taken asc|desc``,
    ``condition_N=<v>:sol|date_received|date_taken:gte|gt|lte|lt|eq|in`` (a range in
    ``condition_1`` is ignored), ``<category>:mission`` and ``extended=sample_type::full``.
    Envelope as captured: ``images``, ``per_page`` (a string), ``total_results``, ``type``,
    ``page``, ``mission``, ``total_images``; past the end ``"images": []`` plus
    ``"error_message": "No more images."``. A repeated key is dropped (NASA's default is
    used); an unknown category is a 404 with JSON; ``Cache-Control: max-age=60`` and no
    validators. A malformed condition is a 400 (a watcher bug, so tests should see it).
``/search?q=..&media_type=..&page=..&page_size=..&year_start=..``  (images-api.nasa.gov)
    Collection+JSON with ``metadata.total_hits`` and ``prev``/``next`` links; paging past
    10,000 hits is a 400, as on the real API. No validators. Each item's ``href`` points
    at ``/assets/<nasa_id>/collection.json``, its asset manifest (a JSON list of files).
``/feed/`` and ``/feed/<name>/``  RSS bytes given to the emulator, ``application/rss+xml``,
    with ``Last-Modified`` and (when ``etag=True``) a strong ``ETag``, as WordPress sends
    them; ``If-None-Match`` / ``If-Modified-Since`` are answered with 304.
``/img/<imageid>_<size>.jpg|.png``  raster pictures (see ``rewrite_images`` and
    ``watcher.demo.pictures``): JPEG for ``small``/``medium``/``large``, PNG for
    ``full_res``; ``.svg`` names still get the old placeholder drawing.

``latency`` delays every request; ``latest_images`` answers ``latest=true`` with the newest
sol's images instead of the summary (the other shape watcher accepts).

Test hooks: ``requests`` (every request as sent, repeated keys visible, thread-safe),
``max_in_flight`` (peak concurrent requests seen), ``inject(fault, path_prefix, times, after)``
(see ``watcher.demo.faults``), ``every(seconds, fn)`` (a background ticker, e.g. to
``release`` records while a demo runs).

Here is what is served where and the life of one request; the HTTP plumbing is in
``wire``, fault injection in ``injection``, the answers themselves in ``responses``.

Example::

    with NasaEmulator(raw_images={"mars2020": SyntheticRawImages(1_000_000)}) as nasa:
        url = nasa.raw_images_url            # http://127.0.0.1:PORT/rss/api/
        nasa.inject(Fault.rate_limited(30), path_prefix="/rss/api/")
        ...
        assert nasa.request_count("/rss/api/") == 2
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qsl, unquote, urlsplit

from watcher.demo import responses
from watcher.demo.datasets import RawImagesDataset
from watcher.demo.faults import Fault, FaultKind
from watcher.demo.image_library import ImageLibraryDataset
from watcher.demo.injection import FaultQueue, replaces_answer, write_damaged, write_fault
from watcher.demo.pictures import Pictures, Shot
from watcher.demo.responses import Reply
from watcher.demo.wire import EmulatorHTTPServer, Handler, write_reply

__all__ = ["NasaEmulator", "RecordedRequest"]

logger = logging.getLogger("watcher.demo")


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the emulator received it (recorded before it is answered)."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]  # decoded pairs in order; repeats kept
    raw_query: str
    headers: tuple[tuple[str, str], ...]
    at: float  # time.monotonic() on arrival

    def param(self, key: str) -> str | None:
        return next((v for k, v in self.query if k == key), None)

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)


class NasaEmulator:
    """See the module docstring. Not started by ``__init__``: call ``start()`` or use ``with``."""

    def __init__(
        self,
        *,
        raw_images: Mapping[str, RawImagesDataset] | None = None,
        image_library: ImageLibraryDataset | None = None,
        rss: Mapping[str, bytes] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        etag: bool = True,
        rewrite_images: bool = False,
        latest_images: bool = False,
        picture_dir: Path | None = None,
        scenes: Mapping[str, Shot] | None = None,
    ) -> None:
        """``picture_dir`` keeps rendered pictures across runs (default: memory only);
        ``scenes`` are the special pictures by imageid (``watcher.demo.scenes``)."""
        if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"the emulator binds to loopback addresses only, not {host!r}")
        self.raw_images: dict[str, RawImagesDataset] = dict(raw_images or {})
        self.image_library = image_library
        self.host = "127.0.0.1" if host == "localhost" else host
        self.port = port
        self.latency = latency
        self.etag = etag
        self.rewrite_images = rewrite_images
        self.latest_images = latest_images
        self.pictures = Pictures(picture_dir, scenes)
        self._rss: dict[str, tuple[bytes, str]] = {}
        for name, body in (rss or {}).items():
            self.set_rss(name, body)
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._faults = FaultQueue()
        self._in_flight = 0
        self._max_in_flight = 0
        self._stopping = threading.Event()
        self._server: EmulatorHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._tickers: list[tuple[float, Callable[[], object]]] = []

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> NasaEmulator:
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = EmulatorHTTPServer((self.host, self.port), self._serve)
        self.port = self._server.server_port
        thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"nasa-emulator:{self.port}",
            daemon=True,
        )
        thread.start()
        self._threads.append(thread)
        for seconds, fn in self._tickers:
            self._start_ticker(seconds, fn)
        return self

    def stop(self) -> None:
        """Stop serving, wake sleeping handlers, close open connections, join tickers."""
        server, self._server = self._server, None
        self._stopping.set()
        if server is not None:
            server.shutdown()
            server.server_close()
            server.close_connections()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=5)
        self._threads = []

    def __enter__(self) -> NasaEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def every(self, seconds: float, fn: Callable[[], object]) -> None:
        """Call ``fn`` every ``seconds`` in a background thread while the server runs."""
        if seconds <= 0:
            raise ValueError("seconds must be > 0")
        self._tickers.append((seconds, fn))
        if self._server is not None:
            self._start_ticker(seconds, fn)

    def _start_ticker(self, seconds: float, fn: Callable[[], object]) -> None:
        def tick() -> None:
            while not self._stopping.wait(seconds):
                try:
                    fn()
                except Exception:
                    logger.exception("emulator ticker failed")

        thread = threading.Thread(target=tick, name="nasa-emulator-ticker", daemon=True)
        thread.start()
        self._threads.append(thread)

    # -- addresses ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not running: call start()")
        return f"http://{self.host}:{self.port}"

    @property
    def raw_images_url(self) -> str:
        return f"{self.base_url}/rss/api/"

    @property
    def image_library_url(self) -> str:
        return f"{self.base_url}/search"

    def rss_url(self, name: str = "") -> str:
        return f"{self.base_url}/feed/{name}/" if name else f"{self.base_url}/feed/"

    def set_rss(self, name: str, body: bytes) -> None:
        """Serve ``body`` at ``rss_url(name)`` from now on (Last-Modified: now)."""
        self._rss[name.strip("/")] = (body, format_datetime(datetime.now(UTC), usegmt=True))

    # -- test hooks -----------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def request_count(self, path_prefix: str = "/") -> int:
        with self._lock:
            return sum(1 for r in self._requests if r.path.startswith(path_prefix))

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()
            self._max_in_flight = self._in_flight

    @property
    def max_in_flight(self) -> int:
        """The most requests handled at once since start (or ``clear_requests``).

        A request counts from its arrival until its answer starts to be written.
        """
        return self._max_in_flight

    def inject(
        self, fault: Fault, *, path_prefix: str = "/", times: int | None = 1, after: int = 0
    ) -> None:
        """The next ``times`` requests whose path starts with ``path_prefix`` get ``fault``.

        ``times=None`` keeps it until ``clear_faults()``. ``after`` lets that many matching
        requests be answered first (a fault in the middle of a sweep). Faults apply in
        injection order.
        """
        if times is not None and times < 1:
            raise ValueError("times must be >= 1 (or None for 'until cleared')")
        if after < 0:
            raise ValueError("after must be >= 0")
        self._faults.add(fault, path_prefix, times, after)

    def clear_faults(self) -> None:
        self._faults.clear()

    # -- serving --------------------------------------------------------------------------

    def _serve(self, h: Handler) -> None:
        """Answer one GET. It is recorded first and counts as in flight until its answer
        starts; a failure while answering never kills the handler's thread."""
        split = urlsplit(h.path)
        pairs = parse_qsl(split.query, keep_blank_values=True)
        headers = tuple(h.headers.items())
        request = RecordedRequest(
            h.command, split.path, tuple(pairs), split.query, headers, time.monotonic()
        )
        answered = self._arrived(request)
        try:
            self._answer(h, split.path, pairs, answered)
        except OSError:  # the client went away (timed out, gave up on a huge body ...)
            h.close_connection = True
        except Exception:  # a bug in a dataset: answer 500 rather than kill the thread
            logger.exception("emulator failed on %s", h.path)
            h.close_connection = True
            answered()
            with contextlib.suppress(OSError):
                write_reply(h, Reply(500, b'{"error": "emulator bug"}'))
        finally:
            answered()

    def _arrived(self, request: RecordedRequest) -> Callable[[], None]:
        """Record ``request`` and count it in flight; the function returned ends the count
        (once, however often it is called)."""
        with self._lock:
            self._requests.append(request)
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        finished = False

        def answered() -> None:
            # Called before the first byte of the answer leaves, so a client that has its
            # response (and sends the next request) can never overlap this one in the count.
            nonlocal finished
            if not finished:
                finished = True
                with self._lock:
                    self._in_flight -= 1

        return answered

    def _answer(
        self, h: Handler, path: str, pairs: list[tuple[str, str]], answered: Callable[[], None]
    ) -> None:
        """After the configured latency, the answer as the next injected fault shapes it:
        delayed, replaced, or the normal answer (304 when the client's copy is current)
        damaged or whole."""
        if self.latency > 0:
            self._stopping.wait(self.latency)
        fault = self._faults.take(path)
        if fault is not None and fault.kind is FaultKind.DELAY:
            self._stopping.wait(fault.seconds)
            fault = None
        if fault is not None and replaces_answer(fault):
            answered()
            write_fault(h, fault, self._stopping)
            return
        reply = responses.conditional(
            self._route(path, pairs),
            if_none_match=h.headers.get("If-None-Match"),
            if_modified_since=h.headers.get("If-Modified-Since"),
            etag=self.etag,
        )
        answered()
        write_damaged(h, reply, fault, self._stopping)

    def _route(self, path: str, pairs: list[tuple[str, str]]) -> Reply:
        """What is served where: each path of NASA's hosts that the emulator stands in for."""
        image_base = f"{self.base_url}/img" if self.rewrite_images else None
        if path in ("/rss/api/", "/rss/api"):
            return responses.raw_images(
                self.raw_images, pairs, image_base, latest_images=self.latest_images
            )
        if path.startswith("/assets/") and path.endswith("/collection.json"):
            nasa_id = unquote(path[len("/assets/") : -len("/collection.json")])
            return responses.asset_manifest(self.image_library, nasa_id, image_base)
        if path == "/search":
            return responses.image_library(self.image_library, pairs, self.base_url, image_base)
        if path == "/feed" or path.startswith("/feed/"):
            return responses.rss(self._rss.get(path[len("/feed") :].strip("/")), image_base)
        if path.startswith("/img/"):
            return responses.image(path[len("/img/") :], self.pictures)
        if path.startswith("/__loop/"):
            return responses.redirect_loop(path)
        if path == "/":
            return responses.index()
        return responses.not_found()
