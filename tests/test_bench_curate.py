"""The curation benchmark (``bench/curate.py``) runs as ``make bench`` runs it, at a tiny
size, and prints the figures the closing note reports, with a target and a verdict each."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from watcher.curate.score import golden_hour
from watcher.demo.busy import busy_sol

pytestmark = pytest.mark.timeout(110)

BENCH = Path(__file__).resolve().parent.parent / "bench" / "curate.py"


def test_a_tiny_busy_sol_prints_every_figure_with_its_target_and_verdict() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--views", "3", "--lone", "2", "--golden", "1"],
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout)
    assert figures["benchmark"] == "curate"
    assert figures["frames"] == figures["fingerprinted"] > 0
    assert figures["fingerprints_per_s"] > 0
    assert 0 < figures["cards"] < figures["frames"]
    assert figures["collapse"] == round(figures["frames"] / figures["cards"], 2)
    assert figures["views_lost"] == 0 and figures["mixed_cards"] == 0
    assert figures["sequences_planted"] == figures["sequences_found_exactly"] == 2
    ranks = figures["spectacular_ranks"]
    assert set(ranks) == {"dust devil", "ingenuity shadow", "golden 0"}
    assert all(isinstance(rank, int) and 1 <= rank <= figures["cards"] for rank in ranks.values())
    assert figures["spectacular_worst_rank"] == max(ranks.values())
    assert set(figures["met"]) == {"collapse", "views_lost", "sequences", "spectacular"}
    assert figures["meets_target"] == all(figures["met"].values())
    assert "collapse" in result.stderr, "the short table is missing"


def test_the_busy_sols_golden_views_are_mastcam_z_stereo_at_golden_hour() -> None:
    plain, sol = busy_sol(views=3, lone=2), busy_sol(views=3, lone=2, golden=2)
    golden = [r for r in sol.records if sol.scene_of[r["imageid"]].startswith("golden ")]
    assert {sol.scene_of[r["imageid"]] for r in golden} == {"golden 0", "golden 1"}
    assert {r["camera"]["instrument"] for r in golden} == {"MCZ_LEFT", "MCZ_RIGHT"}
    assert all(golden_hour(r["date_taken_mars"].split("M")[1]) for r in golden)
    assert sol.spectacular == ("dust devil", "ingenuity shadow", "golden 0", "golden 1")
    assert plain.spectacular == ("dust devil", "ingenuity shadow")
    assert len(sol.records) == len(plain.records) + len(golden)
