"""Frozen values passed between layers.

Nothing here does I/O. The store returns these, never ORM rows; sources produce
``CandidateData``; the core hands ``PollState`` to the pure rules in ``decide``.

Each concept has its own module (``candidates``, ``polling``, ``accounts``, ``entries``,
``delivery``, ``curation``, ``leases``, ``retention``, ``operations``, ``status``); this
package re-exports every one of their names, so ``from watcher.types import X`` stays the one
way to import them.
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
from watcher.types.leases import LeaseHolder, ProcessId, ReplicaRole
from watcher.types.operations import OperationsFigures
from watcher.types.polling import (
    Backfill,
    CheckedRequest,
    Health,
    Page,
    PageRequest,
    PageStored,
    PollOutcome,
    PollRecord,
    PollReport,
    PollState,
    SourceCheck,
    SourceHealth,
    cursor_time,
)
from watcher.types.retention import PRUNED_MARK, PruneKind, PruneReport
from watcher.types.status import EditionDeliveries, MissionSols, SolCount, StatusFigures

__all__ = [
    "HASH_BITS",
    "INGENUITY",
    "PERSEVERANCE",
    "PRUNED_MARK",
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
    "EditionDeliveries",
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
    "MissionSols",
    "OperationsFigures",
    "Page",
    "PageRequest",
    "PageStored",
    "PictureToDo",
    "PollOutcome",
    "PollRecord",
    "PollReport",
    "PollState",
    "ProcessId",
    "PruneKind",
    "PruneReport",
    "PublishedEntry",
    "ReplicaRole",
    "Role",
    "Score",
    "Session",
    "SolCount",
    "SourceCheck",
    "SourceHealth",
    "StatusCounts",
    "StatusFigures",
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
