"""The bench server's own loopback capacity: how many requests a second the NASA emulator
(``watcher.demo.NasaEmulator``, the server ``bench/backfill.py`` polls) answers when the
client does nothing but ask. It bounds every figure measured against it: a poll or a
backfill cannot go faster than the server answers.

The emulator runs in this process, as in the other benchmarks; the client is a plain
httpx loop in a child process (one request at a time, as watcher asks one host), timed
by the child. Four answers:

- ``raw page``: a raw-images listing page of 100 records (about 220 KB of JSON), the
  connection kept alive: backfill's request;
- ``rss 200, new connection``: an RSS feed of 50 items, a new connection each time (as
  watcher and reader both poll today: ``Connection: close``);
- ``rss 304``: the same feed asked with its ETag (``If-None-Match``), answered 304, kept
  alive: an unchanged feed's poll;
- ``rss 304, new connection``: the same, a connection each.

No target: these are limits, printed beside the figures they bound.

    python bench/loopback.py [--requests N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from common import report, result

from watcher.demo import NasaEmulator, SyntheticRawImages

CLIENT = """
import json, sys, time
import httpx
url, count, headers = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
with httpx.Client(headers=headers, timeout=30) as client:
    expected = client.get(url).status_code  # the first request opens the connection
    started = time.perf_counter()
    size = 0
    for _ in range(count):
        answer = client.get(url)
        assert answer.status_code == expected, answer.status_code
        size += len(answer.content)
    elapsed = time.perf_counter() - started
print(json.dumps({"status": expected, "seconds": elapsed, "bytes": size // count}))
"""


def rss_feed(items: int) -> bytes:
    """An RSS 2.0 feed of ``items`` items, as a WordPress blog serves one."""
    start = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    entries = "".join(
        f"<item><title>Post {n}: a dust devil on sol {1000 + n}</title>"
        f"<link>https://blog.example/posts/{n}/</link>"
        f"<guid isPermaLink='false'>https://blog.example/?p={n}</guid>"
        f"<pubDate>{format_datetime(start - timedelta(hours=n))}</pubDate>"
        f"<description>{'A whirl of dust crosses the crater floor. ' * 8}</description>"
        "</item>"
        for n in range(items)
    )
    return (
        "<?xml version='1.0' encoding='UTF-8'?><rss version='2.0'><channel>"
        "<title>Bench blog</title><link>https://blog.example/</link>"
        f"<description>Fifty posts</description>{entries}</channel></rss>"
    ).encode()


def client_loop(url: str, count: int, headers: dict[str, str]) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CLIENT, url, str(count), json.dumps(headers)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"the client failed: {done.stderr[-2000:]}")
    found: dict[str, float] = json.loads(done.stdout)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()

    raw = {"mars2020": SyntheticRawImages(100_000, per_sol=500)}
    with NasaEmulator(raw_images=raw, rss={"bench": rss_feed(50)}) as nasa:
        feed = nasa.rss_url("bench")
        import httpx  # only to learn the feed's ETag once, before the timed loops

        etag = httpx.get(feed).headers["etag"]
        page = f"{nasa.raw_images_url}?feed=raw_images&category=mars2020&feedtype=json&num=100"
        close = {"Connection": "close"}
        cases = {
            "raw page": (page, {}),
            "rss 200, new connection": (feed, close),
            "rss 304": (feed, {"If-None-Match": etag}),
            "rss 304, new connection": (feed, {"If-None-Match": etag, **close}),
        }
        figures = {name: client_loop(url, args.requests, h) for name, (url, h) in cases.items()}

    rates = {name: args.requests / f["seconds"] for name, f in figures.items()}
    rows = [
        result(
            f"loopback emulator: {name} (requests/s)",
            round(rates[name]),
            "requests/s",
            detail=f"{args.requests:,} requests, HTTP {int(f['status'])}, "
            f"{int(f['bytes']):,} bytes each; plain httpx loop in another process",
            better="higher",
        )
        for name, f in figures.items()
    ]
    report(
        "loopback",
        {
            "requests": args.requests,
            **{f"{name} requests_per_s": round(rate) for name, rate in rates.items()},
            **{f"{name} bytes": int(f["bytes"]) for name, f in figures.items()},
        },
        rows=rows,
    )


if __name__ == "__main__":
    main()
