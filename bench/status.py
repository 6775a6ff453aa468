"""Status page latency over N candidates (default 100,000) in SQLite.

The candidates are generated inside SQLite as ``bench/editor.py`` makes them (sols of 500
images, 20 cameras, 1.5 % Ingenuity), with 30 editions owing 1,000 messages each, and
each of four sources' poll log full (200 polls). A signed-in admin requests the Status
page (``GET /editor/status``) through the ASGI app in this process; the figure is the
server-side time in its ``Server-Timing`` header (the figures' queries, the charts'
geometry, rendering), over R requests. The page's queries are index ranges (a mission's
latest 30 sols, the latest polls, the latest editions), so the time should not grow with
the table. Target: p95 < 100 ms.

    python bench/status.py [--records N] [--requests R]
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import statistics
import tempfile
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import report
from editor import generate
from starlette.testclient import TestClient

from watcher.config import settings_from_dict
from watcher.core import make_watcher
from watcher.types import PollOutcome, PollRecord, PollState, Role
from watcher.web import create_app

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")

PASSWORD = "benchmark password"
SOURCES = ("perseverance", "ingenuity", "image_library", "nasa_rss")
EDITIONS = 30
MESSAGES = 1000


def add_editions_and_deliveries(db: Path) -> None:
    connection = sqlite3.connect(db)
    connection.executescript(
        f"""
        INSERT OR IGNORE INTO facets (kind, value)
            VALUES ('mission', 'perseverance'), ('mission', 'ingenuity');
        WITH RECURSIVE e(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM e WHERE n < {EDITIONS})
        INSERT INTO editions (number, published_at, added, changed, removed, reordered,
            site_changed, entries, audit_id)
        SELECT n, '2026-11-25 00:00:00.000000', '[]', '[]', '[]', 0, 0, n, n FROM e;
        WITH RECURSIVE d(i) AS (
            SELECT 0 UNION ALL SELECT i + 1 FROM d WHERE i < {EDITIONS * MESSAGES - 1})
        INSERT INTO deliveries (edition, channel, target, key, status, attempts,
            next_attempt_at, created_at)
        SELECT i / {MESSAGES} + 1, 'email', printf('r%d@example.org', i % {MESSAGES}),
            printf('bench-%d', i),
            CASE WHEN i % 50 = 0 THEN 'dead' WHEN i % 7 = 0 THEN 'pending' ELSE 'sent' END,
            1, '2026-11-25 00:00:00.000000', '2026-11-25 00:00:00.000000'
        FROM d;
        ANALYZE;
        """
    )
    connection.commit()
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "watcher.db"
        sources = [
            {
                "name": name,
                "kind": "raw_images",
                "url": "http://127.0.0.1:9/",
                "category": "mars2020",
            }
            for name in SOURCES
        ]
        settings = settings_from_dict({"database": {"url": f"sqlite:///{db}"}, "sources": sources})
        watcher = make_watcher(settings)
        watcher.prepare_database()
        seconds = generate(db, args.records)
        add_editions_and_deliveries(db)
        start = datetime(2026, 11, 1, tzinfo=UTC)
        for name in SOURCES:
            for i in range(200):
                at = start + timedelta(minutes=10 * i)
                record = PollRecord(
                    source=name,
                    started_at=at,
                    finished_at=at + timedelta(milliseconds=400 + i),
                    outcome=PollOutcome.OK if i % 9 else PollOutcome.FAILED,
                    requests=2,
                )
                watcher.store.save_poll_state(PollState(source=name), record)
        watcher.add_editor("bench", PASSWORD, Role.ADMIN)
        client = TestClient(create_app(watcher), base_url="http://127.0.0.1:8000")
        page = client.get("/editor/login")
        token = re.search(r'name="form_token" value="([^"]+)"', page.text)
        assert token, "no sign-in form"
        client.post(
            "/editor/login",
            data={"name": "bench", "password": PASSWORD, "form_token": token.group(1)},
        )
        first = client.get("/editor/status")  # warm the page cache and the statement cache
        assert first.status_code == 200, first.status_code
        bars = first.text.count('<rect class="chart-bar')
        timings = []
        for _ in range(args.requests):
            response = client.get("/editor/status")
            match = re.search(r"dur=([\d.]+)", response.headers["server-timing"])
            assert match
            timings.append(float(match.group(1)))
        figures = []
        for _ in range(args.requests):
            began = time.perf_counter()
            watcher.status_figures(sols=30, polls=50, editions=30)
            figures.append((time.perf_counter() - began) * 1000)
        database_mb = db.stat().st_size / 2**20
        client.close()

    timings.sort()
    figures.sort()
    p95 = round(timings[max(0, int(len(timings) * 0.95) - 1)], 2)
    report(
        "status",
        {
            "records": args.records,
            "requests": args.requests,
            "generate_seconds": round(seconds, 1),
            "database_mb": round(database_mb),
            "bars_drawn": bars,
            "figures_p50_ms": round(statistics.median(figures), 2),
            "page_p50_ms": round(statistics.median(timings), 2),
            "page_p95_ms": p95,
            "target_p95_ms": 100,
            "meets_target": p95 < 100,
        },
    )


if __name__ == "__main__":
    main()
