"""Editions and the published state of the running list.

The list is read in one query whatever its length (every published entry joined to its
frames' candidates), because a publish reads all of it: 10,000 entries must not cost
10,000 round trips. An edition, its ``published_entries`` rows and
the site digest are written by ``write_edition`` inside a transaction the caller owns, so
the delivery outbox rows can join the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, bindparam, delete, func, insert, select, update

from watcher.db.audit import write_audit
from watcher.db.rows import from_row, row_or_not_found
from watcher.db.schema import (
    audit_log,
    candidates,
    editions,
    entries,
    entry_candidates,
    published_entries,
)
from watcher.db.site_settings import read_setting, write_setting
from watcher.db.store_base import StoreBase
from watcher.db.subscribers import insert_deliveries
from watcher.exceptions import Conflict
from watcher.plans import EditionPlan
from watcher.types import Edition, EntryStatus, Frame, PublishedEntry

# Audit subjects whose changes can alter what readers see (a rejection cannot).
LIST_SUBJECTS = ("entry", "list", "site")
SITE_KEYS = ("site.title", "site.intro", "site.updated_by", "site.updated_at")
SITE_DIGEST_KEY = "publish.site_digest"
CHECKED_KEY = "publish.checked_audit_id"

_FRAME_COLUMNS = (
    entry_candidates.c.entry_id,
    candidates.c.id,
    candidates.c.taken_at,
    candidates.c.thumbnail_url,
    candidates.c.medium_url,
    candidates.c.large_url,
    candidates.c.full_url,
    candidates.c.width,
    candidates.c.height,
    candidates.c.mission,
    candidates.c.camera,
    candidates.c.sol,
    candidates.c.mars_local_time,
    candidates.c.page_url,
)


def _edition(row: RowMapping) -> Edition:
    return from_row(
        Edition,
        row,
        added=tuple(row["added"] or ()),
        changed=tuple(row["changed"] or ()),
        removed=tuple(row["removed"] or ()),
        reordered=bool(row["reordered"]),
        site_changed=bool(row["site_changed"]),
    )


def change_watermark(connection: Connection) -> tuple[int, datetime | None]:
    """The newest audit event that may change the published list: (id, time), (0, None)."""
    row = connection.execute(
        select(audit_log.c.id, audit_log.c.at)
        .where(audit_log.c.subject_type.in_(LIST_SUBJECTS))
        .order_by(audit_log.c.id.desc())
        .limit(1)
    ).first()
    return (int(row.id), row.at) if row is not None else (0, None)


def latest_edition(connection: Connection) -> Edition | None:
    row = (
        connection.execute(select(editions).order_by(editions.c.number.desc()).limit(1))
        .mappings()
        .first()
    )
    return _edition(row) if row is not None else None


_ENTRY_COLUMNS = (
    entries.c.id,
    entries.c.position,
    entries.c.heading,
    entries.c.body,
    entries.c.alt_text,
    entries.c.credit,
    entries.c.rendition,
    entries.c.created_at,
    entries.c.updated_at,
)


def published_list(
    connection: Connection, entry_ids: Sequence[int] | None = None
) -> list[PublishedEntry]:
    """Published entries in list order, each with its frames (editor's order) and the
    mission, camera, sol and NASA page of its first frame; with ``entry_ids``, those
    entries whatever their status (what an edition's mail and webhook carry).

    One query, one row a frame (an entry without frames: one row of NULL frame columns),
    of the needed columns only, unpacked as plain tuples: a publish reads all 10,000
    entries, so a mapping or an object per row beyond the result is measurable."""
    joined = entries.outerjoin(
        entry_candidates, entry_candidates.c.entry_id == entries.c.id
    ).outerjoin(candidates, candidates.c.id == entry_candidates.c.candidate_id)
    wanted = (
        entries.c.status == EntryStatus.PUBLISHED.value
        if entry_ids is None
        else entries.c.id.in_(list(entry_ids))
    )
    rows = connection.execute(
        select(*_ENTRY_COLUMNS, *_FRAME_COLUMNS[1:])
        .select_from(joined)
        .where(wanted)
        .order_by(entries.c.position, entries.c.id, entry_candidates.c.position)
    ).all()
    result: list[PublishedEntry] = []
    head: tuple[Any, ...] = ()
    first: tuple[Any, ...] = ()
    frames: list[Frame] = []
    for row in rows:
        if not head or row[0] != head[0]:
            if head:
                result.append(_published(head, first, frames))
            head, first, frames = row[:9], row[9:], []
        (
            candidate_id,
            taken_at,
            thumbnail,
            medium,
            large,
            full,
            width,
            height,
        ) = row[9:17]
        if candidate_id is not None:
            frames.append(
                Frame(
                    candidate_id=candidate_id,
                    taken_at=taken_at,
                    thumbnail_url=thumbnail,
                    medium_url=medium,
                    large_url=large,
                    full_url=full,
                    width=width,
                    height=height,
                )
            )
    if head:
        result.append(_published(head, first, frames))
    return result


def _published(
    head: tuple[Any, ...], first: tuple[Any, ...], frames: list[Frame]
) -> PublishedEntry:
    """An entry from its columns (``_ENTRY_COLUMNS``), its first frame's columns
    (``_FRAME_COLUMNS`` without the entry id) and its frames."""
    entry_id, position, heading, body, alt_text, credit, rendition, created, updated = head
    _, taken_at, *_, mission, camera, sol, local_time, page_url = first
    return PublishedEntry(
        id=entry_id,
        position=position,
        heading=heading,
        body=body,
        alt_text=alt_text,
        credit=credit,
        rendition=rendition,
        frames=tuple(frames),
        mission=mission if frames else None,
        camera=camera if frames else None,
        sol=sol if frames else None,
        mars_local_time=local_time if frames else None,
        taken_at=taken_at if frames else None,
        nasa_page_url=page_url if frames else None,
        created_at=created,
        updated_at=updated,
    )


def stored_state(connection: Connection) -> dict[int, tuple[str, int, int]]:
    """``published_entries`` as entry id -> (digest, position, edition)."""
    t = published_entries.c
    rows = connection.execute(select(t.entry_id, t.digest, t.position, t.edition)).all()
    return {entry_id: (digest, position, edition) for entry_id, digest, position, edition in rows}


def _write_edition(connection: Connection, plan: EditionPlan) -> Edition:
    """Insert the plan's edition and bring ``published_entries`` to ``plan.current``,
    touching only rows whose digest or position differ from ``plan.stored``.

    If another publisher has made an edition since the plan was made (its lease ran out
    mid-publish), the plan is stale and ``Conflict`` is raised rather than announcing the
    same changes twice."""
    number = int(
        connection.execute(select(func.coalesce(func.max(editions.c.number), 0) + 1)).scalar_one()
    )
    if number != plan.number:
        raise Conflict(f"edition {number - 1} was published meanwhile; compare again")
    connection.execute(
        insert(editions).values(
            number=number,
            published_at=plan.published_at,
            added=list(plan.added),
            changed=list(plan.changed),
            removed=list(plan.removed),
            reordered=plan.reordered,
            site_changed=plan.site_changed,
            entries=len(plan.current),
            audit_id=plan.audit_id,
        )
    )
    if plan.removed:
        connection.execute(
            delete(published_entries).where(published_entries.c.entry_id.in_(list(plan.removed)))
        )
    inserts, updates = [], []
    for position, (entry_id, digest) in enumerate(plan.current, start=1):
        before = plan.stored.get(entry_id)
        if before is None:
            inserts.append(
                {"entry_id": entry_id, "digest": digest, "position": position, "edition": number}
            )
        elif before != (digest, position):
            updates.append({"b_id": entry_id, "digest": digest, "position": position})
    if inserts:
        connection.execute(insert(published_entries), inserts)
    if updates:
        connection.execute(
            update(published_entries)
            .where(published_entries.c.entry_id == bindparam("b_id"))
            .values(digest=bindparam("digest"), position=bindparam("position"), edition=number),
            updates,
        )
    write_setting(connection, SITE_DIGEST_KEY, plan.site_digest)
    row = connection.execute(select(editions).where(editions.c.number == number)).mappings().one()
    return _edition(row)


def _mark_checked(connection: Connection, audit_id: int) -> None:
    checked = read_setting(connection, CHECKED_KEY)
    if not checked or int(checked) < audit_id:
        write_setting(connection, CHECKED_KEY, str(audit_id))


class PublishingStore(StoreBase):
    """Reads the list as readers will see it; writes editions and what they published."""

    def commit_edition(self, plan: EditionPlan) -> tuple[Edition, int]:
        """The edition, the published state, its outbox rows and the examined watermark,
        in one transaction: an edition and its deliveries exist together or not at all.
        Returns the edition and how many deliveries were new. Raises ``Conflict``."""
        with self.write() as connection:
            edition = _write_edition(connection, plan)
            deliveries = insert_deliveries(connection, plan.deliveries, plan.published_at)
            _mark_checked(connection, plan.audit_id)
        return edition, deliveries

    def publish_snapshot(
        self,
    ) -> tuple[int, list[PublishedEntry], dict[int, tuple[str, int, int]], Edition | None]:
        """(watermark, list, stored state, latest edition), the watermark read first: every
        change up to it is in the list read after it."""
        with self.read() as connection:
            watermark, _ = change_watermark(connection)
            return (
                watermark,
                published_list(connection),
                stored_state(connection),
                latest_edition(connection),
            )

    def published_list(self) -> list[PublishedEntry]:
        with self.read() as connection:
            return published_list(connection)

    def entries_with_frames(self, entry_ids: Sequence[int]) -> list[PublishedEntry]:
        """Those entries as a publish would show them, whatever their status (the editor's
        pages ask what became of a draft's animation too)."""
        if not entry_ids:
            return []
        with self.read() as connection:
            return published_list(connection, entry_ids)

    def latest_edition(self) -> Edition | None:
        with self.read() as connection:
            return latest_edition(connection)

    def latest_edition_number(self) -> int | None:
        """The latest edition's number alone (the primary key's end): what a replica's
        site follower asks every couple of seconds."""
        with self.read() as connection:
            return connection.execute(select(func.max(editions.c.number))).scalar()

    def change_mark(self) -> tuple[int, datetime | None, int]:
        """(newest list-changing audit id, its time, the id the last publish examined)."""
        with self.read() as connection:
            watermark, at = change_watermark(connection)
            checked = read_setting(connection, CHECKED_KEY)
        return watermark, at, int(checked) if checked else 0

    def mark_checked(self, audit_id: int) -> None:
        """Remember that the list up to ``audit_id`` was examined (never moves back)."""
        with self.write() as connection:
            _mark_checked(connection, audit_id)

    def list_editions(self, limit: int = 50, before: int | None = None) -> list[Edition]:
        query = select(editions).order_by(editions.c.number.desc()).limit(limit)
        if before is not None:
            query = query.where(editions.c.number < before)
        with self.read() as connection:
            return [_edition(row) for row in connection.execute(query).mappings()]

    def get_edition(self, number: int) -> Edition:
        """Raises NotFound."""
        query = select(editions).where(editions.c.number == number)
        with self.read() as connection:
            return _edition(row_or_not_found(connection, query, f"no edition {number}"))

    def site_text(self) -> tuple[dict[str, str], str | None]:
        """The stored site settings (``site.*`` keys present) and the published site digest."""
        with self.read() as connection:
            values = {key: read_setting(connection, key) for key in SITE_KEYS}
            digest = read_setting(connection, SITE_DIGEST_KEY)
        return {k: v for k, v in values.items() if v is not None}, digest

    def set_site_text(
        self, title: str, intro: str, before: Mapping[str, str], actor: str, now: datetime
    ) -> None:
        """Store the title and intro with who changed them, and audit the change."""
        with self.write() as connection:
            write_setting(connection, "site.title", title)
            write_setting(connection, "site.intro", intro)
            write_setting(connection, "site.updated_by", actor)
            write_setting(connection, "site.updated_at", now.isoformat())
            write_audit(
                connection,
                actor,
                "edit",
                "site",
                "settings",
                dict(before),
                {"title": title, "intro": intro},
                now,
            )
