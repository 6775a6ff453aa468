"""The audit log: who changed what and when, with the state before and after.

A change writes its row with ``write_audit`` inside its own transaction, so the log never
misses a change nor records one that was rolled back. An undo marks the row it reverts
(``undone_by``), so the same decision is never undone twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select, update

from watcher.db.rows import from_row
from watcher.db.schema import audit_log
from watcher.db.store_base import StoreBase
from watcher.types import AuditEvent


def audit_event(row: RowMapping) -> AuditEvent:
    return from_row(AuditEvent, row)


def write_audit(
    connection: Connection,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: object,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    now: datetime,
) -> int:
    """Record a change inside the caller's transaction; returns the event's id."""
    return int(
        connection.execute(
            insert(audit_log)
            .values(
                at=now,
                actor=actor,
                action=action,
                subject_type=subject_type,
                subject_id=str(subject_id),
                before=dict(before) if before is not None else None,
                after=dict(after) if after is not None else None,
            )
            .returning(audit_log.c.id)
        ).scalar_one()
    )


def latest_not_undone(
    connection: Connection, actor: str, actions: Sequence[str]
) -> AuditEvent | None:
    """``actor``'s newest event of one of ``actions`` that no undo has reverted yet."""
    row = (
        connection.execute(
            select(audit_log)
            .where(
                audit_log.c.actor == actor,
                audit_log.c.action.in_(actions),
                audit_log.c.undone_by.is_(None),
            )
            .order_by(audit_log.c.id.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return audit_event(row) if row is not None else None


def mark_undone(connection: Connection, event_id: int, undo_id: int) -> AuditEvent:
    """Record that event ``undo_id`` reverted ``event_id``; returns the undo's event."""
    connection.execute(
        update(audit_log).where(audit_log.c.id == event_id).values(undone_by=undo_id)
    )
    undo = connection.execute(select(audit_log).where(audit_log.c.id == undo_id))
    return audit_event(undo.mappings().one())


class AuditStore(StoreBase):
    """The log read newest first, and a change recorded on its own (the accounts service
    audits an editor's change after the store has made it)."""

    def audit_events(
        self,
        *,
        limit: int = 100,
        before_id: int | None = None,
        actor: str | None = None,
        subject_type: str | None = None,
        subject_id: str | None = None,
    ) -> list[AuditEvent]:
        query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(audit_log.c.id < before_id)
        if actor is not None:
            query = query.where(audit_log.c.actor == actor)
        if subject_type is not None:
            query = query.where(audit_log.c.subject_type == subject_type)
        if subject_id is not None:
            query = query.where(audit_log.c.subject_id == subject_id)
        with self.read() as connection:
            return [audit_event(row) for row in connection.execute(query).mappings()]

    def record_audit(
        self,
        actor: str,
        action: str,
        subject_type: str,
        subject_id: object,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
        now: datetime,
    ) -> None:
        with self.write() as connection:
            write_audit(connection, actor, action, subject_type, subject_id, before, after, now)
