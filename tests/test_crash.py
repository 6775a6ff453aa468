"""kill -9 in the middle of a backfill or a poll: the re-run finishes with no duplicate and
no gap, and it resumes where the killed one stopped instead of starting over."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from watcher.demo import NasaEmulator, SyntheticRawImages

PER_SOL = 100


def config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "watcher.toml"
    path.write_text(
        f"""
[database]
url = "sqlite:///{tmp_path / "watcher.db"}"

[[sources]]
name = "perseverance"
kind = "raw_images"
url = "{url}"
category = "mars2020"
interval = "10m"
"""
    )
    return path


def stored(tmp_path: Path) -> list[str]:
    with sqlite3.connect(tmp_path / "watcher.db", timeout=10) as db:
        return [row[0] for row in db.execute("SELECT external_id FROM candidates")]


def count(tmp_path: Path) -> int:
    try:
        with sqlite3.connect(tmp_path / "watcher.db", timeout=10) as db:
            return int(db.execute("SELECT count(*) FROM candidates").fetchone()[0])
    except sqlite3.OperationalError:  # not created yet
        return 0


def kill_when(process: subprocess.Popen[bytes], tmp_path: Path, at_least: int) -> int:
    deadline = time.monotonic() + 60
    while count(tmp_path) < at_least:
        assert process.poll() is None, "finished before it could be killed"
        assert time.monotonic() < deadline, "made no progress"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL
    return count(tmp_path)


def integrity(tmp_path: Path) -> str:
    with sqlite3.connect(tmp_path / "watcher.db") as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


def watcher(*args: str) -> list[str]:
    return [sys.executable, "-m", "watcher.cli", *args]


def test_killed_backfill_resumes_without_duplicates_or_gaps(tmp_path: Path) -> None:
    data = SyntheticRawImages(3000, per_sol=PER_SOL, thumbnails_every=7)
    expected = {
        str(data.record(i)["imageid"])
        for i in range(2 * PER_SOL, 26 * PER_SOL)
        if not data.is_thumbnail(i)
    }
    with NasaEmulator(raw_images={"mars2020": data}, latency=0.05) as nasa:
        path = config(tmp_path, nasa.raw_images_url)
        command = watcher("--config", str(path), "backfill", "--source", "perseverance",
                          "--from-sol", "2", "--to-sol", "25")  # fmt: skip
        victim = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        at_kill = kill_when(victim, tmp_path, at_least=500)
        assert 500 <= at_kill < len(expected)
        assert integrity(tmp_path) == "ok"

        nasa.clear_requests()
        rerun = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
        assert "backfill complete" in rerun.stdout
        first_page = int(nasa.requests[0].param("page") or 0)
        assert first_page >= at_kill // PER_SOL - 1, "the re-run started over"

    ids = stored(tmp_path)
    assert len(ids) == len(set(ids)), "duplicates"
    assert set(ids) == expected, "gaps or strays"
    assert integrity(tmp_path) == "ok"


def test_killed_incremental_poll_resumes_its_sweep(tmp_path: Path) -> None:
    data = SyntheticRawImages(1, per_sol=5000)
    with NasaEmulator(raw_images={"mars2020": data}, latency=0.05) as nasa:
        path = config(tmp_path, nasa.raw_images_url)
        poll = watcher("--config", str(path), "poll", "--once")
        assert subprocess.run(poll, capture_output=True, timeout=60).returncode == 0
        data.release(2999)
        victim = subprocess.Popen(poll, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        at_kill = kill_when(victim, tmp_path, at_least=800)
        assert at_kill < 3000
        finished = subprocess.run(poll, capture_output=True, text=True, timeout=120)
        assert finished.returncode == 0, finished.stderr

    ids = stored(tmp_path)
    assert len(ids) == len(set(ids)) == 3000
    assert set(ids) == {str(data.record(i)["imageid"]) for i in range(3000)}
    assert integrity(tmp_path) == "ok"


def test_ctrl_c_stops_a_backfill_after_the_page_in_hand_and_says_how_to_continue(
    tmp_path: Path,
) -> None:
    data = SyntheticRawImages(3000, per_sol=PER_SOL)
    with NasaEmulator(raw_images={"mars2020": data}, latency=0.05) as nasa:
        path = config(tmp_path, nasa.raw_images_url)
        command = watcher("--config", str(path), "backfill", "--source", "perseverance")
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 60
        while count(tmp_path) < 300 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, errors = process.communicate(timeout=30)
        assert process.returncode == 1, errors
        assert "run the same command again to continue" in out
        assert "stopping after the page in hand" in errors
        stopped_at = count(tmp_path)
        assert stopped_at % PER_SOL == 0 and 300 <= stopped_at < 3000  # whole pages only
        rerun = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0 and "backfill complete" in rerun.stdout
    assert sorted(stored(tmp_path)) == sorted(str(data.record(i)["imageid"]) for i in range(3000))
