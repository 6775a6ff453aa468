"""Two replicas draining one outbox on PostgreSQL at the same time: every subscriber gets
the edition's mail once, and each replica sends part of it (claims never overlap)."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from tests.conftest import reset_postgres
from tests.deliver_support import ADMIN, approve_one, mail_watcher, publish_edition, smtp_server
from watcher.core import Watcher
from watcher.types import DeliveryChannel, DeliveryStatus

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(90)]

SUBSCRIBERS = 120


def replica(watcher_for: Any, url: str, port: int) -> Watcher:
    watcher: Watcher = mail_watcher(watcher_for, url, port)
    return watcher


async def drain(watcher: Watcher, batch: int) -> int:
    """Deliver in small batches until a cycle claims nothing; how many this replica sent."""
    sent = 0
    while True:
        report = await watcher.deliver_pending(limit=batch)
        sent += report.sent
        if report.claimed == 0:
            return sent
        await asyncio.sleep(0)


def test_two_replicas_send_each_mail_once(watcher_for: Any, postgres_database: str) -> None:
    reset_postgres(postgres_database)
    with smtp_server() as (sink, port):
        first = replica(watcher_for, postgres_database, port)
        second = replica(watcher_for, postgres_database, port)
        assert first.owner != second.owner
        for n in range(SUBSCRIBERS):
            first.add_subscriber(f"reader{n}@example.org", ADMIN, confirmed=True)
        entry_id = approve_one(first, 1)
        assert publish_edition(first, 1, (entry_id,)) == SUBSCRIBERS

        async def both() -> tuple[int, int]:
            a, b = await asyncio.gather(drain(first, 7), drain(second, 7))
            return a, b

        sent_first, sent_second = asyncio.run(both())

    assert sent_first + sent_second == SUBSCRIBERS
    assert sent_first > 0 and sent_second > 0
    recipients = Counter(str(message["To"]) for message in sink.messages)
    assert len(recipients) == SUBSCRIBERS
    assert set(recipients.values()) == {1}
    rows = first.list_deliveries(channel=DeliveryChannel.EMAIL, limit=1000)
    assert len(rows) == SUBSCRIBERS
    assert {row.status for row in rows} == {DeliveryStatus.SENT}
    assert {row.attempts for row in rows} == {1}
