"""Named leases: one replica at a time does a job that must not run twice at once.

Polls hold ``poll:<source>`` (renewed in every page's transaction), the publisher holds
``publish``. The holder renews by taking the lease again; an expired lease is free for
anyone, and a holder known to be dead can be named to take its lease over at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, or_, select, update

from watcher.db.rows import conflict_insert
from watcher.db.schema import leases
from watcher.db.store_base import StoreBase
from watcher.plans import Lease


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
        take_from: str | None = None,
    ) -> bool:
        """Hold ``name`` until ``until``; False while someone else holds it unexpired.
        ``take_from`` names a holder known to be dead, whose lease is taken over at once."""
        insert = conflict_insert(self.dialect)
        with self.write() as connection:
            connection.execute(
                insert(leases).values(name=name, owner=owner, until=now).on_conflict_do_nothing()
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
                .values(owner=owner, until=until)
            )
            return bool(result.rowcount == 1)

    def lease_holder(self, name: str, now: datetime) -> str | None:
        """Who holds ``name`` unexpired at ``now``, if anyone."""
        with self.read() as connection:
            holder = connection.execute(
                select(leases.c.owner).where(leases.c.name == name, leases.c.until > now)
            ).scalar_one_or_none()
        return str(holder) if holder is not None else None

    def drop_lease(self, name: str, owner: str) -> None:
        with self.write() as connection:
            connection.execute(delete(leases).where(leases.c.name == name, leases.c.owner == owner))
