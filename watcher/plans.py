"""Plans: what the rules decided, as plain values, for ``watcher.db`` to write in one
transaction each. The store never calls back into a service; whatever it must learn
inside the transaction (which rows were new, the id a row got) it fills in itself."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from watcher.types import DeliveryChannel, PruneKind


@dataclass(frozen=True, slots=True)
class Lease:
    """A named lease held by ``owner`` until ``until`` (one poller per source, one
    publisher), renewed in the transaction of the work it covers."""

    name: str
    owner: str
    until: datetime


@dataclass(frozen=True, slots=True)
class PictureFailure:
    """A picture the curation job could not have or read: why, the failures in a row so
    far (this one included), and when to try again. ``archive`` keeps a backfilled
    candidate's retry among the ones fingerprinted only when asked."""

    candidate_id: int
    error: str
    attempts: int
    archive: bool
    failed_at: datetime
    retry_at: datetime


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """An outbox row to insert. ``key`` is unique in the outbox, so inserting the same
    delivery twice is a no-op. In a plan made before the receiver's row exists (a
    confirmation mail for a new subscriber), ``{subscriber}`` in ``key`` stands for the id
    the store gives it, and an empty ``target`` for its address."""

    edition: int | None
    channel: DeliveryChannel
    target: str
    key: str
    next_attempt_at: datetime


@dataclass(frozen=True, slots=True)
class EditionPlan:
    """The next edition of the running list, what it publishes, and who hears of it.

    ``current`` is the list as published now (entry id, content digest, in order) and
    ``stored`` what the previous edition published (id -> digest, position): the store
    touches only the rows that differ. ``number`` must be the next edition's, else another
    publisher got there first and the store raises ``Conflict``.
    """

    number: int
    published_at: datetime
    added: tuple[int, ...]
    changed: tuple[int, ...]
    removed: tuple[int, ...]
    reordered: bool
    site_changed: bool
    current: tuple[tuple[int, str], ...]
    stored: Mapping[int, tuple[str, int]]
    site_digest: str
    audit_id: int
    deliveries: tuple[NewDelivery, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class ScoreRow:
    """A candidate's score to store, with its reasons and the digest of its inputs."""

    candidate_id: int
    value: float
    reasons: tuple[str, ...]
    digest: str


@dataclass(frozen=True, slots=True)
class GroupRow:
    """A candidate's group to store: its leader's id and kind (None: alone), its size and
    whether it is the card the queue shows (the hero, or a frame alone)."""

    candidate_id: int
    group_id: int | None
    kind: str | None
    size: int
    hero: bool


@dataclass(frozen=True, slots=True)
class CurationPlan:
    """What one grouping round changed: written in one transaction."""

    scores: tuple[ScoreRow, ...] = ()
    groups: tuple[GroupRow, ...] = ()


@dataclass(frozen=True, slots=True)
class PrunePlan:
    """What a prune at ``now`` removes: of each kind in ``before``, what is older than its
    moment there (a kind absent is kept for ever); ``batch`` rows a transaction."""

    now: datetime
    before: Mapping[PruneKind, datetime]
    batch: int
