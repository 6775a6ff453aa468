"""``make bench``'s runner (``bench/run.py``): its regression guard on made-up figures, and
one real run of two benchmarks at tiny sizes that writes ``results.json`` in the shape the
issue asks for."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

# bench/run.py and bench/common.py, importable once bench/ is on the path (not a package:
# mypy does not see them).
import run  # type: ignore[import-not-found]  # noqa: E402
from common import result  # type: ignore[import-not-found]  # noqa: E402

pytestmark = pytest.mark.timeout(120)


def row(name: str, value: float, unit: str, better: str, speed: float) -> dict[str, Any]:
    made: dict[str, Any] = result(name, value, unit, better=better)
    made["normalised"] = run.normalised(made, speed)
    return made


def test_times_and_rates_are_normalised_by_the_runs_calibration_and_the_rest_kept() -> None:
    assert run.normalised(result("t", 2.0, "s"), 0.5) == 4.0
    assert run.normalised(result("t", 300, "ms"), 0.5) == 600.0
    assert run.normalised(result("r", 100, "requests/s"), 0.5) == 50.0
    assert run.normalised(result("x", 0.8, "x"), 0.5) == 0.8
    assert run.normalised(result("m", 64.0, "MiB"), 0.5) == 64.0
    assert run.normalised(result("none", None, ""), 0.5) is None


def test_a_figure_more_than_a_fifth_worse_as_measured_and_normalised_is_flagged() -> None:
    baseline = {
        "results": [
            row("republish", 1.0, "s", "lower", 0.10),
            row("approval", 1.0, "s", "lower", 0.10),
            row("mail", 400, "messages/s", "higher", 0.10),
            row("ratio", 0.80, "x", "higher", 0.10),
            row("memory", 100.0, "MiB", "lower", 0.10),
        ]
    }
    # This run's machine is twice as slow (calibration 0.20 s).
    rows = [
        row("republish", 2.0, "s", "lower", 0.20),  # the machine's doing: not flagged
        row("approval", 2.6, "s", "lower", 0.20),  # 160 % worse, 30 % once normalised
        row("mail", 150, "messages/s", "higher", 0.20),  # 62.5 % worse, 25 % normalised
        row("ratio", 0.70, "x", "higher", 0.20),  # 12.5 % worse: within the margin
        row("memory", 130.0, "MiB", "lower", 0.20),  # memory is not scaled: 30 % worse
        row("new figure", 1.0, "s", "lower", 0.20),  # not in the baseline
    ]

    flagged = run.regressions(rows, baseline)

    assert {r["name"]: r["worse_by"] for r in flagged} == {
        "approval": 0.3,
        "mail": 0.25,
        "memory": 0.3,
    }
    assert rows[0]["vs_baseline"] == 2.0 and rows[0]["vs_baseline_normalised"] == 1.0
    assert "vs_baseline" not in rows[5]


def test_a_figure_better_as_measured_is_not_flagged_when_the_calibration_ran_quicker() -> None:
    # As seen here: the calibration 30 % quicker than in the baseline's run (a busy
    # machine then, a quieter one now), the page 12 % quicker: worse only once normalised.
    baseline = {"results": [row("status page p95", 112.8, "ms", "lower", 0.174)]}
    rows = [row("status page p95", 99.5, "ms", "lower", 0.121)]
    assert run.regressions(rows, baseline) == []
    assert rows[0]["vs_baseline_normalised"] > 1.2


def test_a_partial_baseline_keeps_the_other_benchmarks_rows() -> None:
    old = {
        "machine": {"mode": "quick"},
        "results": [{"name": "a", "bench": "x"}, {"name": "b", "bench": "y"}],
    }
    new = {"machine": {"mode": "quick", "date": "now"}, "results": [{"name": "c", "bench": "y"}]}
    merged = run.merged(old, new, {"y"})
    assert [r["name"] for r in merged["results"]] == ["a", "c"]
    assert merged["machine"]["date"] == "now"


def test_a_tiny_run_prints_the_table_and_writes_results_in_the_issues_shape(
    tmp_path: Path,
) -> None:
    results = tmp_path / "results.json"
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH / "run.py"),
            *("--only", "startup", "loopback"),
            *("--args", "startup", "--records 2000 --runs 2"),
            *("--args", "loopback", "--requests 20"),
            *("--results", str(results), "--baseline", str(tmp_path / "no-baseline.json")),
        ],
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    document = json.loads(results.read_text())
    machine = document["machine"]
    for key in ("cpus", "cpu_model", "memory_gib", "python", "sqlite", "date"):
        assert machine[key], key
    assert len(machine["load_average_at_start"]) == 3 and machine["calibration_s"] > 0
    assert [r["bench"] for r in machine["runs"]] == ["startup", "loopback"]
    names = [r["name"] for r in document["results"]]
    assert "start-up: watcher --version" in names
    assert any(name.startswith("loopback emulator: rss 304") for name in names)
    for found in document["results"]:
        assert {"name", "value", "unit", "target", "met", "detail"} <= set(found)
    version = next(r for r in document["results"] if r["name"] == "start-up: watcher --version")
    assert version["target"] == "<= 0.3 s" and version["met"] == (version["value"] <= 0.3)
    # The table names every figure; without a baseline nothing is compared.
    assert "start-up: watcher --version" in done.stdout and "targets met" in done.stdout
    assert "nothing compared" in done.stdout
