"""Backfill of N synthetic raw-image records (default 1,000,000) with peak memory.

The NASA emulator serves the records on 127.0.0.1 from this process (generated from their
index: it holds no list of them); ``watcher backfill`` runs as a real subprocess against it
with a SQLite database, exactly as an operator would run it. Peak RSS is the child's
``ru_maxrss``. Target: peak RSS < 250 MB.

    python bench/backfill.py [--records N]
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import report

from watcher.db import Store
from watcher.demo import NasaEmulator, SyntheticRawImages

CONFIG = """
[database]
url = "sqlite:///{db}"

[security]
image_hosts = ["nasa.gov", "*.nasa.gov"]

[[sources]]
name = "perseverance"
kind = "raw_images"
url = "{url}"
category = "mars2020"
interval = "10m"
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    args = parser.parse_args()

    data = SyntheticRawImages(args.records, per_sol=500)
    with tempfile.TemporaryDirectory() as tmp, NasaEmulator(raw_images={"mars2020": data}) as nasa:
        db = Path(tmp) / "watcher.db"
        config = Path(tmp) / "watcher.toml"
        config.write_text(CONFIG.format(db=db, url=nasa.raw_images_url))
        command = [sys.executable, "-m", "watcher.cli", "--config", str(config)]
        store = Store(f"sqlite:///{db}")
        store.upgrade()
        store.close()
        started = time.perf_counter()
        result = subprocess.run(
            [*command, "backfill", "--source", "perseverance"],
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - started
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        if result.returncode != 0:
            sys.exit(f"backfill failed ({result.returncode}): {result.stderr[-2000:]}")
        with sqlite3.connect(db) as connection:
            stored = connection.execute("SELECT count(*) FROM candidates").fetchone()[0]
            distinct = connection.execute(
                "SELECT count(DISTINCT external_id) FROM candidates"
            ).fetchone()[0]
        database_mb = db.stat().st_size / 2**20
        requests = nasa.request_count("/rss/api/")

    peak_mb = peak_kb / 1024  # the backfill is this process's only child
    report(
        "backfill",
        {
            "records": args.records,
            "stored": stored,
            "distinct": distinct,
            "requests": requests,
            "seconds": round(seconds, 1),
            "records_per_s": round(args.records / seconds),
            "peak_rss_mb": round(peak_mb, 1),
            "database_mb": round(database_mb, 1),
            "target_peak_rss_mb": 250,
            "meets_target": peak_mb < 250 and stored == args.records,
        },
    )


if __name__ == "__main__":
    main()
