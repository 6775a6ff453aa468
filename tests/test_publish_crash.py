"""The site writer under kill -9: readers keep the previous complete version; killed while
writing, no edition is committed without its files, and killed after the commit, the next
publish repairs the files without making a second edition."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from watcher.core import Watcher
from watcher.exceptions import StorageError
from watcher.publish import writer
from watcher.types import Actor, CandidateData, EntryDraft, Role

from .conftest import ROOT, Clock, run

ALICE = Actor("alice", Role.EDITOR)
T0 = datetime(2026, 8, 30, 20, 0, tzinfo=UTC)

# Publishes once with a writer that stops (sleeps) after writing PAUSE_AFTER files, or
# (PAUSE_AFTER 0) once the files are written and the edition committed, before the swap.
CHILD = """
import json, sys, time
from datetime import datetime
from pathlib import Path
from watcher.config import settings_from_dict
from watcher.core import make_watcher
from watcher.publish import writer

args = json.loads(sys.argv[1])
flag = Path(args["flag"])
written = 0
original = writer._put

def slow_put(path, data):
    global written
    original(path, data)
    written += 1
    if written == args["pause_after"]:
        flag.write_text("paused")
        time.sleep(600)

def slow_swap(staged):
    flag.write_text("paused")
    time.sleep(600)

writer._put = slow_put
if args["pause_after"] == 0:
    writer.swap_site = slow_swap
