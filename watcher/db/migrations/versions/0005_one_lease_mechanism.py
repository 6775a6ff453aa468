"""Polls hold named leases (``poll:<source>``) like the publisher does, so there is one
lease mechanism: the lease columns of ``poll_state`` go, and a lease's name grows to fit
the prefix and the longest source name.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from watcher.db.columns import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain DROP COLUMN (SQLite >= 3.35); a lease in flight lapses, as after a restart.
    op.drop_column("poll_state", "lease_until")
    op.drop_column("poll_state", "lease_owner")
    with op.batch_alter_table("leases") as batch:
        batch.alter_column("name", type_=sa.String(128), existing_type=sa.String(64))


def downgrade() -> None:
    with op.batch_alter_table("leases") as batch:
        batch.alter_column("name", type_=sa.String(64), existing_type=sa.String(128))
    op.add_column("poll_state", sa.Column("lease_owner", sa.String(128)))
    op.add_column("poll_state", sa.Column("lease_until", UTCDateTime))
