"""One cycle's sending, free of the database: run the jobs through their channels.

Why separate from the facade: the concurrency rules are the delicate part and deserve to
be readable on their own:

- at most ``concurrency`` sends at a time, over all channels;
- each send is bounded by ``time_limit(channel)``, so a receiver that hangs costs one
  slot for that long and never delays the others beyond it;
- a channel reporting itself ``broken`` (the SMTP server is down) fails the rest of its
  jobs at once, without trying each;
- a job not started before ``deadline`` (monotonic seconds: most of the lease) is
  released unattempted, so no send starts after another worker may own the row;
- outcomes are handed to ``record`` in batches, at least every ``mark_every`` seconds,
  so a crash loses (and later repeats) only the last fraction of a second of marks.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from watcher.config import DeliveryConfig, Settings
from watcher.deliver import links, outbox
from watcher.deliver.channels.smtp import SmtpChannel
from watcher.deliver.channels.team import TeamChannel
from watcher.deliver.channels.webhook import WebhookChannel
from watcher.deliver.channels.websub import WebSubChannel
from watcher.deliver.dispatch import Job
from watcher.exceptions import DeliveryError
from watcher.fetch import Fetcher
from watcher.types import Delivery, DeliveryChannel, DeliveryStatus

Outcome = tuple[Delivery, DeliveryError | None]


async def send_all(
    jobs: Sequence[Job],
    channels: Mapping[DeliveryChannel, Any],
    *,
    concurrency: int,
    deadline: float,
    time_limit: Callable[[DeliveryChannel], float],
    record: Callable[[list[Outcome]], Awaitable[None]],
    mark_every: float = 0.25,
) -> list[int]:
    """Send every job (none may be a skip); returns the ids released unattempted."""
    slots = asyncio.Semaphore(max(1, concurrency))
    broken: dict[DeliveryChannel, str] = {}
    results: list[Outcome] = []
    released: list[int] = []

    async def send(job: Job) -> None:
        row = job.delivery
        async with slots:
            if time.monotonic() > deadline:
                released.append(row.id)
                return
            error: DeliveryError | None = None
            if row.channel in broken:
                error = DeliveryError(broken[row.channel])
            else:
                try:
                    async with asyncio.timeout(time_limit(row.channel)):
                        await channels[row.channel].send(row.key, job.payload)
                except DeliveryError as exc:
                    error = exc
                    if exc.broken:
                        broken[row.channel] = str(exc)
                except TimeoutError:
                    error = DeliveryError("no answer within the time limit")
            results.append((row, error))

    async def flush() -> None:
        batch = results[:]
        del results[: len(batch)]
        if batch:
            await record(batch)

    async def marker() -> None:
        while True:
            await asyncio.sleep(mark_every)
            await flush()

    task = asyncio.create_task(marker())
    try:
        await asyncio.gather(*(send(job) for job in jobs))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await flush()
    return released


def make_channels(
    settings: Settings, fetcher: Fetcher, clock: Callable[[], datetime]
) -> dict[DeliveryChannel, Any]:
    """One channel per kind of delivery (mail and confirmation share the SMTP pool)."""
    smtp = SmtpChannel(
        settings.email,
        password=os.environ.get(settings.email.password_env),
        pool_size=settings.delivery.concurrency,
    )
    feed = links.feed_url(settings.base_url)
    return {
        DeliveryChannel.EMAIL: smtp,
        DeliveryChannel.CONFIRM: smtp,
        DeliveryChannel.WEBHOOK: WebhookChannel(fetcher, settings.webhooks, clock),
        DeliveryChannel.WEBSUB: WebSubChannel(fetcher, feed, timeout=settings.webhooks.timeout),
        DeliveryChannel.APPRISE: TeamChannel(settings.apprise.urls),
    }


def time_limit(settings: Settings, channel: DeliveryChannel) -> float:
    """The most one send may take, whatever the channel does: a guard above each
    channel's own timeouts (SMTP: connect, then MAIL, RCPT and DATA)."""
    if channel in (DeliveryChannel.EMAIL, DeliveryChannel.CONFIRM):
        return settings.email.timeout * 3
    if channel is DeliveryChannel.APPRISE:
        return 60.0
    return settings.webhooks.timeout + 5.0


@dataclass(slots=True)
class Judged:
    """What to write for a batch of outcomes."""

    sent_ids: list[int] = field(default_factory=list)
    outcomes: list[tuple[int, DeliveryStatus, datetime, str]] = field(default_factory=list)
    webhooks: list[tuple[int, str | None]] = field(default_factory=list)
    sent: int = 0
    failed: int = 0
    dead: int = 0


def judge(
    batch: Sequence[Outcome], now: datetime, config: DeliveryConfig, rand: Callable[[], float]
) -> Judged:
    """Sent, or (by ``outbox.after_failure``) pending again later or dead; and each
    webhook's success or failure, for its consecutive-failure count."""
    judged = Judged()
    for row, error in batch:
        if row.channel is DeliveryChannel.WEBHOOK and row.target.isdigit():
            judged.webhooks.append((int(row.target), str(error)[:500] if error else None))
        if error is None:
            judged.sent_ids.append(row.id)
            judged.sent += 1
            continue
        failure = outbox.after_failure(
            row.attempts, str(error), now, config, rand(),
            permanent=error.permanent, retry_after=error.retry_after,
        )  # fmt: skip
        judged.outcomes.append(
            (row.id, failure.status, failure.next_attempt_at, failure.last_error)
        )
        if failure.status is DeliveryStatus.DEAD:
            judged.dead += 1
        else:
            judged.failed += 1
    return judged
