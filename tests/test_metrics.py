"""What the operator sees: ``/metrics`` scraped from the real app after real polls against
the loopback NASA emulator and a real publish (values checked against the database), who
may scrape it, how cheap a scrape stays at 100,000 candidates, and JSON log lines from a
real ``watcher run`` process."""

from __future__ import annotations

import io
import json
import logging
import queue
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from watcher.cli.json_logs import JsonFormatter
from watcher.config import settings_from_dict
from watcher.core import Watcher, make_watcher
from watcher.demo import Fault, NasaEmulator, SyntheticRawImages
from watcher.exceptions import ConfigError
from watcher.types import Actor, CandidateStatus, EntryDraft, Role
from watcher.web import create_app
from watcher.web.metrics import may_read_metrics

from .conftest import Clock, build_settings, raw_source, run

ADMIN = Actor("root", Role.ADMIN)
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(watcher: Watcher, client: str = "127.0.0.1") -> Samples:
    """``GET /metrics`` through the app as ``client`` would, parsed as Prometheus does."""
    response = TestClient(create_app(watcher), client=(client, 40000)).get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(response.text)


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def test_a_scrape_counts_polls_and_publishes_and_matches_the_database(
    watcher_for: Any, database_url: str, clock: Clock
) -> None:
    data = SyntheticRawImages(120, per_sol=50)
    with NasaEmulator(raw_images={"mars2020": data}) as nasa:
        watcher = watcher_for(
            [raw_source(nasa.raw_images_url)],
            database_url=database_url,
            webhooks={"allow_private": True},
        )
        before = scrape(watcher)
        assert value(before, "watcher_polls_total", source="perseverance", outcome="ok") == 0
        assert value(before, "watcher_edition_latest") == 0

        polled = run(watcher.poll_source("perseverance"))
        assert polled.error is None and polled.inserted > 2
        watcher.add_webhook("http://127.0.0.1:9/hook", ADMIN)
        newest, other, *_ = watcher.list_candidates(status=CandidateStatus.NEW, limit=None)
        watcher.approve([newest.id], EntryDraft(heading="Dust", body="A whirl."), ADMIN)
        watcher.reject(other.id, ADMIN)
        published_at = clock()
        edition = run(watcher.publish()).edition
        assert edition is not None and edition.number == 1
        clock.advance(90)

        samples = scrape(watcher)
        ok = {"source": "perseverance", "outcome": "ok"}
        assert value(samples, "watcher_polls_total", **ok) == 1
        assert value(samples, "watcher_polls_total", source="perseverance", outcome="failed") == 0
        assert value(samples, "watcher_poll_failures_total", source="perseverance") == 0
        assert value(samples, "watcher_poll_duration_seconds_count", source="perseverance") == 1
        assert value(samples, "watcher_publish_duration_seconds_count", outcome="edition") == 1
        assert value(samples, "watcher_database_up") == 1
        stored = Counter(c.status.value for c in watcher.list_candidates(status=None, limit=None))
        assert stored["rejected"] == 1 and stored["new"] == polled.inserted - 2
        for status in CandidateStatus:
            assert value(samples, "watcher_candidates", status=status.value) == stored[status]
        # Every candidate arrived with the poll, 90 s ago by the watcher's clock.
        assert value(samples, "watcher_queue_age_seconds") == 90
        assert value(samples, "watcher_editions") == 1
        assert value(samples, "watcher_edition_latest") == 1
        assert (
            value(samples, "watcher_edition_latest_timestamp_seconds") == published_at.timestamp()
        )
        assert value(samples, "watcher_deliveries", channel="webhook", state="pending") == 1
        assert value(samples, "watcher_deliveries", channel="webhook", state="sent") == 0
        assert value(samples, "watcher_deliveries", channel="email", state="pending") == 0

        nasa.inject(Fault.error_page(500), path_prefix="/rss/api/")
        failed = run(watcher.poll_source("perseverance", force=True))
        assert failed.error is not None
        deferred = run(watcher.poll_source("perseverance"))  # backing off: nothing fetched
        assert deferred.requests == 0 and deferred.deferred_until is not None
        after = scrape(watcher)
        for outcome, count in (("ok", 1), ("failed", 1), ("deferred", 1), ("busy", 0)):
            polls = value(after, "watcher_polls_total", source="perseverance", outcome=outcome)
            assert polls == count, outcome
        assert value(after, "watcher_poll_failures_total", source="perseverance") == 1
        # Only polls that went upstream are timed: the deferred one is not.
        assert value(after, "watcher_poll_duration_seconds_count", source="perseverance") == 2


