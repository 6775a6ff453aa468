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
``max_in_flight`` (peak concurrent requests seen), ``inject(fault, path_prefix, times)``
(see ``watcher.demo.faults``), ``every(seconds, fn)`` (a background ticker, e.g. to
``release`` records while a demo runs).

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
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from watcher.demo import responses
from watcher.demo.datasets import ImageLibraryDataset, RawImagesDataset
from watcher.demo.faults import Fault, FaultKind
from watcher.demo.pictures import Pictures, Shot
from watcher.demo.responses import Reply

__all__ = ["NasaEmulator", "RecordedRequest"]

logger = logging.getLogger("watcher.demo")

_CHUNK = 64 * 1024


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


@dataclass(slots=True)
class _Injection:
    fault: Fault
    path_prefix: str
    remaining: int | None  # None: until clear_faults()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], emulator: NasaEmulator) -> None:
        self.emulator = emulator
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a DNS lookup we neither need nor
        # want (it can hang on a machine without DNS).
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real servers
    timeout = 30  # idle keep-alive connections give their thread back
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.emulator._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.emulator._track(self.connection, add=False)

    def do_GET(self) -> None:
        self.server.emulator._serve(self)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("emulator: " + format, *args)


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
        self._injections: list[_Injection] = []
        self._in_flight = 0
        self._max_in_flight = 0
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._threads: list[threading.Thread] = []
        self._tickers: list[tuple[float, Callable[[], object]]] = []

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> NasaEmulator:
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server((self.host, self.port), self)
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
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
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

    def inject(self, fault: Fault, *, path_prefix: str = "/", times: int | None = 1) -> None:
        """The next ``times`` requests whose path starts with ``path_prefix`` get ``fault``.

        ``times=None`` keeps it until ``clear_faults()``. Faults apply in injection order.
        """
        if times is not None and times < 1:
            raise ValueError("times must be >= 1 (or None for 'until cleared')")
        with self._lock:
            self._injections.append(_Injection(fault, path_prefix, times))

    def clear_faults(self) -> None:
        with self._lock:
            self._injections.clear()

    # -- serving --------------------------------------------------------------------------

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for injection in self._injections:
                if path.startswith(injection.path_prefix):
                    if injection.remaining is not None:
                        injection.remaining -= 1
                        if injection.remaining <= 0:
                            self._injections.remove(injection)
                    return injection.fault
        return None

    def _serve(self, h: _Handler) -> None:
        split = urlsplit(h.path)
        pairs = parse_qsl(split.query, keep_blank_values=True)
        record = RecordedRequest(
            h.command,
            split.path,
            tuple(pairs),
            split.query,
            tuple(h.headers.items()),
            time.monotonic(),
        )
        with self._lock:
            self._requests.append(record)
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        finished = False

        def finish() -> None:
            # Called before the first byte of the answer leaves, so a client that has its
            # response (and sends the next request) can never overlap this one in the count.
            nonlocal finished
            if not finished:
                finished = True
                with self._lock:
                    self._in_flight -= 1

        try:
            if self.latency > 0:
                self._stopping.wait(self.latency)
            fault = self._take_fault(split.path)
            if fault is not None and fault.kind is FaultKind.DELAY:
                self._stopping.wait(fault.seconds)
                fault = None
            if fault is not None and fault.kind not in (FaultKind.TRUNCATE, FaultKind.DISCONNECT):
                finish()
                self._write_fault(h, fault)
                return
            reply = responses.conditional(
                self._route(split.path, pairs),
                if_none_match=h.headers.get("If-None-Match"),
                if_modified_since=h.headers.get("If-Modified-Since"),
                etag=self.etag,
            )
            finish()
            if fault is not None and fault.kind is FaultKind.TRUNCATE:
                reply.body = reply.body[: int(len(reply.body) * fault.fraction)]
            if fault is not None and fault.kind is FaultKind.DISCONNECT:
                self._write(h, reply, send=int(len(reply.body) * fault.fraction))
                h.close_connection = True
            else:
                self._write(h, reply)
        except OSError:  # the client went away (timed out, gave up on a huge body ...)
            h.close_connection = True
        except Exception:  # a bug in a dataset: answer 500 rather than kill the thread
            logger.exception("emulator failed on %s", h.path)
            h.close_connection = True
            finish()
            with contextlib.suppress(OSError):
                self._write(h, Reply(500, b'{"error": "emulator bug"}'))
        finally:
            finish()

    def _route(self, path: str, pairs: list[tuple[str, str]]) -> Reply:
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

    def _write(self, h: _Handler, reply: Reply, *, send: int | None = None) -> None:
        h.send_response(reply.status)
        if reply.status != 304:
            h.send_header("Content-Type", reply.content_type)
            h.send_header("Content-Length", str(len(reply.body)))
        for key, value in reply.headers:
            h.send_header(key, value)
        h.end_headers()
        if reply.status != 304:
            h.wfile.write(reply.body if send is None else reply.body[:send])
        h.wfile.flush()

    def _write_fault(self, h: _Handler, fault: Fault) -> None:
        kind = fault.kind
        if kind is FaultKind.DROP:
            h.close_connection = True
        elif kind is FaultKind.REDIRECT_LOOP:
            self._write(h, Reply(302, b"", "text/plain", [("Location", "/__loop/1")]))
        elif kind is FaultKind.GZIP_BOMB:
            body = responses.gzip_zeros(fault.size)
            self._write(h, Reply(200, body, "application/json", [("Content-Encoding", "gzip")]))
        elif kind is FaultKind.OVERSIZED:
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            if fault.content_length:
                h.send_header("Content-Length", str(fault.size))
            else:
                h.send_header("Connection", "close")
                h.close_connection = True
            h.end_headers()
            chunk = b" " * _CHUNK
            left = fault.size
            while left > 0 and not self._stopping.is_set():
                h.wfile.write(chunk[: min(left, _CHUNK)])
                left -= _CHUNK
            h.close_connection = True
        else:
            reply = Reply(fault.status, fault.body, "text/plain", [])
            content_type = dict(fault.headers).get("Content-Type")
            reply.content_type = content_type or reply.content_type
            reply.headers = [(k, v) for k, v in fault.headers if k != "Content-Type"]
            self._write(h, reply)
