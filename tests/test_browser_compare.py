"""Compare in a real browser (see browser_support): two cards picked with x on the queue,
c opens them side by side at the same rendered width, a on the picked frame approves it
(a draft), b goes back to the queue; the click zooms every picture alike."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from watcher.types import CandidateStatus, EntryStatus

from .browser_support import Live, chromium_page, serving, sign_in_as_alice, watch_for_problems

pytestmark = pytest.mark.timeout(110)

CURRENT = re.compile(r"\bis-current\b")
LOADED = """() => [...document.querySelectorAll('[data-frame] img')].every(
  img => img.complete && img.naturalWidth > 0)"""
BOXES = """() => [...document.querySelectorAll('[data-frame] img')].map(img => {
  const r = img.getBoundingClientRect();
  return [r.width, r.height, r.top];
})"""
ORIGINS = """() => [...document.querySelectorAll('[data-frame] img')].map(
  img => getComputedStyle(img).transformOrigin + ' ' + getComputedStyle(img).transform)"""


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    with serving(tmp_path, require_words=True, count=6) as running:
        yield running


def test_two_cards_picked_with_x_compare_with_c_and_approve_with_a(live: Live) -> None:
    from playwright.sync_api import expect

    newest, second = sorted(live.ids, reverse=True)[:2]
    with chromium_page(1280, 900) as page:
        problems = watch_for_problems(page)
        sign_in_as_alice(page, live.base)
        compare = page.locator("[data-compare-button]")
        expect(compare).to_be_disabled()

        # One card is not enough: c says so, and stays on the queue.
        page.keyboard.press("x")
        page.keyboard.press("c")
        expect(page.locator("[data-selected-count]")).to_contain_text("Select 2 to 4 cards")
        assert page.url == f"{live.base}/editor"
        page.keyboard.press("j")
        page.keyboard.press("x")
        expect(compare).to_be_enabled()
        page.keyboard.press("c")
        page.wait_for_url(re.compile(r"/editor/compare\?ids="))
        frames = page.locator("[data-frame]")
        expect(frames).to_have_count(2)
        assert [int(f.split("-")[1]) for f in frames.evaluate_all("l => l.map(f => f.id)")] == [
            newest,
            second,
        ]

        # Side by side, each at the same rendered width and height.
        page.wait_for_function(LOADED)
        (w1, h1, top1), (w2, h2, top2) = page.evaluate(BOXES)
        assert w1 == w2 and h1 == h2, (w1, w2, h1, h2)
        assert w1 > 400 and top1 == top2

        # A click zooms both to the same place; another click zooms out.
        page.locator("[data-frame]").nth(0).locator("img").click(position={"x": 50, "y": 40})
        expect(page.locator("[data-compare]")).to_have_class(re.compile(r"\bis-zoomed\b"))
        first, other = page.evaluate(ORIGINS)
        assert first == other and "matrix" in first, (first, other)
        page.locator("[data-frame]").nth(1).locator("img").click()
        expect(page.locator("[data-compare]")).not_to_have_class(re.compile(r"\bis-zoomed\b"))
        page.locator("[data-frame]").nth(1).locator("img").click()
        page.keyboard.press("Escape")  # zooms out first, stays on the page
        expect(page.locator("[data-compare]")).not_to_have_class(re.compile(r"\bis-zoomed\b"))
        assert "/editor/compare?" in page.url

        # 2 picks the second frame, a approves it: a draft, and the page says so.
        page.keyboard.press("2")
        expect(frames.nth(1)).to_have_class(CURRENT)
        expect(frames.nth(0)).not_to_have_class(CURRENT)
        page.keyboard.press("a")
        expect(page.locator(".notice")).to_contain_text("saved as a draft")
        assert live.watcher.get_candidate(second).status is CandidateStatus.APPROVED
        assert live.watcher.get_candidate(newest).status is CandidateStatus.NEW
        [entry] = live.watcher.list_entries()
        assert entry.status is EntryStatus.DRAFT and entry.candidate_ids == (second,)

        # b: back to the queue, where the approved card is gone.
        page.keyboard.press("b")
        page.wait_for_url(f"{live.base}/editor")
        expect(page.locator(f"#card-{second}")).to_have_count(0)
        expect(page.locator(f"#card-{newest}")).to_have_count(1)
        assert problems == []
