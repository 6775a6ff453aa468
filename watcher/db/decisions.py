"""Editors' decisions on candidates: approve (one new entry of one or more frames, at the
end of the list), reject, and undo of one's own latest decision.

Every decision is one transaction that also writes its audit row. Candidates carry a
version: a decision made against a stale one is refused with ``Conflict`` ("already
approved by alice at ..."), never applied over someone else's. An undo reverts only what
nobody has changed since.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import Connection, func, insert, select

from watcher.db.audit import latest_not_undone, mark_undone, write_audit
from watcher.db.candidates import decide, read_candidate, return_to_queue
from watcher.db.entries import add_frames, entry_json, read_entry, remove_entry
from watcher.db.schema import entries
from watcher.db.store_base import StoreBase, when
from watcher.exceptions import Conflict, NotFound
from watcher.types import AuditEvent, Candidate, CandidateStatus, Entry, EntryDraft, EntryStatus

UNDOABLE = ("approve", "reject")


def _append_entry(
    connection: Connection,
    draft: EntryDraft,
    credit: str,
    status: EntryStatus,
    actor: str,
    now: datetime,
) -> int:
    """A new entry (published or a draft, without frames yet) at the end of the list; its
    id."""
    position = connection.execute(
        select(func.coalesce(func.max(entries.c.position), 0) + 1)
    ).scalar_one()
    return int(
        connection.execute(
            insert(entries)
            .values(
                heading=draft.heading,
                body=draft.body,
                alt_text=draft.alt_text,
                credit=credit,
                rendition=draft.rendition,
                position=position,
                status=status.value,
                version=1,
                created_by=actor,
                created_at=now,
                updated_by=actor,
                updated_at=now,
            )
            .returning(entries.c.id)
        ).scalar_one()
    )


def _undo_approve(connection: Connection, event: AuditEvent, actor: str, now: datetime) -> int:
    """Remove the approved entry, unless it was edited since; its frames go back to the
    queue. Returns the undo's audit id."""
    entry_id = int(event.subject_id)
    try:
        entry = read_entry(connection, entry_id)
    except NotFound:
        raise Conflict(f"entry #{entry_id} no longer exists") from None
    if entry.version != 1:
        raise Conflict(
            f"entry #{entry_id} was changed by {entry.updated_by} at "
            f"{when(entry.updated_at)}; unpublish it instead",
            by=entry.updated_by,
            at=entry.updated_at,
        )
    remove_entry(connection, entry)
    return write_audit(connection, actor, "undo", "entry", entry_id, entry_json(entry), None, now)


def _undo_reject(connection: Connection, event: AuditEvent, actor: str, now: datetime) -> int:
    """Put the rejected candidate back in the queue, unless it changed since. Returns the
    undo's audit id."""
    candidate_id = int(event.subject_id)
    current = read_candidate(connection, candidate_id)
    expected = (event.after or {}).get("version")
    if current.status is not CandidateStatus.REJECTED or current.version != expected:
        raise Conflict(
            f"candidate {candidate_id} was changed by {current.decided_by} at "
            f"{when(current.decided_at)} since",
            by=current.decided_by,
            at=current.decided_at,
        )
    return_to_queue(connection, candidate_id)
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


class DecisionStore(StoreBase):
    """Approve, reject, undo: each one transaction with its audit row."""

    def approve(
        self,
        candidate_ids: Sequence[int],
        versions: Mapping[int, int],
        draft: EntryDraft,
        credit: str,
        actor: str,
        now: datetime,
        status: EntryStatus = EntryStatus.PUBLISHED,
    ) -> Entry:
        """One new entry holding ``candidate_ids`` (in that order), appended to the list
        with ``status`` (a draft when the editor gave no words)."""
        with self.write() as connection:
            for candidate_id in candidate_ids:
                decide(
                    connection,
                    candidate_id,
                    versions.get(candidate_id),
                    CandidateStatus.APPROVED,
                    actor,
                    now,
                    None,
                )
            entry_id = _append_entry(connection, draft, credit, status, actor, now)
            add_frames(connection, entry_id, candidate_ids)
            entry = read_entry(connection, entry_id)
            write_audit(
                connection, actor, "approve", "entry", entry_id, None, entry_json(entry), now
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
            before = decide(
                connection, candidate_id, version, CandidateStatus.REJECTED, actor, now, reason
            )
            after = read_candidate(connection, candidate_id)
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
            event = latest_not_undone(connection, actor, UNDOABLE)
            if event is None:
                raise NotFound("nothing to undo: you have made no decision since your last undo")
            if event.action == "approve":
                undo = _undo_approve(connection, event, actor, now)
            else:
                undo = _undo_reject(connection, event, actor, now)
            return mark_undone(connection, event.id, undo)
