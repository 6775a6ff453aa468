"""What the database says about the service's state at one moment, for ``/metrics``.

Read at scrape time (``watcher.metrics``) rather than counted in memory, so every replica
reports the same backlog, and a restart loses nothing. Kept to what a few indexed queries
answer: a scrape must stay cheap at a million candidates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class OperationsFigures:
    """``candidates``: how many per status (as stored); ``oldest_new_at``: when the oldest
    candidate still waiting for an editor arrived (None: the queue is empty);
    ``editions`` and ``latest_edition``: how many there are and the newest (None before
    the first publish), ``latest_published_at`` its moment; ``deliveries``: outbox rows per
    (channel, status), as stored."""

    candidates: Mapping[str, int] = field(default_factory=dict)
    oldest_new_at: datetime | None = None
    editions: int = 0
    latest_edition: int | None = None
    latest_published_at: datetime | None = None
    deliveries: Mapping[tuple[str, str], int] = field(default_factory=dict)
