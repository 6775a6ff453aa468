"""Schema migrations, run from code so operators never need the alembic command.

On PostgreSQL an advisory lock serialises replicas that start together: the first one
migrates, the others wait and then find nothing to do.

Every command starts by asking whether the schema is current (``prepare_database``), and
it nearly always is. That question is answered without alembic, whose import costs a
command more than the rest of its start-up: the newest revision is read from the
versions folder's files, the database's from ``alembic_version``. Alembic is imported only
when there is something to migrate (or when the folder's revisions do not form one line,
where its own reading decides).
"""

from __future__ import annotations

import ast
import re
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, inspect, text

from watcher.db.engine import WRITE_FLAG
from watcher.exceptions import StorageError

if TYPE_CHECKING:
    from alembic.config import Config

_ADVISORY_LOCK_ID = 0x7761746368  # "watch"
_VERSION_TABLE = "alembic_version"
# ``revision = "0010"`` and ``down_revision = "0009"`` (or None, or a tuple when branches
# merge), each alone on its line as alembic writes them, a type annotation allowed.
_ASSIGNMENT = re.compile(r"^(revision|down_revision)\s*(?::[^=]+)?=\s*(.+?)\s*$", re.MULTILINE)


def _alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(files("watcher.db") / "migrations"))
    return config


def _folder_heads() -> list[str]:
    """The revisions of the versions folder that no other revision follows."""
    revisions: set[str] = set()
    followed: set[str] = set()
    for path in (files("watcher.db") / "migrations" / "versions").iterdir():
        if not path.name.endswith(".py") or path.name.startswith("_"):
            continue
        values: dict[str, Any] = {
            m[1]: ast.literal_eval(m[2]) for m in _ASSIGNMENT.finditer(path.read_text())
        }
        if isinstance(values.get("revision"), str):
            revisions.add(values["revision"])
        down = values.get("down_revision")
        followed.update([down] if isinstance(down, str) else down or ())
    return sorted(revisions - followed)


@cache
def head_revision() -> str | None:
    """The newest revision this code knows (alembic's "head")."""
    heads = _folder_heads()
    if len(heads) == 1:
        return heads[0]
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    """The database's revision: None before the first migration."""
    if not inspect(connection).has_table(_VERSION_TABLE):
        return None
    query = text(f"SELECT version_num FROM {_VERSION_TABLE}")  # noqa: S608 (a constant)
    versions = list(connection.execute(query).scalars())
    if len(versions) > 1:
        raise StorageError(f"the database's {_VERSION_TABLE} holds several revisions: {versions}")
    return str(versions[0]) if versions else None


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Bring the schema to ``revision``; returns (before, after)."""
    if revision == "head":
        with engine.connect() as connection:
            current = current_revision(connection)
        if current is not None and current == head_revision():
            return current, current
    from alembic import command

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
    from alembic import command

    config = _alembic_config()
    with engine.connect() as connection:
        connection.info[WRITE_FLAG] = True
        with connection.begin():
            config.attributes["connection"] = connection
            command.downgrade(config, revision)
