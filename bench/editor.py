"""Queue page latency over N candidates (default 1,000,000) in SQLite.

The candidates are generated inside SQLite (a recursive CTE: sols of 500 images, 20
cameras, 1.5 % Ingenuity, 5 % already decided, a 2 KB raw record each), then ANALYZEd.
A signed-in editor requests the queue page (``GET /editor``) through the ASGI app in this
process; the figure is the server-side time the app reports in its ``Server-Timing``
header (routing, queries, rendering), over R requests per scenario: the first page and a
deep keyset page, without and with filters, newest first and by curation's score, one card
per group (the default: half the candidates sit in groups of six) and every frame.
Target: p95 < 50 ms.

    python bench/editor.py [--records N] [--requests R]
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import statistics
import tempfile
import time
import warnings
from pathlib import Path

from common import report
from starlette.testclient import TestClient

from watcher.config import settings_from_dict
from watcher.core import make_watcher
from watcher.types import Role
from watcher.web import create_app

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")

PASSWORD = "benchmark password"
CAMERAS = [
    "NAVCAM_LEFT", "NAVCAM_RIGHT", "FRONT_HAZCAM_LEFT_A", "FRONT_HAZCAM_RIGHT_A",
    "REAR_HAZCAM_LEFT", "REAR_HAZCAM_RIGHT", "MCZ_LEFT", "MCZ_RIGHT", "SHERLOC_WATSON",
    "SKYCAM", "SUPERCAM_RMI", "CACHECAM", "PIXL_MCC", "EDL_RUCAM", "EDL_DDCAM",
    "LCAM", "SHERLOC_ACI", "HELI_NAV", "HELI_RTE", "EDL_PUCAM1",
]  # fmt: skip
RAW = '{"imageid": "X", "padding": "' + "x" * 2000 + '"}'


def generate(db: Path, records: int) -> float:
    started = time.perf_counter()
    cameras = ", ".join(f"('{name}', {i})" for i, name in enumerate(CAMERAS))
    connection = sqlite3.connect(db)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")
    connection.executescript(
        f"""
        CREATE TEMP TABLE cams(name TEXT, n INTEGER);
        INSERT INTO cams VALUES {cameras};
        WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < {records - 1})
        INSERT INTO candidates (source, external_id, mission, title, caption, credit, camera,
            sol, taken_at, mars_local_time, received_at, page_url, thumbnail_url, medium_url,
            large_url, full_url, width, height, status, first_seen_at, raw, version,
            score, score_reasons, group_id, group_kind, group_size, group_hero)
        SELECT
            CASE WHEN i % 67 = 0 THEN 'ingenuity' ELSE 'perseverance' END,
            printf('IMG_%08d', i),
            CASE WHEN i % 67 = 0 THEN 'ingenuity' ELSE 'perseverance' END,
            printf('Mars Perseverance Sol %d: %s', i / 500, cams.name),
            'NASA''s Mars Perseverance rover acquired this image.',
            'NASA/JPL-Caltech',
            cams.name,
            i / 500,
            strftime('%Y-%m-%d %H:%M:%f', '2021-02-18', printf('+%d seconds', i * 60)),
            '12:00:00',
            strftime('%Y-%m-%d %H:%M:%f', '2021-02-19', printf('+%d seconds', i * 60)),
            printf('https://mars.nasa.gov/raw/IMG_%08d', i),
            printf('https://mars.nasa.gov/raw/IMG_%08d_320.jpg', i),
            printf('https://mars.nasa.gov/raw/IMG_%08d_800.jpg', i),
            printf('https://mars.nasa.gov/raw/IMG_%08d_1200.jpg', i),
            printf('https://mars.nasa.gov/raw/IMG_%08d.png', i),
            1288, 968,
            CASE WHEN i % 20 = 0 THEN 'rejected' WHEN i % 97 = 0 THEN 'approved' ELSE 'new' END,
            '2026-11-25 00:00:00.000000',
            '{RAW}',
            1,
            CASE WHEN i % 10 = 3 THEN NULL ELSE ((i * 7919) % 1000) / 10.0 END,
            '["colour camera", "golden hour"]',
            CASE WHEN (i / 6) % 2 = 0 THEN i - i % 6 + 1 END,
            CASE WHEN (i / 6) % 2 = 0 THEN 'similar' END,
            CASE WHEN (i / 6) % 2 = 0 THEN 6 ELSE 1 END,
            CASE WHEN (i / 6) % 2 = 0 AND i % 6 != 2 THEN 0 ELSE 1 END
        FROM seq JOIN cams ON cams.n = (i * 7 + i / 500) % 20;
        ANALYZE;
        """
    )
    connection.commit()
    connection.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "watcher.db"
        settings = settings_from_dict({"database": {"url": f"sqlite:///{db}"}})
        watcher = make_watcher(settings)
        watcher.prepare_database()
        seconds = generate(db, args.records)
        watcher.add_editor("bench", PASSWORD, Role.EDITOR)
        client = TestClient(create_app(watcher), base_url="http://127.0.0.1:8000")
        page = client.get("/editor/login")
        token = re.search(r'name="form_token" value="([^"]+)"', page.text)
        assert token, "no sign-in form"
        client.post(
            "/editor/login",
            data={"name": "bench", "password": PASSWORD, "form_token": token.group(1)},
        )
        deep = args.records // 2
        sol = args.records // 1000  # a sol half-way through the mission
        scenarios = {
            "first page": "/editor",
            "first page, camera": "/editor?camera=MCZ_LEFT",
            "first page, sol range": f"/editor?sol_min={sol}&sol_max={sol + 30}",
            "first page, mission": "/editor?mission=ingenuity",
            "first page, camera + sol range": "/editor?camera=NAVCAM_LEFT&sol_min=100&sol_max=400",
            "first page, date range": "/editor?from=2021-03-01&to=2021-03-04",
            "deep page": f"/editor?before={deep}",
            "deep page, camera": f"/editor?camera=SHERLOC_WATSON&before={deep}",
            "deep page, status all": f"/editor?status=all&before={deep}",
            "text, an image id": f"/editor?q=IMG_{deep:08d}",
            "text, a word in every caption": "/editor?q=perseverance",
            "every frame (not grouped)": "/editor?grouped=no",
            "by score": "/editor?sort=score",
            "by score, not grouped": "/editor?sort=score&grouped=no",
            "by score, camera": "/editor?sort=score&camera=MCZ_LEFT",
            "by score, sol range": f"/editor?sort=score&sol_min={sol}&sol_max={sol + 30}",
            "deep page by score": f"/editor?sort=score&before={deep + 7}",
            "deep page by score, not grouped": f"/editor?sort=score&grouped=no&before={deep + 7}",
            "a group's frames": f"/editor?group={deep - deep % 12 + 1}",
        }
        results: dict[str, dict[str, float]] = {}
        for name, url in scenarios.items():
            client.get(url)  # warm the page cache and the statement cache
            timings = []
            for _ in range(args.requests):
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)
                match = re.search(r"dur=([\d.]+)", response.headers["server-timing"])
                assert match
                timings.append(float(match.group(1)))
            timings.sort()
            results[name] = {
                "p50_ms": round(statistics.median(timings), 2),
                "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 2),
            }
        database_mb = db.stat().st_size / 2**20
        client.close()

    worst = max(r["p95_ms"] for r in results.values())
    flat = {f"{name} {k}": v for name, r in results.items() for k, v in r.items()}
    report(
        "editor",
        {
            "records": args.records,
            "requests_per_scenario": args.requests,
            "generate_seconds": round(seconds, 1),
            "database_mb": round(database_mb),
            **flat,
            "worst_p95_ms": worst,
            "target_p95_ms": 50,
            "meets_target": worst < 50,
        },
    )


if __name__ == "__main__":
    main()
