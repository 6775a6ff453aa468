"""Curation's fingerprints: what the job measures next, what it measured, what failed.

A candidate waiting for its fingerprint carries a mark (``fingerprint_due``: new, or
archive for a backfilled one) under a partial index, so finding the next ones reads a few
index entries however many candidates are stored; a fingerprint stored, or a failure
recorded, clears the mark in the same transaction. A failure waits in
``fingerprint_failures`` until its ``retry_at`` (indexed), so a broken picture never comes
back before its time and never stands in the way of the others.

The hashes are unsigned 64-bit values; both databases store signed 64-bit integers, so a
hash is stored as the signed integer of the same bits and turned back when read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, func, select, update

from watcher.db.rows import conflict_insert, from_row
from watcher.db.schema import (
    FINGERPRINT_ARCHIVE,
    FINGERPRINT_NEW,
    candidates,
    fingerprint_failures,
    fingerprints,
)
from watcher.db.store_base import StoreBase
from watcher.plans import PictureFailure
from watcher.types import Fingerprint, PictureToDo

_SIGN = 1 << 63
_WORD = 1 << 64
_STATISTICS = ("colourfulness", "entropy", "sharpness", "brightness", "black")


def to_signed(value: int) -> int:
    """The signed 64-bit integer with the same bits as the unsigned ``value``."""
    if not 0 <= value < _WORD:
        raise ValueError(f"{value} is not a 64-bit hash")
    return value - _WORD if value >= _SIGN else value


def to_unsigned(value: int) -> int:
    """The unsigned 64-bit hash stored as the signed ``value``."""
    return value + _WORD if value < 0 else value


def _fingerprint(row: RowMapping) -> Fingerprint:
    return from_row(
        Fingerprint, row, phash=to_unsigned(row["phash"]), dhash=to_unsigned(row["dhash"])
    )


def _due(connection: Connection, mark: int, limit: int) -> list[int]:
    """The newest ``limit`` candidates carrying ``mark`` (through the partial index)."""
    c = candidates.c
    query = (
        select(c.id)
        .where(c.fingerprint_due == mark, c.fingerprint_due.is_not(None))
        .order_by(c.id.desc())
        .limit(limit)
    )
    return list(connection.execute(query).scalars())


def _retries(connection: Connection, archive: bool, now: datetime, limit: int) -> dict[int, int]:
    """Failures whose wait is over, longest-waiting first: candidate id -> attempts."""
    f = fingerprint_failures.c
    query = (
        select(f.candidate_id, f.attempts)
        .where(f.archive == archive, f.retry_at <= now)
        .order_by(f.retry_at)
        .limit(limit)
    )
    return {row.candidate_id: row.attempts for row in connection.execute(query)}


class FingerprintStore(StoreBase):
    def pictures_to_fingerprint(
        self, now: datetime, limit: int, *, archive: bool = False
    ) -> list[PictureToDo]:
        """Up to ``limit`` candidates to fingerprint: new ones (newest first), then new
        ones' failures whose wait is over; with ``archive``, then the same of the archive."""
        picked: list[tuple[int, int, bool]] = []
        with self.read() as connection:
            for is_archive in (False, True) if archive else (False,):
                mark = FINGERPRINT_ARCHIVE if is_archive else FINGERPRINT_NEW
                for candidate_id in _due(connection, mark, limit - len(picked)):
                    picked.append((candidate_id, 0, is_archive))
                if len(picked) < limit:
                    retries = _retries(connection, is_archive, now, limit - len(picked))
                    picked.extend((cid, tries, is_archive) for cid, tries in retries.items())
            if not picked:
                return []
            c = candidates.c
            query = select(c.id, c.thumbnail_url, c.medium_url, c.large_url).where(
                c.id.in_([candidate_id for candidate_id, _, _ in picked])
            )
            urls = {
                row.id: tuple(u for u in (row.thumbnail_url, row.medium_url, row.large_url) if u)
                for row in connection.execute(query)
            }
        return [
            PictureToDo(candidate_id=cid, urls=urls[cid], attempts=tries, archive=is_archive)
            for cid, tries, is_archive in picked
            if cid in urls
        ]

    def save_fingerprints(self, measured: Sequence[tuple[Fingerprint, str | None]]) -> None:
        """Store fingerprints (each with the URL of the picture measured), replacing any
        earlier one; their candidates are no longer due, nor waiting for a retry."""
        if not measured:
            return
        rows = [_row(fingerprint, url) for fingerprint, url in measured]
        ids = [fingerprint.candidate_id for fingerprint, _ in measured]
        with self.write() as connection:
            insert = conflict_insert(connection.dialect.name)(fingerprints)
            columns = {name: insert.excluded[name] for name in rows[0] if name != "candidate_id"}
            connection.execute(
                insert.on_conflict_do_update(index_elements=["candidate_id"], set_=columns), rows
            )
            connection.execute(
                delete(fingerprint_failures).where(fingerprint_failures.c.candidate_id.in_(ids))
            )
            connection.execute(
                update(candidates).where(candidates.c.id.in_(ids)).values(fingerprint_due=None)
            )

    def record_picture_failures(self, failures: Sequence[PictureFailure]) -> None:
        """Record why pictures could not be had and when to try them again; their
        candidates are no longer due until then."""
        if not failures:
            return
        rows = [
            {
                "candidate_id": failure.candidate_id,
                "attempts": failure.attempts,
                "last_error": failure.error,
                "failed_at": failure.failed_at,
                "retry_at": failure.retry_at,
                "archive": failure.archive,
            }
            for failure in failures
        ]
        with self.write() as connection:
            insert = conflict_insert(connection.dialect.name)(fingerprint_failures)
            columns = {name: insert.excluded[name] for name in rows[0] if name != "candidate_id"}
            connection.execute(
                insert.on_conflict_do_update(index_elements=["candidate_id"], set_=columns), rows
            )
            ids = [failure.candidate_id for failure in failures]
            connection.execute(
                update(candidates).where(candidates.c.id.in_(ids)).values(fingerprint_due=None)
            )

    def fingerprints_for(self, candidate_ids: Sequence[int]) -> dict[int, Fingerprint]:
        """The stored fingerprints of those candidates (a candidate without one is left
        out), by candidate id."""
        found: dict[int, Fingerprint] = {}
        unique = sorted(set(candidate_ids))
        with self.read() as connection:
            for start in range(0, len(unique), 500):
                query = select(fingerprints).where(
                    fingerprints.c.candidate_id.in_(unique[start : start + 500])
                )
                for row in connection.execute(query).mappings():
                    found[row["candidate_id"]] = _fingerprint(row)
        return found

    def picture_failure(self, candidate_id: int) -> PictureFailure | None:
        """Why a candidate's picture could not be had last time, and when it is tried again."""
        query = select(fingerprint_failures).where(
            fingerprint_failures.c.candidate_id == candidate_id
        )
        with self.read() as connection:
            row = connection.execute(query).mappings().first()
        if row is None:
            return None
        return from_row(PictureFailure, row, error=row["last_error"])

    def fingerprint_backlog(self, now: datetime, *, archive: bool = False) -> tuple[int, int]:
        """How many candidates are due (archive ones too with ``archive``), and how many
        failures wait for their retry."""
        c, f = candidates.c, fingerprint_failures.c
        marks = [FINGERPRINT_NEW, FINGERPRINT_ARCHIVE] if archive else [FINGERPRINT_NEW]
        due = select(func.count()).where(c.fingerprint_due.in_(marks))
        retrying = select(func.count()).where(f.retry_at > now)
        if not archive:
            retrying = retrying.where(f.archive.is_(False))
        with self.read() as connection:
            return (
                int(connection.execute(due).scalar_one()),
                int(connection.execute(retrying).scalar_one()),
            )


def _row(fingerprint: Fingerprint, url: str | None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "candidate_id": fingerprint.candidate_id,
        "phash": to_signed(fingerprint.phash),
        "dhash": to_signed(fingerprint.dhash),
        "width": fingerprint.width,
        "height": fingerprint.height,
        "url": url,
        "computed_at": fingerprint.computed_at,
    }
    row.update({name: float(getattr(fingerprint, name)) for name in _STATISTICS})
    return row
