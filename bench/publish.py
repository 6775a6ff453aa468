"""Publishing a 10,000-entry running list into SQLite, and approval -> page latency.

(a) ``publish``: N entries (default 10,000; one candidate each) are generated inside
    SQLite, then the first publish (every file written) and a republish after one edit
    (unchanged files hardlinked) are timed. Figures: render (page + permalinks + feeds)
    and write (version directory + swap) in seconds, and the publish's total including
    the database read and the edition transaction. Target: < 1 s.
(b) ``approval``: R times (default 20), an editor approves one more candidate through the
    facade and ``publish()`` runs at once (debounce 0); the figure is the time from the
    approval call until the new heading is in the served files (its permalink page and
    the last index page). Target: p50 < 2 s.

    python bench/publish.py [--entries N] [--approvals R]

``main(argv)`` returns the results dict, so another script can add sections (mail).
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from common import report

from watcher.config import settings_from_dict
from watcher.core import Watcher, make_watcher
from watcher.types import Actor, EntryDraft, Role

EDITOR = Actor("bench", Role.EDITOR)


def generate(db: Path, entries: int, spare: int) -> float:
    """``entries`` published entries of one candidate each, plus ``spare`` new candidates."""
    started = time.perf_counter()
    total = entries + spare
    connection = sqlite3.connect(db)
    connection.executescript(
        f"""
        WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {total})
        INSERT INTO candidates (id, source, external_id, mission, title, caption, credit,
            camera, sol, taken_at, mars_local_time, received_at, page_url, thumbnail_url,
            medium_url, large_url, full_url, width, height, status, first_seen_at, raw, version)
        SELECT i, 'perseverance', printf('NRF_%08d', i), 'perseverance',
            printf('Mars Perseverance Sol %d: Right Navigation Camera', 1000 + i / 50), '',
            'NASA/JPL-Caltech', 'NAVCAM_RIGHT', 1000 + i / 50,
            printf('2024-01-01 00:%02d:%02d.000000', (i / 60) % 60, i % 60), '15:28:38',
            '2024-01-02 00:00:00.000000',
            printf('https://mars.nasa.gov/mars2020/multimedia/raw-images/NRF_%08d', i),
            printf('https://mars.nasa.gov/raw/NRF_%08d_320.jpg', i),
            printf('https://mars.nasa.gov/raw/NRF_%08d_800.jpg', i),
            printf('https://mars.nasa.gov/raw/NRF_%08d_1200.jpg', i),
            printf('https://mars.nasa.gov/raw/NRF_%08d.png', i), 5120, 3840,
            CASE WHEN i <= {entries} THEN 'approved' ELSE 'new' END,
            '2024-01-02 00:00:00.000000', '{{}}', 1
        FROM seq;
        WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {entries})
        INSERT INTO entries (id, heading, body, alt_text, credit, rendition, position, status,
            version, created_by, created_at, updated_by, updated_at)
        SELECT i, printf('Entry %d: a dust devil crosses Jezero crater', i),
            'Look **left**: the plume rises about *half a kilometre*. See [NASA](https://mars.nasa.gov/).',
            printf('Navigation camera view %d', i), 'NASA/JPL-Caltech', 'large', i, 'published',
            1, 'bench', printf('2024-02-01 %02d:%02d:00.000000', (i / 60) % 24, i % 60),
            'bench', '2024-02-01 00:00:00.000000'
        FROM seq;
        INSERT INTO entry_candidates (entry_id, candidate_id, position)
            SELECT id, id, 0 FROM entries;
        """
    )
    connection.commit()
    connection.close()
    return time.perf_counter() - started


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def served(watcher: Watcher, entry_id: int, heading: str) -> bool:
    site = watcher.settings.site_dir
    try:
        permalink = (site / "entries" / f"{entry_id}.html").read_text()
    except OSError:
        return False
    return heading in permalink


async def run(entries: int, approvals: int, folder: Path) -> dict[str, Any]:
    db = folder / "watcher.db"
    settings = settings_from_dict(
        {
            "database": {"url": f"sqlite:///{db}"},
            "publish": {"site_dir": str(folder / "site"), "debounce": 0,
                        "cache_dir": str(folder / "cache")},
            "sources": [],
        },
        path=folder / "watcher.toml",
    )  # fmt: skip
    watcher = make_watcher(settings)
    watcher.prepare_database()
    generated = generate(db, entries, approvals)
    results: dict[str, Any] = {"entries": entries, "generate_s": round(generated, 3)}

    first = await watcher.publish()
    assert first.edition is not None and first.site is not None
    results["first_render_s"] = round(first.timings["render"], 3)
    results["first_write_s"] = round(first.timings["write"], 3)
    results["first_page_and_feeds_s"] = round(first.timings["render"] + first.timings["write"], 3)
    results["first_total_s"] = round(first.timings["total"], 3)
    results["first_files_written"] = first.site.written

    entry = watcher.get_entry(entries // 2)
    watcher.edit_entry(entry.id, entry.version, EntryDraft(heading="Edited for the bench"), EDITOR)
    again = await watcher.publish()
    assert again.edition is not None and again.site is not None
    results["republish_render_s"] = round(again.timings["render"], 3)
    results["republish_write_s"] = round(again.timings["write"], 3)
    results["republish_page_and_feeds_s"] = round(
        again.timings["render"] + again.timings["write"], 3
    )
    results["republish_total_s"] = round(again.timings["total"], 3)
    results["republish_timings"] = {k: round(v, 3) for k, v in again.timings.items()}
    results["republish_files_written"] = again.site.written
    results["republish_files_linked"] = again.site.linked

    spare = [c.id for c in watcher.list_candidates(limit=None)][:approvals]
    latencies = []
    for number, candidate in enumerate(spare):
        heading = f"Approved in the bench, number {number}"
        started = time.perf_counter()
        made = watcher.approve([candidate], EntryDraft(heading=heading), EDITOR)
        await watcher.publish()
        # publish() returns after the swap: the files are served now, or something is wrong.
        assert served(watcher, made.id, heading), f"entry {made.id} not in the site"
        latencies.append(time.perf_counter() - started)
    if latencies:
        results["approvals"] = len(latencies)
        results["approval_to_page_p50_s"] = round(statistics.median(latencies), 3)
        results["approval_to_page_p95_s"] = round(percentile(latencies, 0.95), 3)
    await watcher.aclose()
    return results


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--approvals", type=int, default=20)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="watcher-bench-publish-") as folder:
        results = asyncio.run(run(args.entries, args.approvals, Path(folder)))
    report("publish", results)
    return results


if __name__ == "__main__":
    main()
