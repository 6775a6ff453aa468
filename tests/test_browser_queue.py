"""The queue as a dense triage grid in a real browser (see browser_support): a screen of
cards at 1280 x 900, the counts per status, the details of the current card, the first card
on a phone's first screen, and the keyboard from the first screen."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from watcher.types import Actor, CandidateStatus, EntryStatus, Role

from .browser_support import Live, chromium_page, serving, sign_in_as_alice, watch_for_problems

pytestmark = pytest.mark.timeout(110)

ALICE = Actor("alice", Role.EDITOR)
CURRENT = re.compile(r"\bis-current\b")
# The cards wholly inside the viewport and not covered there by anything else.
ON_SCREEN = """() => [...document.querySelectorAll('[data-card]')].filter(card => {
  const r = card.getBoundingClientRect();
  if (r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth) return false;
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return hit !== null && hit.closest('[data-card]') === card;
}).map(card => Number(card.dataset.id))"""
LOADED = """(ids) => ids.every(id => {
  const img = document.querySelector(`#card-${id} .card-picture img`);
  return img && img.complete && img.naturalWidth > 0;
})"""


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    """Thirty frames, the product's default (quick approvals are drafts); the oldest one
    rejected and the next one approved, so every tab has something to count."""
    with serving(tmp_path, require_words=True, count=30) as running:
        running.watcher.reject(running.ids[0], ALICE)
        running.watcher.approve([running.ids[1]], None, ALICE)
        yield running


def test_one_screen_at_1280_holds_24_cards_with_their_counts_and_details(live: Live) -> None:
    from playwright.sync_api import expect

    with chromium_page(1280, 900) as page:
        problems = watch_for_problems(page)
        sign_in_as_alice(page, live.base)
        cards = page.locator("[data-card]")
        expect(cards).to_have_count(28)

        # At least 24 cards wholly on the first screen, without scrolling, pictures loaded.
        shown = page.evaluate(ON_SCREEN)
        assert page.evaluate("window.scrollY") == 0
        assert len(shown) >= 24, shown
        assert shown[:24] == sorted(live.ids[2:], reverse=True)[:24]  # newest first
        page.wait_for_function(LOADED, arg=shown)

        # The counts are the database's: per status under the filters, and the line above.
        store = live.watcher.store
        decided = (CandidateStatus.NEW, CandidateStatus.APPROVED, CandidateStatus.REJECTED)
        for status in decided:
            tab = page.locator(f".status-tabs a[data-status={status.value}] [data-count]")
            expect(tab).to_have_text(str(store.count_candidates(status=status)))
        expect(page.locator(".status-tabs a[data-status=all] [data-count]")).to_have_text(
            str(store.count_candidates())
        )
        expect(page.locator(".status-tabs a[data-status=published]")).to_have_count(0)
        expect(page.locator("[data-summary]")).to_have_text("28 new · showing 1\N{EN DASH}28")

        # The details panel shows the current card's details; focus moves it, so does hover.
        panel = page.locator("[data-details-panel]")
        newest = live.watcher.get_candidate(live.ids[-1])
        expect(panel.locator(".details-title")).to_have_text(newest.title or "")
        third = live.watcher.get_candidate(int(cards.nth(2).get_attribute("data-id") or 0))
        cards.nth(2).locator(".card-picture").focus()
        expect(cards.nth(2)).to_have_class(CURRENT)
        expect(panel.locator(".details-title")).to_have_text(third.title or "")
        expect(panel).to_contain_text(third.external_id)
        expect(panel).to_contain_text("15:27:00 LMST")
        sixth = live.watcher.get_candidate(int(cards.nth(6).get_attribute("data-id") or 0))
        approve = cards.nth(6).get_by_role("button", name=f"Approve #{sixth.id}")
        expect(approve).to_have_css("opacity", "0")  # the card's actions show on hover
        cards.nth(6).hover()
        expect(panel.locator(".details-title")).to_have_text(sixth.title or "")
        expect(approve).to_have_css("opacity", "1")
        page.mouse.move(5, 5)
        expect(panel.locator(".details-title")).to_have_text(third.title or "")

        # A tab switches the status, keeping its count.
        page.click(".status-tabs a[data-status=rejected]")
        page.wait_for_url(f"{live.base}/editor?status=rejected")
        expect(cards).to_have_count(1)
        assert cards.nth(0).get_attribute("data-id") == str(live.ids[0])
        expect(page.locator(".status-tabs a[aria-current=page]")).to_have_attribute(
            "data-status", "rejected"
        )
        expect(page.locator("[data-summary]")).to_have_text("1 rejected · showing 1\N{EN DASH}1")
        expect(cards.nth(0).locator(".badge")).to_have_text("rejected")
    assert problems == []


def test_on_a_phone_the_first_card_is_on_the_first_screen_with_the_filters_folded(
    live: Live,
) -> None:
    from playwright.sync_api import expect

    with chromium_page(390, 844) as page:
        problems = watch_for_problems(page)
        sign_in_as_alice(page, live.base)
        cards = page.locator("[data-card]")
        expect(cards).to_have_count(28)
        shown = page.evaluate(ON_SCREEN)
        assert page.evaluate("window.scrollY") == 0
        assert shown[:2] == [live.ids[-1], live.ids[-2]]  # two columns, the first row whole
        first, second = cards.nth(0).bounding_box(), cards.nth(1).bounding_box()
        assert first and second and first["y"] == second["y"] and first["x"] < second["x"]
        page.wait_for_function(LOADED, arg=shown[:2])

        # The search is in the bar; the other filters are folded away until asked for.
        expect(page.locator("#f-q")).to_be_visible()
        assert page.locator("[data-fold]").get_attribute("open") is None
        expect(page.locator("#f-sol_min")).to_be_hidden()
        page.click("[data-fold] > summary")
        expect(page.locator("#f-sol_min")).to_be_visible()
        page.fill("#f-sol_min", "1965")
        page.locator("#f-sol_min").press("Enter")
        page.wait_for_url(re.compile(r"sol_min=1965"))
        assert page.locator("[data-fold]").get_attribute("open") is not None  # a filter is set
    assert problems == []


def test_the_keyboard_works_from_the_first_screen(live: Live) -> None:
    from playwright.sync_api import expect

    with chromium_page(1280, 900) as page:
        problems = watch_for_problems(page)
        sign_in_as_alice(page, live.base)
        cards = page.locator("[data-card]")
        expect(cards).to_have_count(28)

        # ? lists exactly the keys that work; Esc closes it.
        page.keyboard.press("?")
        help_box = page.locator("#shortcuts")
        expect(help_box).to_be_visible()
        keys = help_box.locator("dt kbd").all_inner_texts()
        assert sorted(keys) == sorted(
            ["j", "k", "x", "c", "a", "A", "r", "o", "e", "Enter", "?", "Esc"]
        )
        page.keyboard.press("Escape")
        expect(help_box).to_be_hidden()

        # a, at once: the first card is current, its approval a draft (words come later).
        expect(cards.nth(0)).to_have_class(CURRENT)
        first = int(cards.nth(0).get_attribute("data-id") or 0)
        page.keyboard.press("a")
        page.wait_for_url(re.compile(r"/editor\?done=drafted&entry=\d+"))
        [draft] = [e for e in live.watcher.list_entries() if first in e.candidate_ids]
        assert draft.status is EntryStatus.DRAFT and draft.candidate_ids == (first,)
        expect(cards).to_have_count(27)
        expect(page.locator("[data-summary]")).to_have_text("27 new · showing 1\N{EN DASH}27")

        # j / k move; x selects; r rejects the current card.
        expect(cards.nth(0)).to_have_class(CURRENT)
        page.keyboard.press("j")
        expect(cards.nth(1)).to_have_class(CURRENT)
        page.keyboard.press("k")
        expect(cards.nth(0)).to_have_class(CURRENT)
        page.keyboard.press("j")
        page.keyboard.press("x")
        expect(cards.nth(1)).to_have_class(re.compile(r"\bis-selected\b"))
        expect(page.locator("[data-selected-count]")).to_have_text("1 candidate selected.")
        expect(page.locator("[data-bulk]")).to_have_class(re.compile(r"\bhas-selection\b"))
        page.keyboard.press("x")
        expect(page.locator("[data-select]:checked")).to_have_count(0)
        rejected = int(cards.nth(1).get_attribute("data-id") or 0)
        page.keyboard.press("r")
        page.wait_for_url(re.compile(r"done=rejected"))
        assert live.watcher.get_candidate(rejected).status is CandidateStatus.REJECTED
        expect(cards.nth(1)).to_have_class(CURRENT)  # back at the same place

        # j walks to the last card, scrolling it into view.
        for _ in range(30):
            page.keyboard.press("j")
        last = cards.nth(25)
        expect(last).to_have_class(CURRENT)
        assert page.evaluate("window.scrollY") > 0
        assert int(last.get_attribute("data-id") or 0) in page.evaluate(ON_SCREEN)

        # o opens the full-resolution file; Enter opens the card's page.
        with page.expect_popup() as popup:
            page.keyboard.press("o")
        assert popup.value.url.endswith("_full_res.svg")
        popup.value.close()
        opened = int(last.get_attribute("data-id") or 0)
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(rf"/editor/candidates/{opened}\?next="))
    assert problems == []
