"""A sequence's card in a real browser (see browser_support): the side panel plays its
frames (the preview loads), compare still works beside it (x, x, c, b), and A approves
the sequence as one animation, landing on its entry page with every frame in taken order;
and the editor's whole path: the card's group opened, two of its frames compared, the group
approved as an animation, words written and published, the animation on the public list."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from watcher.plans import CurationPlan, GroupRow, ScoreRow
from watcher.types import CandidateData

from .browser_support import Live, chromium_page, serving, sign_in_as_alice, watch_for_problems
from .conftest import run

pytestmark = pytest.mark.timeout(110)

PREVIEW_LOADED = """() => {
  const img = document.querySelector('[data-details-panel] [data-sequence-preview]');
  return img !== null && img.complete && img.naturalWidth > 0;
}"""


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    with serving(tmp_path, require_words=True, count=4, curate={"enabled": True}) as running:
        yield running


def add_sequence(live: Live, count: int = 3, *, first_url: str | None = None) -> list[int]:
    """``count`` frames of a dust devil a few seconds apart, newer than the seeded ones,
    stored as one scored sequence (the middle frame its card, first in the queue); their
    ids in taken order."""
    start = datetime(2026, 8, 1, 12, tzinfo=UTC)
    items = [
        CandidateData(
            source="perseverance",
            external_id=f"NLF_1966_{i:04d}",
            title=f"Dust devil, frame {i}",
            camera="NAVCAM_LEFT",
            sol=1966,
            taken_at=start + timedelta(seconds=5 * i),
            thumbnail_url=f"{live.images}/NLF_1966_{i:04d}_small.jpg",
            medium_url=(first_url if i == 0 and first_url else "")
            or f"{live.images}/NLF_1966_{i:04d}_medium.jpg",
            full_url=f"{live.images}/NLF_1966_{i:04d}_full_res.png",
        )
        for i in range(count)
    ]
    store = live.watcher.store
    store.add_candidates(items, start)
    by_id = {c.external_id: c.id for c in store.list_candidates(limit=None)}
    ids = [by_id[f"NLF_1966_{i:04d}"] for i in range(count)]
    rows = tuple(GroupRow(i, ids[0], "sequence", count, i == ids[1]) for i in ids)
    scores = tuple(ScoreRow(i, 80.0, ("motion",), f"d{i}") for i in ids)
    store.save_curation(CurationPlan(scores=scores, groups=rows))
    return ids


def test_a_sequence_card_previews_its_frames_and_A_approves_it_as_one_animation(
    live: Live,
) -> None:
    from playwright.sync_api import expect

    frames = add_sequence(live)
    others = sorted(live.ids, reverse=True)[:2]
    with chromium_page(1280, 900) as page:
        sign_in_as_alice(page, live.base)
        first = page.locator("[data-card]").first
        expect(first).to_have_attribute("id", f"card-{frames[1]}")
        expect(first.locator(".badge-group")).to_have_text("sequence · 3 frames")
        page.keyboard.press("j")
        page.keyboard.press("k")
        page.wait_for_function(PREVIEW_LOADED)

        # Compare two other cards, then come back.
        page.keyboard.press("j")
        page.keyboard.press("x")
        page.keyboard.press("j")
        page.keyboard.press("x")
        page.keyboard.press("c")
        page.wait_for_url(re.compile(r"/editor/compare\?ids="))
        shown = page.locator("[data-frame]").evaluate_all("l => l.map(f => f.id)")
        assert sorted(int(f.split("-")[1]) for f in shown) == sorted(others)
        page.keyboard.press("b")
        page.wait_for_url(re.compile(r"/editor(\?.*)?$"))

        page.locator(f"#card-{frames[1]} [data-select]").focus()
        page.keyboard.press("Shift+A")
        page.wait_for_url(re.compile(r"/editor/entries/\d+\?"))
        expect(page.locator(".notice")).to_contain_text("Approved 3 frames as one animation")
        tiles = page.locator("[data-frame-list] [data-frame]")
        expect(tiles).to_have_count(3)
        assert [int(i) for i in tiles.evaluate_all("l => l.map(t => t.dataset.id)")] == frames

    entry_id = int(page.url.split("/editor/entries/")[1].split("?")[0])
    entry = live.watcher.get_entry(entry_id)
    assert list(entry.candidate_ids) == frames
    assert [e.id for e in live.watcher.list_entries()] == [entry_id]


STILL_SHOWN = """() => {
  const img = document.querySelector('[data-details-panel] [data-sequence-preview]');
  return img !== null && img.getAttribute('src') === img.dataset.still
    && img.complete && img.naturalWidth > 0;
}"""


def test_a_preview_that_cannot_be_made_gives_way_to_the_still(live: Live) -> None:
    add_sequence(live, first_url="https://example.org/not-an-image-host.jpg")
    with chromium_page(1280, 900) as page:
        sign_in_as_alice(page, live.base)
        page.keyboard.press("j")
        page.keyboard.press("k")
        page.wait_for_function(STILL_SHOWN)


ANIMATION_PLAYS = """() => {
  const source = document.querySelector('article picture source[type="image/webp"]');
  const img = source && source.parentElement.querySelector('img');
  return img !== null && img.complete && img.naturalWidth > 0
    && img.currentSrc.endsWith('.webp');
}"""


def test_group_then_compare_then_approve_as_animation_publishes_it(live: Live) -> None:
    """The editor's whole path through a sequence: its card opens the group's frames, two of
    them compared side by side, back to the group, approved as one animation, words
    written and published; the public list then shows the animation."""
    from playwright.sync_api import expect

    frames = add_sequence(live, 4)
    with chromium_page(1280, 900) as page:
        problems = watch_for_problems(page)
        sign_in_as_alice(page, live.base)
        card = page.locator(f"#card-{frames[1]}")
        expect(card.locator(".badge-group")).to_have_text("sequence · 4 frames")
        page.keyboard.press("j")
        page.keyboard.press("k")
        page.locator("[data-details-panel] [data-group-link]").click()
        page.wait_for_url(re.compile(rf"/editor\?group={frames[0]}"))
        cards = page.locator("[data-card]")
        expect(cards).to_have_count(4)

        page.keyboard.press("x")
        page.keyboard.press("j")
        page.keyboard.press("x")
        page.keyboard.press("c")
        page.wait_for_url(re.compile(r"/editor/compare\?ids="))
        shown = page.locator("[data-frame]").evaluate_all("l => l.map(f => f.id)")
        assert {int(f.split("-")[1]) for f in shown} <= set(frames) and len(shown) == 2
        page.go_back()
        page.wait_for_url(re.compile(rf"/editor\?group={frames[0]}"))

        page.locator(
            "[data-group-shown] ~ .animate-form button, .queue-bar .animate-form button"
        ).first.click()
        page.wait_for_url(re.compile(r"/editor/entries/\d+\?"))
        expect(page.locator(".notice")).to_contain_text("Approved 4 frames as one animation")
        entry_id = int(page.url.split("/editor/entries/")[1].split("?")[0])
        page.fill("#heading", "A dust devil crosses the crater floor")
        page.fill("#body", "Four Navcam frames a few seconds apart: the whirlwind moves left.")
        page.locator("button[name=publish]").click()
        expect(page.locator(".notice")).to_contain_text(f"Entry #{entry_id} is published")
        assert problems == []
    entry = live.watcher.get_entry(entry_id)
    assert list(entry.candidate_ids) == frames
    report = run(live.watcher.publish())  # what the service's publisher does next
    assert report.animations_built == 1, report
    with chromium_page(1280, 900) as page:
        page.goto(f"{live.base}/")
        expect(page.locator("article h2").first).to_contain_text("A dust devil crosses")
        page.wait_for_function(ANIMATION_PLAYS)
