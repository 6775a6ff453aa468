"""A real browser: Debian's Chromium, driven by Playwright, against the app served by uvicorn
on 127.0.0.1. The candidates' pictures come from the NASA emulator (also loopback, its
``/img/`` placeholders), allowed by ``security.image_hosts`` and so by the CSP.

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
from watcher.types import CandidateData, CandidateStatus, EntryStatus, Role
from watcher.web import create_app

from .conftest import PASSWORD, build_settings, run

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
STEP_TIMEOUT_MS = 20_000
START_TIMEOUT_S = 20.0

pytestmark = pytest.mark.timeout(110)


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
def serving(tmp_path: Path, *, require_words: bool) -> Iterator[Live]:
    """The editor app on a real port, over the emulator's pictures."""
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
        settings = build_settings(
            tmp_path,
            f"sqlite:///{tmp_path / 'watcher.db'}",
            security={"image_hosts": hosts},
            publish={"require_words": require_words},
        )
        watcher = make_watcher(settings)
        watcher.prepare_database()
        watcher.add_editor("alice", PASSWORD, Role.EDITOR)
        ids = seed(watcher, f"{nasa.base_url}/img", 6)
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


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    """One-step publishing: this walk through the queue is about the keyboard."""
    with serving(tmp_path, require_words=False) as running:
        yield running


@pytest.fixture
def live_default(tmp_path: Path) -> Iterator[Live]:
    """The product's default: approvals without words are drafts."""
    with serving(tmp_path, require_words=True) as running:
        yield running


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


def sign_in_as_alice(page: Any, base: str) -> None:
    """Open the queue, get sent to the sign-in form, sign in, land back on the queue."""
    from playwright.sync_api import expect

    page.goto(f"{base}/editor")
    expect(page).to_have_url(re.compile(r"/editor/login\?next="))
    page.fill("input[name=name]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/editor/login'] button[type=submit]")
    page.wait_for_url(f"{base}/editor")


