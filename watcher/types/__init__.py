"""Frozen values passed between layers.

Nothing here does I/O. The store returns these, never ORM rows; sources produce
``CandidateData``; the core hands ``PollState`` to the pure rules in ``decide``.

Each concept has its own module (``candidates``, ``polling``, ``accounts``, ``entries``,
``delivery``, ``curation``, ``leases``); this package re-exports every one of their names, so
``from watcher.types import X`` stays the one way to import them.
"""

from __future__ import annotations

from watcher.types.accounts import (
    Actor,
    ApiToken,
    AuditEvent,
    Editor,
    Role,
    Session,
    Throttle,
    TokenScope,
    name_key,
)
from watcher.types.candidates import (
    INGENUITY,
    PERSEVERANCE,
    Candidate,
    CandidateData,
    CandidateFilter,
    CandidateStatus,
    JSONObject,
    StatusCounts,
    Tile,
    day_start,
)
from watcher.types.curation import (
    HASH_BITS,
    CurateReport,
    Fingerprint,
    Group,
    GroupKind,
    PictureToDo,
    Score,
    group_label,
    hamming,
)
from watcher.types.delivery import (
    Delivery,
    DeliveryChannel,
    DeliveryStatus,
    Subscriber,
    SubscriberStatus,
    Webhook,
)
from watcher.types.entries import (
    RENDITIONS,
    Edition,
    Entry,
    EntryDraft,
    EntryStatus,
    Frame,
    PublishedEntry,
)
from watcher.types.leases import LeaseHolder, ProcessId
from watcher.types.polling import (
    Backfill,
    CheckedRequest,
    Health,
    Page,
    PageRequest,
    PageStored,
    PollReport,
    PollState,
    SourceCheck,
    SourceHealth,
    cursor_time,
)

__all__ = [
    "HASH_BITS",
    "INGENUITY",
    "PERSEVERANCE",
    "RENDITIONS",
    "Actor",
    "ApiToken",
    "AuditEvent",
    "Backfill",
    "Candidate",
    "CandidateData",
    "CandidateFilter",
    "CandidateStatus",
    "CheckedRequest",
    "CurateReport",
    "Delivery",
    "DeliveryChannel",
    "DeliveryStatus",
    "Edition",
    "Editor",
    "Entry",
    "EntryDraft",
    "EntryStatus",
    "Fingerprint",
    "Frame",
    "Group",
    "GroupKind",
    "Health",
    "JSONObject",
    "LeaseHolder",
    "Page",
    "PageRequest",
    "PageStored",
    "PictureToDo",
    "PollReport",
    "PollState",
    "ProcessId",
    "PublishedEntry",
    "Role",
    "Score",
    "Session",
    "SourceCheck",
    "SourceHealth",
    "StatusCounts",
    "Subscriber",
    "SubscriberStatus",
    "Throttle",
    "Tile",
    "TokenScope",
    "Webhook",
    "cursor_time",
    "day_start",
    "group_label",
    "hamming",
    "name_key",
]
