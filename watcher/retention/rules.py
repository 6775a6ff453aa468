"""Retention's rules, pure (``now`` passed in): what a prune at a moment removes, what a
candidate's pruned record keeps, which cache files go, and when the service prunes next.

- **The plan.** Each kind's age (``[retention]``) becomes a moment: what is older goes. A
  kind kept for ever (``"never"``) is left out of the plan. Expired sessions have no age:
  a session past its end is of no use to anyone.
- **A pruned record** keeps only what curation's score reads of it beyond the candidate's
  columns (NASA's ``subframeRect`` and ``scaleFactor``, see ``curate.score._frame_area``),
  so a long-unreviewed candidate scores the same after pruning, and a mark saying when
  it was pruned. The candidate's row stays: its source and external id are what every
  poll's insert checks, so a pruned candidate is never stored again nor queued anew.
- **Cache files** go when older than their kind's moment (by modification time: a picture
  is written once, a failure record again at each failed attempt), except the pictures of
  candidates in entries, by the names ``cache_layout`` gives their URLs.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime, timedelta
from re import Pattern
from typing import Any

from watcher.cache_layout import picture_name
from watcher.config import RetentionConfig
from watcher.plans import PrunePlan
from watcher.types import PRUNED_MARK, JSONObject, PruneKind
from watcher.urls import clean_url

# Each kind's age in RetentionConfig (expired sessions have none: see the module doc).
AGES: Mapping[PruneKind, str] = {
    PruneKind.REJECTED_RECORDS: "rejected_records",
    PruneKind.UNREVIEWED_RECORDS: "unreviewed_records",
    PruneKind.PICTURE_CACHE: "picture_cache",
    PruneKind.FAILED_ANIMATIONS: "failed_animations",
    PruneKind.SENT_DELIVERIES: "sent_deliveries",
    PruneKind.AUDIT_LOG: "audit_log",
    PruneKind.SUBSCRIBE_ATTEMPTS: "subscribe_attempts",
    PruneKind.UNCONFIRMED_SUBSCRIBERS: "unconfirmed_subscribers",
}
# Kinds whose candidates' records are compacted, kinds whose rows are deleted whole (the
# rest: expired sessions, and the two kinds of cache files).
RECORD_KINDS = (PruneKind.REJECTED_RECORDS, PruneKind.UNREVIEWED_RECORDS)
ROW_KINDS = (
    PruneKind.SENT_DELIVERIES,
    PruneKind.AUDIT_LOG,
    PruneKind.SUBSCRIBE_ATTEMPTS,
    PruneKind.UNCONFIRMED_SUBSCRIBERS,
)
# What the score reads of a record (curate.score._frame_area): kept in a pruned record.
SCORED: Mapping[str, tuple[str, ...]] = {"extended": ("subframeRect", "scaleFactor")}


def plan(config: RetentionConfig, now: datetime) -> PrunePlan:
    """The prune at ``now``: for each kind not kept for ever, the moment before which it
    goes (expired sessions: ``now`` itself)."""
    before: dict[PruneKind, datetime] = {}
    for kind in PruneKind:
        if kind is PruneKind.EXPIRED_SESSIONS:
            before[kind] = now
            continue
        age: float | None = getattr(config, AGES[kind])
        if age is not None:
            before[kind] = now - timedelta(seconds=age)
    return PrunePlan(now=now, before=before, batch=config.batch)


def due(last_run: datetime | None, now: datetime, interval: float) -> bool:
    """Whether the service prunes now: never pruned, or ``interval`` since the last prune
    (by any replica). A last prune in the future (a clock set back) counts as long ago."""
    return last_run is None or last_run > now or now - last_run >= timedelta(seconds=interval)


def next_due(last_run: datetime | None, now: datetime, interval: float) -> datetime:
    """When the service prunes next (``now`` when due already)."""
    if due(last_run, now, interval):
        return now
    assert last_run is not None
    return last_run + timedelta(seconds=interval)


def compact_record(record: Mapping[str, Any], now: datetime) -> JSONObject:
    """What a candidate's record becomes when pruned: the parts the score reads, if the
    record had them, and ``PRUNED_MARK`` with ``now``."""
    kept: dict[str, Any] = {}
    for key, names in SCORED.items():
        value = record.get(key)
        if isinstance(value, Mapping):
            part = {name: value[name] for name in names if name in value}
            if part:
                kept[key] = part
    kept[PRUNED_MARK] = now.isoformat()
    return kept


def kept_picture_names(urls: Iterable[str], hosts: tuple[str, ...]) -> frozenset[str]:
    """The cache names of the pictures at ``urls``: each URL as stored and as the curator
    fetched it (``clean_url`` may write it differently), so none is missed."""
    names: set[str] = set()
    for url in urls:
        names.add(picture_name(url))
        cleaned = clean_url(url, hosts)
        if cleaned is not None:
            names.add(picture_name(cleaned))
    return frozenset(names)


def stale_files(
    found: Iterable[tuple[str, float]],
    before: datetime,
    pattern: Pattern[str],
    keep: Collection[str] = frozenset(),
) -> list[str]:
    """Of ``found`` (name, modification time as a Unix timestamp), the names to remove:
    named as ``pattern`` says such a file is (anything else in the folder is not ours to
    remove), modified before ``before``, and not in ``keep``."""
    cutoff = before.timestamp()
    return [
        name
        for name, modified in found
        if modified < cutoff and pattern.fullmatch(name) and name not in keep
    ]
