"""The CLI for decisions and accounts: approve, reject, undo, entries, editors, tokens."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from watcher.cli import app
from watcher.demo import NasaEmulator, SyntheticRawImages

from .conftest import raw_toml, write_config

runner = CliRunner()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    with NasaEmulator(raw_images={"mars2020": SyntheticRawImages(5)}) as nasa:
        path = write_config(tmp_path, raw_toml(nasa.raw_images_url))
        assert runner.invoke(app, ["--config", str(path), "poll", "--once"]).exit_code == 0
    return path


def invoke(config: Path, *args: str, input: str | None = None) -> Result:
    return runner.invoke(app, ["--config", str(config), *args], input=input)


def queue_ids(config: Path, status: str = "new") -> list[int]:
    rows = json.loads(invoke(config, "queue", "--json", "--status", status).stdout)
    return sorted(row["id"] for row in rows)


def test_approve_reject_undo_and_entries(config: Path) -> None:
    first, second, third, *_ = queue_ids(config)
    result = invoke(
        config, "approve", str(first), "--heading", "Dust devil", "--text", "**Look** left"
    )
    assert result.exit_code == 0, result.output
    assert f"approved candidate {first} as entry #1: Dust devil" in result.stdout

    again = invoke(config, "approve", str(first))
    assert again.exit_code == 1
    assert f"already approved by cli:{getpass.getuser()}" in again.output

    sequence = invoke(config, "approve", str(third), str(second), "--json")
    entry = json.loads(sequence.stdout)
    assert entry["candidate_ids"] == [third, second] and entry["position"] == 2

    rejected = invoke(config, "reject", str(queue_ids(config)[0]), "--reason", "blurry")
    assert rejected.exit_code == 0 and "(blurry)" in rejected.stdout
    assert len(queue_ids(config, "rejected")) == 1
    assert "back where it was" in invoke(config, "undo").stdout
    assert queue_ids(config, "rejected") == []

    entries = json.loads(invoke(config, "entries", "--json").stdout)
    assert entries[0]["heading"] == "Dust devil"
    assert entries[0]["body_html"] == "<p><strong>Look</strong> left</p>"
    assert "2 entries" in invoke(config, "entries").stdout


def test_decision_errors_exit_with_a_message(config: Path) -> None:
    missing = invoke(config, "approve", "999999")
    assert missing.exit_code == 1 and "no candidate with id 999999" in missing.output
    long = invoke(config, "approve", str(queue_ids(config)[0]), "--heading", "x" * 300)
    assert long.exit_code == 2 and "heading: keep it under 200" in long.output
    nothing = invoke(config, "undo")
    assert nothing.exit_code == 1 and "nothing to undo" in nothing.output


def test_editors_lifecycle(config: Path) -> None:
    added = invoke(config, "editors", "add", "Root", "--admin", "--password-stdin",
                   input="a long enough password\n")  # fmt: skip
    assert added.exit_code == 0 and "created admin Root" in added.stdout
    short = invoke(config, "editors", "add", "bob", "--password-stdin", input="short\n")
    assert short.exit_code == 2 and "password: use at least 12" in short.output
    prompted = invoke(
        config, "editors", "add", "bob", input="prompted password!\nprompted password!\n"
    )
    assert prompted.exit_code == 0, prompted.output
    duplicate = invoke(
        config, "editors", "add", "BOB", "--password-stdin", input="whatever long pw\n"
    )
    assert duplicate.exit_code == 2 and "exists" in duplicate.output
    listed = json.loads(invoke(config, "editors", "list", "--json").stdout)
    assert [(e["name"], e["role"], e["disabled"]) for e in listed] == [
        ("bob", "editor", False), ("Root", "admin", False)]  # fmt: skip
    assert "disabled" in invoke(config, "editors", "disable", "bob").stdout
    last_admin = invoke(config, "editors", "disable", "root")
    assert last_admin.exit_code == 2 and "last admin" in last_admin.output
    assert "active" in invoke(config, "editors", "enable", "bob").stdout
    reset = invoke(config, "editors", "reset-password", "bob", "--password-stdin",
                   input="brand new password\n")  # fmt: skip
    assert reset.exit_code == 0 and "sessions have ended" in reset.stdout
    unknown = invoke(config, "editors", "disable", "nobody")
    assert unknown.exit_code == 1 and "no editor named 'nobody'" in unknown.output


def test_tokens_lifecycle(config: Path) -> None:
    created = invoke(config, "tokens", "create", "dashboard", "--scope", "write")
    assert created.exit_code == 0
    secret = created.stdout.strip()
    assert secret.startswith("wt_") and len(secret) > 40
    listed = invoke(config, "tokens", "list", "--json").stdout
    assert secret not in listed
    [token] = json.loads(listed)
    assert (token["name"], token["scope"], token["revoked_at"]) == ("dashboard", "write", None)
    assert "revoked token" in invoke(config, "tokens", "revoke", str(token["id"])).stdout
    again = invoke(config, "tokens", "revoke", str(token["id"]))
    assert again.exit_code == 1
    bad_scope = invoke(config, "tokens", "create", "x", "--scope", "admin")
    assert bad_scope.exit_code == 2
