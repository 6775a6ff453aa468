"""The CLI's habits: global options on either side of the command, help that reads as
prose at 80 columns, one line per candidate in ``watcher queue``, and an empty queue that
says why it is empty."""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from click.testing import Result
from typer.core import TyperCommand, TyperGroup
from typer.testing import CliRunner

from watcher.cli import app
from watcher.cli.empty_queue import NOT_POLLED, why_empty
from watcher.demo import NasaEmulator, SyntheticRawImages
from watcher.types import CandidateStatus, Health, SourceHealth

from .conftest import raw_toml, write_config

pytestmark = pytest.mark.timeout(110)

runner = CliRunner()
WIDTH = 80
ANSI = re.compile(r"\x1b\[[0-9;]*m")
TYPE_PLACEHOLDER = re.compile(r"<[a-z][\w\[\]|, ]*>")


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return runner.invoke(app, list(args), env=env)


def command_paths() -> Iterator[tuple[list[str], TyperCommand | TyperGroup]]:
    """Every command of the tree, groups and the root included, with its words."""

    def walk(command: TyperCommand | TyperGroup, path: list[str]) -> Iterator[
        tuple[list[str], TyperCommand | TyperGroup]
    ]:  # fmt: skip
        yield path, command
        if isinstance(command, TyperGroup):
            for name, sub in command.commands.items():
                assert isinstance(sub, TyperCommand | TyperGroup)
                yield from walk(sub, [*path, name])

    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    yield from walk(root, [])


COMMANDS = [path for path, _ in command_paths()]


@pytest.fixture
def polled(tmp_path: Path) -> Path:
    """A config whose perseverance source was polled once: 5 new candidates."""
    with NasaEmulator(raw_images={"mars2020": SyntheticRawImages(5)}) as nasa:
        config = write_config(tmp_path, raw_toml(nasa.raw_images_url), require_words=True)
        assert invoke("--config", str(config), "poll", "--once").exit_code == 0
    return config


# -- global options ----------------------------------------------------------------------


def test_every_command_accepts_the_global_options_and_lists_them() -> None:
    for path, command in command_paths():
        opts = {opt for param in command.params for opt in param.opts}
        assert {"--config", "-c", "--verbose", "-v", "--help", "-h"} <= opts, path


def test_config_after_the_command_works_for_commands_and_nested_groups(polled: Path) -> None:
    rows = json.loads(invoke("queue", "--json", "--config", str(polled)).stdout)
    assert len(rows) == 5
    draft = invoke("approve", str(rows[0]["id"]), "-c", str(polled))
    assert draft.exit_code == 0 and "as draft entry #1" in draft.stdout
    published = invoke(
        "entries", "publish", "1", "--heading", "Dust", "--text", "Look.", "--config", str(polled)
    )
    assert published.exit_code == 0, published.output
    assert "published entry #1: Dust" in published.stdout
    assert invoke("db", "current", "--config", str(polled)).stdout.strip() == "0010"
    assert invoke("entries", "--config", str(polled), "--json").exit_code == 0


def test_the_config_after_the_command_wins_and_the_environment_still_works(
    polled: Path, tmp_path: Path
) -> None:
    missing = str(tmp_path / "missing.toml")
    after_wins = invoke("--config", missing, "queue", "--json", "--config", str(polled))
    assert after_wins.exit_code == 0 and len(json.loads(after_wins.stdout)) == 5
    bad_after = invoke("--config", str(polled), "queue", "--config", missing)
    assert bad_after.exit_code == 2 and "missing.toml: config file not found" in bad_after.stderr
    from_env = invoke("queue", "--json", env={"WATCHER_CONFIG": str(polled)})
    assert from_env.exit_code == 0 and len(json.loads(from_env.stdout)) == 5
    flag_wins_over_env = invoke("sources", "-c", missing, env={"WATCHER_CONFIG": str(polled)})
    assert flag_wins_over_env.exit_code == 2


