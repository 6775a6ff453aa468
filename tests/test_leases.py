"""Leases whose holder died: taken over at once when the holder is provably gone (same host:
its pid free, a zombie, or reused), else after a short expiry its live holder renews; and a
busy answer says who holds the lease and until when."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from watcher import leases
from watcher.cli import app as cli_app
from watcher.config import load_settings
from watcher.core import Watcher, make_watcher
from watcher.types import Actor, CandidateData, EntryDraft, ProcessId, Role

from .conftest import ROOT, Clock, run, write_config

ALICE = Actor("alice", Role.EDITOR)
HOST = socket.gethostname()

# A real publish that takes the "publish" lease, says so, and stays inside it (its read of
# the list sleeps) until it is killed.
PUBLISHER = """
import asyncio, sys, time
from watcher.config import load_settings
from watcher.core import make_watcher
from watcher.publish.publisher import Publisher

def stuck(self):
    print("holding", flush=True)
    time.sleep(600)

Publisher._snapshot = stuck
watcher = make_watcher(load_settings(sys.argv[1]))
asyncio.run(watcher.publish())
"""


def approve_one(watcher: Watcher, heading: str = "Jezero at dusk") -> None:
    item = CandidateData(
        source="perseverance",
        external_id=f"NRF_{heading.replace(' ', '_')}",
        title="Mars Perseverance Sol 1965: Right Navigation Camera",
        credit="NASA/JPL-Caltech",
        medium_url="https://mars.nasa.gov/raw/frame_800.jpg",
        full_url="https://mars.nasa.gov/raw/frame.png",
    )
    watcher.store.add_candidates([item], datetime(2026, 8, 2, tzinfo=UTC))
    [candidate] = [
        c for c in watcher.list_candidates(limit=None) if c.external_id == item.external_id
    ]
    watcher.approve([candidate.id], EntryDraft(heading=heading), ALICE)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "watcher.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def foreign(pid: int = 4242) -> ProcessId:
    """A process on another host: nothing here can tell whether it still runs."""
    return ProcessId("replica-elsewhere", pid, "boot/pid:[1]/123")


# -- a killed holder ------------------------------------------------------------------


def test_a_publisher_killed_with_sigkill_leaves_publish_free_at_once_on_this_host(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path, "")
    watcher = make_watcher(load_settings(config))
    watcher.prepare_database()
    try:
        approve_one(watcher)
        child = subprocess.Popen(
            [sys.executable, "-c", PUBLISHER, str(config)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert child.stdout is not None and child.stdout.readline().strip() == "holding"
            holder = watcher.store.lease_holder("publish", datetime.now(UTC))
            assert holder is not None and holder.process is not None
            assert (holder.host, holder.pid) == (HOST, child.pid)
            os.kill(child.pid, signal.SIGKILL)
            # Dead but not yet reaped by its parent (a zombie): its pid is still taken.
            os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
            started = time.monotonic()
            result = cli("--config", str(config), "publish", "--json")
            took = time.monotonic() - started
        finally:
            child.kill()
            child.wait(timeout=10)
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["busy"] is False and report["held_by"] is None
        assert report["edition"]["number"] == 1 and report["changed"] is True
        assert took < leases.TTL.total_seconds()
        assert "which is gone" in result.stderr
    finally:
        run(watcher.aclose())


def test_a_process_is_gone_only_when_this_host_can_prove_it() -> None:
    here = leases.this_process()
    assert here.host == HOST and here.pid == os.getpid() and here.started
    assert not leases.is_gone(here)
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert leases.is_gone(ProcessId(HOST, int(finished.stdout), here.started))
    assert leases.is_gone(ProcessId(HOST, int(finished.stdout)))  # no token recorded
    assert not leases.is_gone(ProcessId("replica-elsewhere", int(finished.stdout)))
    # Our own pid in an earlier life (a restarted container gets the same pid again).
    place = here.started.rpartition("/")[0]
    assert leases.is_gone(ProcessId(HOST, os.getpid(), f"{place}/1"))
    # A pid of another pid namespace (or a host of the same name) cannot be judged here.
    assert not leases.is_gone(ProcessId(HOST, int(finished.stdout), "other-boot/pid:[1]/5"))


def test_a_live_process_is_not_gone_and_its_zombie_is(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        token = leases.start_token(child.pid)
        assert token and token != leases.this_process().started
        assert not leases.is_gone(ProcessId(HOST, child.pid, token))
        assert leases.is_gone(ProcessId(HOST, child.pid, token[:-1] + "9" * 3))  # pid reused
        os.kill(child.pid, signal.SIGKILL)
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
        assert leases.start_token(child.pid) is None
        assert leases.is_gone(ProcessId(HOST, child.pid, token))
    finally:
        child.kill()
        child.wait(timeout=10)


# -- a live holder elsewhere ----------------------------------------------------------


def test_a_live_foreign_holder_blocks_until_its_lease_lapses_and_renewing_keeps_it(
    watcher_for: Any, clock: Clock
) -> None:
    watcher: Watcher = watcher_for([])
    approve_one(watcher)
    t0 = clock.now
    other = foreign()
    store = watcher.store
    assert store.take_lease("publish", "them", t0, t0 + leases.TTL, process=other)
    busy = run(watcher.publish())
    assert busy.busy and busy.edition is None and busy.held_by is not None
    assert (busy.held_by.host, busy.held_by.pid) == ("replica-elsewhere", 4242)
    assert busy.held_by.since == t0 and busy.held_by.until == t0 + leases.TTL

    clock.advance(20)  # the holder's heartbeat renews it
    assert store.take_lease("publish", "them", clock.now, clock.now + leases.TTL, process=other)
    clock.advance(15)  # past the first expiry, inside the renewed one
    still = run(watcher.publish())
    assert still.busy and still.held_by is not None
    assert still.held_by.since == t0 and still.held_by.until == t0 + timedelta(seconds=50)

    clock.advance(16)  # the holder stopped renewing (it died): the lease lapsed
    report = run(watcher.publish())
    assert not report.busy and report.edition is not None and report.edition.number == 1
    assert store.lease_holder("publish", clock.now) is None  # given up after the publish


def test_a_busy_publish_says_who_holds_the_lease_and_until_when(tmp_path: Path) -> None:
    config = write_config(tmp_path, "")
    watcher = make_watcher(load_settings(config))
    watcher.prepare_database()
    try:
        now = datetime.now(UTC)
        until = now + timedelta(seconds=30)
        assert watcher.store.take_lease("publish", "them", now, until, process=foreign(77))
        runner = CliRunner()
        text = runner.invoke(cli_app, ["--config", str(config), "publish"])
        assert text.exit_code == 1
        assert "pid 77 on replica-elsewhere" in text.stderr
        assert f"until {until.isoformat().replace('+00:00', 'Z')}" in text.stderr
        shown = runner.invoke(cli_app, ["--config", str(config), "publish", "--json"])
        report = json.loads(shown.stdout)
        assert report["busy"] is True and report["edition"] is None
        held = report["held_by"]
        assert (held["name"], held["owner"], held["host"], held["pid"]) == (
            "publish",
            "them",
            "replica-elsewhere",
            77,
        )
        assert datetime.fromisoformat(held["until"]) == until
    finally:
        run(watcher.aclose())


def test_a_busy_poll_and_curation_say_who_holds_their_lease(watcher_for: Any, clock: Clock) -> None:
    source = {"name": "perseverance", "kind": "raw_images", "url": "http://127.0.0.1:9/rss/api/"}
    watcher: Watcher = watcher_for([{**source, "category": "mars2020", "interval": "10m"}])
    until = clock.now + leases.TTL
    store = watcher.store
    assert store.take_lease("poll:perseverance", "them", clock.now, until, process=foreign(5))
    assert store.take_lease("curate", "them", clock.now, until, process=foreign(6))
    polled = run(watcher.poll_source("perseverance"))
    assert polled.busy and polled.requests == 0
    assert polled.held_by is not None and polled.held_by.pid == 5
    curated = run(watcher.curate_once())
    assert curated.busy and curated.held_by is not None and curated.held_by.pid == 6


# -- the holder's heartbeat -----------------------------------------------------------


def test_a_holder_renews_its_lease_while_it_works_and_gives_it_up_after(
    watcher_for: Any,
) -> None:
    watcher: Watcher = watcher_for([])
    store = watcher.store
    ttl = timedelta(seconds=0.3)

    def now() -> datetime:
        return datetime.now(UTC)

    async def scenario() -> tuple[bool, bool, bool]:
        held = await leases.hold(store, "publish", "me", now, ttl=ttl)
        assert isinstance(held, leases.Hold)
        await asyncio.sleep(1.0)  # three lifetimes of the lease, renewed all along
        taken_meanwhile = store.take_lease("publish", "them", now(), now() + ttl)
        holder = store.lease_holder("publish", now())
        mine = holder is not None and holder.owner == "me" and holder.host == HOST
        lost = held.lost
        await held.release()
        return taken_meanwhile, mine and not lost, store.take_lease("publish", "them", now(), now())

    taken_meanwhile, kept, free_after = run(scenario())
    assert not taken_meanwhile and kept and free_after


def test_a_holder_whose_lease_was_taken_knows_it_lost_it(watcher_for: Any) -> None:
    watcher: Watcher = watcher_for([])
    store = watcher.store
    ttl = timedelta(seconds=0.3)

    def now() -> datetime:
        return datetime.now(UTC)

    async def scenario() -> tuple[bool, bool]:
        held = await leases.hold(store, "curate", "me", now, ttl=ttl)
        assert isinstance(held, leases.Hold)
        assert store.take_lease("curate", "them", now(), now() + ttl * 10, take_from="me")
        await asyncio.sleep(0.3)  # the next beat finds the lease gone
        lost = held.lost
        await held.release()  # gives up nothing of theirs
        holder = store.lease_holder("curate", now())
        return lost, holder is not None and holder.owner == "them"

    lost, theirs = run(scenario())
    assert lost and theirs
