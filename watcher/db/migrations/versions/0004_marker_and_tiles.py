"""Poll state keeps the feed's change marker (NASA's ``latest``) of the last complete sweep;
candidates keep the tiles of a frame NASA sent in pieces.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from watcher.db.columns import json_type

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (SQLite has it): the candidates table keeps its search triggers.
    op.add_column("poll_state", sa.Column("marker", sa.Text))
    op.add_column("candidates", sa.Column("tiles", json_type()))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite >= 3.35): a batch copy would lose the search triggers.
    op.drop_column("candidates", "tiles")
    op.drop_column("poll_state", "marker")
