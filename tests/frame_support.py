"""Shared by the tests of sequences' animations (their states on the editor's pages, the
sequence cards): a loopback server of frame pictures, and an editor's watcher and signed-in
browser over it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher

from watcher.accounts import passwords as security
from watcher.core import Watcher
from watcher.types import Role

from .conftest import PASSWORD, Browser, WebApp
from .test_publish_animate import COLOURS, png


class Frames:
    """Serves /frame/<n>.png as a picture, except names in ``missing`` (404) and in
    ``garbled`` (200 with a page that is not a picture); counts requests."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.missing: set[str] = set()
        self.garbled: set[str] = set()
        frames = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                frames.requests.append(self.path)
                name = self.path.rsplit("/", 1)[-1]
                status, kind, body = 200, "image/png", b""
                if name in frames.missing or not name[:-4].isdigit():
                    status, kind, body = 404, "text/plain", b"missing"
                elif name in frames.garbled:
                    kind, body = "text/html", b"<html><p>Sorry, we moved this.</p></html>"
                else:
                    body = png(COLOURS[int(name[:-4]) % len(COLOURS)])
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@contextmanager
def serving_frames() -> Iterator[Frames]:
    server = Frames()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


def editors_watcher(watcher_for: Any, tmp_path: Path, **sections: Any) -> Watcher:
    """A watcher whose cache is under ``tmp_path``, with the editor alice."""
    publish = {"cache_dir": str(tmp_path / "cache"), **sections.pop("publish", {})}
    made: Watcher = watcher_for([], publish=publish, **sections)
    made.add_editor("alice", PASSWORD, Role.EDITOR)
    return made


def signed_in_alice(watcher: Watcher, monkeypatch: pytest.MonkeyPatch) -> Browser:
    """alice signed in to the app of ``watcher`` (a quick password hash for tests)."""
    monkeypatch.setattr(
        security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    return WebApp(watcher).browser("alice")