def test_two_watchers_in_one_process_keep_their_own_metrics(
    watcher_for: Any, tmp_path: Path
) -> None:
    data = SyntheticRawImages(60, per_sol=50)
    with NasaEmulator(raw_images={"mars2020": data}) as nasa:
        polled = watcher_for([raw_source(nasa.raw_images_url)])
        other = make_watcher(
            build_settings(tmp_path / "other", f"sqlite:///{tmp_path / 'other.db'}", [])
        )
        try:
            other.prepare_database()
            run(polled.poll_source("perseverance"))
            mine, theirs = scrape(polled), scrape(other)
        finally:
            run(other.aclose())
    assert value(mine, "watcher_polls_total", source="perseverance", outcome="ok") == 1
    assert value(mine, "watcher_candidates", status="new") > 0
    assert not any(name == "watcher_polls_total" for name, _ in theirs)
    assert value(theirs, "watcher_candidates", status="new") == 0


def test_an_unreachable_database_is_a_gauge_not_a_failed_scrape(watcher_for: Any) -> None:
    watcher = watcher_for([])
    watcher.store.engine.dispose()
    Path(watcher.settings.database_url.removeprefix("sqlite:///")).unlink()
    Path(watcher.settings.database_url.removeprefix("sqlite:///")).mkdir()  # cannot open
    samples = scrape(watcher)
    assert value(samples, "watcher_database_up") == 0
    assert not any(name == "watcher_candidates" for name, _ in samples)


# -- who may scrape ------------------------------------------------------------------


def test_only_loopback_and_configured_addresses_may_scrape(tmp_path: Path) -> None:
    settings = build_settings(
        tmp_path,
        f"sqlite:///{tmp_path / 'watcher.db'}",
        server={"metrics_allow": ["10.1.0.0/16", "2001:db8::7"]},
    )
    watcher = make_watcher(settings)
    try:
        watcher.prepare_database()
        app = create_app(watcher)

        def status(client: str) -> int:
            response = TestClient(app, client=(client, 40000)).get("/metrics")
            return int(response.status_code)

        for allowed in ("127.0.0.1", "127.8.9.1", "::1", "::ffff:127.0.0.1", "10.1.200.3"):
            assert status(allowed) == 200, allowed
        assert status("2001:db8::7") == 200
        for refused in ("203.0.113.5", "10.2.0.1", "2001:db8::8", "::ffff:203.0.113.5"):
            assert status(refused) == 404, refused
        # A proxy on this host relays the internet from loopback: that is no loopback client.
        local = TestClient(app, client=("127.0.0.1", 40000))
        for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP"):
            relayed = local.get("/metrics", headers={header: "203.0.113.5"})
            assert relayed.status_code == 404, header
        relayed_from_allowed = TestClient(app, client=("10.1.0.9", 40000)).get(
            "/metrics", headers={"X-Forwarded-For": "10.1.0.8"}
        )
        assert relayed_from_allowed.status_code == 200
        # The 404 of a path that does not exist: nothing tells the page is there.
        outsider = TestClient(app, client=("203.0.113.5", 40000))
        refused_page, missing_page = outsider.get("/metrics"), outsider.get("/no-such-page")
        assert refused_page.status_code == missing_page.status_code == 404
        assert refused_page.text == missing_page.text
        assert "watcher_" not in refused_page.text
    finally:
        run(watcher.aclose())


def test_behind_a_trusted_proxy_the_client_it_names_is_judged(tmp_path: Path) -> None:
    settings = build_settings(
        tmp_path,
        f"sqlite:///{tmp_path / 'watcher.db'}",
        server={"trusted_proxies": ["127.0.0.1"], "metrics_allow": ["10.1.0.0/16"]},
    )
    watcher = make_watcher(settings)
    try:
        watcher.prepare_database()
        proxy = TestClient(create_app(watcher), client=("127.0.0.1", 40000))
        assert proxy.get("/metrics", headers={"X-Forwarded-For": "10.1.0.8"}).status_code == 200
        outsider = proxy.get("/metrics", headers={"X-Forwarded-For": "203.0.113.5"})
        assert outsider.status_code == 404
        assert proxy.get("/metrics").status_code == 200  # the proxy host's own scraper
    finally:
        run(watcher.aclose())


