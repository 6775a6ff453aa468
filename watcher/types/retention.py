"""Retention: the kinds of data that would otherwise only grow, and what one prune did.

Each kind has its own age (``[retention]``, see ``watcher.config.RetentionConfig``); a
prune counts per kind what it removed (or, in a dry run, would remove).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from watcher.types.leases import LeaseHolder

# The key a pruned record carries (with the moment it was pruned): no NASA record has it,
# so the record is never taken for one NASA sent as it is, and never pruned twice.
PRUNED_MARK = "watcher_pruned_at"


class PruneKind(StrEnum):
    """What a prune removes, in the order it goes about it (and reports it)."""

    REJECTED_RECORDS = "rejected_records"  # NASA's record of a rejected candidate
    UNREVIEWED_RECORDS = "unreviewed_records"  # ... of a candidate nobody decided on
    PICTURE_CACHE = "picture_cache"  # cache_dir/pictures files no entry shows
    FAILED_ANIMATIONS = "failed_animations"  # cache_dir/animations/<key>.failed.json
    SENT_DELIVERIES = "sent_deliveries"  # outbox rows sent long ago
    AUDIT_LOG = "audit_log"  # old audit rows
    EXPIRED_SESSIONS = "expired_sessions"  # editors' sessions past their end
    SUBSCRIBE_ATTEMPTS = "subscribe_attempts"  # sign-up requests (rate limiting)
    UNCONFIRMED_SUBSCRIBERS = "unconfirmed_subscribers"  # never confirmed


@dataclass(frozen=True, slots=True, kw_only=True)
class PruneReport:
    """What one prune removed per kind (``dry_run``: would remove; nothing was). A kind
    configured to be kept for ever is absent from ``counts``. ``busy``: another watcher was
    pruning, so this one did nothing (``held_by``: who, when known). ``stopped``: the lease
    was lost midway, so the kinds not reached wait for the next prune."""

    counts: tuple[tuple[PruneKind, int], ...] = ()
    dry_run: bool = False
    busy: bool = False
    stopped: bool = False
    held_by: LeaseHolder | None = None

    @property
    def total(self) -> int:
        return sum(count for _, count in self.counts)

    def count(self, kind: PruneKind) -> int | None:
        """How many of ``kind`` went (None: that kind is kept for ever, or not reached)."""
        return dict(self.counts).get(kind)
