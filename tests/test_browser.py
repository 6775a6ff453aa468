"""The editor's queue in a real browser: the keyboard walk and drafts (see browser_support)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from watcher.types import CandidateStatus, EntryStatus

from .browser_support import Live, chromium_page, serving, sign_in_as_alice, watch_for_problems

pytestmark = pytest.mark.timeout(110)


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


def test_an_editor_signs_in_and_works_the_queue_with_the_keyboard(live: Live) -> None:
    from playwright.sync_api import expect

    current = re.compile(r"\bis-current\b")
    with chromium_page() as page:
        problems = watch_for_problems(page)

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

        # The first card is current from the start; typing in a field is just typing.
        expect(cards.nth(0)).to_have_class(current)
        page.click("#f-q")
        page.keyboard.type("jx")
        expect(cards.nth(0)).to_have_class(current)
        expect(page.locator("[data-card].is-current")).to_have_count(1)
        expect(page.locator("[data-select]:checked")).to_have_count(0)
        page.fill("#f-q", "")
        page.evaluate("document.activeElement.blur()")

        # j / k move the visible focus.
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

        # a approves the current card; the focus stays at that place in the grid.
        page.goto(f"{live.base}/editor")
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

        # a on the first card (current from the start): approved, saved as a draft, said so.
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