def test_metrics_public_opens_the_page_to_everyone(tmp_path: Path) -> None:
    settings = build_settings(
        tmp_path, f"sqlite:///{tmp_path / 'watcher.db'}", server={"metrics_public": True}
    )
    watcher = make_watcher(settings)
    try:
        watcher.prepare_database()
        samples = scrape(watcher, client="203.0.113.5")
        assert value(samples, "watcher_database_up") == 1
    finally:
        run(watcher.aclose())


def test_the_address_rule() -> None:
    allowed = settings_from_dict({"server": {"metrics_allow": ["192.0.2.0/24"]}}).metrics_allow
    assert may_read_metrics("192.0.2.77", allowed)
    assert may_read_metrics("::ffff:192.0.2.77", allowed)
    assert may_read_metrics("fe80::1%eth0", allowed) is False
    assert may_read_metrics("::1%lo", allowed)
    assert not may_read_metrics("192.0.3.1", allowed)
    assert not may_read_metrics(None, allowed)  # a Unix socket: no address to judge
    assert not may_read_metrics("testclient", allowed)
    assert may_read_metrics("198.51.100.1", allowed, public=True)
    assert not may_read_metrics("127.0.0.1", allowed, forwarded=True)
    assert may_read_metrics("192.0.2.77", allowed, forwarded=True)
    assert may_read_metrics("127.0.0.1", allowed, public=True, forwarded=True)
    assert settings_from_dict({}).metrics_allow == ()
    assert settings_from_dict({}).metrics_public is False


