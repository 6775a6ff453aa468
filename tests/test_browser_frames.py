"""An entry's frames arranged in a real browser (see browser_support): dragged with the
mouse, moved and dropped with the keyboard and the buttons, saved, and read back from the
database. Without JavaScript the same form field takes the ids as text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from watcher.types import Actor, CandidateStatus, EntryDraft, Role

from .browser_support import Live, chromium_page, serving, sign_in_as_alice, watch_for_problems

pytestmark = pytest.mark.timeout(110)

ALICE = Actor("alice", Role.EDITOR)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    with serving(tmp_path, require_words=False, count=6) as running:
        yield running


def order(page: Any) -> list[int]:
    ids = page.locator("[data-frame]").evaluate_all("tiles => tiles.map(t => t.dataset.id)")
    return [int(i) for i in ids]


def field(page: Any) -> list[int]:
    value = page.locator("input[name=frames]").input_value()
    return [int(i) for i in re.split(r"[\s,]+", value.strip()) if i]


def drag(page: Any, source: Any, target: Any) -> None:
    """A real mouse drag: press on ``source``'s picture, move in steps, release on
    ``target``'s."""
    source.scroll_into_view_if_needed()
    start, end = source.bounding_box(), target.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 3)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 3, steps=8)
    page.mouse.up()


def test_an_editor_drags_moves_and_drops_frames_then_saves_them(live: Live) -> None:
    from playwright.sync_api import expect

    a, b, c, d, e = live.ids[:5]
    entry = live.watcher.approve([a, b, c, d, e], EntryDraft(heading="Dust devil"), ALICE)
    with chromium_page() as page:
        problems = watch_for_problems(page)
        sign_in_as_alice(page, live.base)
        page.goto(f"{live.base}/editor/entries/{entry.id}")

        # frames.js swaps the text field for the tiles; the field stays in the form.
        tiles = page.locator("[data-frame]")
        expect(tiles).to_have_count(5)
        expect(page.locator("#frames")).to_be_hidden()
        expect(page.locator("[data-frames-editor]")).to_be_visible()
        expect(tiles.nth(0).locator("[data-still-badge]")).to_be_visible()
        expect(tiles.nth(1).locator("[data-still-badge]")).to_be_hidden()
        expect(tiles.nth(0)).to_contain_text("Navcam left")
        expect(tiles.nth(0)).to_contain_text("sol 1965")
        status = page.locator("[data-frames-status]")

        # Drag the first frame onto the third with the mouse.
        drag(page, tiles.nth(0), tiles.nth(2))
        assert order(page) == [b, c, a, d, e]
        assert field(page) == [b, c, a, d, e]
        expect(status).to_have_text(f"Frame #{a} is now frame 3 of 5.")
        expect(tiles.nth(0).locator("[data-still-badge]")).to_be_visible()  # b is the still

        # Playwright's own drag works the same: the last frame onto the second.
        tiles.nth(4).drag_to(tiles.nth(1))
        assert order(page) == [b, e, c, a, d]

        # Keyboard: focus a frame, Alt+ArrowLeft and [ move it earlier, ] later.
        tiles.nth(4).focus()  # d
        page.keyboard.press("Alt+ArrowLeft")
        assert order(page) == [b, e, c, d, a]
        page.keyboard.press("[")
        page.keyboard.press("[")
        assert order(page) == [b, d, e, c, a]
        expect(status).to_have_text(f"Frame #{d} is now frame 2 of 5.")
        page.keyboard.press("]")
        assert order(page) == [b, e, d, c, a]
        # Arrow keys alone move the focus, not the frame; Delete drops the focused one.
        page.keyboard.press("ArrowRight")
        expect(tiles.nth(3)).to_be_focused()  # c
        page.keyboard.press("Delete")
        assert order(page) == [b, e, d, a]
        expect(status).to_contain_text(f"Dropped frame #{c}; 4 left.")
        expect(tiles.nth(3)).to_be_focused()  # focus went on to the next frame (a)

        # The buttons: make a frame the still, drop another.
        page.get_by_role("button", name=f"Make still: frame #{a}", exact=True).click()
        assert order(page) == [a, b, e, d]
        expect(status).to_have_text(f"Frame #{a} is now the still (frame 1 of 4).")
        page.get_by_role("button", name=f"Drop frame #{e}", exact=True).click()
        assert field(page) == [a, b, d]

        page.get_by_role("button", name="Save", exact=True).click()
        page.wait_for_url(re.compile(r"/editor/entries\?done=saved"))
        assert problems == []

    saved = live.watcher.get_entry(entry.id)
    assert saved.candidate_ids == (a, b, d)
    for dropped in (c, e):
        assert live.watcher.get_candidate(dropped).status is CandidateStatus.NEW


def test_the_keyboard_cannot_drop_the_last_frame_and_a_frame_is_added_by_id(live: Live) -> None:
    from playwright.sync_api import expect

    a, b, c = live.ids[:3]
    entry = live.watcher.approve([a, b], EntryDraft(heading="Two frames"), ALICE)
    with chromium_page(width=420, height=900) as page:  # a phone's width
        sign_in_as_alice(page, live.base)
        page.goto(f"{live.base}/editor/entries/{entry.id}")
        tiles = page.locator("[data-frame]")
        expect(tiles).to_have_count(2)
        tiles.nth(1).focus()
        page.keyboard.press("Backspace")
        expect(tiles).to_have_count(1)
        page.keyboard.press("Delete")
        expect(tiles).to_have_count(1)
        expect(page.locator("[data-frames-status]")).to_have_text(
            "An entry keeps at least one frame."
        )
        expect(page.get_by_role("button", name=f"Drop frame #{a}", exact=True)).to_be_disabled()

        page.fill("#frame-add", str(c))
        page.keyboard.press("Enter")  # adds; does not submit the form
        expect(tiles).to_have_count(2)
        assert field(page) == [a, c]
        page.get_by_role("button", name=f"Make still: frame #{c}", exact=True).click()
        assert field(page) == [c, a]
        page.get_by_role("button", name="Save", exact=True).click()
        page.wait_for_url(re.compile(r"/editor/entries\?done=saved"))
    assert live.watcher.get_entry(entry.id).candidate_ids == (c, a)


def test_without_javascript_the_frames_are_a_text_field(live: Live) -> None:
    from playwright.sync_api import expect

    a, b, c = live.ids[:3]
    entry = live.watcher.approve([a, b, c], EntryDraft(heading="Three frames"), ALICE)
    with chromium_page() as page:
        sign_in_as_alice(page, live.base)
        context = page.context.browser.new_context(java_script_enabled=False)
        try:
            context.add_cookies(page.context.cookies())
            plain = context.new_page()
            plain.goto(f"{live.base}/editor/entries/{entry.id}")
            expect(plain.locator("[data-frames-editor]")).to_be_hidden()
            text = plain.locator("#frames")
            expect(text).to_be_visible()
            expect(text).to_have_value(f"{a}, {b}, {c}")
            text.fill(f"{c} {a}")
            plain.get_by_role("button", name="Save", exact=True).click()
            plain.wait_for_url(re.compile(r"/editor/entries\?done=saved"))
        finally:
            context.close()
    assert live.watcher.get_entry(entry.id).candidate_ids == (c, a)
