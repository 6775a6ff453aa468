"""``watcher demo``'s own config against the demo emulator: the shipped sources, on topic."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from watcher.config import load_settings
from watcher.core import Watcher, make_watcher
from watcher.demo import NasaEmulator, demo_emulator
from watcher.demo.packaged import demo_scenes
from watcher.demo.run import demo_config

from .conftest import run


@pytest.fixture(scope="module")
def polled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Watcher, NasaEmulator]]:
    """One demo emulator, polled once with the demo's own config file."""
    tmp = tmp_path_factory.mktemp("demo")
    with demo_emulator(release_every=0) as nasa:
        config = tmp / "watcher.toml"
        config.write_text(demo_config(nasa, tmp, 0), encoding="utf-8")
        watcher = make_watcher(load_settings(config, env={}))
        watcher.prepare_database()
        reports = run(watcher.poll_all())
        assert all(report.ok for report in reports), reports
        yield watcher, nasa
        run(watcher.aclose())


def queue(watcher: Watcher) -> list[Any]:
    return watcher.list_candidates(status=None, limit=None)


def test_the_demo_queue_holds_only_perseverance_and_ingenuity(polled: Any) -> None:
    watcher, _ = polled
    candidates = queue(watcher)
    assert {c.source for c in candidates} == {
        "perseverance", "ingenuity", "image_library", "nasa_rss"}  # fmt: skip
    assert {c.mission for c in candidates} == {"perseverance", "ingenuity"}
    library = {c.external_id for c in candidates if c.source == "image_library"}
    assert library == {"PIA99001", "PIA99002", "PIA99003", "KSC-20200730-PH-PERS01"}
    news = [c for c in candidates if c.source == "nasa_rss"]
    assert [c.title for c in news] == [
        "NASA\u2019s Perseverance Rover Watches a Dust Devil Cross Jezero Crater"
    ]


def test_the_first_poll_finds_the_scenes_of_the_latest_downlink(polled: Any) -> None:
    watcher, _ = polled
    ids = {c.external_id for c in queue(watcher)}
    scenes = demo_scenes()
    assert set(scenes.dust_devil) <= ids and set(scenes.shadow) <= ids
    assert {i for pair in scenes.stereo for i in pair} <= ids
    sols = {c.sol for c in queue(watcher) if c.source == "perseverance"}
    assert max(sols) == 1965 and min(sols) >= 1964  # the day before NASA's latest only


def test_every_demo_picture_is_a_raster_file_served_locally(polled: Any) -> None:
    watcher, nasa = polled
    with httpx.Client(timeout=10) as client:
        for c in queue(watcher):
            for url in (c.thumbnail_url, c.full_url or c.large_url):
                assert url is not None and url.startswith(nasa.base_url), (c.source, url)
            answer = client.get(c.thumbnail_url)
            assert answer.headers["Content-Type"] in ("image/jpeg", "image/png"), c.thumbnail_url


def test_credits_come_from_each_source_s_own_words(polled: Any) -> None:
    watcher, _ = polled
    by_id = {c.external_id: c for c in queue(watcher)}
    assert by_id["PIA99001"].credit == "NASA/JPL-Caltech/ASU/MSSS"  # secondary_creator
    assert by_id["PIA99002"].credit == "NASA/JPL-Caltech"  # the description's credit line
    assert by_id["PIA99003"].credit == "NASA/JPL"  # only the center
    assert by_id["KSC-20200730-PH-PERS01"].credit == "NASA/Joel Kowsky"  # photographer
    news = [c for c in queue(watcher) if c.source == "nasa_rss"]
    assert [c.credit for c in news] == ["NASA/JPL-Caltech"]
    assert all(c.credit for c in queue(watcher))


def test_a_second_demo_poll_with_nothing_new_is_one_request_a_raw_source(polled: Any) -> None:
    watcher, nasa = polled
    before = len(queue(watcher))
    nasa.clear_requests()
    reports = {r.source: r for r in run(watcher.poll_all(force=True))}
    assert reports["perseverance"].requests == reports["ingenuity"].requests == 1
    assert all(r.inserted == 0 for r in reports.values())
    assert not any(r.path.startswith("/assets/") for r in nasa.requests)  # manifests once
    assert len(queue(watcher)) == before


def test_the_demo_config_is_written_for_the_emulator(tmp_path: Path) -> None:
    with demo_emulator(release_every=0) as nasa:
        text = demo_config(nasa, tmp_path, 8123)
        assert nasa.base_url.split("//")[1] in text and "port = 8123" in text
    settings = load_settings(_write(tmp_path, text), env={})
    assert {s.name for s in settings.sources} == {
        "perseverance", "ingenuity", "image_library", "nasa_rss"}  # fmt: skip


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "watcher.toml"
    path.write_text(text, encoding="utf-8")
    return path
