"""The outbox's rules, pure (``now`` and randomness passed in).

Who receives an edition, the idempotency key of each delivery, and what happens after a
failed attempt. The facade part writes these decisions to the ``deliveries`` table.

Keys are stable: the same (edition, channel, receiver) always gives the same key, and the
table keeps keys unique, so an edition can never be enqueued twice for one receiver. The
key travels with the message (the email's Message-ID, the webhook's ``X-Watcher-Delivery``
header), so a receiver can recognise a resend.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from watcher.config import DeliveryConfig
from watcher.limits import MAX_TARGET
from watcher.plans import NewDelivery
from watcher.types import DeliveryChannel, DeliveryStatus

MAX_ERROR = 500
TEAM_TARGET = "team"
CANDIDATES_TARGET = "candidates"
# New candidates are announced at most once per window, a minute after the first of them,
# so a busy poll (hundreds of inserts in a few pages) makes one notice, not hundreds.
CANDIDATE_NOTICE_WINDOW = timedelta(minutes=10)
CANDIDATE_NOTICE_DELAY = timedelta(minutes=1)
_SHORT_ID = re.compile(r"[A-Za-z0-9._]{1,24}")


@dataclass(frozen=True, slots=True)
class Failure:
    """What to write after a failed attempt."""

    status: DeliveryStatus
    next_attempt_at: datetime
    last_error: str


def delivery_key(edition: int | None, channel: DeliveryChannel, receiver: str) -> str:
    """``e12-email-s345``; a receiver that is not a short id (a hub URL) is hashed."""
    ident = receiver if _SHORT_ID.fullmatch(receiver) else _digest(receiver)
    return f"e{edition}-{channel.value}-{ident}" if edition is not None else f"{channel}-{ident}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def plan_edition(
    number: int,
    adds: bool,
    now: datetime,
    *,
    subscribers: Sequence[tuple[int, str]],
    webhooks: Sequence[int],
    hubs: Sequence[str],
    team: bool,
) -> list[NewDelivery]:
    """One delivery per receiver of edition ``number`` (``adds``: it adds entries).

    ``subscribers`` are the confirmed (id, address) pairs; pass none when email is off.
    Mail goes out only when the edition added entries (a mail with nothing new is noise);
    webhooks, hubs and the team channel hear of every edition.
    """
    rows: list[NewDelivery] = []

    def add(channel: DeliveryChannel, target: str, receiver: str) -> None:
        rows.append(
            NewDelivery(number, channel, target, delivery_key(number, channel, receiver), now)
        )

    if adds:
        for subscriber_id, address in subscribers:
            add(DeliveryChannel.EMAIL, address, f"s{subscriber_id}")
    for webhook_id in webhooks:
        add(DeliveryChannel.WEBHOOK, str(webhook_id), f"w{webhook_id}")
    for hub in hubs:
        if len(hub) <= MAX_TARGET:
            add(DeliveryChannel.WEBSUB, hub, hub)
    if team:
        add(DeliveryChannel.APPRISE, TEAM_TARGET, TEAM_TARGET)
    return rows


def confirmation(now: datetime) -> NewDelivery:
    """The mail with a subscriber's confirmation link (one per request: the key carries the
    request's time, so asking again after unsubscribing sends a new one). The store fills
    in the subscriber (``{subscriber}`` in the key, the empty target) in the transaction
    that creates or renews the subscription."""
    stamp = now.strftime("%Y%m%dT%H%M%S%f")
    return NewDelivery(None, DeliveryChannel.CONFIRM, "", f"confirm-s{{subscriber}}-{stamp}", now)


def candidate_notice(now: datetime) -> NewDelivery:
    """The team's "new candidates are waiting" notice for the window holding ``now``.

    The key names the window, so every call in that window (from any replica) maps to the
    same row and the insert of all but the first is a no-op.
    """
    window = int(now.timestamp() // CANDIDATE_NOTICE_WINDOW.total_seconds())
    return NewDelivery(
        None,
        DeliveryChannel.APPRISE,
        CANDIDATES_TARGET,
        f"apprise-candidates-{window}",
        now + CANDIDATE_NOTICE_DELAY,
    )


def retry_delay(attempts: int, config: DeliveryConfig, rand: float) -> float:
    """Seconds before attempt ``attempts + 1``: ``retry_base`` doubled per attempt, plus up to
    50 % jitter (so receivers that failed together do not all come back together), always
    within [``retry_base``, ``retry_max``]."""
    exponent = min(max(attempts - 1, 0), 60)
    ceiling = min(config.retry_max, config.retry_base * 2.0**exponent)
    return max(config.retry_base, min(config.retry_max, ceiling * (1.0 + 0.5 * rand)))


def after_failure(
    attempts: int,
    error: str,
    now: datetime,
    config: DeliveryConfig,
    rand: float,
    *,
    permanent: bool = False,
    retry_after: float | None = None,
) -> Failure:
    """``attempts`` counts the one that just failed. Dead when it cannot help to try again
    or after ``max_attempts``; otherwise pending again after the backoff (or the receiver's
    ``Retry-After``, when longer, up to ``retry_max``)."""
    error = " ".join(error.split())[:MAX_ERROR] or "failed"
    if permanent:
        return Failure(DeliveryStatus.DEAD, now, f"gave up: {error}"[:MAX_ERROR])
    if attempts >= config.max_attempts:
        return Failure(
            DeliveryStatus.DEAD, now, f"gave up after {attempts} attempts: {error}"[:MAX_ERROR]
        )
    delay = retry_delay(attempts, config, rand)
    if retry_after is not None:
        delay = max(delay, min(retry_after, config.retry_max))
    return Failure(DeliveryStatus.PENDING, now + timedelta(seconds=delay), error)
