"""Publishing a 10,000-entry running list into SQLite, and approval -> page latency.

N entries (default 10,000; one candidate each, every paragraph different so no Markdown
cache flatters the figures) are generated inside SQLite, then three publishes are timed:

- ``cold``: the first publish ever, fresh process state and an empty ``cache_dir``
  (every piece rendered, every file written);
- ``restart``: a new Watcher (module caches cleared, as after a restart, but the
  ``cache_dir`` and the site kept), one entry edited, then its first publish;
- ``republish``: the same process, one more entry edited, publish again.

Each reports read (snapshot of the list), diff, commit (edition transaction), render (of
which ``page_and_feeds``: the index pages plus feed.atom and feed.json), write (version
directory and swap; of it ``sync``, making new files durable), cache (keeping rendered
pieces for a restart) and total, in seconds, with the files written and hardlinked.
Targets: republish total < 1 s, page + feeds < 1 s, cold as low as it goes.

Then ``approval``: R times (default 20), an editor approves one more candidate through
the facade and ``publish()`` runs at once (debounce 0); the figure is the time from the
approval call until the new heading is in the served files. Target: p50 < 2 s.

Last, ``mail`` (bench/mail.py): 10,000 mails to an aiosmtpd sink on 127.0.0.1, through
the SMTP channel alone and through the whole outbox worker. Target: >= 300 messages/s.

    .venv/bin/python bench/publish.py [--entries N] [--approvals R] [--mails M]

JSON on stdout, a short table on stderr. ``main(argv)`` returns the results dict, so
another script can add sections (mail).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from watcher import markup
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
            printf('Look **left**: the plume rises about *half a kilometre* (frame %d). '
                || 'See [NASA](https://mars.nasa.gov/).', i),
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


PHASE_KEYS = ("read", "diff", "commit", "render", "page_and_feeds", "write", "cache", "total")


def phase(report: Any, elapsed: float) -> dict[str, Any]:
    """One publish's figures (seconds, rounded) and what its writer did."""
    timings = dict(report.timings)
    figures: dict[str, Any] = {k: round(timings[k], 3) for k in PHASE_KEYS if k in timings}
    figures["total"] = round(timings.get("total", elapsed), 3)
    site = report.site
    if site is not None:
        figures["sync"] = round(getattr(site, "synced", 0.0), 3)
        figures["files_written"] = site.written
        figures["files_linked"] = site.linked
    return figures


def forget_process_state() -> None:
    """What a restart loses besides the Watcher: module-level caches of rendered text."""
    for cached in (markup.render_markdown, markup.plain_text):
        clear = getattr(cached, "cache_clear", None)
        if clear is not None:
            clear()


async def timed_publish(watcher: Watcher) -> tuple[Any, float]:
    started = time.perf_counter()
    report = await watcher.publish()
    elapsed = time.perf_counter() - started
    assert report.edition is not None and report.site is not None, report
    return report, elapsed


def edit(watcher: Watcher, entry_id: int, heading: str) -> None:
    entry = watcher.get_entry(entry_id)
    draft = EntryDraft(heading=heading, body=entry.body or "Edited for the bench.")
    watcher.edit_entry(entry.id, entry.version, draft, EDITOR)


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

    forget_process_state()
    results["cold"] = phase(*await timed_publish(watcher))
    await watcher.aclose()

    forget_process_state()
    watcher = make_watcher(settings)
    edit(watcher, entries // 2, "Edited after a restart")
    results["restart"] = phase(*await timed_publish(watcher))

    edit(watcher, entries // 3, "Edited for the bench")
    results["republish"] = phase(*await timed_publish(watcher))

    spare = [c.id for c in watcher.list_candidates(limit=None)][:approvals]
    latencies = []
    for number, candidate in enumerate(spare):
        heading = f"Approved in the bench, number {number}"
        started = time.perf_counter()
        draft = EntryDraft(heading=heading, body="Written for the bench.")
        made = watcher.approve([candidate], draft, EDITOR)
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


def table(results: dict[str, Any]) -> None:
    """The short table: one row a publish, one column a stage (seconds)."""
    columns = (*PHASE_KEYS[:-1], "sync", "total", "files_written", "files_linked")
    heads = [c.replace("page_and_feeds", "page+feeds").replace("files_", "") for c in columns]
    print(f"\npublish ({results['entries']:,} entries)", file=sys.stderr)
    print(f"  {'':<10}" + "".join(f"{h:>11}" for h in heads), file=sys.stderr)
    for name in ("cold", "restart", "republish"):
        row = results.get(name, {})
        cells = "".join(f"{row.get(c, '-'):>11}" for c in columns)
        print(f"  {name:<10}{cells}", file=sys.stderr)
    if "approvals" in results:
        print(
            f"  approval -> page updated (debounce 0, {results['approvals']} runs): "
            f"p50 {results['approval_to_page_p50_s']} s, "
            f"p95 {results['approval_to_page_p95_s']} s",
            file=sys.stderr,
        )
    if "mail" in results:
        mail = results["mail"]
        print(
            f"  {mail['mails']:,} mails to a local SMTP sink (target >= 300/s): "
            f"channel {mail['channel_messages_per_s']}/s, "
            f"whole worker (claim, build, send, mark) {mail['worker_messages_per_s']}/s",
            file=sys.stderr,
        )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--approvals", type=int, default=20)
    parser.add_argument(
        "--mails", type=int, default=10_000, help="mails to a local SMTP sink (0: skip)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="watcher-bench-publish-") as folder:
        results = asyncio.run(run(args.entries, args.approvals, Path(folder)))
    if args.mails:
        from mail import mail_throughput, outbox_throughput  # bench/mail.py, beside this file

        results["mail"] = {
            "mails": args.mails,
            **mail_throughput(args.mails),
            **outbox_throughput(args.mails),
        }
    print(json.dumps({"benchmark": "publish", **results}))
    table(results)
    return results


if __name__ == "__main__":
    main()
