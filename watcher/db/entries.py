"""Entries of the running list and their frames (candidates, in the editor's order).

An entry carries a version: an edit made against a stale one is refused with ``Conflict``
naming who changed it and when, never applied over their change. Every edit is one
transaction that also writes its audit row. A frame joining an entry is approved, one
leaving it (or its entry) goes back to the queue.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, insert, select, update

from watcher.db.audit import write_audit
from watcher.db.candidates import decide, return_to_queue
from watcher.db.rows import from_row, row_or_not_found
from watcher.db.schema import entries, entry_candidates
from watcher.db.store_base import StoreBase, when
from watcher.exceptions import Conflict
from watcher.types import CandidateStatus, Entry, EntryDraft, EntryStatus


def entry_json(entry: Entry) -> dict[str, Any]:
    """An entry as its audit rows keep it (what an undo or a reader of the log needs)."""
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


def _entry_from_row(row: RowMapping, frames: tuple[int, ...]) -> Entry:
    return from_row(Entry, row, status=EntryStatus(row["status"]), candidate_ids=frames)


def _frames_of(connection: Connection, entry_ids: list[int]) -> dict[int, tuple[int, ...]]:
    """Each entry's candidate ids in the editor's order (an entry without frames: absent)."""
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


def read_entry(connection: Connection, entry_id: int) -> Entry:
    """Raises NotFound."""
    query = select(entries).where(entries.c.id == entry_id)
    row = row_or_not_found(connection, query, f"no entry with id {entry_id}")
    return _entry_from_row(row, _frames_of(connection, [entry_id]).get(entry_id, ()))


def add_frames(connection: Connection, entry_id: int, candidate_ids: Sequence[int]) -> None:
    """Make ``candidate_ids`` the frames of an entry that has none, in that order."""
    connection.execute(
        insert(entry_candidates),
        [
            {"entry_id": entry_id, "candidate_id": candidate_id, "position": position}
            for position, candidate_id in enumerate(candidate_ids)
        ],
    )


def remove_entry(connection: Connection, entry: Entry) -> None:
    """Delete an entry; its frames go back to the queue."""
    connection.execute(delete(entries).where(entries.c.id == entry.id))
    for candidate_id in entry.candidate_ids:
        return_to_queue(connection, candidate_id)


def _replace_frames(
    connection: Connection, entry: Entry, candidate_ids: Sequence[int], actor: str, now: datetime
) -> None:
    """New frames must be undecided candidates (approved now); dropped ones go back to the
    queue."""
    for candidate_id in set(candidate_ids) - set(entry.candidate_ids):
        decide(connection, candidate_id, None, CandidateStatus.APPROVED, actor, now, None)
    for candidate_id in set(entry.candidate_ids) - set(candidate_ids):
        return_to_queue(connection, candidate_id)
    connection.execute(delete(entry_candidates).where(entry_candidates.c.entry_id == entry.id))
    add_frames(connection, entry.id, candidate_ids)


def _check_version(entry: Entry, version: int) -> None:
    if entry.version != version:
        raise Conflict(
            f"entry #{entry.id} was changed by {entry.updated_by} at "
            f"{when(entry.updated_at)}; reload to see their version",
            by=entry.updated_by,
            at=entry.updated_at,
        )


def _bump(connection: Connection, entry: Entry, actor: str, now: datetime, **values: Any) -> None:
    """Write ``values`` and the next version, unless someone wrote since ``entry`` was
    read (then Conflict, naming them)."""
    result = connection.execute(
        update(entries)
        .where(entries.c.id == entry.id, entries.c.version == entry.version)
        .values(version=entry.version + 1, updated_by=actor, updated_at=now, **values)
    )
    if result.rowcount != 1:
        latest = read_entry(connection, entry.id)
        _check_version(latest, entry.version)


class EntryStore(StoreBase):
    """The running list's entries: read, edited, published or not, removed, reordered."""

    def get_entry(self, entry_id: int) -> Entry:
        with self.read() as connection:
            return read_entry(connection, entry_id)

    def list_entries(self, status: EntryStatus | None = None) -> list[Entry]:
        query = select(entries).order_by(entries.c.position, entries.c.id)
        if status is not None:
            query = query.where(entries.c.status == status.value)
        with self.read() as connection:
            rows = connection.execute(query).mappings().all()
            frames = _frames_of(connection, [row["id"] for row in rows])
        return [_entry_from_row(row, frames.get(row["id"], ())) for row in rows]

    def entry_of(self, candidate_id: int) -> int | None:
        query = select(entry_candidates.c.entry_id).where(
            entry_candidates.c.candidate_id == candidate_id
        )
        with self.read() as connection:
            return connection.execute(query).scalar_one_or_none()

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
            before = read_entry(connection, entry_id)
            _check_version(before, version)
            if candidate_ids is not None and tuple(candidate_ids) != before.candidate_ids:
                _replace_frames(connection, before, candidate_ids, actor, now)
            _bump(
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
            after = read_entry(connection, entry_id)
            write_audit(
                connection,
                actor,
                "edit",
                "entry",
                entry_id,
                entry_json(before),
                entry_json(after),
                now,
            )
        return after

    def set_entry_status(
        self, entry_id: int, version: int, status: EntryStatus, actor: str, now: datetime
    ) -> Entry:
        with self.write() as connection:
            before = read_entry(connection, entry_id)
            _check_version(before, version)
            _bump(connection, before, actor, now, status=status.value)
            after = read_entry(connection, entry_id)
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
            entry = read_entry(connection, entry_id)
            _check_version(entry, version)
            remove_entry(connection, entry)
            write_audit(
                connection, actor, "delete", "entry", entry_id, entry_json(entry), None, now
            )
        return entry

    def reorder_entries(self, order: Sequence[int], actor: str, now: datetime) -> list[Entry]:
        """Give the entries positions 1..n in ``order``, which must name every entry once."""
        query = select(entries.c.id).order_by(entries.c.position, entries.c.id)
        with self.write() as connection:
            current = list(connection.execute(query).scalars())
            if sorted(order) != sorted(current) or len(set(order)) != len(order):
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
                {"order": current},
                {"order": list(order)},
                now,
            )
        return self.list_entries()
