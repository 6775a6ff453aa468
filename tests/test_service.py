"""``watcher run``: a real process, its /healthz, and a clean stop on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import queue
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from watcher.core import make_watcher
from watcher.demo import NasaEmulator, SyntheticRawImages
from watcher.service import Service
from watcher.web import create_app

from .conftest import build_settings, raw_source


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def config_file(
    tmp_path: Path, source_url: str, *, port: int = 0, extra: str = "", curate: bool = False
) -> Path:
    path = tmp_path / "watcher.toml"
    path.write_text(
        f"""
[database]
url = "sqlite:///{tmp_path / "watcher.db"}"

[server]
host = "127.0.0.1"
port = {port}

[fetch]
connect_timeout = "1s"
read_timeout = "5s"
backoff_base = "1s"
backoff_max = "2s"

[curate]
enabled = {"true" if curate else "false"}

[[sources]]
name = "perseverance"
kind = "raw_images"
url = "{source_url}"
category = "mars2020"
interval = "2s"
jitter = 0
{extra}
"""
    )
    return path


class Running:
    """A ``watcher run`` subprocess whose stderr is read line by line in the background."""

    def __init__(self, config: Path):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "watcher.cli", "--config", str(config), "run"],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.put(line)

    def wait_for(self, pattern: str, timeout: float = 30) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            self.log.append(line)
            if found := re.search(pattern, line):
                return found
        raise AssertionError(f"{pattern!r} not seen; log:\n{''.join(self.log)}")

    def drain(self) -> str:
        while not self.lines.empty():
            self.log.append(self.lines.get())
        return "".join(self.log)

    def stop(self, timeout: float = 20) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=timeout)
        time.sleep(0.1)
        self.drain()
        return code


@pytest.fixture
def running() -> Iterator[Any]:
    started: list[Running] = []

    def start(config: Path) -> Running:
        started.append(Running(config))
        return started[-1]

    yield start
    for proc in started:
        if proc.process.poll() is None:
            proc.process.kill()
            proc.process.wait()


def healthz(url: str) -> httpx.Response:
    return httpx.get(f"{url}/healthz", timeout=5)


def wait_health(url: str, check: Any, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = healthz(url).json()
        if check(body):
            return body
        time.sleep(0.2)
    raise AssertionError(f"health never matched: {json.dumps(body, indent=1)}")


def test_service_polls_serves_health_and_stops_on_sigterm(tmp_path: Path, running: Any) -> None:
    data = SyntheticRawImages(120, per_sol=100)
    with NasaEmulator(raw_images={"mars2020": data}) as nasa:
        service = running(config_file(tmp_path, nasa.raw_images_url))
        url = service.wait_for(r"health at (http://127\.0\.0\.1:\d+)/healthz").group(1)
        # The 24 hours before NASA's latest: the last 41 records of sol 0 and 20 of sol 1.
        body = wait_health(url, lambda b: b["sources"][0]["candidates"] == 61)
        assert body["status"] == "ok" and body["database"]["ok"] is True
        assert body["sources"][0]["health"] == "ok"
        data.release(30)
        wait_health(url, lambda b: b["sources"][0]["candidates"] == 91)
        assert healthz(url).status_code == 200
        assert service.stop() == 0
    log = service.drain()
    assert "stopping" in log and "stopped" in log


def test_offline_service_stays_up_and_reports_failing_sources(tmp_path: Path, running: Any) -> None:
    down = f"http://127.0.0.1:{closed_port()}/rss/api/"
    service = running(config_file(tmp_path, down))
    url = service.wait_for(r"health at (http://127\.0\.0\.1:\d+)/healthz").group(1)
    body = wait_health(url, lambda b: b["sources"][0]["consecutive_failures"] >= 2)
    assert body["status"] == "degraded"
    assert body["sources"][0]["health"] == "failing"
    assert "FetchConnectError" in body["sources"][0]["last_error"]
    assert healthz(url).status_code == 200
    assert service.process.poll() is None
    assert service.stop() == 0


def test_port_in_use_is_a_clear_error(tmp_path: Path, running: Any) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        service = running(config_file(tmp_path, "https://mars.nasa.gov/rss/api/", port=port))
        assert service.process.wait(timeout=30) == 1
    assert "cannot listen on 127.0.0.1" in service.drain()


def test_sigterm_mid_sweep_commits_whole_pages_and_the_next_poll_finishes(
    tmp_path: Path, running: Any
) -> None:
    data = SyntheticRawImages(1, per_sol=5000)
    with NasaEmulator(raw_images={"mars2020": data}, latency=0.3) as nasa:
        config = config_file(tmp_path, nasa.raw_images_url)
        service = running(config)
        url = service.wait_for(r"health at (http://127\.0\.0\.1:\d+)/healthz").group(1)
        wait_health(url, lambda b: b["sources"][0]["candidates"] == 1)
        data.release(2999)  # 30 pages at 0.3 s each: the sweep is mid-way when we stop
        wait_health(url, lambda b: b["sources"][0]["candidates"] >= 300, timeout=60)
        assert service.stop() == 0
        # The poll was let finish its page, not cancelled under it (no traceback).
        assert "Traceback" not in "".join(service.log), "".join(service.log)
        with sqlite3.connect(tmp_path / "watcher.db") as db:
            stored = db.execute("SELECT count(*) FROM candidates").fetchone()[0]
            sweep = db.execute("SELECT sweep FROM poll_state").fetchone()[0]
        assert 300 <= stored < 3000
        assert sweep is not None and json.loads(sweep)["next"]  # where to resume
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "watcher.cli",
                "--config",
                str(config),
                "poll",
                "--once",
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        with sqlite3.connect(tmp_path / "watcher.db") as db:
            ids = [row[0] for row in db.execute("SELECT external_id FROM candidates")]
            sweep = db.execute("SELECT sweep FROM poll_state").fetchone()[0]
        assert len(ids) == len(set(ids)) == 3000
        assert set(ids) == {str(data.record(i)["imageid"]) for i in range(3000)}
        assert sweep is None


def test_healthz_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    settings = build_settings(
        tmp_path, f"postgresql://postgres@127.0.0.1:{closed_port()}/x?connect_timeout=1"
    )
    watcher = make_watcher(settings)

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(watcher))
        async with httpx.AsyncClient(transport=transport, base_url="http://watcher") as client:
            return await client.get("/healthz")

    response = asyncio.run(get())
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and body["database"]["ok"] is False
    assert "database unavailable" in body["database"]["error"]


def test_failed_poll_is_retried_when_its_backoff_ends_not_a_whole_interval_later(
    tmp_path: Path,
) -> None:
    down = f"http://127.0.0.1:{closed_port()}/rss/api/"
    settings = build_settings(
        tmp_path,
        f"sqlite:///{tmp_path / 'watcher.db'}",
        [raw_source(down, interval="1d")],
        fetch={"backoff_base": "30s"},
    )

    async def scenario() -> tuple[Any, Any]:
        watcher = make_watcher(settings)
        service = Service(watcher, web=False)
        task = asyncio.create_task(service.run())
        for _ in range(100):
            await asyncio.sleep(0.05)
            retry = (
                service.scheduler.get_job("retry:perseverance")
                if service.scheduler.running
                else None
            )
            if retry is not None:
                break
        regular = service.scheduler.get_job("poll:perseverance")
        found = (retry.next_run_time if retry else None, regular.next_run_time if regular else None)
        service.stop()
        await task
        await watcher.aclose()
        return found

    retry_at, regular_at = asyncio.run(scenario())
    assert retry_at is not None, "no retry was scheduled after the failure"
    assert regular_at is not None and retry_at < regular_at
    wait = retry_at.timestamp() - time.time()
    assert 0 < wait <= 31


def test_without_an_admin_run_prints_a_one_time_setup_link(tmp_path: Path, running: Any) -> None:
    import re as regex

    down = f"http://127.0.0.1:{closed_port()}/rss/api/"
    service = running(config_file(tmp_path, down))
    link = service.wait_for(r"(http://127\.0\.0\.1:\d+/editor/setup\?token=[\w-]+)").group(1)
    client = httpx.Client(follow_redirects=False, timeout=10)
    page = client.get(link)
    assert page.status_code == 200 and "Create the first admin" in page.text
    form_token = regex.search(r'name="form_token" value="([^"]+)"', page.text)
    token = link.split("token=")[1]
    assert form_token
    created = client.post(
        link.split("?")[0],
        data={
            "token": token,
            "name": "root",
            "password": "a long enough password",
            "confirm": "a long enough password",
            "form_token": form_token.group(1),
        },
    )
    assert created.status_code == 303 and created.headers["location"] == "/editor"
    queue = client.get(link.split("/editor")[0] + "/editor")
    assert queue.status_code == 200  # signed in as the new admin
    assert client.get(link).status_code == 410  # the link works once
    assert service.stop() == 0
