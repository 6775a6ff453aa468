"""Curation on the demo's own sols: the busy latest sol collapses at least five-fold with no
view folded into another's, and a change of the rules regroups and rescores the queue."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from watcher.cli import app
from watcher.demo import NasaEmulator, RecordedRawImages
from watcher.demo.packaged import DEMO_LATEST_SOL, demo_busy_views, demo_emulator, demo_scenes

from .conftest import raw_toml, write_config

pytestmark = pytest.mark.timeout(240)

runner = CliRunner()


def cli(config: Path, *args: str) -> Any:
    result = runner.invoke(app, ["-c", str(config), *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if "--json" in args else result.stdout


def external_ids(tmp_path: Path) -> dict[int, str]:
    with sqlite3.connect(tmp_path / "watcher.db") as db:
        return dict(db.execute("SELECT id, external_id FROM candidates").fetchall())


def test_the_demo_s_busy_sol_collapses_five_fold_and_keeps_every_view(tmp_path: Path) -> None:
    views = {r["imageid"]: n for n, v in enumerate(demo_busy_views()) for r in v.records}
    with demo_emulator(release_every=0, picture_dir=tmp_path / "pictures") as nasa:
        config = write_config(tmp_path, raw_toml(nasa.raw_images_url))
        cli(config, "poll", "--once")
        report = cli(config, "curate", "--once", "--limit", "5000", "--json")
    assert report["failed"] == 0 and report["waiting"] == 0
    frames = [c for c in cli(config, "queue", "--json", "--limit", "0") if c["sol"] == 1965]
    cards = [
        c
        for c in cli(config, "queue", "--json", "--grouped", "--limit", "0")
        if c["sol"] == DEMO_LATEST_SOL
    ]
    assert len(frames) >= 500
    assert len(frames) / len(cards) >= 5, (len(frames), len(cards))
    named = external_ids(tmp_path)
    shown: dict[int, set[int]] = defaultdict(set)  # view -> the cards holding its frames
    for card in cards:
        seen = {views[named[m]] for m in card["members"] if named[m] in views}
        assert len(seen) <= 1, f"card {card['id']} folds views {seen} into one"
        for view in seen:
            shown[view].add(card["id"])
    assert set(shown) == set(range(len(demo_busy_views()))), "every view has a card"


def test_a_change_of_weights_rescores_and_regroups_the_queue(tmp_path: Path) -> None:
    scenes = demo_scenes()
    with NasaEmulator(
        raw_images={"mars2020": RecordedRawImages(scenes.perseverance)},
        rewrite_images=True,
        scenes=scenes.shots,
    ) as nasa:
        config = write_config(tmp_path, raw_toml(nasa.raw_images_url))
        cli(config, "poll", "--once")
        cli(config, "curate", "--once", "--limit", "500", "--json")
    before = {c["id"]: c for c in cli(config, "queue", "--json", "--limit", "0")}
    idle = cli(config, "curate", "--once", "--json")
    assert (idle["fingerprinted"], idle["scored"]) == (0, 0)
    text = config.read_text().replace(
        "enabled = false\n", "enabled = false\nweight_colour = 0\nweight_detail = 30\n"
    )
    config.write_text(text)
    changed = cli(config, "curate", "--once", "--json")
    assert changed["fingerprinted"] == 0 and changed["scored"] == len(before)
    after = {c["id"]: c for c in cli(config, "queue", "--json", "--limit", "0")}
    colour = [i for i, c in before.items() if "colour camera" in c["score_reasons"]]
    assert colour and all("colour camera" not in after[i]["score_reasons"] for i in colour)
    assert [after[i]["group"] for i in sorted(after)] == [
        before[i]["group"] for i in sorted(before)
    ]
    again = cli(config, "curate", "--once", "--json")
    assert again["scored"] == 0
