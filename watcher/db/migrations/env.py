"""Alembic environment. watcher runs migrations programmatically (``watcher db upgrade`` or
on start-up) and passes its own connection in ``config.attributes["connection"]``."""

from __future__ import annotations

from alembic import context

from watcher.db.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `watcher db upgrade`, not the alembic command")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
