"""The shipped deployment files: the systemd unit passes ``systemd-analyze verify`` and
its command line starts watcher; the Containerfile passes hadolint (no container engine
runs here), copies files that exist, serves on all addresses, and its health check tells
a running watcher from a stopped one."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watcher.cli import app
from watcher.config import load_settings

from .conftest import ROOT, free_port, write_config

pytestmark = pytest.mark.timeout(120)

UNIT = ROOT / "deploy" / "watcher.service"
CONTAINERFILE = ROOT / "Containerfile"
BIN = Path(sys.executable).parent


def unit_value(key: str) -> list[str]:
    """Every value of ``key`` in the unit's sections, in order."""
    return [
        line.split("=", 1)[1]
        for line in UNIT.read_text().splitlines()
        if line.startswith(f"{key}=")
    ]


def exec_start() -> list[str]:
    [line] = unit_value("ExecStart")
    return shlex.split(line)


def instructions(name: str) -> list[str]:
    """The arguments of every ``name`` instruction of the Containerfile, continuation
    lines joined."""
    text = re.sub(r"\\\n", " ", CONTAINERFILE.read_text())
    return [line.split(None, 1)[1] for line in text.splitlines() if line.startswith(f"{name} ")]


def tool(name: str) -> str:
    found = shutil.which(name) or (str(BIN / name) if (BIN / name).exists() else None)
    if found is None:
        print(f"{name} is not installed here")
        pytest.skip(f"{name} is not installed here")
    return found


# -- the systemd unit ------------------------------------------------------------------


