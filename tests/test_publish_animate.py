"""Frame sequences as animated WebP + GIF, frames served by a real loopback HTTP server."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from PIL import Image

from watcher.core import Watcher
from watcher.publish import animate
from watcher.types import Actor, CandidateData, EntryDraft, Frame, PublishedEntry, Role

from .conftest import run

ALICE = Actor("alice", Role.EDITOR)
T0 = datetime(2026, 8, 30, 20, 0, tzinfo=UTC)
COLOURS = [(200, 60, 20), (20, 160, 60), (40, 60, 220)]


def png(colour: tuple[int, int, int], size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


class FrameServer:
    """Serves /frame/<n>.png (n < 3) and counts every request."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                name = self.path.rsplit("/", 1)[-1]
                if name.endswith(".png") and name[:-4].isdigit() and int(name[:-4]) < 3:
                    body = png(COLOURS[int(name[:-4])])
                    self.send_response(200)
                    self.send_header("Content-Type", "image/png")
                else:
                    body = b"missing"
                    self.send_response(404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def frames() -> Iterator[FrameServer]:
    server = FrameServer()
    yield server
    server.close()


def sequence_entry(watcher: Watcher, base: str, names: list[str]) -> int:
    """An entry of len(names) frames, approved in reverse time order (the editor's order)."""
    items = [
        CandidateData(
            source="perseverance",
            external_id=f"SEQ_{i}",
            title=f"frame {i}",
            credit="NASA/JPL-Caltech",
            taken_at=T0 + timedelta(seconds=i),
            medium_url=f"{base}/frame/{name}",
            full_url=f"{base}/frame/{name}",
            width=64,
            height=48,
        )
        for i, name in enumerate(names)
    ]
    watcher.store.add_candidates(items, T0)
    ids = sorted(c.id for c in watcher.list_candidates(limit=None))
    return watcher.approve(list(reversed(ids)), EntryDraft(heading="Dust devil"), ALICE).id


def test_build_makes_both_animations_capped_in_width() -> None:
    data = [png(colour, (1600, 1200)) for colour in COLOURS]
    result = animate.build("k", data, max_width=400)
    assert (result.width, result.height, result.frames) == (400, 300, 3)
    for blob, kind in ((result.webp, "WEBP"), (result.gif, "GIF")):
        with Image.open(io.BytesIO(blob)) as image:
            assert image.format == kind and image.n_frames == 3 and image.size == (400, 300)
    with pytest.raises(ValueError):
        animate.build("k", data[:1], max_width=400)


def test_frames_play_in_the_editors_order_and_are_capped() -> None:
    def frame(i: int, minutes: int | None) -> Frame:
        taken = T0 + timedelta(minutes=minutes) if minutes is not None else None
        return Frame(
            candidate_id=i,
            taken_at=taken,
            thumbnail_url=None,
            medium_url=f"https://mars.nasa.gov/{i}.jpg",
            large_url=None,
            full_url=None,
            width=None,
            height=None,
        )

    entry = PublishedEntry(
        id=1, position=1, heading="h", body="", alt_text="", credit="", rendition="large",
        frames=(frame(1, 5), frame(2, None), frame(3, 1), frame(4, 3)),
        mission=None, camera=None, sol=None, mars_local_time=None, taken_at=None,
        nasa_page_url=None, created_at=T0, updated_at=T0,
    )  # fmt: skip
    urls = animate.sequence(entry, max_frames=60)
    assert urls == [f"https://mars.nasa.gov/{i}.jpg" for i in (1, 2, 3, 4)]
    reordered = replace(entry, frames=entry.frames[::-1])
    assert animate.sequence(reordered, 60) == urls[::-1]
    assert animate.animation_key(urls[::-1], 60, 800) != animate.animation_key(urls, 60, 800)
    assert animate.sequence(entry, max_frames=3) == urls[:3]
    assert animate.sequence(replace(entry, frames=entry.frames[:1]), 60) == []
    assert animate.animation_key(urls, 60, 800) != animate.animation_key(urls, 60, 400)


def test_a_sequence_is_published_as_webp_and_gif_and_cached(
    watcher_for: Any, frames: FrameServer, tmp_path: Any
) -> None:
    watcher: Watcher = watcher_for([], publish={"cache_dir": str(tmp_path / "cache")})
    entry_id = sequence_entry(watcher, frames.url, ["0.png", "1.png", "2.png"])
    report = run(watcher.publish())
    assert report.animations_built == 1 and report.animations_failed == 0
    assert len(frames.requests) == 3
    site = watcher.settings.site_dir
    [webp] = list((site / "animations").glob("*.webp"))
    [gif] = list((site / "animations").glob("*.gif"))
    with Image.open(webp) as image:
        assert image.n_frames == 3
        first_pixel = image.convert("RGB").getpixel((5, 5))
    assert first_pixel[2] > 150  # the editor's first frame (the latest, blue) leads
    with Image.open(gif) as image:
        assert image.n_frames == 3
    page = (site / "index.html").read_text()
    assert f'srcset="animations/{webp.name}"' in page and f'src="animations/{gif.name}"' in page
    assert f'id="entry-{entry_id}"' in page

    again = run(watcher.publish(force=True))
    assert again.animations_built == 0 and again.animations_failed == 0
    assert len(frames.requests) == 3  # from the cache: no request
    assert (watcher.settings.site_dir / "animations" / webp.name).is_file()


def test_a_frame_off_the_allowed_hosts_leaves_the_still(
    watcher_for: Any, frames: FrameServer, tmp_path: Any
) -> None:
    watcher: Watcher = watcher_for([], publish={"cache_dir": str(tmp_path / "cache")})
    port = frames.url.rsplit(":", 1)[1]
    sequence_entry(watcher, f"http://localhost:{port}", ["0.png", "1.png"])
    report = run(watcher.publish())
    assert report.changed and report.animations_failed == 1 and report.animations_built == 0
    assert frames.requests == []
    page = (watcher.settings.site_dir / "index.html").read_text()
    assert (
        "image/webp" not in page and f'src="http://localhost:{port}/frame/1.png"' in page
    )  # the first frame


def test_a_missing_frame_leaves_the_still_and_the_publish_succeeds(
    watcher_for: Any, frames: FrameServer, tmp_path: Any
) -> None:
    watcher: Watcher = watcher_for([], publish={"cache_dir": str(tmp_path / "cache")})
    sequence_entry(watcher, frames.url, ["0.png", "9.png"])
    report = run(watcher.publish())
    assert report.edition is not None and report.animations_failed == 1
    assert watcher.site_edition() == 1
    assert not (watcher.settings.site_dir / "animations").exists()
