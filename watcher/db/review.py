"""Decisions (approve, reject, undo), entries of the running list, and the audit log.

Every change is one transaction that also writes its audit row. Candidates and entries
carry a version: a change made against a stale version is refused with ``Conflict`` ("already
approved by alice at ..."), never applied over someone else's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, func, insert, select, update

from watcher.db.candidates import read_candidate
from watcher.db.schema import audit_log, candidates, entries, entry_candidates
from watcher.db.store_base import StoreBase
from watcher.exceptions import Conflict, NotFound
from watcher.types import (
    AuditEvent,
    Candidate,
    CandidateStatus,
    Entry,
    EntryDraft,
    EntryStatus,
)

UNDOABLE = ("approve", "reject")


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "an unknown time"


def _entry_json(entry: Entry) -> dict[str, Any]:
    return {
        "heading": entry.heading,
        "body": entry.body,
        "alt_text": entry.alt_text,
        "credit": entry.credit,
        "rendition": entry.rendition,
        "position": entry.position,
        "status": entry.status.value,
        "version": entry.version,
        "candidate_ids": list(entry.candidate_ids),
    }


def _event(row: RowMapping) -> AuditEvent:
    return AuditEvent(
        id=row["id"],
        at=row["at"],
        actor=row["actor"],
        action=row["action"],
        subject_type=row["subject_type"],
        subject_id=row["subject_id"],
        before=row["before"],
        after=row["after"],
        undone_by=row["undone_by"],
    )


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


class ReviewStore(StoreBase):
    # -- reading ---------------------------------------------------------------------

    def get_entry(self, entry_id: int) -> Entry:
        with self.read() as connection:
            return self._entry(connection, entry_id)

    def list_entries(self, status: EntryStatus | None = None) -> list[Entry]:
        query = select(entries).order_by(entries.c.position, entries.c.id)
        if status is not None:
            query = query.where(entries.c.status == status.value)
        with self.read() as connection:
            rows = connection.execute(query).mappings().all()
            frames = self._frames(connection, [row["id"] for row in rows])
        return [self._entry_from(row, frames.get(row["id"], ())) for row in rows]

    def entry_of(self, candidate_id: int) -> int | None:
        query = select(entry_candidates.c.entry_id).where(
            entry_candidates.c.candidate_id == candidate_id
        )
        with self.read() as connection:
            return connection.execute(query).scalar_one_or_none()

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
            return [_event(row) for row in connection.execute(query).mappings()]

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

    # -- decisions -------------------------------------------------------------------

    def approve(
        self,
        candidate_ids: Sequence[int],
        versions: Mapping[int, int],
        draft: EntryDraft,
        credit: str,
        actor: str,
        now: datetime,
    ) -> Entry:
        """One new entry holding ``candidate_ids`` (in that order), appended to the list."""
        with self.write() as connection:
            for candidate_id in candidate_ids:
                self._decide(
                    connection,
                    candidate_id,
                    versions.get(candidate_id),
                    CandidateStatus.APPROVED,
                    actor,
                    now,
                    None,
                )
            position = connection.execute(
                select(func.coalesce(func.max(entries.c.position), 0) + 1)
            ).scalar_one()
            entry_id = connection.execute(
                insert(entries)
                .values(
                    heading=draft.heading,
                    body=draft.body,
                    alt_text=draft.alt_text,
                    credit=credit,
                    rendition=draft.rendition,
                    position=position,
                    status=EntryStatus.PUBLISHED.value,
                    version=1,
                    created_by=actor,
                    created_at=now,
                    updated_by=actor,
                    updated_at=now,
                )
                .returning(entries.c.id)
            ).scalar_one()
            self._set_frames(connection, entry_id, candidate_ids)
            entry = self._entry(connection, entry_id)
            write_audit(
                connection, actor, "approve", "entry", entry_id, None, _entry_json(entry), now
            )
        return entry

    def reject(
        self,
        candidate_id: int,
        version: int | None,
        reason: str | None,
        actor: str,
        now: datetime,
    ) -> Candidate:
        with self.write() as connection:
            before = self._decide(
                connection, candidate_id, version, CandidateStatus.REJECTED, actor, now, reason
            )
            after = self._candidate(connection, candidate_id)
            write_audit(
                connection,
                actor,
                "reject",
                "candidate",
                candidate_id,
                {"status": before.status.value, "version": before.version},
                {"status": after.status.value, "version": after.version, "reason": reason},
                now,
            )
        return after

    def undo_last(self, actor: str, now: datetime) -> AuditEvent:
        """Revert ``actor``'s latest approve or reject that is not undone yet."""
        with self.write() as connection:
            row = (
                connection.execute(
                    select(audit_log)
                    .where(
                        audit_log.c.actor == actor,
                        audit_log.c.action.in_(UNDOABLE),
                        audit_log.c.undone_by.is_(None),
                    )
                    .order_by(audit_log.c.id.desc())
                    .limit(1)
                )
                .mappings()
                .first()
            )
            if row is None:
                raise NotFound("nothing to undo: you have made no decision since your last undo")
            event = _event(row)
            if event.action == "approve":
                undo = self._undo_approve(connection, event, actor, now)
            else:
                undo = self._undo_reject(connection, event, actor, now)
            connection.execute(
                update(audit_log).where(audit_log.c.id == event.id).values(undone_by=undo)
            )
            undone = connection.execute(select(audit_log).where(audit_log.c.id == undo))
            return _event(undone.mappings().one())

    def _undo_approve(
        self, connection: Connection, event: AuditEvent, actor: str, now: datetime
    ) -> int:
        entry_id = int(event.subject_id)
        try:
            entry = self._entry(connection, entry_id)
        except NotFound:
            raise Conflict(f"entry #{entry_id} no longer exists") from None
        if entry.version != 1:
            raise Conflict(
                f"entry #{entry_id} was changed by {entry.updated_by} at "
                f"{_when(entry.updated_at)}; unpublish it instead",
                by=entry.updated_by,
                at=entry.updated_at,
            )
        connection.execute(delete(entries).where(entries.c.id == entry_id))
        for candidate_id in entry.candidate_ids:
            self._return_to_queue(connection, candidate_id)
        return write_audit(
            connection, actor, "undo", "entry", entry_id, _entry_json(entry), None, now
        )

    def _undo_reject(
        self, connection: Connection, event: AuditEvent, actor: str, now: datetime
    ) -> int:
        candidate_id = int(event.subject_id)
        current = self._candidate(connection, candidate_id)
        expected = (event.after or {}).get("version")
        if current.status is not CandidateStatus.REJECTED or current.version != expected:
            raise Conflict(
                f"candidate {candidate_id} was changed by {current.decided_by} at "
                f"{_when(current.decided_at)} since",
                by=current.decided_by,
                at=current.decided_at,
            )
        self._return_to_queue(connection, candidate_id)
        return write_audit(
            connection,
            actor,
            "undo",
            "candidate",
            candidate_id,
            {"status": "rejected"},
            {"status": "new"},
            now,
        )

    # -- entries ---------------------------------------------------------------------

    def update_entry(
        self,
        entry_id: int,
        version: int,
        draft: EntryDraft,
        credit: str,
        candidate_ids: Sequence[int] | None,
        actor: str,
        now: datetime,
        status: EntryStatus | None = None,
    ) -> Entry:
        """Edit an entry (and, with ``status``, publish or unpublish it in the same
        transaction); ``candidate_ids`` (when given) replaces its frames: new frames must be
        undecided candidates, dropped ones go back to the queue."""
        with self.write() as connection:
            before = self._entry(connection, entry_id)
            self._check_version(before, version)
            if candidate_ids is not None and tuple(candidate_ids) != before.candidate_ids:
                for candidate_id in set(candidate_ids) - set(before.candidate_ids):
                    self._decide(
                        connection, candidate_id, None, CandidateStatus.APPROVED, actor, now, None
                    )
                for candidate_id in set(before.candidate_ids) - set(candidate_ids):
                    self._return_to_queue(connection, candidate_id)
                connection.execute(
                    delete(entry_candidates).where(entry_candidates.c.entry_id == entry_id)
                )
                self._set_frames(connection, entry_id, candidate_ids)
            self._bump(
                connection,
                before,
                actor,
                now,
                heading=draft.heading,
                body=draft.body,
                alt_text=draft.alt_text,
                credit=credit,
                rendition=draft.rendition,
                **({"status": status.value} if status is not None else {}),
            )
            after = self._entry(connection, entry_id)
            write_audit(
                connection,
                actor,
                "edit",
                "entry",
                entry_id,
                _entry_json(before),
                _entry_json(after),
                now,
            )
        return after

    def set_entry_status(
        self, entry_id: int, version: int, status: EntryStatus, actor: str, now: datetime
    ) -> Entry:
        with self.write() as connection:
            before = self._entry(connection, entry_id)
            self._check_version(before, version)
            self._bump(connection, before, actor, now, status=status.value)
            after = self._entry(connection, entry_id)
            action = "publish" if status is EntryStatus.PUBLISHED else "unpublish"
            write_audit(
                connection,
                actor,
                action,
                "entry",
                entry_id,
                {"status": before.status.value},
                {"status": after.status.value},
                now,
            )
        return after

    def delete_entry(self, entry_id: int, version: int, actor: str, now: datetime) -> Entry:
        """Remove an entry from the list; its candidates go back to the queue."""
        with self.write() as connection:
            entry = self._entry(connection, entry_id)
            self._check_version(entry, version)
            connection.execute(delete(entries).where(entries.c.id == entry_id))
            for candidate_id in entry.candidate_ids:
                self._return_to_queue(connection, candidate_id)
            write_audit(
                connection, actor, "delete", "entry", entry_id, _entry_json(entry), None, now
            )
        return entry

    def reorder_entries(self, order: Sequence[int], actor: str, now: datetime) -> list[Entry]:
        """Give the entries positions 1..n in ``order``, which must name every entry once."""
        with self.write() as connection:
            current = [
                (row.id, row.position)
                for row in connection.execute(
                    select(entries.c.id, entries.c.position).order_by(
                        entries.c.position, entries.c.id
                    )
                )
            ]
            if sorted(order) != sorted(entry_id for entry_id, _ in current) or len(
                set(order)
            ) != len(order):
                raise Conflict("the list changed while you were reordering it; reload and retry")
            for position, entry_id in enumerate(order, start=1):
                connection.execute(
                    update(entries).where(entries.c.id == entry_id).values(position=position)
                )
            write_audit(
                connection,
                actor,
                "reorder",
                "list",
                "entries",
                {"order": [entry_id for entry_id, _ in current]},
                {"order": list(order)},
                now,
            )
        return self.list_entries()

    # -- helpers ---------------------------------------------------------------------

    def _candidate(self, connection: Connection, candidate_id: int) -> Candidate:
        return read_candidate(connection, candidate_id)

    def _decide(
        self,
        connection: Connection,
        candidate_id: int,
        version: int | None,
        status: CandidateStatus,
        actor: str,
        now: datetime,
        reason: str | None,
    ) -> Candidate:
        """Move a new candidate to ``status``; Conflict if it was decided (or changed)."""
        current = self._candidate(connection, candidate_id)
        stale = version is not None and version != current.version
        if current.status is not CandidateStatus.NEW or stale:
            what = current.status.value if current.status is not CandidateStatus.NEW else "changed"
            raise Conflict(
                f"candidate {candidate_id} was already {what} by {current.decided_by or 'someone'}"
                f" at {_when(current.decided_at)}",
                by=current.decided_by,
                at=current.decided_at,
            )
        result = connection.execute(
            update(candidates)
            .where(candidates.c.id == candidate_id, candidates.c.version == current.version)
            .values(
                status=status.value,
                version=current.version + 1,
                decided_by=actor,
                decided_at=now,
                reject_reason=reason,
            )
        )
        if result.rowcount != 1:  # another transaction got there between our read and write
            latest = self._candidate(connection, candidate_id)
            raise Conflict(
                f"candidate {candidate_id} was already {latest.status.value} by "
                f"{latest.decided_by or 'someone'} at {_when(latest.decided_at)}",
                by=latest.decided_by,
                at=latest.decided_at,
            )
        return current

    def _return_to_queue(self, connection: Connection, candidate_id: int) -> None:
        connection.execute(
            update(candidates)
            .where(candidates.c.id == candidate_id)
            .values(
                status=CandidateStatus.NEW.value,
                version=candidates.c.version + 1,
                decided_by=None,
                decided_at=None,
                reject_reason=None,
            )
        )

    def _set_frames(self, connection: Connection, entry_id: int, ids: Sequence[int]) -> None:
        connection.execute(
            insert(entry_candidates),
            [
                {"entry_id": entry_id, "candidate_id": candidate_id, "position": position}
                for position, candidate_id in enumerate(ids)
            ],
        )

    def _check_version(self, entry: Entry, version: int) -> None:
        if entry.version != version:
            raise Conflict(
                f"entry #{entry.id} was changed by {entry.updated_by} at "
                f"{_when(entry.updated_at)}; reload to see their version",
                by=entry.updated_by,
                at=entry.updated_at,
            )

    def _bump(
        self, connection: Connection, entry: Entry, actor: str, now: datetime, **values: Any
    ) -> None:
        result = connection.execute(
            update(entries)
            .where(entries.c.id == entry.id, entries.c.version == entry.version)
            .values(version=entry.version + 1, updated_by=actor, updated_at=now, **values)
        )
        if result.rowcount != 1:
            latest = self._entry(connection, entry.id)
            self._check_version(latest, entry.version)

    def _frames(self, connection: Connection, entry_ids: list[int]) -> dict[int, tuple[int, ...]]:
        if not entry_ids:
            return {}
        rows = connection.execute(
            select(entry_candidates.c.entry_id, entry_candidates.c.candidate_id)
            .where(entry_candidates.c.entry_id.in_(entry_ids))
            .order_by(entry_candidates.c.entry_id, entry_candidates.c.position)
        )
        frames: dict[int, list[int]] = {}
        for entry_id, candidate_id in rows:
            frames.setdefault(entry_id, []).append(candidate_id)
        return {entry_id: tuple(ids) for entry_id, ids in frames.items()}

    def _entry(self, connection: Connection, entry_id: int) -> Entry:
        row = connection.execute(select(entries).where(entries.c.id == entry_id)).mappings().first()
        if row is None:
            raise NotFound(f"no entry with id {entry_id}")
        return self._entry_from(row, self._frames(connection, [entry_id]).get(entry_id, ()))

    @staticmethod
    def _entry_from(row: RowMapping, frames: tuple[int, ...]) -> Entry:
        return Entry(
            id=row["id"],
            heading=row["heading"],
            body=row["body"],
            alt_text=row["alt_text"],
            credit=row["credit"],
            rendition=row["rendition"],
            position=row["position"],
            status=EntryStatus(row["status"]),
            version=row["version"],
            candidate_ids=frames,
            created_by=row["created_by"],
            created_at=row["created_at"],
            updated_by=row["updated_by"],
            updated_at=row["updated_at"],
        )
