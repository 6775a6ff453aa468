"""Poll state and backfill progress, saved in the same transaction as the candidates they
cover: a crash can lose at most the page in flight, never skip one. A record the database
refuses for its content is skipped and counted (``insert_candidates``), and the state moves
past it; any other failure rolls the whole page back, its state with it. A finished poll's
record (``poll_log``) goes with its last state, the log pruned in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection, RowMapping, delete, insert, select

from watcher.db.candidates import insert_candidates
from watcher.db.leases import renew_lease
from watcher.db.rows import from_row, upsert
from watcher.db.schema import backfills, poll_log, poll_state
from watcher.db.store_base import StoreBase
from watcher.plans import Lease
from watcher.types import (
    Backfill,
    CandidateData,
    PageRequest,
    PageStored,
    PollRecord,
    PollState,
)

_POLL_COLUMNS = (
    "cursor",
    "marker",
    "sweep",
    "etag",
    "last_modified",
    "last_attempt_at",
    "last_success_at",
    "last_error",
    "last_error_at",
    "consecutive_failures",
    "next_poll_at",
)


def range_key(from_sol: int | None, to_sol: int | None) -> str:
    return f"{'' if from_sol is None else from_sol}:{'' if to_sol is None else to_sol}"


def _write_poll_state(connection: Connection, state: PollState) -> None:
    values = {name: getattr(state, name) for name in _POLL_COLUMNS}
    values["sweep"] = dict(state.sweep) if state.sweep is not None else None
    upsert(connection, poll_state, {"source": state.source, **values}, ("source",))


# Polls kept per source: a day and more of a 10-minute source, enough for any chart of
# "recent polls", and a bound however long the service runs.
POLL_LOG_KEEP = 200


def _write_poll_record(connection: Connection, record: PollRecord) -> None:
    """Append the record and drop the source's records older than the newest
    ``POLL_LOG_KEEP`` (an indexed range on (source, id): a few rows at a time)."""
    values = {
        "source": record.source,
        "started_at": record.started_at,
        "finished_at": record.finished_at,
        "outcome": record.outcome.value,
        "requests": record.requests,
        "inserted": record.inserted,
        "error": record.error,
    }
    connection.execute(insert(poll_log), values)
    oldest_kept = (
        select(poll_log.c.id)
        .where(poll_log.c.source == record.source)
        .order_by(poll_log.c.id.desc())
        .offset(POLL_LOG_KEEP - 1)
        .limit(1)
        .scalar_subquery()
    )
    connection.execute(
        delete(poll_log).where(poll_log.c.source == record.source, poll_log.c.id < oldest_kept)
    )


def _write_backfill(connection: Connection, backfill: Backfill) -> None:
    values = {
        "source": backfill.source,
        "range_key": range_key(backfill.from_sol, backfill.to_sol),
        "from_sol": backfill.from_sol,
        "to_sol": backfill.to_sol,
        "next_request": backfill.next_request.to_json() if backfill.next_request else None,
        "done": backfill.done,
        "fetched": backfill.fetched,
        "inserted": backfill.inserted,
        "total": backfill.total,
        "started_at": backfill.started_at,
        "updated_at": backfill.updated_at,
    }
    upsert(connection, backfills, values, ("source", "range_key"))


def _poll_state(row: RowMapping) -> PollState:
    return from_row(PollState, row)


def _backfill(row: RowMapping) -> Backfill:
    next_request = row["next_request"]
    return from_row(
        Backfill,
        row,
        next_request=PageRequest.from_json(next_request) if next_request else None,
        done=bool(row["done"]),
    )


class PollingStore(StoreBase):
    def get_poll_state(self, source: str) -> PollState:
        """The stored state, or a fresh one for a source never polled."""
        with self.read() as connection:
            row = (
                connection.execute(select(poll_state).where(poll_state.c.source == source))
                .mappings()
                .first()
            )
        return _poll_state(row) if row is not None else PollState(source=source)

    def poll_states(self) -> dict[str, PollState]:
        with self.read() as connection:
            rows = connection.execute(select(poll_state)).mappings().all()
        return {row["source"]: _poll_state(row) for row in rows}

    def save_poll_state(self, state: PollState, record: PollRecord | None = None) -> None:
        """The state, and with it the record of the poll it ends (if it ends one)."""
        with self.write() as connection:
            _write_poll_state(connection, state)
            if record is not None:
                _write_poll_record(connection, record)

    def save_poll_page(
        self,
        items: Sequence[CandidateData],
        now: datetime,
        state: PollState,
        lease: Lease | None = None,
        record: PollRecord | None = None,
    ) -> PageStored:
        """Store a page's candidates and the state it leads to, as one transaction; returns
        how many candidates were new and how many the database refused. ``lease`` is the
        poller's, extended in the same transaction. ``record``: this page ends the poll; its
        ``inserted`` counts the earlier pages' new candidates, and this page's are added to
        it here."""
        with self.write() as connection:
            stored = insert_candidates(connection, items, now)
            _write_poll_state(connection, state)
            if lease is not None:
                renew_lease(connection, lease)
            if record is not None:
                done = replace(record, inserted=record.inserted + stored.inserted)
                _write_poll_record(connection, done)
        return stored

    def get_backfill(
        self, source: str, from_sol: int | None, to_sol: int | None
    ) -> Backfill | None:
        query = select(backfills).where(
            backfills.c.source == source,
            backfills.c.range_key == range_key(from_sol, to_sol),
        )
        with self.read() as connection:
            row = connection.execute(query).mappings().first()
        return _backfill(row) if row is not None else None

    def backfills(self, source: str | None = None) -> list[Backfill]:
        query = select(backfills).order_by(backfills.c.id)
        if source is not None:
            query = query.where(backfills.c.source == source)
        with self.read() as connection:
            return [_backfill(row) for row in connection.execute(query).mappings()]

    def save_backfill(self, backfill: Backfill) -> None:
        with self.write() as connection:
            _write_backfill(connection, backfill)

    def save_backfill_page(self, items: Sequence[CandidateData], backfill: Backfill) -> Backfill:
        """A backfill page's candidates and the progress it leads to, as one transaction;
        returns the progress stored, its ``inserted`` counting the page's new candidates."""
        with self.write() as connection:
            page = insert_candidates(connection, items, backfill.updated_at, backfilled=True)
            stored = replace(backfill, inserted=backfill.inserted + page.inserted)
            _write_backfill(connection, stored)
        return stored
