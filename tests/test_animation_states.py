"""What became of a sequence's animation: recorded beside the publisher's cache when it
fails (which frame, what went wrong), waited on before the same frames are fetched again,
cleared by a later good build, and shown on the editor's entry page and entries list.
Frames come from a real loopback HTTP server; the editor pages from the app in-process."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from watcher.core import AnimationStatus, Watcher
from watcher.publish import animate
from watcher.publish.animator import retry_wait
from watcher.types import EntryDraft, EntryStatus

from .conftest import Browser, Clock, WebApp, run
from .frame_support import Frames, editors_watcher, serving_frames, signed_in_alice
from .test_publish_animate import ALICE, sequence_entry

pytestmark = pytest.mark.timeout(110)


@pytest.fixture
def frames() -> Iterator[Frames]:
    with serving_frames() as server:
        yield server


@pytest.fixture
def watcher(watcher_for: Any, tmp_path: Path) -> Watcher:
    return editors_watcher(watcher_for, tmp_path)


@pytest.fixture
def alice(watcher: Watcher, monkeypatch: pytest.MonkeyPatch) -> Browser:
    return signed_in_alice(watcher, monkeypatch)


def panel(html: str) -> str:
    """The entry page's animation panel, as text."""
    found = re.search(r'<section class="animation-panel.*?</section>', html, re.S)
    assert found, "no animation panel"
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", found.group(0))).split())


def markers(watcher: Watcher) -> list[str]:
    folder = watcher.settings.publish.cache_dir / "animations"
    return sorted(p.name for p in folder.glob("*.failed.json")) if folder.exists() else []


def test_a_frame_that_404s_is_recorded_by_name_and_the_entry_page_says_why(
    watcher: Watcher, frames: Frames, alice: Browser
) -> None:
    frames.missing.add("1.png")
    entry_id = sequence_entry(watcher, frames.url, ["0.png", "1.png", "2.png"])
    missing = watcher.get_entry(entry_id).candidate_ids[1]  # approved newest first
    report = run(watcher.publish())
    assert report.animations_failed == 1 and report.animations_built == 0

    [marker] = markers(watcher)
    failure = animate.failure(watcher.settings.publish.cache_dir, marker.split(".")[0])
    assert failure is not None and failure.frame == 2 and failure.attempts == 1
    assert failure.reason == (
        f"frame 2 (candidate {missing}, {frames.url}/frame/1.png) could not be fetched: "
        "HTTP 404 Not Found: missing"
    )
    [state] = watcher.animation_states([entry_id]).values()
    assert state.status is AnimationStatus.FAILED and state.failure == failure

    page = alice.get(f"/editor/entries/{entry_id}").text
    said = panel(page)
    assert said.startswith("The animation failed")
    assert failure.reason in said and "the list shows the still meanwhile" in said
    assert 'data-animation="failed"' in page and "The still the list shows" in said
    listing = alice.get("/editor/entries").text
    assert listing.count("animation failed</a>") == 1


def test_a_frame_that_is_not_a_picture_is_named(watcher: Watcher, frames: Frames) -> None:
    frames.garbled.add("0.png")
    entry_id = sequence_entry(watcher, frames.url, ["0.png", "1.png"])
    run(watcher.publish())
    [state] = watcher.animation_states([entry_id]).values()
    assert state.failure is not None
    assert state.failure.frame == 2  # the earliest frame, last in the editor's order
    assert state.failure.reason.endswith(f"{frames.url}/frame/0.png) is not a picture")


def test_a_failure_waits_before_the_same_frames_are_fetched_and_a_good_build_clears_it(
    watcher: Watcher, frames: Frames, clock: Clock, alice: Browser
) -> None:
    frames.missing.add("1.png")
    entry_id = sequence_entry(watcher, frames.url, ["0.png", "1.png"])
    run(watcher.publish())
    asked = len(frames.requests)
    frames.missing.clear()  # NASA's host is back

    again = run(watcher.publish(force=True))
    assert again.animations_failed == 1 and len(frames.requests) == asked  # still waiting

    clock.advance(retry_wait(1).total_seconds() + 1)
    later = run(watcher.publish(force=True))
    assert later.animations_built == 1 and later.animations_failed == 0
    assert markers(watcher) == []
    [state] = watcher.animation_states([entry_id]).values()
    assert state.status is AnimationStatus.READY and state.frames == 2

    page = alice.get(f"/editor/entries/{entry_id}").text
    assert panel(page).startswith("The animation: 2 frames")
    webp = re.search(r'srcset="(/editor/animations/[0-9a-f]{32}\.webp)"', page)
    assert webp, "no preview"
    answer = alice.get(webp.group(1))
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/webp"
    assert answer.content[:4] == b"RIFF"
    assert alice.get("/editor/animations/..%2Fwatcher.db").status_code == 404
    stranger = WebApp(watcher).browser().get(webp.group(1))
    assert stranger.status_code != 200 and b"RIFF" not in stranger.content
    assert "animation failed" not in alice.get("/editor/entries").text


def test_the_wait_doubles_with_each_failure_in_a_row_up_to_six_hours() -> None:
    waits = [retry_wait(n) for n in range(1, 8)]
    assert waits[:3] == [timedelta(minutes=10), timedelta(minutes=20), timedelta(minutes=40)]
    assert waits[-1] == timedelta(hours=6) and retry_wait(1000) == timedelta(hours=6)


def test_dropping_the_broken_frame_makes_a_new_animation_at_once(
    watcher: Watcher, frames: Frames
) -> None:
    frames.missing.add("1.png")
    entry_id = sequence_entry(watcher, frames.url, ["0.png", "1.png", "2.png"])
    run(watcher.publish())
    entry = watcher.get_entry(entry_id)
    kept = [i for n, i in enumerate(entry.candidate_ids) if n != 1]
    watcher.edit_entry(entry_id, entry.version, EntryDraft(heading="Dust devil"), ALICE, kept)
    report = run(watcher.publish())
    assert report.animations_built == 1 and report.animations_failed == 0
    [state] = watcher.animation_states([entry_id]).values()
    assert state.status is AnimationStatus.READY


def test_an_animation_not_made_yet_says_when_it_will_be(
    watcher: Watcher, frames: Frames, alice: Browser
) -> None:
    entry_id = sequence_entry(watcher, frames.url, ["0.png", "1.png"])
    said = panel(alice.get(f"/editor/entries/{entry_id}").text)
    assert said.startswith("Not made yet") and "made at the next publish" in said

    entry = watcher.get_entry(entry_id)
    watcher.set_entry_status(entry_id, entry.version, EntryStatus.UNPUBLISHED, ALICE)
    said = panel(alice.get(f"/editor/entries/{entry_id}").text)
    assert "made when the entry is published" in said
    assert frames.requests == []  # the page never fetches a frame


def test_an_entry_of_one_frame_has_no_animation_panel(
    watcher: Watcher, frames: Frames, alice: Browser
) -> None:
    entry_id = sequence_entry(watcher, frames.url, ["0.png"])
    page = alice.get(f"/editor/entries/{entry_id}").text
    assert "animation-panel" not in page and watcher.animation_states([entry_id]) == {}
