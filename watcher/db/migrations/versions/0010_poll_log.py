"""The admins' Status page: ``poll_log`` keeps each source's latest polls (outcome, time,
requests, new candidates; pruned to the newest few hundred a source as it is written), and
two indexes keep the page's other figures bounded reads at any size: candidates by
mission and sol (images per sol and camera), deliveries by edition and state.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from watcher.db.columns import UTCDateTime, id_type
from watcher.limits import MAX_SOURCE

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "poll_log",
        sa.Column("id", id_type(), primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(MAX_SOURCE), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("requests", sa.Integer, nullable=False, server_default="0"),
        sa.Column("inserted", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_poll_log_source_id", "poll_log", ["source", "id"])
    op.create_index("ix_candidates_mission_sol", "candidates", ["mission", "sol", "camera"])
    op.create_index("ix_deliveries_edition_status", "deliveries", ["edition", "status"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_edition_status", table_name="deliveries")
    op.drop_index("ix_candidates_mission_sol", table_name="candidates")
    op.drop_index("ix_poll_log_source_id", table_name="poll_log")
    op.drop_table("poll_log")
