"""Retention's SQL: which rows a prune may touch, and touching them a batch at a time.

Every statement here is bounded: a batch is at most ``limit`` rows in one short
transaction, so pruning a year of audit rows never holds a table for long, and what is
kept is decided in the WHERE clause of the very statement that deletes or rewrites, so a
row that changed since it was counted (a candidate approved meanwhile, a subscriber who
asked again) is left alone.

What is never touched, whatever the ages: a candidate in an entry (published or not), a
new candidate's row (only its record is compacted), a pending or dead outbox row, the
newest audit row (SQLite would hand its id out again, and the publisher's watermark
counts on ids only growing) and the newest one the publisher watches, and a pending
subscriber whose confirmation mail is still queued.

Why a sent outbox row can go without a marker: its key (``deliver.outbox``) can never be
enqueued again. An edition's rows are written only in the transaction that creates the
edition (numbers only grow); the team's candidate notice names its ten-minute window and a
confirmation mail the microsecond it was asked for, both long past when the row is pruned.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    and_,
    bindparam,
    delete,
    exists,
    func,
    select,
    update,
)

from watcher.db.publishing import LIST_SUBJECTS
from watcher.db.schema import (
    audit_log,
    candidates,
    deliveries,
    entry_candidates,
    fingerprints,
    sessions,
    subscribe_attempts,
    subscribers,
)
from watcher.db.store_base import StoreBase
from watcher.types import (
    PRUNED_MARK,
    CandidateStatus,
    DeliveryStatus,
    JSONObject,
    PruneKind,
    SubscriberStatus,
)


def _record_filter(kind: PruneKind, before: datetime) -> ColumnElement[bool]:
    """Candidates whose record ``kind`` prunes: rejected before ``before`` (or new and first
    seen before it), in no entry, their record not pruned yet."""
    c = candidates.c
    if kind is PruneKind.REJECTED_RECORDS:
        aged = and_(
            c.status == CandidateStatus.REJECTED.value,
            func.coalesce(c.decided_at, c.first_seen_at) < before,
        )
    elif kind is PruneKind.UNREVIEWED_RECORDS:
        aged = and_(c.status == CandidateStatus.NEW.value, c.first_seen_at < before)
    else:
        raise ValueError(f"{kind} is not a kind of record")
    in_entry = exists().where(entry_candidates.c.candidate_id == c.id)
    return and_(aged, ~in_entry, c.raw[PRUNED_MARK].as_string().is_(None))


def _audit_kept(connection: Connection) -> tuple[int, int]:
    """The ids of the newest audit row and of the newest the publisher watches (0: none)."""
    newest = connection.execute(select(func.max(audit_log.c.id))).scalar_one_or_none()
    watched = connection.execute(
        select(func.max(audit_log.c.id)).where(audit_log.c.subject_type.in_(LIST_SUBJECTS))
    ).scalar_one_or_none()
    return int(newest or 0), int(watched or 0)


def _row_filter(
    connection: Connection, kind: PruneKind, before: datetime
) -> tuple[Table, ColumnElement[bool]]:
    """The table ``kind`` deletes from, and which of its rows go."""
    if kind is PruneKind.SENT_DELIVERIES:
        d = deliveries.c
        return deliveries, and_(d.status == DeliveryStatus.SENT.value, d.sent_at < before)
    if kind is PruneKind.AUDIT_LOG:
        newest, watched = _audit_kept(connection)
        a = audit_log.c
        return audit_log, and_(a.at < before, a.id < newest, a.id != watched)
    if kind is PruneKind.SUBSCRIBE_ATTEMPTS:
        return subscribe_attempts, subscribe_attempts.c.at < before
    if kind is PruneKind.UNCONFIRMED_SUBSCRIBERS:
        s = subscribers.c
        queued = exists().where(
            deliveries.c.target == s.email,
            deliveries.c.status == DeliveryStatus.PENDING.value,
        )
        return subscribers, and_(
            s.status == SubscriberStatus.PENDING.value,
            func.coalesce(s.confirmation_sent_at, s.created_at) < before,
            ~queued,
        )
    raise ValueError(f"{kind} is not a kind of row")


class RetentionStore(StoreBase):
    """The pruner's batches (see the module docstring for what is never touched)."""

    # -- candidates' records -------------------------------------------------------------

    def records_to_prune(
        self, kind: PruneKind, before: datetime, after_id: int, limit: int
    ) -> list[tuple[int, JSONObject]]:
        """Up to ``limit`` (id, record) of candidates whose record ``kind`` prunes, by id
        after ``after_id``."""
        query = (
            select(candidates.c.id, candidates.c.raw)
            .where(candidates.c.id > after_id, _record_filter(kind, before))
            .order_by(candidates.c.id)
            .limit(limit)
        )
        with self.read() as connection:
            return [(int(i), dict(raw or {})) for i, raw in connection.execute(query)]

    def replace_records(
        self, kind: PruneKind, before: datetime, records: Sequence[tuple[int, JSONObject]]
    ) -> int:
        """Write the pruned ``records`` (id, record) in one transaction, each only while its
        candidate is still one ``kind`` prunes; returns how many were written."""
        statement = (
            update(candidates)
            .where(candidates.c.id == bindparam("b_id"), _record_filter(kind, before))
            .values(raw=bindparam("b_raw", type_=candidates.c.raw.type))
        )
        written = 0
        with self.write() as connection:
            for candidate_id, raw in records:
                result = connection.execute(statement, {"b_id": candidate_id, "b_raw": raw})
                written += int(result.rowcount)
        return written

    def count_records(self, kind: PruneKind, before: datetime) -> int:
        query = select(func.count()).select_from(candidates).where(_record_filter(kind, before))
        with self.read() as connection:
            return int(connection.execute(query).scalar_one())

    # -- rows deleted whole ----------------------------------------------------------------

    def prune_rows(self, kind: PruneKind, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` rows that ``kind`` prunes, oldest ids first, in one
        transaction; returns how many went (fewer than ``limit``: the last batch)."""
        with self.write() as connection:
            table, where = _row_filter(connection, kind, before)
            ids = select(table.c.id).where(where).order_by(table.c.id).limit(limit)
            result = connection.execute(delete(table).where(table.c.id.in_(ids), where))
            return int(result.rowcount)

    def count_rows(self, kind: PruneKind, before: datetime) -> int:
        with self.read() as connection:
            table, where = _row_filter(connection, kind, before)
            return int(
                connection.execute(
                    select(func.count()).select_from(table).where(where)
                ).scalar_one()
            )

    def count_expired_sessions(self, now: datetime) -> int:
        """How many sessions ``purge_sessions(now)`` would remove."""
        query = select(func.count()).select_from(sessions).where(sessions.c.expires_at < now)
        with self.read() as connection:
            return int(connection.execute(query).scalar_one())

    # -- what the picture cache keeps ----------------------------------------------------

    def entry_picture_urls(self) -> set[str]:
        """Every picture URL of a candidate in an entry (any status): its renditions and the
        URL its fingerprint was measured from. The cache keeps these pictures, whatever
        their age."""
        c = candidates.c
        in_entry = select(entry_candidates.c.candidate_id)
        renditions = select(c.thumbnail_url, c.medium_url, c.large_url, c.full_url).where(
            c.id.in_(in_entry)
        )
        measured = select(fingerprints.c.url).where(
            fingerprints.c.candidate_id.in_(in_entry), fingerprints.c.url.is_not(None)
        )
        with self.read() as connection:
            urls: set[Any] = {url for row in connection.execute(renditions) for url in row}
            urls.update(connection.execute(measured).scalars())
        return {str(url) for url in urls if url}
