"""Poll state keeps the feed's change marker (NASA's ``latest``) of the last complete sweep.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("poll_state") as batch:
        batch.add_column(sa.Column("marker", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("poll_state") as batch:
        batch.drop_column("marker")
