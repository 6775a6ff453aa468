"""A sequence's card as one animation: approved in one click (every new frame, taken
order, one entry, then its page), refused whole when a frame changed meanwhile, and
previewed live as an animated WebP built from frames served on loopback."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from watcher.core import Watcher
from watcher.plans import CurationPlan, GroupRow
from watcher.types import CandidateData

from .conftest import Browser, WebApp
from .frame_support import Frames, editors_watcher, serving_frames, signed_in_alice
from .test_publish_animate import T0

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


def stored_group(watcher: Watcher, base: str, kind: str, count: int = 3) -> list[int]:
    """``count`` frames a second apart (added newest first), grouped as ``kind`` with the
    middle one the hero; their ids in taken order."""
    items = [
        CandidateData(
            source="perseverance",
            external_id=f"SEQ_{i}",
            title=f"frame {i}",
            camera="NAVCAM_LEFT",
            sol=1965,
            credit="NASA/JPL-Caltech",
            taken_at=T0 + timedelta(seconds=i),
            medium_url=f"{base}/frame/{i}.png",
            full_url=f"{base}/frame/{i}.png",
            width=64,
            height=48,
        )
        for i in reversed(range(count))
    ]
    watcher.store.add_candidates(items, T0)
    by_title = {c.title: c.id for c in watcher.store.list_candidates(limit=None)}
    ids = [by_title[f"frame {i}"] for i in range(count)]
    rows = tuple(GroupRow(i, ids[0], kind, count, i == ids[1]) for i in ids)
    watcher.store.save_curation(CurationPlan(groups=rows))
    return ids


def notice(html: str) -> str:
    found = re.search(r'<p class="notice"[^>]*>(.*?)</p>', html, re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split()) if found else ""


def animate_form(html: str) -> tuple[str, list[str]]:
    """The queue's first approve-as-animation form: its action and its ``ids``."""
    found = re.search(r'<form method="post" action="(/editor/groups/\d+/approve)".*?</form>',
                      html, re.S)  # fmt: skip
    assert found, "no approve-as-animation form"
    return found.group(1), re.findall(r'name="ids" value="([0-9:]+)"', found.group(0))


def test_the_queue_counts_its_cards_beside_the_frames_they_hold(
    watcher_for: Any, tmp_path: Path, frames: Frames, monkeypatch: pytest.MonkeyPatch
) -> None:
    curating = editors_watcher(watcher_for, tmp_path, curate={"enabled": True})
    alice = signed_in_alice(curating, monkeypatch)
    stored_group(curating, frames.url, "similar", count=4)
    summary = re.compile(r"data-summary>([^<]*)<")
    assert (
        summary.search(alice.get("/editor").text).group(1)
        == "4 new in 1 card · showing 1\N{EN DASH}1"
    )
    every = alice.get("/editor?grouped=no").text
    assert summary.search(every).group(1) == "4 new · showing 1\N{EN DASH}4"


def test_approve_as_animation_makes_one_entry_of_every_frame_in_taken_order(
    watcher: Watcher, frames: Frames, alice: Browser
) -> None:
    ids = stored_group(watcher, frames.url, "sequence")
    queue = alice.get("/editor").text
    assert "sequence · 3 frames" in queue and 'title="Approve as animation (A)"' in queue
    action, selection = animate_form(queue)
    assert action == f"/editor/groups/{ids[0]}/approve"
    assert selection == [f"{i}:1" for i in ids]

    group_page = alice.get(f"/editor?group={ids[0]}").text
    bar = group_page.split("data-group-shown", 1)[1].split("</form>", 1)[0]
    assert f'action="/editor/groups/{ids[0]}/approve"' in bar
    assert re.findall(r'name="ids" value="([0-9:]+)"', bar) == selection

    answer = alice.post(action, {"ids": selection, "next": "/editor"}, follow_redirects=False)
    assert answer.status_code == 303
    target = answer.headers["location"]
    entry_id = int(re.match(r"/editor/entries/(\d+)\?", target).group(1))  # type: ignore[union-attr]
    assert list(watcher.get_entry(entry_id).candidate_ids) == ids
    assert [e.id for e in watcher.list_entries()] == [entry_id]
    page = alice.get(target).text
    assert "Approved 3 frames as one animation" in notice(page)
    assert f"#{entry_id}" in notice(page)


def test_a_frame_changed_meanwhile_refuses_the_whole_animation_with_a_notice(
    watcher: Watcher, frames: Frames, alice: Browser
) -> None:
    ids = stored_group(watcher, frames.url, "sequence")
    action, selection = animate_form(alice.get("/editor").text)
    alice.post(f"/editor/candidates/{ids[2]}/reject", {"version": "1", "next": "/editor"})
    answer = alice.post(action, {"ids": selection, "next": "/editor"}, follow_redirects=False)
    assert answer.status_code == 409
    assert "Nothing approved" in answer.text
    assert watcher.list_entries() == []


def test_the_preview_is_an_animated_webp_of_every_frame_and_needs_a_session(
    watcher: Watcher, frames: Frames, alice: Browser
) -> None:
    ids = stored_group(watcher, frames.url, "sequence")
    assert f'src="/editor/groups/{ids[0]}/preview"' in alice.get("/editor").text
    answer = alice.get(f"/editor/groups/{ids[0]}/preview")
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/webp"
    with Image.open(io.BytesIO(answer.content)) as image:
        assert image.format == "WEBP" and image.n_frames == 3
    asked = len(frames.requests)
    assert alice.get(f"/editor/groups/{ids[0]}/preview").content == answer.content
    assert len(frames.requests) == asked  # the second from the cache
    stranger = WebApp(watcher).browser().get(f"/editor/groups/{ids[0]}/preview")
    assert stranger.status_code != 200 and b"RIFF" not in stranger.content


def test_no_preview_for_a_group_that_is_not_a_sequence_or_whose_frame_is_missing(
    watcher: Watcher, frames: Frames, alice: Browser
) -> None:
    ids = stored_group(watcher, frames.url, "similar")
    assert alice.get(f"/editor/groups/{ids[0]}/preview").status_code == 404
    assert "/editor/groups/" not in alice.get("/editor").text
    assert alice.get("/editor/groups/999999/preview").status_code == 404
    frames.missing.add("9.png")
    seq = stored_group(watcher, frames.url, "sequence", count=10)
    answer = alice.get(f"/editor/groups/{seq[0]}/preview")
    assert answer.status_code == 422 and "could not be fetched" in answer.text
    asked = len(frames.requests)
    again = alice.get(f"/editor/groups/{seq[0]}/preview")
    assert again.status_code == 422 and "could not be fetched" in again.text
    assert len(frames.requests) == asked  # the failure waits: nothing fetched again