def test_an_editor_signs_in_and_works_the_queue_with_the_keyboard(live: Live) -> None:
    from playwright.sync_api import expect

    current = re.compile(r"\bis-current\b")
    problems: list[str] = []
    with chromium_page() as page:
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        page.on(
            "console",
            lambda message: (
                problems.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )

        # Sign in through the form; back on the queue.
        sign_in_as_alice(page, live.base)
        cards = page.locator("[data-card]")
        expect(cards).to_have_count(6)

        # The thumbnails load from the loopback image host (CSP and allowlist agree).
        page.wait_for_function(
            "() => { const i = document.querySelector('[data-card] img');"
            " return i && i.complete && i.naturalWidth > 0; }"
        )

        # ? shows the help, Esc hides it.
        page.keyboard.press("?")
        expect(page.locator("#shortcuts")).to_be_visible()
        page.keyboard.press("Escape")
        expect(page.locator("#shortcuts")).to_be_hidden()

        # Typing in a field is just typing.
        page.click("#f-q")
        page.keyboard.type("jx")
        expect(page.locator("[data-card].is-current")).to_have_count(0)
        expect(page.locator("[data-select]:checked")).to_have_count(0)
        page.fill("#f-q", "")
        page.evaluate("document.activeElement.blur()")

        # j / k move the visible focus.
        page.keyboard.press("j")
        expect(cards.nth(0)).to_have_class(current)
        page.keyboard.press("j")
        expect(cards.nth(1)).to_have_class(current)
        expect(cards.nth(0)).not_to_have_class(current)
        page.keyboard.press("k")
        expect(cards.nth(0)).to_have_class(current)
        first = int(cards.nth(0).get_attribute("data-id") or 0)
        assert first == live.ids[-1]  # newest first

        # o opens the full-resolution file in a new tab.
        with page.expect_popup() as popup:
            page.keyboard.press("o")
        assert popup.value.url.endswith("_full_res.svg")
        popup.value.close()

        # e opens the candidate page; write a heading and approve.
        page.keyboard.press("e")
        page.wait_for_url(re.compile(rf"/editor/candidates/{first}\?next="))
        page.fill("#heading", "Dawn over Jezero")
        page.fill("#body", "The **first** light of the day.")
        page.click("button.primary.approve")
        page.wait_for_url(re.compile(r"/editor/candidates/\d+\?.*done=approved"))
        expect(page.locator(".notice")).to_contain_text("Approved: entry #")
        [entry] = live.watcher.list_entries()
        assert (entry.heading, entry.candidate_ids) == ("Dawn over Jezero", (first,))
        assert entry.created_by == "alice" and entry.credit == "NASA/JPL-Caltech"
        page.goto(f"{live.base}/editor/entries")
        expect(page.locator(".entry-row h2")).to_contain_text("Dawn over Jezero")
        expect(page.locator(".entry-row .prose strong")).to_have_text("first")

        # a approves the focused card; the focus stays at that place in the grid.
        page.goto(f"{live.base}/editor")
        page.keyboard.press("j")
        quick = int(cards.nth(0).get_attribute("data-id") or 0)
        page.keyboard.press("a")
        page.wait_for_url(re.compile(r"/editor\?done=approved&entry=\d+"))
        expect(page.locator(".notice")).to_contain_text("Approved: entry #")
        assert live.watcher.entry_of(quick) is not None
        expect(cards).to_have_count(4)
        expect(cards.nth(0)).to_have_class(current)

        # r rejects the focused card.
        page.keyboard.press("j")
        rejected = int(cards.nth(1).get_attribute("data-id") or 0)
        page.keyboard.press("r")
        page.wait_for_url(re.compile(r"done=rejected"))
        assert live.watcher.get_candidate(rejected).status is CandidateStatus.REJECTED

        # x selects cards; "Group into one entry" keeps the order they were selected in.
        expect(cards).to_have_count(3)
        expect(cards.nth(1)).to_have_class(current)  # back where it was
        page.keyboard.press("k")
        later = int(cards.nth(0).get_attribute("data-id") or 0)
        page.keyboard.press("x")
        page.keyboard.press("j")
        earlier = int(cards.nth(1).get_attribute("data-id") or 0)
        page.keyboard.press("x")
        expect(cards.nth(0)).to_have_class(re.compile(r"\bis-selected\b"))
        expect(page.locator("[data-selected-count]")).to_have_text("2 candidates selected.")
        page.select_option("#bulk-order", "selected")
        page.click("button[name=action][value=group]")
        page.wait_for_url(re.compile(r"done=grouped"))
        expect(page.locator(".notice")).to_contain_text("Grouped 2 candidates into entry #")
        grouped = live.watcher.list_entries()[-1]
        assert grouped.candidate_ids == (later, earlier)
    assert problems == []


def test_a_quick_approval_is_a_draft_until_the_editor_writes_and_publishes_it(
    live_default: Live,
) -> None:
    from playwright.sync_api import expect

    live = live_default
    with chromium_page() as page:
        sign_in_as_alice(page, live.base)
        cards = page.locator("[data-card]")
        expect(cards).to_have_count(6)

        # a on the first card: approved, saved as a draft, said so.
        page.keyboard.press("j")
        first = int(cards.nth(0).get_attribute("data-id") or 0)
        page.keyboard.press("a")
        page.wait_for_url(re.compile(r"/editor\?done=drafted&entry=\d+"))
        expect(page.locator(".notice")).to_contain_text("saved as a draft")
        [draft] = live.watcher.list_entries()
        assert draft.status is EntryStatus.DRAFT and draft.candidate_ids == (first,)

        # The Entries page shows the draft; its page publishes it once it has words.
        page.goto(f"{live.base}/editor/entries")
        expect(page.locator(".entry-row .badge-draft")).to_have_text("draft")
        page.click(f"#entry-{draft.id} a.button.approve")
        page.wait_for_url(f"{live.base}/editor/entries/{draft.id}")
        page.fill("#heading", "Dust devil over Jezero")
        page.fill("#body", "Watch the **lower left**.")
        page.click("button[name=publish]")
        page.wait_for_url(re.compile(r"/editor/entries\?done=published"))
        expect(page.locator(f"#entry-{draft.id} .badge")).to_have_text("published")
        published = live.watcher.get_entry(draft.id)
        assert published.status is EntryStatus.PUBLISHED
        assert published.heading == "Dust devil over Jezero"