def test_verbose_after_the_command_turns_on_debug_logging(polled: Path) -> None:
    quiet = invoke("--config", str(polled), "db", "current")
    loud = invoke("--config", str(polled), "db", "current", "-v")
    assert loud.exit_code == 0 and quiet.exit_code == 0
    assert "DEBUG" in loud.stderr and "DEBUG" not in quiet.stderr


# -- help ------------------------------------------------------------------------------------


def help_of(path: list[str]) -> list[str]:
    result = invoke(*path, "--help", env={"COLUMNS": str(WIDTH), "TERMINAL_WIDTH": ""})
    assert result.exit_code == 0, (path, result.output)
    return ANSI.sub("", result.stdout).splitlines()


def broken(lines: list[str], width: int) -> list[str]:
    """Lines of one paragraph that end before the width needed them to: a line break the
    text carried rather than a wrap."""
    return [
        f"{first!r} / {second!r}"
        for first, second in itertools.pairwise(lines)
        if first.strip() and second.strip()
        and len(first.rstrip()) + 1 + len(second.split()[0]) <= width
    ]  # fmt: skip


def description(lines: list[str]) -> list[list[str]]:
    """The paragraphs between the usage line and the first panel."""
    start = next(i for i, line in enumerate(lines) if "Usage:" in line) + 1
    end = next((i for i, line in enumerate(lines) if line.startswith("╭")), len(lines))
    paragraphs: list[list[str]] = [[]]
    for line in lines[start:end]:
        if line.strip():
            paragraphs[-1].append(line[1:].rstrip())
        elif paragraphs[-1]:
            paragraphs.append([])
    return [p for p in paragraphs if p]


def commands_panel(lines: list[str]) -> tuple[list[list[str]], int]:
    """Each sub-command's description in the Commands panel, as its wrapped lines, and the
    width of that column."""
    if not any(line.startswith("╭─ Commands") for line in lines):
        return [], 0
    start = next(i for i, line in enumerate(lines) if line.startswith("╭─ Commands")) + 1
    rows = [line[1:-1] for line in lines[start:] if line.startswith("│")]
    column = re.match(r" \S+\s+", rows[0])
    assert column is not None
    at = column.end()
    cells: list[list[str]] = []
    for row in rows:
        if row[:at].strip():
            cells.append([])
        cells[-1].append(row[at:].rstrip())
    return cells, len(rows[0]) - at - 1


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) or "watcher" for p in COMMANDS])
def test_help_at_80_columns_reads_as_prose(path: list[str]) -> None:
    lines = help_of(path)
    text = "\n".join(lines)
    assert not TYPE_PLACEHOLDER.search(text), TYPE_PLACEHOLDER.findall(text)
    assert all(len(line) <= WIDTH for line in lines)
    assert "--config" in text and "Global options" in text
    cells, width = commands_panel(lines)
    for paragraph in [*description(lines), *cells]:
        assert broken(paragraph, width if paragraph in cells else WIDTH - 2) == []
        assert not any(re.search(r"\S  +\S", line.strip()) for line in paragraph), paragraph


def test_long_command_descriptions_wrap_at_the_panel_edge() -> None:
    cells, width = commands_panel(help_of([]))
    assert len(cells) >= 20 and width > 40
    check = next(cell for cell in cells if cell[0].startswith("Ask each enabled source"))
    assert len(check) > 2 and " ".join(check).endswith("nothing is written to the database.")


def test_option_help_is_one_line_of_prose_and_flags_have_no_placeholder() -> None:
    for path, command in command_paths():
        for param in command.params:
            help_text = getattr(param, "help", None) or ""
            assert "\n" not in help_text and "  " not in help_text, (path, param.name)
            if getattr(param, "is_flag", False):
                assert param.metavar == "", (path, param.name)
            else:
                assert param.metavar and param.metavar == param.metavar.upper(), (path, param)


def test_a_config_key_in_a_docstring_stays_literal() -> None:
    text = " ".join(line.strip() for line in help_of(["approve"]))
    assert "(unless [publish] require_words = false)" in text


# -- the queue's table -----------------------------------------------------------------------


