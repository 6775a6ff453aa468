"""Mail throughput: N edition mails (default 10,000) to a local SMTP sink (aiosmtpd in
this process, counting and discarding), connections pooled and reused. Target: >= 300
messages/s.

Two figures:

- ``channel`` (``mail_throughput``): the SMTP channel alone. N mails are stamped from the
  edition's template first, as the worker does (timed apart as ``channel_build_seconds``),
  then sent through ``SmtpChannel`` with ``concurrency`` connections.
- ``worker`` (``outbox_throughput``): the whole worker on a SQLite file: the edition's
  N outbox rows, drained by ``deliver_pending`` cycles (claim with a lease, load, stamp,
  send, mark sent in batches) until all are sent.

One JSON object on stdout, a short table on stderr.

    python bench/mail.py [--mails N] [--concurrency C] [--no-outbox]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import insert

from watcher.config import EmailConfig, settings_from_dict
from watcher.core import make_watcher
from watcher.db.schema import entries, subscribers
from watcher.deliver.channels import email
from watcher.deliver.channels.smtp import SmtpChannel
from watcher.plans import EditionPlan
from watcher.types import Edition, PublishedEntry

TARGET = 300
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
BASE_URL = "https://m.example"
# Three new entries, headings not all ASCII, as a real edition mail (about 4 KB).
ENTRIES = [
    {
        "id": n,
        "heading": f"Dust devil crossing Jezero's floor \u2013 sol {1000 + n}",
        "body": "A *whirl* of dust, seen by the navigation camera. " * 3,
        "alt_text": "A faint column of dust over a rocky plain",
        "credit": "NASA/JPL-Caltech",
        "position": n,
    }
    for n in (1, 2, 3)
]
EDITION = Edition(
    number=1, published_at=NOW, added=(1, 2, 3), changed=(), removed=(), reordered=False,
    site_changed=False, entries=3, audit_id=0,
)  # fmt: skip


def _published(row: dict[str, Any]) -> PublishedEntry:
    return PublishedEntry(
        **row, rendition="large", frames=(), mission=None, camera=None, sol=None,
        mars_local_time=None, taken_at=None, nasa_page_url=None, created_at=NOW, updated_at=NOW,
    )  # fmt: skip


class Sink:
    """Counts (mails and bytes) and discards."""

    def __init__(self) -> None:
        self.count = 0
        self.bytes = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        self.bytes += len(envelope.content)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _send_all(channel: SmtpChannel, messages: list[Any], concurrency: int) -> None:
    slots = asyncio.Semaphore(concurrency)

    async def one(key: str, message: Any) -> None:
        async with slots:
            await channel.send(key, message)

    try:
        await asyncio.gather(*(one(f"m{i}", m) for i, m in enumerate(messages)))
    finally:
        await channel.aclose()


def mail_throughput(n: int = 10_000, concurrency: int = 8) -> dict[str, Any]:
    """Send ``n`` stamped mails through ``SmtpChannel`` to a local sink."""
    sink = Sink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        started = time.perf_counter()
        published = [_published(row) for row in ENTRIES]
        mail = email.render_edition(EDITION, published, title="Mars", base_url=BASE_URL)
        template = email.MailTemplate.build(mail, sender="list@m.example", base_url=BASE_URL)
        assert template is not None
        messages = [
            template.stamp(
                key=f"e1-email-s{i}",
                recipient=f"r{i}@example.org",
                unsubscribe=f"{BASE_URL}/unsubscribe?token=u{i}.{'x' * 43}",
                now=NOW,
            )
            for i in range(n)
        ]
        built = time.perf_counter() - started
        config = EmailConfig(enabled=True, smtp_port=port, security="none", timeout=10.0)
        channel = SmtpChannel(config, password=None, pool_size=concurrency)
        started = time.perf_counter()
        asyncio.run(_send_all(channel, messages, concurrency))
        elapsed = time.perf_counter() - started
    finally:
        controller.stop()
    assert sink.count == n, f"sink received {sink.count} of {n}"
    return {
        "channel_mails": n,
        "channel_connections": channel.connections_opened,
        "channel_mail_bytes": sink.bytes // max(1, sink.count),
        "channel_build_seconds": round(built, 3),
        "channel_seconds": round(elapsed, 3),
        "channel_messages_per_s": round(n / elapsed, 1),
    }


def outbox_throughput(n: int = 10_000, concurrency: int = 8) -> dict[str, Any]:
    """The whole worker: ``deliver_pending`` until ``n`` enqueued mails are sent."""
    sink = Sink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = settings_from_dict(
                {
                    "database": {"url": f"sqlite:///{Path(tmp) / 'bench.db'}"},
                    "server": {"public_url": BASE_URL},
                    "publish": {"site_dir": str(Path(tmp) / "site")},
                    "email": {"enabled": True, "smtp_port": port, "security": "none"},
                    "delivery": {"concurrency": concurrency},
                    "sources": [],
                },
                path=Path(tmp) / "watcher.toml",
            )
            watcher = make_watcher(settings, clock=lambda: NOW)
            watcher.prepare_database()
            with watcher.store.write() as connection:
                connection.execute(
                    insert(subscribers),
                    [
                        {"email": f"r{i}@example.org", "status": "confirmed", "created_at": NOW}
                        for i in range(n)
                    ],
                )
                connection.execute(
                    insert(entries),
                    [
                        {**row, "created_by": "bench", "created_at": NOW}
                        | {"updated_by": "bench", "updated_at": NOW}
                        for row in ENTRIES
                    ],
                )
            plan = EditionPlan(
                number=1,
                published_at=NOW,
                added=EDITION.added,
                changed=(),
                removed=(),
                reordered=False,
                site_changed=False,
                current=(),
                stored={},
                site_digest="",
                audit_id=0,
                deliveries=tuple(watcher.delivery.edition_deliveries(1, True, NOW)),
            )
            _, enqueued = watcher.store.commit_edition(plan)

            async def drain() -> int:
                sent = 0
                try:
                    while sent < enqueued:
                        report = await watcher.deliver_pending()
                        if not report.claimed:
                            break
                        sent += report.sent
                finally:
                    await watcher.aclose()
                return sent

            started = time.perf_counter()
            sent = asyncio.run(drain())
            elapsed = time.perf_counter() - started
    finally:
        controller.stop()
    assert sink.count == sent == n, f"sink received {sink.count}, worker sent {sent} of {n}"
    return {
        "worker_mails": sent,
        "worker_mail_bytes": sink.bytes // max(1, sink.count),
        "worker_seconds": round(elapsed, 3),
        "worker_messages_per_s": round(sent / elapsed, 1),
    }


def _table(results: dict[str, Any]) -> str:
    rows = [("channel only", "channel")]
    if "worker_messages_per_s" in results:
        rows.append(("whole worker", "worker"))
    lines = [
        f"mail: {results['mails']:,} mails to a local SMTP sink, concurrency "
        f"{results['concurrency']}, target >= {TARGET} messages/s",
        f"  {'path':<14}{'mails':>8}{'seconds':>10}{'msg/s':>9}  target",
    ]
    for label, key in rows:
        rate = results[f"{key}_messages_per_s"]
        lines.append(
            f"  {label:<14}{results[f'{key}_mails']:>8,}{results[f'{key}_seconds']:>10.2f}"
            f"{rate:>9.1f}  {'met' if rate >= TARGET else 'MISSED'}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--mails", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--no-outbox", action="store_true", help="only the channel figure")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {
        "mails": args.mails,
        "concurrency": args.concurrency,
        "target_messages_per_s": TARGET,
    }
    results.update(mail_throughput(args.mails, args.concurrency))
    if not args.no_outbox:
        results.update(outbox_throughput(args.mails, args.concurrency))
    print(json.dumps({"benchmark": "mail", **results}), flush=True)
    print(f"\n{_table(results)}", file=sys.stderr)
    return results


if __name__ == "__main__":
    main()
