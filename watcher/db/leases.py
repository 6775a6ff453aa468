"""Named leases: one replica at a time does a job that must not run twice at once.

Polls hold ``poll:<source>`` (also renewed in every page's transaction), the publisher
holds ``publish``, curation ``curate``. The holder renews by taking the lease again; an
expired lease is free for anyone, and a holder known to be dead can be named to take its
lease over at once. Each lease records its holder's process and since when it is held,
so a process on the same host can tell whether the holder is gone and a busy answer can
say who holds it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, case, delete, or_, select, update

from watcher.db.rows import conflict_insert
from watcher.db.schema import leases
from watcher.db.store_base import StoreBase
from watcher.plans import Lease
from watcher.types import LeaseHolder, ProcessId


def renew_lease(connection: Connection, lease: Lease) -> None:
    """Extend ``lease`` inside the caller's transaction, if its owner still holds it."""
    connection.execute(
        update(leases)
        .where(leases.c.name == lease.name, leases.c.owner == lease.owner)
        .values(until=lease.until)
    )


class LeaseStore(StoreBase):
    def take_lease(
        self,
        name: str,
        owner: str,
        now: datetime,
        until: datetime,
        *,
        process: ProcessId | None = None,
        take_from: str | None = None,
    ) -> bool:
        """Hold ``name`` until ``until``; False while someone else holds it unexpired.
        ``process`` is recorded as the holder's; ``take_from`` names a holder known to be
        dead, whose lease is taken over at once. Renewing keeps ``since``."""
        insert = conflict_insert(self.dialect)
        who = {
            "host": process.host if process else None,
            "pid": process.pid if process else None,
            "started": process.started if process else None,
        }
        with self.write() as connection:
            connection.execute(
                insert(leases)
                .values(name=name, owner=owner, until=now, since=now, **who)
                .on_conflict_do_nothing()
            )
            result = connection.execute(
                update(leases)
                .where(
                    leases.c.name == name,
                    or_(
                        leases.c.owner == owner,
                        leases.c.owner == (take_from or owner),
                        leases.c.until <= now,
                    ),
                )
                .values(
                    owner=owner,
                    until=until,
                    since=case((leases.c.owner == owner, leases.c.since), else_=now),
                    **who,
                )
            )
            return bool(result.rowcount == 1)

    def lease_holder(self, name: str, now: datetime) -> LeaseHolder | None:
        """Who holds ``name`` unexpired at ``now``, if anyone."""
        with self.read() as connection:
            row = (
                connection.execute(
                    select(leases).where(leases.c.name == name, leases.c.until > now)
                )
                .mappings()
                .one_or_none()
            )
        if row is None:
            return None
        process = (
            ProcessId(str(row["host"]), int(row["pid"]), str(row["started"] or ""))
            if row["host"] is not None and row["pid"] is not None
            else None
        )
        return LeaseHolder(
            name=name,
            owner=str(row["owner"]),
            process=process,
            since=row["since"],
            until=row["until"],
        )

    def drop_lease(self, name: str, owner: str) -> None:
        with self.write() as connection:
            connection.execute(delete(leases).where(leases.c.name == name, leases.c.owner == owner))
