"""Site-wide settings (key/value) and named leases, shared by publishing and delivery.

Named leases make one replica at a time do a job that must not run twice at once (the
publisher); the holder renews by acquiring again, and an expired lease is free for anyone.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from watcher.db.schema import leases, site_settings
from watcher.db.store_base import StoreBase


def _insert(connection: Connection):  # type: ignore[no-untyped-def]
    return postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert


def read_setting(connection: Connection, key: str) -> str | None:
    value = connection.execute(
        select(site_settings.c.value).where(site_settings.c.key == key)
    ).scalar_one_or_none()
    return str(value) if value is not None else None


def write_setting(connection: Connection, key: str, value: str) -> None:
    statement = _insert(connection)(site_settings).values(key=key, value=value)
    connection.execute(
        statement.on_conflict_do_update(index_elements=["key"], set_={"value": value})
    )


def add_setting_once(connection: Connection, key: str, value: str) -> str:
    """Store ``value`` under ``key`` unless one is there already; return the stored value.

    Two replicas generating a secret at once both end up with the first one written.
    """
    connection.execute(
        _insert(connection)(site_settings).values(key=key, value=value).on_conflict_do_nothing()
    )
    stored = read_setting(connection, key)
    assert stored is not None
    return stored


class SiteStore(StoreBase):
    def get_settings(self, *keys: str) -> dict[str, str]:
        with self.read() as connection:
            rows = connection.execute(
                select(site_settings.c.key, site_settings.c.value).where(
                    site_settings.c.key.in_(keys)
                )
            ).all()
        return {str(key): str(value) for key, value in rows}

    def get_or_create_setting(self, key: str, value: str) -> str:
        with self.write() as connection:
            return add_setting_once(connection, key, value)

    def take_lease(self, name: str, owner: str, now: datetime, until: datetime) -> bool:
        """Hold ``name`` until ``until``; False while someone else holds it unexpired."""
        with self.write() as connection:
            connection.execute(
                _insert(connection)(leases)
                .values(name=name, owner=owner, until=now)
                .on_conflict_do_nothing()
            )
            result = connection.execute(
                update(leases)
                .where(leases.c.name == name, or_(leases.c.owner == owner, leases.c.until <= now))
                .values(owner=owner, until=until)
            )
            return bool(result.rowcount == 1)

    def drop_lease(self, name: str, owner: str) -> None:
        with self.write() as connection:
            connection.execute(delete(leases).where(leases.c.name == name, leases.c.owner == owner))
