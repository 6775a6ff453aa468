"""Site-wide settings (key/value), shared by publishing and delivery: the list's title and
intro as admins edit them, the link-signing key, the publisher's watermarks."""

from __future__ import annotations

from sqlalchemy import Connection, select

from watcher.db.rows import conflict_insert, upsert
from watcher.db.schema import site_settings
from watcher.db.store_base import StoreBase


def read_setting(connection: Connection, key: str) -> str | None:
    value = connection.execute(
        select(site_settings.c.value).where(site_settings.c.key == key)
    ).scalar_one_or_none()
    return str(value) if value is not None else None


def write_setting(connection: Connection, key: str, value: str) -> None:
    upsert(connection, site_settings, {"key": key, "value": value}, ("key",))


def add_setting_once(connection: Connection, key: str, value: str) -> str:
    """Store ``value`` under ``key`` unless one is there already; return the stored value.

    Two replicas generating a secret at once both end up with the first one written.
    """
    insert = conflict_insert(connection.dialect.name)
    connection.execute(insert(site_settings).values(key=key, value=value).on_conflict_do_nothing())
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

    def set_setting(self, key: str, value: str) -> None:
        with self.write() as connection:
            write_setting(connection, key, value)

    def get_or_create_setting(self, key: str, value: str) -> str:
        with self.write() as connection:
            return add_setting_once(connection, key, value)