def run_at_80_columns(config: Path, *args: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TERMINAL_WIDTH")}
    result = subprocess.run(
        [sys.executable, "-m", "watcher.cli", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, "COLUMNS": str(WIDTH), "PYTHONIOENCODING": "utf-8"},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_queue_shows_each_candidate_on_one_line_cut_with_an_ellipsis(polled: Path) -> None:
    lines = run_at_80_columns(polled, "queue")
    ids = [row["id"] for row in json.loads(invoke("queue", "--json", "-c", str(polled)).stdout)]
    rows = [line for line in lines if re.match(r"\d+  ", line)]
    assert [int(row.split()[0]) for row in rows] == ids
    assert lines[-1] == "5 candidate(s)"
    assert all(len(line) <= WIDTH for line in lines)
    assert all(row.endswith("…") for row in rows)  # NASA's titles are longer than the room
    text = "\n".join(lines)
    assert "Navcam" in text and "NAVCAM_" not in text  # the camera in words
    raw = json.loads(invoke("queue", "--json", "-c", str(polled)).stdout)
    assert any(row["camera"].startswith("NAVCAM_") for row in raw)  # --json keeps the code


def test_entries_headings_stay_on_one_line(polled: Path) -> None:
    heading = "A dust devil crosses the floor of Jezero crater on a windy afternoon of sol 0"
    first = json.loads(invoke("queue", "--json", "-c", str(polled)).stdout)[0]["id"]
    approved = invoke("approve", str(first), "--heading", heading, "--text", "Look.",
                      "-c", str(polled))  # fmt: skip
    assert approved.exit_code == 0, approved.output
    lines = run_at_80_columns(polled, "entries")
    [row] = [line for line in lines if "published" in line]
    assert row.endswith("…") and heading[:20] in row and len(row) <= WIDTH


# -- an empty queue says why -----------------------------------------------------------------


def health(
    name: str = "perseverance",
    *,
    state: Health = Health.OK,
    polled: bool = True,
    candidates: int = 0,
    error: str | None = None,
) -> SourceHealth:
    when = datetime(2026, 11, 25, 12, 0, tzinfo=UTC) if polled else None
    return SourceHealth(
        name=name,
        kind="raw_images",
        url="https://mars.nasa.gov/rss/api/",
        enabled=state is not Health.DISABLED,
        interval_seconds=600,
        health=state,
        last_attempt_at=when,
        last_success_at=when if state is Health.OK else None,
        last_error=error,
        last_error_at=when if error else None,
        consecutive_failures=1 if state is Health.FAILING else 0,
        next_poll_at=None,
        cursor=None,
        candidates=candidates,
    )


NEW = CandidateStatus.NEW
FAILING_ERROR = "FetchConnectError: ConnectError: All connection attempts failed " + "x" * 80


@pytest.mark.parametrize(
    ("sources", "status", "source", "expected"),
    [
        ([health(polled=False, state=Health.PENDING)], NEW, None, NOT_POLLED),
        (
            [health(polled=False, state=Health.PENDING), health("ingenuity", polled=False)],
            None,
            "ingenuity",
            "ingenuity has not been polled yet: run `watcher poll --once -s ingenuity`",
        ),
        (
            [
                health(state=Health.FAILING, error=FAILING_ERROR),
                health("ingenuity", state=Health.FAILING, error="HTTP 503"),
            ],
            NEW,
            None,
            "every source is failing: perseverance (last error FetchConnectError: ConnectError: "
            "All connection attempts fa…), ingenuity (last error HTTP 503); "
            "see `watcher sources`",
        ),
        (
            [health(state=Health.FAILING, error="HTTP 503", candidates=4)],
            NEW,
            None,
            "every source is failing: perseverance (last error HTTP 503); see `watcher sources`",
        ),
        (
            [health(candidates=7), health("ingenuity", state=Health.DISABLED)],
            NEW,
            None,
            "nothing new: 7 candidates in other statuses (--status all lists them)",
        ),
        (
            [health(candidates=1), health("ingenuity", state=Health.FAILING, error="HTTP 500")],
            NEW,
            None,
            "nothing new: 1 candidate in other statuses (--status all lists them); "
            "failing: ingenuity (last error HTTP 500)",
        ),
        (
            [health(state=Health.FAILING, error="HTTP 503", candidates=4)],
            CandidateStatus.REJECTED,
            None,
            "nothing rejected: 4 candidates in other statuses (--status all lists them)",
        ),
        (
            [health(candidates=9), health("ingenuity")],
            NEW,
            "ingenuity",
            "no candidate matches these filters (9 candidates in all)",
        ),
        (
            [health(), health("ingenuity", polled=False, state=Health.PENDING)],
            None,
            None,
            "no candidate yet: the sources were polled and kept nothing; see `watcher sources`",
        ),
        (
            [health(state=Health.DISABLED, polled=False)],
            NEW,
            None,
            "every source is disabled (enabled = false in the config)",
        ),
        ([], NEW, None, "no source is configured: add a [[sources]] table to the config"),
    ],
    ids=[
        "not-polled",
        "one-source-not-polled",
        "all-failing",
        "all-failing-some-decided",
        "nothing-new",
        "nothing-new-one-failing",
        "nothing-rejected",
        "filters",
        "polled-empty",
        "disabled",
        "no-sources",
    ],
)
def test_why_an_empty_queue_is_empty(
    sources: list[SourceHealth], status: CandidateStatus | None, source: str | None, expected: str
) -> None:
    assert why_empty(sources, status=status, source=source) == expected


def test_an_empty_queue_says_nothing_was_polled_and_json_stays_an_empty_array(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path, raw_toml("https://mars.nasa.gov/rss/api/"))
    told = invoke("queue", "-c", str(config))
    assert told.exit_code == 0
    assert told.stdout.strip() == NOT_POLLED
    as_json = invoke("queue", "--json", "-c", str(config))
    assert as_json.stdout == "[]\n" and "polled" not in as_json.stderr


def test_an_empty_queue_names_the_failing_sources(tmp_path: Path) -> None:
    config = write_config(tmp_path, raw_toml("http://127.0.0.1:9/rss/api/"))
    assert invoke("poll", "--once", "-c", str(config)).exit_code == 0
    told = invoke("queue", "-c", str(config)).stdout
    assert told.startswith("every source is failing: perseverance (last error FetchConnectError")
    assert told.rstrip().endswith("see `watcher sources`")


def test_an_empty_queue_counts_the_decided_and_the_filtered_out(tmp_path: Path) -> None:
    datasets = {"mars2020": SyntheticRawImages(3), "ingenuity": SyntheticRawImages(0)}
    with NasaEmulator(raw_images=datasets) as nasa:
        sources = raw_toml(nasa.raw_images_url) + raw_toml(
            nasa.raw_images_url, name="ingenuity", category="ingenuity"
        )
        config = write_config(tmp_path, sources)
        assert invoke("poll", "--once", "-c", str(config)).exit_code == 0
    rows = json.loads(invoke("queue", "--json", "-c", str(config)).stdout)
    assert len(rows) == 3
    only_ingenuity = invoke("queue", "--source", "ingenuity", "-c", str(config)).stdout
    assert only_ingenuity.strip() == "no candidate matches these filters (3 candidates in all)"
    ids = [str(row["id"]) for row in rows]
    assert invoke("approve", *ids, "-c", str(config)).exit_code == 0
    nothing_new = invoke("queue", "-c", str(config)).stdout
    assert nothing_new.strip() == (
        "nothing new: 3 candidates in other statuses (--status all lists them)"
    )


def test_brackets_in_data_and_errors_are_printed_as_they_are(tmp_path: Path) -> None:
    """Rich markup is never read in what watcher prints: a config key, a title, an error."""
    bad = tmp_path / "bad[publish].toml"
    result = invoke("queue", "--config", str(bad))
    assert result.exit_code == 2
    assert "bad[publish].toml" in result.output
