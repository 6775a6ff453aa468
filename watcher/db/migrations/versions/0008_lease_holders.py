"""A lease records its holder's process (host name, pid, start token) and since when it
is held, so a holder on the same host can be proved gone and a busy answer can say who
holds the lease and until when.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from watcher.db.columns import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_COLUMNS = ("host", "pid", "started", "since")


def upgrade() -> None:
    # Nullable: a lease in flight during the upgrade lapses as before (its owner unknown).
    op.add_column("leases", sa.Column("host", sa.String(255)))
    op.add_column("leases", sa.Column("pid", sa.Integer))
    op.add_column("leases", sa.Column("started", sa.String(128)))
    op.add_column("leases", sa.Column("since", UTCDateTime))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite >= 3.35), as 0007 does.
    for column in reversed(_COLUMNS):
        op.drop_column("leases", column)
