"""Ingest throughput: normalise + store N synthetic raw-image records into SQLite.

Compared, in the same run, with a plain ``sqlite3.executemany`` of the same rows (already
normalised, JSON already encoded) into an identical table: same schema and indexes (both
made by our migration), same pragmas (WAL, synchronous=NORMAL), one transaction per page of
100 as the poller commits. Target: ratio >= 0.5.

watcher's path is the production one: ``RawImagesAdapter.normalise`` on each parsed record,
then ``Store.save_poll_page`` (candidates plus the poll state, one transaction per page).
A second figure includes JSON decoding (``parse_page`` on the page's bytes).

The inputs (N parsed records, their page bodies, the baseline's rows) are built first and
then frozen out of the garbage collector (``gc.freeze``): otherwise every collection during
the timed loops would scan the benchmark's own N records, which the poller (one page in
memory at a time) never holds.

    python bench/ingest.py [--records N] [--repeat R]
"""

from __future__ import annotations

import argparse
import gc
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from common import report

from watcher.config import SourceConfig
from watcher.db import Store
from watcher.db.columns import sqlite_timestamp
from watcher.demo import SyntheticRawImages
from watcher.polling.sources.raw_images import RawImagesAdapter
from watcher.types import CandidateData, PollState

PAGE = 100
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
COLUMNS = (
    "source", "external_id", "mission", "title", "caption", "credit", "camera", "sol",
    "taken_at", "mars_local_time", "received_at", "page_url", "thumbnail_url", "medium_url",
    "large_url", "full_url", "width", "height", "raw", "status", "first_seen_at",
)  # fmt: skip


def adapter() -> RawImagesAdapter:
    config = SourceConfig(
        name="perseverance",
        kind="raw_images",
        url="https://mars.nasa.gov/rss/api/",
        interval=600,
        jitter=0,
        category="mars2020",
    )
    return RawImagesAdapter(config, ("nasa.gov", "*.nasa.gov"))


def fresh_store(folder: Path, name: str) -> Store:
    store = Store(f"sqlite:///{folder / name}")
    store.upgrade()
    return store


def timed(fn: Callable[[], None]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def run_watcher(folder: Path, pages: list[list[dict[str, Any]]]) -> float:
    store = fresh_store(folder, "watcher.db")
    source = adapter()
    state = PollState(source="perseverance", cursor="2026-08-31T00:00:00Z")

    def ingest() -> None:
        for records in pages:
            found = []
            for record in records:
                result = source.normalise(record)
                if isinstance(result, CandidateData):
                    found.append(result)
            store.save_poll_page(found, NOW, state)

    seconds = timed(ingest)
    assert store.count_candidates() == sum(map(len, pages))
    store.close()
    return seconds


def run_watcher_from_bytes(folder: Path, bodies: list[bytes]) -> float:
    store = fresh_store(folder, "watcher-bytes.db")
    source = adapter()
    request = source.listing_request("2026-08-31T00:00:00Z")
    state = PollState(source="perseverance")

    def ingest() -> None:
        for body in bodies:
            page = source.parse_page(body, request)
            store.save_poll_page(page.candidates, NOW, state)

    seconds = timed(ingest)
    store.close()
    return seconds


def baseline_rows(pages: list[list[dict[str, Any]]]) -> list[list[tuple[Any, ...]]]:
    """The same rows watcher stores, built before the clock starts."""
    source = adapter()
    seen = sqlite_timestamp(NOW)
    result = []
    for records in pages:
        rows = []
        for record in records:
            c = source.normalise(record)
            assert isinstance(c, CandidateData)
            rows.append(
                (
                    c.source, c.external_id, c.mission, c.title, c.caption, c.credit, c.camera,
                    c.sol, sqlite_timestamp(c.taken_at), c.mars_local_time,
                    sqlite_timestamp(c.received_at), c.page_url, c.thumbnail_url, c.medium_url,
                    c.large_url, c.full_url, c.width, c.height, orjson.dumps(c.raw).decode(),
                    "new", seen,
                )
            )  # fmt: skip
        result.append(rows)
    return result


def run_baseline(folder: Path, pages: list[list[tuple[Any, ...]]]) -> float:
    fresh_store(folder, "plain.db").close()  # the identical schema, by the same migration
    connection = sqlite3.connect(folder / "plain.db", isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    sql = (
        f"INSERT INTO candidates ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
        " ON CONFLICT (source, external_id) DO NOTHING"
    )

    def ingest() -> None:
        for rows in pages:
            connection.execute("BEGIN")
            connection.executemany(sql, rows)
            connection.execute("COMMIT")

    seconds = timed(ingest)
    connection.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of R runs of each")
    args = parser.parse_args()

    data = SyntheticRawImages(args.records, per_sol=300)
    records = [data.record(i) for i in range(args.records)]
    pages = [records[i : i + PAGE] for i in range(0, len(records), PAGE)]
    bodies = [orjson.dumps({"images": page, "per_page": str(PAGE)}) for page in pages]
    rows = baseline_rows(pages)
    json_bytes = sum(len(orjson.dumps(r)) for r in records[:1000]) / min(1000, len(records))
    gc.collect()
    gc.freeze()

    best: dict[str, float] = {}
    for _ in range(args.repeat):
        for name, fn in (
            ("baseline", lambda folder: run_baseline(folder, rows)),
            ("watcher", lambda folder: run_watcher(folder, pages)),
            ("watcher_bytes", lambda folder: run_watcher_from_bytes(folder, bodies)),
        ):
            with tempfile.TemporaryDirectory() as tmp:
                seconds = fn(Path(tmp))
            best[name] = min(best.get(name, float("inf")), seconds)

    rate = {name: args.records / seconds for name, seconds in best.items()}
    ratio = rate["watcher"] / rate["baseline"]
    report(
        "ingest",
        {
            "records": args.records,
            "page_size": PAGE,
            "raw_json_bytes_per_record": round(json_bytes),
            "repeat": args.repeat,
            "baseline_executemany_records_per_s": round(rate["baseline"]),
            "watcher_normalise_store_records_per_s": round(rate["watcher"]),
            "watcher_parse_normalise_store_records_per_s": round(rate["watcher_bytes"]),
            "ratio": round(ratio, 3),
            "ratio_with_json_decoding": round(rate["watcher_bytes"] / rate["baseline"], 3),
            "target_ratio": 0.5,
            "meets_target": ratio >= 0.5,
        },
    )


if __name__ == "__main__":
    main()
