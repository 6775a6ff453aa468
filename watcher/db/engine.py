"""Engines for SQLite and PostgreSQL, tuned for a long-running service.

SQLite: WAL (readers never block the writer), a busy timeout, foreign keys on, and
``BEGIN IMMEDIATE`` for write transactions so two writers queue on the busy timeout instead
of failing with "database is locked" when a read lock cannot be upgraded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from watcher.exceptions import ConfigError, StorageError

SQLITE_BUSY_TIMEOUT_MS = 10_000
WRITE_FLAG = "watcher_write"


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def normalise_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 (the driver watcher ships with)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(normalise_url(url))
    except Exception as exc:  # sqlalchemy raises ArgumentError on a malformed URL
        raise ConfigError(f"invalid database URL {url!r}: {exc}", key="database.url") from exc
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed.render_as_string(hide_password=False), parsed.database)
    if parsed.get_backend_name() == "postgresql":
        return create_engine(
            parsed,
            json_serializer=_json_dumps,
            json_deserializer=orjson.loads,
            pool_pre_ping=True,
            pool_size=5,
            max_overflow=5,
        )
    raise ConfigError(f"unsupported database {parsed.get_backend_name()!r}", key="database.url")


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:" and not database.startswith("file:"):
        folder = Path(database).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create the database folder {folder}: {exc}") from exc
    engine = create_engine(
        url,
        json_serializer=_json_dumps,
        json_deserializer=orjson.loads,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event (below) issue BEGIN, not the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.info.pop(WRITE_FLAG, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