settings = settings_from_dict(args["config"], path=Path(args["flag"]).parent / "watcher.toml")
now = datetime.fromisoformat(args["now"])
import asyncio
watcher = make_watcher(settings, clock=lambda: now)
asyncio.run(watcher.publish())
"""


def seed(watcher: Watcher, count: int) -> list[int]:
    items = [
        CandidateData(
            source="perseverance",
            external_id=f"IMG_{i:04d}",
            title=f"frame {i}",
            credit="NASA/JPL-Caltech",
            medium_url=f"https://mars.nasa.gov/{i}_800.jpg",
            full_url=f"https://mars.nasa.gov/{i}.png",
        )
        for i in range(count)
    ]
    watcher.store.add_candidates(items, T0)
    return sorted(c.id for c in watcher.list_candidates(limit=None))


def kill_a_publishing_child(
    watcher: Watcher, tmp_path: Path, clock: Clock, pause_after: int
) -> dict[Path, bytes]:
    """Publish edition 1 of 40 entries, edit one, and kill -9 a child publishing that edit
    where ``pause_after`` says (see CHILD); returns the files edition 1 served."""
    for candidate in seed(watcher, 40):
        watcher.approve([candidate], EntryDraft(heading=f"Entry {candidate}"), ALICE)
    run(watcher.publish())
    site = watcher.settings.site_dir
    before = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    first = watcher.list_entries()[0]
    watcher.edit_entry(first.id, first.version, EntryDraft(heading="Edited in edition 2"), ALICE)

    flag = tmp_path / "paused"
    config = {
        "database": {"url": watcher.settings.database_url},
        "publish": {"site_dir": str(site)},
        "security": {"image_hosts": ["nasa.gov", "*.nasa.gov"]},
        "sources": [],
    }
    args = {
        "flag": str(flag),
        "pause_after": pause_after,
        "config": config,
        "now": clock.now.isoformat(),
    }
    child = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(args)], cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while not flag.exists():
            assert child.poll() is None, "the publishing child ended before pausing"
            assert time.monotonic() < deadline, "the child never reached the pause"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    # Whatever the database says, readers see edition 1, whole.
    assert watcher.site_edition() == 1
    after = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    assert after == before
    return before


def test_kill_9_mid_write_commits_no_edition_and_a_rerun_makes_it(
    watcher_for: Any, tmp_path: Path, clock: Clock
) -> None:
    watcher: Watcher = watcher_for([])
    kill_a_publishing_child(watcher, tmp_path, clock, pause_after=2)
    site = watcher.settings.site_dir
    # The files were being written before the commit: no edition claims what readers
    # never saw.
    assert [e.number for e in watcher.list_editions()] == [1]
    leftovers = [p.name for p in writer.versions_dir(site).iterdir() if p.name.startswith(".tmp-")]
    assert len(leftovers) == 1  # the interrupted write

    clock.advance(3600)  # the dead child's lease has run out
    report = run(watcher.publish())
    assert report.changed and report.edition is not None and report.edition.number == 2
    assert watcher.site_edition() == 2 and [e.number for e in watcher.list_editions()] == [2, 1]
    assert "Edited in edition 2" in (site / "index.html").read_text()
    names = [p.name for p in writer.versions_dir(site).iterdir()]
    assert not [name for name in names if name.startswith(".tmp-")]


def test_kill_9_after_the_commit_leaves_the_previous_version_and_a_rerun_completes(
    watcher_for: Any, tmp_path: Path, clock: Clock
) -> None:
    watcher: Watcher = watcher_for([])
    kill_a_publishing_child(watcher, tmp_path, clock, pause_after=0)
    site = watcher.settings.site_dir
    # The edition was committed, the files were not swapped in.
    assert [e.number for e in watcher.list_editions()] == [2, 1]

    clock.advance(3600)  # the dead child's lease has run out
    report = run(watcher.publish())
    assert not report.changed and report.edition is None and report.site is not None
    assert watcher.site_edition() == 2 and [e.number for e in watcher.list_editions()] == [2, 1]
    assert "Edited in edition 2" in (site / "index.html").read_text()
    names = [p.name for p in writer.versions_dir(site).iterdir()]
    assert not [name for name in names if name.startswith(".tmp-")]


def test_a_changed_file_is_newer_by_a_whole_second_for_servers_that_tag_by_seconds(
    tmp_path: Path,
) -> None:
    site = tmp_path / "site"
    stamps = []
    for number, text in enumerate((b"edition 5", b"edition 6", b"edition 7"), start=1):
        writer.write_site(site, {"index.html": text, "about.html": b"same"}, number)
        stamps.append(((site / "index.html").stat().st_mtime, (site / "about.html").stat()))
    seconds = [int(mtime) for mtime, _ in stamps]
    assert seconds[0] < seconds[1] < seconds[2], stamps  # same size, same second: still apart
    assert stamps[0][1].st_ino == stamps[2][1].st_ino  # an unchanged file keeps its time


def test_unchanged_files_are_hardlinked_and_old_versions_pruned(tmp_path: Path) -> None:
    site = tmp_path / "site"
    files = {"index.html": b"one", "entries/1.html": b"entry one", "entries/2.html": b"two"}
    first = writer.write_site(site, files, 1)
    assert (first.written, first.linked) == (4, 0)  # three files and the marker
    second = writer.write_site(site, {**files, "index.html": b"one, edited"}, 2)
    assert (second.written, second.linked) == (2, 2)
    current = writer.current_version(site)
    assert current is not None and (current / "entries/1.html").stat().st_nlink == 2
    third = writer.write_site(site, files, 3)
    assert third.removed_versions == 1
    kept = [p for p in writer.versions_dir(site).iterdir() if p.is_dir()]
    assert len(kept) == 2 and writer.site_edition(site) == 3
    assert orjson.loads((site / "edition.json").read_bytes())["edition"] == 3
    assert (site / "index.html").read_bytes() == b"one"


def test_a_real_site_directory_is_moved_aside_once_and_a_file_refused(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "old.html").write_text("old")
    writer.write_site(site, {"index.html": b"new"}, 1)
    assert site.is_symlink() and (site / "index.html").read_bytes() == b"new"
    adopted = list(tmp_path.glob("site.before-symlink-*"))
    assert len(adopted) == 1 and (adopted[0] / "old.html").read_text() == "old"
    other = tmp_path / "file-site"
    other.write_text("not a directory")
    with pytest.raises(StorageError, match="is a file"):
        writer.write_site(other, {"index.html": b"x"}, 1)
    with pytest.raises(StorageError, match="outside"):
        writer.write_site(tmp_path / "s2", {"../escape.html": b"x"}, 1)


def test_export_refuses_a_symlink(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(StorageError, match="symlink"):
        writer.export({"index.html": b"x"}, tmp_path / "link")
    report = writer.export({"a/b.html": b"x"}, tmp_path / "plain", edition=4)
    assert (tmp_path / "plain/a/b.html").read_bytes() == b"x" and report.edition == 4
    assert writer.site_edition(tmp_path / "plain") == 4


def test_lease_is_short_enough_for_a_crashed_publisher(clock: Clock) -> None:
    from watcher.leases import TTL

    assert timedelta(seconds=30) >= TTL