def test_the_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = tool("systemd-analyze")
    # verify insists that ExecStart's program exists: check a copy that starts this
    # checkout's watcher instead of /opt/watcher's, otherwise the very same unit.
    program = exec_start()[0]
    assert program == "/opt/watcher/bin/watcher"
    copy = tmp_path / "watcher.service"
    copy.write_text(UNIT.read_text().replace(program, str(BIN / "watcher"), 1))
    checked = subprocess.run(
        [analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stderr
    assert "watcher.service" not in checked.stderr, checked.stderr  # no warning about it


def test_the_unit_is_hardened(tmp_path: Path) -> None:
    for key, value in {
        "DynamicUser": "yes",
        "StateDirectory": "watcher",
        "WorkingDirectory": "/var/lib/watcher",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "NoNewPrivileges": "yes",
        "PrivateTmp": "yes",
        "Restart": "on-failure",
        "SystemCallFilter": "@system-service",
    }.items():
        assert value in unit_value(key), key
    assert unit_value("RestrictAddressFamilies") == ["AF_INET AF_INET6 AF_UNIX"]
    # A lease's holder on this host is proved gone through /proc: hiding other users'
    # processes would let the service take a live CLI's lease.
    assert unit_value("ProtectProc") == [] and unit_value("ProcSubset") == []
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        print("systemd-analyze is not installed here: the exposure score is not checked")
        return
    copy = tmp_path / "watcher.service"
    copy.write_text(UNIT.read_text())
    scored = subprocess.run(
        [analyze, "security", "--offline=yes", str(copy)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if "--offline" in scored.stderr:
        print(f"this systemd-analyze cannot score a unit file offline: {scored.stderr}")
        return
    found = re.search(r"Overall exposure level for watcher.service: ([\d.]+)", scored.stdout)
    assert found, scored.stdout + scored.stderr
    assert float(found.group(1)) <= 2.0, scored.stdout


def test_the_units_command_line_parses_with_watchers_cli() -> None:
    argv = exec_start()
    assert Path(argv[0]).name == "watcher"
    helped = CliRunner().invoke(app, [*argv[1:], "--help"])
    assert helped.exit_code == 0, helped.output
    assert "Run the service" in helped.output
    # The same check refuses a flag watcher does not have.
    assert CliRunner().invoke(app, [*argv[1:], "--no-such-flag", "--help"]).exit_code == 2


@pytest.fixture
def started(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """The unit's command line, run as systemd would (its config path swapped for a test
    config on a free port); stopped with SIGTERM, as ``systemctl stop`` does."""
    port = free_port()
    config = write_config(tmp_path, f'\n[server]\nhost = "127.0.0.1"\nport = {port}\n')
    argv = [str(BIN / "watcher"), *exec_start()[1:]]
    argv[argv.index("/etc/watcher/watcher.toml")] = str(config)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    process = subprocess.Popen(
        argv,
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield process, port
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def healthz(port: int) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
            return int(answer.status)
    except OSError:
        return None


def test_the_units_command_line_starts_watcher_and_sigterm_stops_it(
    started: tuple[subprocess.Popen[str], int],
) -> None:
    process, port = started
    deadline = time.monotonic() + 60
    while healthz(port) != 200:
        assert process.poll() is None, process.communicate()[0]
        assert time.monotonic() < deadline, "watcher did not answer /healthz"
        time.sleep(0.2)
    # The container's health check, pointed at this port, says healthy...
    [check] = instructions("HEALTHCHECK")
    command = json.loads(check.split(" CMD ", 1)[1])
    probe = [sys.executable if c == "python" else c.replace(":8000/", f":{port}/") for c in command]
    assert subprocess.run(probe, timeout=30).returncode == 0
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    # ...and unhealthy once watcher is gone.
    assert subprocess.run(probe, capture_output=True, timeout=30).returncode != 0


# -- the Containerfile -----------------------------------------------------------------


def test_the_containerfile_passes_hadolint() -> None:
    hadolint = tool("hadolint")
    linted = subprocess.run(
        [hadolint, "--no-color", str(CONTAINERFILE)], capture_output=True, text=True, timeout=60
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert linted.stdout.strip() == ""


def test_the_container_runs_as_a_user_with_its_data_in_a_volume() -> None:
    [base, image] = instructions("FROM")
    assert base.startswith("python:3.11-slim") and image == "python:3.11-slim"
    [user] = instructions("USER")
    assert user.split(":")[0] not in ("0", "root")
    assert instructions("VOLUME") == ['["/var/lib/watcher"]']
    assert instructions("WORKDIR")[-1] == "/var/lib/watcher"
    assert instructions("EXPOSE") == ["8000"]
    # Every file the image is built from exists, and the build context keeps it.
    ignored = (ROOT / ".dockerignore").read_text()
    for copied in instructions("COPY"):
        if copied.startswith("--from="):
            continue
        *sources, _ = copied.split()
        for source in sources:
            assert (ROOT / source).exists(), source
            assert f"!{source}" in ignored, source


def test_the_containers_config_serves_on_all_addresses_on_the_exposed_port(
    tmp_path: Path,
) -> None:
    """The Containerfile edits the shipped config with sed; the same edit is made here, so
    a change to config/watcher.toml that the edit no longer matches fails this test."""
    [edit] = [line for line in instructions("RUN") if line.startswith("sed ")]
    found = re.search(r"s/(\^.+?\$)/(.+?)/", edit)
    assert found, edit
    pattern, replacement = found.group(1), found.group(2)
    shipped = (ROOT / "config" / "watcher.toml").read_text()
    edited, count = re.subn(pattern, replacement, shipped, flags=re.M)
    assert count == 1
    config = tmp_path / "watcher.toml"
    config.write_text(edited)
    settings = load_settings(config, env={})
    assert settings.host == "0.0.0.0"
    assert str(settings.port) == instructions("EXPOSE")[0]
    [entrypoint] = instructions("ENTRYPOINT")
    [command] = instructions("CMD")
    argv = [*json.loads(entrypoint), *json.loads(command)]
    assert argv == ["watcher", "run"]
    assert CliRunner().invoke(app, [*argv[1:], "--help"]).exit_code == 0
