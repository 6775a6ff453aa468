"""Replicas on one PostgreSQL database with no shared disk: each one serving the site
renders the latest edition into its own site_dir, whoever published it; a site_dir has one
writer at a time (a file lock); ``--role`` splits HTTP from the background work."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.conftest import (
    ServiceThread,
    build_settings,
    eventually,
    free_port,
    reset_postgres,
)
from watcher.core import Watcher, make_watcher
from watcher.publish.site_lock import lock_path, site_lock
from watcher.types import Actor, CandidateData, EntryDraft, ReplicaRole, Role

pytestmark = pytest.mark.timeout(90)

ADMIN = Actor("root", Role.ADMIN)


def replica(home: Path, url: str, **server: object) -> Watcher:
    """A replica's Watcher: its own site_dir and cache under ``home``, the shared database."""
    settings = build_settings(
        home,
        url,
        publish={"debounce": 0},
        server={"host": "127.0.0.1", "port": free_port(), **server},
    )
    watcher = make_watcher(settings)
    watcher.prepare_database()
    return watcher


def approve(watcher: Watcher, n: int) -> int:
    """A candidate approved (and so on the running list); the entry's id."""
    item = CandidateData(
        source="perseverance",
        external_id=f"NRF_{n:05d}",
        mission="perseverance",
        title=f"Sol {n}",
        credit="NASA/JPL-Caltech",
        camera="NAVCAM_LEFT",
        sol=1000 + n,
        taken_at=datetime(2026, 8, 1, n, tzinfo=UTC),
        large_url=f"https://mars.nasa.gov/raw/NRF_{n:05d}_1200.jpg",
        width=800,
        height=600,
    )
    watcher.store.add_candidates([item], datetime(2026, 8, 2, tzinfo=UTC))
    candidate = next(c for c in watcher.list_candidates() if c.external_id == item.external_id)
    draft = EntryDraft(heading=f"Dust devil {n}", body="A whirl of dust.")
    return watcher.approve([candidate.id], draft, ADMIN).id


@pytest.mark.postgres
def test_an_edition_published_by_one_replica_is_served_by_another_within_seconds(
    tmp_path: Path, postgres_database: str
) -> None:
    reset_postgres(postgres_database)
    publisher = replica(tmp_path / "a", postgres_database)
    follower = replica(tmp_path / "b", postgres_database)
    assert publisher.settings.site_dir != follower.settings.site_dir
    approve(publisher, 1)
    assert run_publish(publisher) == 1
    web = ServiceThread(follower, ReplicaRole.WEB)
    try:
        # A replica that starts behind renders the latest edition before long.
        eventually(lambda: follower.site_edition() == 1, "the follower caught up at start", 10)
        approve(publisher, 2)
        assert run_publish(publisher) == 2
        started = time.monotonic()
        eventually(lambda: follower.site_edition() == 2, "edition 2 in the follower's site", 10)
        assert time.monotonic() - started < 5
        page = httpx.get(f"{web.service.url}/", timeout=5)
        assert page.status_code == 200
        assert "Dust devil 2" in page.text and "Dust devil 1" in page.text
        assert web.service.follower.renders == 2 and web.service.follower.errors == 0
        # A web replica neither polls nor publishes: the approval below waits for a worker.
        assert web.service.scheduler.get_jobs() == []
        approve(follower, 3)
        time.sleep(2.5)
        latest = follower.store.latest_edition()
        assert latest is not None and latest.number == 2
    finally:
        web.stop()
        asyncio.run(publisher.aclose())


def run_publish(watcher: Watcher) -> int:
    report = asyncio.run(watcher.publish())
    assert report.edition is not None, report
    return report.edition.number


@pytest.mark.postgres
def test_a_worker_replica_serves_only_health_and_metrics_and_publishes_what_a_web_one_took(
    tmp_path: Path, postgres_database: str
) -> None:
    reset_postgres(postgres_database)
    web_watcher = replica(tmp_path / "web", postgres_database)
    worker_watcher = replica(tmp_path / "worker", postgres_database)
    worker = ServiceThread(worker_watcher, ReplicaRole.WORKER)
    web = ServiceThread(web_watcher, ReplicaRole.WEB)
    try:
        health = httpx.get(f"{worker.service.url}/healthz", timeout=5)
        assert health.status_code == 200 and health.json()["database"]["ok"] is True
        assert httpx.get(f"{worker.service.url}/metrics", timeout=5).status_code == 200
        for path in ("/", "/editor", "/api/v1/candidates", "/feed.atom"):
            assert httpx.get(f"{worker.service.url}{path}", timeout=5).status_code == 404
        assert httpx.get(f"{web.service.url}/healthz", timeout=5).status_code == 200
        approve(web_watcher, 7)
        # The worker notices the change through the audit log and publishes it; the web
        # replica then renders that edition into its own site_dir.
        eventually(lambda: web_watcher.site_edition() == 1, "the web replica shows it", 20)
        assert "Dust devil 7" in (web_watcher.settings.site_dir / "index.html").read_text()
        assert worker_watcher.site_edition() == 1
    finally:
        web.stop()
        worker.stop()


def test_one_writer_of_a_site_dir_at_a_time_and_a_killed_holder_frees_it(
    tmp_path: Path,
) -> None:
    site = tmp_path / "site"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time\n"
            f"fd = os.open({str(lock_path(site))!r}, os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "print('held', flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"

        async def take(within: float) -> bool:
            try:
                async with asyncio.timeout(within), site_lock(site):
                    return True
            except TimeoutError:
                return False

        assert asyncio.run(take(0.5)) is False, "taken while another process held it"
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        assert asyncio.run(take(2)) is True, "a killed holder's lock was not freed"
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()

    async def two_writers_in_one_process() -> list[str]:
        order: list[str] = []

        async def write(name: str) -> None:
            async with site_lock(site):
                order.append(f"{name} in")
                await asyncio.sleep(0.2)
                order.append(f"{name} out")

        await asyncio.gather(write("a"), write("b"))
        return order

    order = asyncio.run(two_writers_in_one_process())
    assert order in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])
