"""Shared by the browser tests. A real browser: Debian's Chromium, driven by Playwright,
against the app served by uvicorn on 127.0.0.1. The candidates' pictures come from the NASA
emulator (also loopback, its ``/img/`` placeholders), allowed by ``security.image_hosts``
and so by the CSP.

Never downloads a browser: without /usr/bin/chromium (``make browser`` installs it) the test
says so and skips.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from watcher.core import Watcher, make_watcher
from watcher.demo.server import NasaEmulator
from watcher.types import CandidateData, Role
from watcher.web import create_app

from .conftest import PASSWORD, build_settings, run

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
STEP_TIMEOUT_MS = 20_000
START_TIMEOUT_S = 20.0


@dataclass
class Live:
    base: str
    watcher: Watcher
    ids: list[int]
    images: str


def seed(watcher: Watcher, images: str, count: int) -> list[int]:
    """``count`` Navcam frames of one sol whose pictures live on the emulator."""
    items = []
    for i in range(count):
        imageid = f"NLF_1965_{i:04d}"
        items.append(
            CandidateData(
                source="perseverance",
                external_id=imageid,
                mission="perseverance",
                title=f"Mars Perseverance Sol 1965: Left Navigation Camera, frame {i}",
                caption="NASA's Mars Perseverance rover acquired this image.",
                credit="NASA/JPL-Caltech",
                camera="NAVCAM_LEFT",
                sol=1965,
                taken_at=datetime(2026, 8, 1, 10, tzinfo=UTC) + timedelta(minutes=i),
                mars_local_time=f"15:{i:02d}:00",
                page_url=f"https://mars.nasa.gov/mars2020/multimedia/raw-images/{imageid}",
                thumbnail_url=f"{images}/{imageid}_small.svg",
                medium_url=f"{images}/{imageid}_medium.svg",
                large_url=f"{images}/{imageid}_large.svg",
                full_url=f"{images}/{imageid}_full_res.svg",
                width=1600,
                height=1200,
                raw={"imageid": imageid},
            )
        )
    watcher.store.add_candidates(items, datetime(2026, 8, 2, tzinfo=UTC))
    return sorted(c.id for c in watcher.list_candidates(limit=None))


@contextmanager
def serving(
    tmp_path: Path, *, require_words: bool, count: int = 6, **sections: dict[str, Any]
) -> Iterator[Live]:
    """The editor app on a real port, over the emulator's pictures; ``sections`` add
    settings (``email={"enabled": True}``), as ``build_settings`` takes them."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (run `make browser` to install Debian's chromium)"
        if os.environ.get("WATCHER_REQUIRE_BROWSER"):
            pytest.fail(f"the browser test is required here: {reason}")
        print(f"skipping the browser test: {reason}")
        pytest.skip(reason)
    nasa = NasaEmulator(rewrite_images=True).start()
    watcher: Watcher | None = None
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None
    try:
        hosts = ["nasa.gov", "*.nasa.gov", f"127.0.0.1:{nasa.port}"]
        given = {
            **sections,
            "security": {"image_hosts": hosts},
            "publish": {**sections.get("publish", {}), "require_words": require_words},
        }
        settings = build_settings(tmp_path, f"sqlite:///{tmp_path / 'watcher.db'}", None, **given)
        watcher = make_watcher(settings)
        watcher.prepare_database()
        watcher.add_editor("alice", PASSWORD, Role.EDITOR)
        ids = seed(watcher, f"{nasa.base_url}/img", count)
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        config = uvicorn.Config(create_app(watcher), log_level="warning", lifespan="off")
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [listener]}, name="uvicorn", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.started:
            assert thread.is_alive(), "uvicorn stopped while starting"
            assert time.monotonic() < deadline, "uvicorn did not start in time"
            time.sleep(0.05)
        yield Live(f"http://127.0.0.1:{port}", watcher, ids, f"{nasa.base_url}/img")
    finally:
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout=10)
        nasa.stop()
        if watcher is not None:
            run(watcher.aclose())


@contextmanager
def chromium_page(width: int = 1280, height: int = 900) -> Iterator[Any]:
    """A page of Debian's Chromium, headless, with the step timeout set; closed after."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(STEP_TIMEOUT_MS)
            expect.set_options(timeout=STEP_TIMEOUT_MS)
            yield page
        finally:
            browser.close()


def watch_for_problems(page: Any) -> list[str]:
    """The page's script errors and Content-Security-Policy refusals, as they happen: a
    test asserts the list stays empty."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return problems


def sign_in_as_alice(page: Any, base: str) -> None:
    """Open the queue, get sent to the sign-in form, sign in, land back on the queue."""
    from playwright.sync_api import expect

    page.goto(f"{base}/editor")
    expect(page).to_have_url(re.compile(r"/editor/login\?next="))
    page.fill("input[name=name]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/editor/login'] button[type=submit]")
    page.wait_for_url(f"{base}/editor")
