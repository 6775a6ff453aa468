"""The CLI contracts of DESIGN.md: commands, JSON shapes and exit codes (0, 1, 2)."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from watcher.cli import app
from watcher.demo import NasaEmulator, SyntheticRawImages, demo_emulator

from .conftest import QUEUE_FIELDS, raw_toml, write_config

runner = CliRunner()

SOURCE_FIELDS = {
    "name",
    "kind",
    "url",
    "enabled",
    "interval_seconds",
    "health",
    "last_attempt_at",
    "last_success_at",
    "last_error",
    "last_error_at",
    "consecutive_failures",
    "next_poll_at",
    "cursor",
    "candidates",
}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def invoke(config: Path, *args: str) -> Any:
    return runner.invoke(app, ["--config", str(config), *args])


@pytest.fixture
def nasa() -> Iterator[NasaEmulator]:
    with NasaEmulator(raw_images={"mars2020": SyntheticRawImages(250, per_sol=100)}) as emulator:
        yield emulator


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["run"],
        ["poll"],
        ["backfill"],
        ["queue"],
        ["sources"],
        ["check"],
        ["db"],
        ["db", "upgrade"],
        ["demo"],
    ],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_poll_once_twice_second_run_inserts_nothing(tmp_path: Path, nasa: NasaEmulator) -> None:
    config = write_config(tmp_path, raw_toml(nasa.raw_images_url))
    first = invoke(config, "poll", "--once", "--json")
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    # The 24 hours before NASA's latest: the last 11 records of sol 1 and all 50 of sol 2.
    assert (report["source"], report["inserted"], report["ok"]) == ("perseverance", 61, True)
    second = invoke(config, "poll", "--once", "--json")
    report = json.loads(second.stdout)
    assert (report["inserted"], report["requests"], report["not_modified"]) == (0, 1, True)
    text = invoke(config, "poll", "--once", "--source", "perseverance")
    assert "perseverance: nothing new (1 request)" in text.stdout


def test_poll_once_exits_0_when_nasa_is_down_and_sources_shows_it(tmp_path: Path) -> None:
    down = f"http://127.0.0.1:{closed_port()}/rss/api/"
    config = write_config(tmp_path, raw_toml(down))
    result = invoke(config, "poll", "--once")
    assert result.exit_code == 0, result.output
    assert "perseverance: FAILED" in result.stdout
    health = json.loads(invoke(config, "sources", "--json").stdout)
    assert len(health) == 1
    assert set(health[0]) >= SOURCE_FIELDS
    assert health[0]["health"] == "failing"
    assert health[0]["consecutive_failures"] == 1
    assert "FetchConnectError" in health[0]["last_error"]
    again = invoke(config, "poll", "--once")
    assert "backing off until" in again.stdout
    table = invoke(config, "sources")
    assert "failing" in table.stdout and "perseverance" in table.stdout


def test_queue_json_contract(tmp_path: Path, nasa: NasaEmulator) -> None:
    config = write_config(tmp_path, raw_toml(nasa.raw_images_url))
    invoke(config, "poll", "--once")
    rows = json.loads(invoke(config, "queue", "--json").stdout)
    assert len(rows) == 61  # the 24 hours before NASA's latest
    assert all(set(row) >= QUEUE_FIELDS for row in rows)
    assert [row["id"] for row in rows] == sorted((row["id"] for row in rows), reverse=True)
    assert {row["status"] for row in rows} == {"new"}
    assert rows[0]["image_url"].startswith("https://mars.nasa.gov/")
    assert len(json.loads(invoke(config, "queue", "--json", "--limit", "7").stdout)) == 7
    assert json.loads(invoke(config, "queue", "--json", "--status", "approved").stdout) == []
    assert (
        len(json.loads(invoke(config, "queue", "--json", "--status", "all", "--limit", "0").stdout))
        == 61
    )
    table = invoke(config, "queue", "--limit", "3")
    assert "3 candidate(s)" in table.stdout


def test_queue_rejects_an_unknown_status(tmp_path: Path, nasa: NasaEmulator) -> None:
    config = write_config(tmp_path, raw_toml(nasa.raw_images_url))
    result = invoke(config, "queue", "--status", "maybe")
    assert result.exit_code == 2


def test_backfill_by_sol_range_and_its_usage_errors(tmp_path: Path, nasa: NasaEmulator) -> None:
    rss = f"""