@pytest.mark.parametrize(
    ("server", "key", "message"),
    [
        ({"metrics_allow": "10.0.0.1"}, "server.metrics_allow", "list of"),
        ({"metrics_allow": ["10.0.0.1/8"]}, "server.metrics_allow", "'10.0.0.0/8'"),
        ({"metrics_allow": ["prometheus.lan"]}, "server.metrics_allow", "by address"),
        ({"metrics_public": "yes"}, "server.metrics_public", ""),
        ({"metrics_alow": []}, "server.metrics_alow", "metrics_allow"),
    ],
)
def test_metrics_settings_errors_name_the_file_and_key(
    tmp_path: Path, server: dict[str, Any], key: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from_dict({"server": server}, path=tmp_path / "watcher.toml")
    text = str(caught.value)
    assert str(tmp_path / "watcher.toml") in text and key in text and message in text


# -- cost ------------------------------------------------------------------------------


def fill(path: Path, count: int) -> None:
    """``count`` candidates (1 in 20 rejected, 1 in 97 approved, the rest new) and as many
    outbox rows, written by SQLite itself: a Python loop would take longer than the test."""
    connection = sqlite3.connect(path)
    connection.executescript(
        f"""
        WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < {count - 1})
        INSERT INTO candidates (source, external_id, title, camera, sol, status,
            first_seen_at, raw)
        SELECT 'perseverance', printf('IMG_%08d', i), 'Sol', 'NAVCAM_LEFT', i / 500,
            CASE WHEN i % 20 = 0 THEN 'rejected' WHEN i % 97 = 0 THEN 'approved' ELSE 'new' END,
            strftime('%Y-%m-%d %H:%M:%f', '2026-11-20', printf('+%d seconds', i)), '{{}}'
        FROM seq;
        WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < {count - 1})
        INSERT INTO deliveries (edition, channel, target, key, status, next_attempt_at,
            created_at)
        SELECT i / 1000, CASE WHEN i % 10 = 0 THEN 'webhook' ELSE 'email' END, 'x', 'k' || i,
            CASE WHEN i % 50 = 0 THEN 'pending' WHEN i % 77 = 0 THEN 'dead' ELSE 'sent' END,
            '2026-11-25 00:00:00', '2026-11-25 00:00:00'
        FROM seq;
        """
    )
    connection.commit()
    connection.close()


@pytest.mark.slow
def test_a_scrape_stays_under_100_ms_at_100_000_candidates(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "big.db"
    watcher = make_watcher(build_settings(tmp_path, f"sqlite:///{path}", []), clock=clock)
    try:
        watcher.prepare_database()
        fill(path, 100_000)
        app = create_app(watcher)
        client = TestClient(app, client=("127.0.0.1", 40000))
        timings, samples = [], {}
        for _ in range(5):
            started = time.perf_counter()
            response = client.get("/metrics")
            timings.append(time.perf_counter() - started)
            samples = parse(response.text)
        rejected, approved = 5000, len([i for i in range(100_000) if i % 20 and i % 97 == 0])
        assert value(samples, "watcher_candidates", status="rejected") == rejected
        assert value(samples, "watcher_candidates", status="approved") == approved
        assert value(samples, "watcher_candidates", status="new") == 100_000 - rejected - approved
        assert value(samples, "watcher_deliveries", channel="webhook", state="pending") == 2000
        oldest_new = datetime(2026, 11, 20, 0, 0, 1, tzinfo=UTC)  # IMG_1: IMG_0 is rejected
        waited = (clock() - oldest_new).total_seconds()
        assert value(samples, "watcher_queue_age_seconds") == waited
        assert min(timings) < 0.1, f"scrapes took {[round(t * 1000) for t in timings]} ms"
    finally:
        run(watcher.aclose())


# -- logs ------------------------------------------------------------------------------


def test_json_log_lines_carry_time_level_logger_message_and_exception() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("watcher.test_json_logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning('poll of %s failed:\nline two \u2028 "quoted"', "perseverance")
        try:
            raise ValueError("bad record")
        except ValueError:
            logger.exception("unexpected error")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["level"] == "WARNING" and first["logger"] == "watcher.test_json_logs"
    assert first["message"] == 'poll of perseverance failed:\nline two \u2028 "quoted"'
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["time"])
    assert "exception" not in first
    assert second["level"] == "ERROR" and second["message"] == "unexpected error"
    assert second["exception"].startswith("Traceback")
    assert "ValueError: bad record" in second["exception"]


def test_log_format_is_read_from_the_config(tmp_path: Path) -> None:
    assert settings_from_dict({}).log_format == "text"
    assert settings_from_dict({"service": {"log_format": "json"}}).log_format == "json"
    with pytest.raises(ConfigError, match=r"service\.log_format.*'xml' is not one of"):
        settings_from_dict({"service": {"log_format": "xml"}}, path=tmp_path / "w.toml")


@pytest.mark.slow
def test_watcher_run_logs_json_lines_and_serves_metrics_over_loopback(tmp_path: Path) -> None:
    """A real ``watcher run --log-format json`` polling a failing NASA: every line on its
    stderr is one JSON object, and its /metrics (over TCP, from 127.0.0.1) count the
    failed polls."""
    data = SyntheticRawImages(20, per_sol=50)
    with NasaEmulator(raw_images={"mars2020": data}) as nasa:
        nasa.inject(Fault.error_page(500), path_prefix="/rss/api/", times=None)
        config = tmp_path / "watcher.toml"
        config.write_text(
            f"""
[database]
url = "sqlite:///{tmp_path / "watcher.db"}"
[server]
host = "127.0.0.1"
port = 0
[publish]
site_dir = "{tmp_path / "site"}"
cache_dir = "{tmp_path / "cache"}"
[fetch]
backoff_base = "1s"
backoff_max = "2s"
[curate]
enabled = false
[[sources]]
name = "perseverance"
kind = "raw_images"
url = "{nasa.raw_images_url}"
category = "mars2020"
interval = "1h"
"""
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "watcher.cli", "-c", str(config), "run", "--log-format", "json"],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        lines: queue.Queue[str] = queue.Queue()
        seen: list[str] = []

        def read() -> None:
            assert process.stderr is not None
            for line in process.stderr:
                lines.put(line)

        def wait_for(pattern: str) -> re.Match[str]:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    line = lines.get(timeout=0.2)
                except queue.Empty:
                    if process.poll() is not None:
                        break
                    continue
                seen.append(line)
                if found := re.search(pattern, line):
                    return found
            raise AssertionError(f"{pattern!r} not seen in:\n{''.join(seen)}")

        threading.Thread(target=read, daemon=True).start()
        try:
            url = wait_for(r"serving on (http://127\.0\.0\.1:\d+)").group(1)
            wait_for(r"perseverance: poll failed")
            response = httpx.get(f"{url}/metrics", timeout=5)
            assert response.status_code == 200
            samples = parse(response.text)
            assert value(samples, "watcher_poll_failures_total", source="perseverance") >= 1
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=30)
        time.sleep(0.1)
        while not lines.empty():
            seen.append(lines.get())
    assert code == 0, "".join(seen)
    records = [json.loads(line) for line in seen]  # every line, or this fails
    assert len(records) >= 4
    for record in records:
        assert set(record) >= {"time", "level", "logger", "message"}, record
        assert record["time"].endswith("Z")
    assert any(r["level"] == "WARNING" and r["logger"] == "watcher.core" for r in records)
    assert records[-1]["message"] == "stopped"
