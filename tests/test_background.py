"""The service's publisher: a trailing debounce after changes made here, and changes made by
another process (the CLI, a replica) noticed through the audit log."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from watcher.config import Settings
from watcher.core import make_watcher
from watcher.types import Actor, EntryDraft, Role

from .conftest import ServiceThread, build_settings, eventually, free_port, seed_candidate

pytestmark = pytest.mark.timeout(60)

EDITOR = Actor("alice", Role.EDITOR)


def settings_for(tmp_path: Path, debounce: str) -> Settings:
    return build_settings(
        tmp_path,
        f"sqlite:///{tmp_path / 'watcher.db'}",
        server={"host": "127.0.0.1", "port": free_port()},
        publish={"debounce": debounce, "cache_dir": str(tmp_path / "cache")},
    )


def test_a_burst_of_approvals_makes_one_edition(tmp_path: Path) -> None:
    watcher = make_watcher(settings_for(tmp_path, "1s"))
    watcher.prepare_database()
    ids = [seed_candidate(watcher, f"NRF_{i:05d}")[0] for i in range(3)]
    running = ServiceThread(watcher)
    try:
        for candidate_id in ids:
            watcher.approve([candidate_id], EntryDraft(heading=f"Picture {candidate_id}"), EDITOR)
            time.sleep(0.2)
        [edition] = eventually(lambda: watcher.list_editions(), "an edition", timeout=15)
        time.sleep(1.5)  # past another debounce: a second edition would exist by now
        assert [e.number for e in watcher.list_editions()] == [1]
        assert len(edition.added) == 3
        index = (tmp_path / "site" / "index.html").read_text()
        assert all(f"Picture {i}" in index for i in ids)
    finally:
        running.stop()


def test_changes_from_another_process_are_published(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, "0s")
    service_side = make_watcher(settings)
    service_side.prepare_database()
    running = ServiceThread(service_side)
    other = make_watcher(settings)
    try:
        [candidate_id] = seed_candidate(other)
        # The other watcher has no listener in the service: only the audit log tells.
        other.approve([candidate_id], EntryDraft(heading="Seen through the audit log"), EDITOR)
        eventually(
            lambda: (
                "Seen through the audit log"
                in (tmp_path / "site" / "index.html").read_text(errors="replace")
                if (tmp_path / "site" / "index.html").exists()
                else False
            ),
            "the page updated by the service",
            timeout=20,
        )
        assert len(service_side.list_editions()) == 1
    finally:
        running.stop()
        asyncio.run(other.aclose())