[[sources]]
name = "news"
kind = "rss"
url = "{nasa.rss_url("")}"
"""
    config = write_config(tmp_path, raw_toml(nasa.raw_images_url) + rss)
    result = invoke(
        config, "backfill", "--source", "perseverance", "--from-sol", "1", "--to-sol", "1"
    )
    assert result.exit_code == 0, result.output
    assert "backfill complete: 100 new of 100 records" in result.stdout
    sols = {
        row["sol"] for row in json.loads(invoke(config, "queue", "--json", "--limit", "0").stdout)
    }
    assert sols == {1}

    assert invoke(config, "backfill", "--source", "news").exit_code == 2
    reversed_range = invoke(
        config, "backfill", "--source", "perseverance", "--from-sol", "5", "--to-sol", "1"
    )
    assert reversed_range.exit_code == 2
    assert "after --to-sol" in reversed_range.output
    assert invoke(config, "backfill", "--source", "curiosity").exit_code == 2


def test_bad_config_exits_2_naming_file_and_key(tmp_path: Path) -> None:
    config = write_config(
        tmp_path, raw_toml("https://mars.nasa.gov/rss/api/").replace('"10m"', '"often"')
    )
    result = invoke(config, "sources")
    assert result.exit_code == 2
    assert str(config) in result.output and "sources[0].interval" in result.output


def test_missing_config_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--config", str(tmp_path / "nope.toml"), "queue"])
    assert result.exit_code == 2
    assert "config file not found" in result.output


def test_unreachable_database_exits_1(tmp_path: Path) -> None:
    bad = f"postgresql://postgres@127.0.0.1:{closed_port()}/x?connect_timeout=1"
    config = write_config(tmp_path, "", database=bad)
    result = invoke(config, "queue")
    assert result.exit_code == 1
    assert "database unavailable" in result.output


def test_db_upgrade_and_current(tmp_path: Path) -> None:
    config = write_config(tmp_path, "")
    assert "empty" in invoke(config, "db", "current").stdout
    assert "upgraded from empty to 0010" in invoke(config, "db", "upgrade").stdout
    assert "already at revision 0010" in invoke(config, "db", "upgrade").stdout
    assert invoke(config, "db", "current").stdout.strip() == "0010"


def test_real_process_exit_codes(tmp_path: Path) -> None:
    """The installed console script, as operators and cron run it."""
    config = write_config(tmp_path, "")
    ok = subprocess.run(
        [sys.executable, "-m", "watcher.cli", "--config", str(config), "sources", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0 and json.loads(ok.stdout) == []
    usage = subprocess.run(
        [sys.executable, "-m", "watcher.cli", "--config", str(config), "poll", "--bogus"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert usage.returncode == 2
    version = subprocess.run(
        [sys.executable, "-m", "watcher.cli", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert version.returncode == 0 and version.stdout.startswith("watcher ")


def test_demo_runs_offline_and_shows_candidates_arriving(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "watcher.cli",
            "demo",
            "--port",
            "0",
            "--duration",
            "12",
            "--data-dir",
            str(tmp_path / "demo"),
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "NASA replayed at http://127.0.0.1:" in result.stderr
    assert "perseverance:" in result.stderr and "new candidates" in result.stderr
    assert "demo stopped" in result.stderr
    password = re.search(r"name: demo  password: (\S+)", result.stderr)
    assert password and len(password.group(1)) >= 12
    config = tmp_path / "demo" / "watcher.toml"
    rows = json.loads(invoke(config, "queue", "--json", "--limit", "0").stdout)
    by_source = {row["source"] for row in rows}
    assert {"perseverance", "ingenuity", "image_library", "nasa_rss"} <= by_source


def test_demo_emulator_data_is_packaged() -> None:
    with demo_emulator(release_every=0) as emulator:
        assert emulator.base_url.startswith("http://127.0.0.1:")


def test_poll_once_queues_the_teams_new_candidates_notice(tmp_path: Path) -> None:
    apprise = '\n[apprise]\nurls = ["json://127.0.0.1:9/team"]\n'
    with NasaEmulator(raw_images={"mars2020": SyntheticRawImages(3)}) as nasa:
        config = write_config(tmp_path, raw_toml(nasa.raw_images_url) + apprise)
        assert invoke(config, "poll", "--once").exit_code == 0
        rows = json.loads(invoke(config, "deliveries", "--json").stdout)
        assert [(r["channel"], r["target"]) for r in rows] == [("apprise", "candidates")]
        assert invoke(config, "poll", "--once", "--force").exit_code == 0
        again = json.loads(invoke(config, "deliveries", "--json").stdout)
        assert len(again) == 1  # nothing new, and one notice per window anyway
