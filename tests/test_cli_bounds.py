"""Numbers on the command line past what the database holds: refused as usage errors
(exit 2, naming the argument and its range) before any database is asked, never a
traceback. Every integer argument and option of the command tree is swept, so one added
later is covered too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

from watcher.cli import app
from watcher.limits import MAX_ID, MAX_INTEGER

from .conftest import write_config

runner = CliRunner()
HUGE = (2**63, 2**64, -(2**63) - 1, 10**40)


def commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command of the tree, with the words that name it."""
    for name, sub in (getattr(command, "commands", None) or {}).items():
        yield from commands(sub, (*path, name))
    if path:
        yield path, command


def is_int(param: Any) -> bool:
    return param.bare_type() in ("int", "list[int]")


def argv(path: tuple[str, ...], command: Any, wanted: Any, value: object) -> list[str]:
    """The command with ``value`` for ``wanted`` and something valid for every other
    required parameter."""
    options: list[str] = []
    arguments: list[str] = []
    for param in command.params:
        given = str(value) if param is wanted else ("1" if is_int(param) else "x")
        if param is not wanted and not param.required:
            continue
        if param.param_type_name == "argument":
            arguments.append(given)
        else:
            options.append(f"{param.opts[0]}={given}")
    return [*path, *options, "--", *arguments]


def test_every_integer_parameter_refuses_numbers_past_the_database(tmp_path: Path) -> None:
    config = write_config(tmp_path, "")
    root = typer.main.get_command(app)
    checked = []
    for path, command in commands(root):
        for param in [p for p in command.params if is_int(p)]:
            assert param.max is not None and param.max <= MAX_ID, (path, param.name)
            for value in HUGE:
                words = argv(path, command, param, value)
                result = runner.invoke(app, ["--config", str(config), *words])
                where = f"watcher {' '.join(words)}"
                assert result.exit_code == 2, (where, result.output)
                assert "Invalid value for" in result.output, (where, result.output)
                assert "Traceback" not in result.output, where
            checked.append(" ".join((*path, param.name or "")))
    assert {"approve candidate_ids", "reject candidate_id", "queue limit"} <= set(checked)
    assert len(checked) >= 12
    assert not (tmp_path / "watcher.db").exists()  # refused before the database was opened


def test_approve_names_the_range_of_an_id(tmp_path: Path) -> None:
    config = write_config(tmp_path, "")
    result = runner.invoke(app, ["--config", str(config), "approve", "99999999999999999999"])
    assert result.exit_code == 2
    assert "ID" in result.output and str(MAX_ID) in result.output


def test_the_largest_numbers_that_fit_reach_the_database_and_fail_cleanly(
    tmp_path: Path, database_url: str
) -> None:
    config = write_config(tmp_path, "", database=database_url)
    for words, code, said in (
        (["approve", str(MAX_ID)], 1, f"no candidate with id {MAX_ID}"),
        (["reject", str(MAX_ID)], 1, f"no candidate with id {MAX_ID}"),
        (["subscribers", "remove", str(MAX_ID)], 1, f"no subscriber {MAX_ID}"),
        (["subscribers", "remove", str(2**63)], 1, f"no subscriber {2**63}"),
        (["deliveries", "--edition", str(MAX_INTEGER)], 0, ""),
        (["queue", "--limit", str(MAX_ID)], 0, ""),
    ):
        result = runner.invoke(app, ["--config", str(config), *words])
        assert result.exit_code == code, (words, result.output)
        assert said in result.output, (words, result.output)
        assert "unexpected" not in result.output, (words, result.output)
