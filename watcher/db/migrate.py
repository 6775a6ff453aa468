"""Schema migrations, run from code so operators never need the alembic command.

On PostgreSQL an advisory lock serialises replicas that start together: the first one
migrates, the others wait and then find nothing to do.
"""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from watcher.db.engine import WRITE_FLAG

_ADVISORY_LOCK_ID = 0x7761746368  # "watch"


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("watcher.db") / "migrations"))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Bring the schema to ``revision``; returns (before, after)."""
    config = _alembic_config()
    with engine.connect() as connection:
        connection.info[WRITE_FLAG] = True
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_ADVISORY_LOCK_ID})")
            before = current_revision(connection)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            after = current_revision(connection)
    return before, after


def downgrade(engine: Engine, revision: str) -> None:
    config = _alembic_config()
    with engine.connect() as connection:
        connection.info[WRITE_FLAG] = True
        with connection.begin():
            config.attributes["connection"] = connection
            command.downgrade(config, revision)
