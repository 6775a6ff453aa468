"""Candidates, poll state and backfill progress.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from watcher.db.columns import UTCDateTime, id_type, json_type

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "candidates",
        sa.Column("id", id_type(), primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("external_id", sa.String(255), nullable=False),
        sa.Column("mission", sa.String(32)),
        sa.Column("title", sa.Text, nullable=False, server_default=""),
        sa.Column("caption", sa.Text, nullable=False, server_default=""),
        sa.Column("credit", sa.Text),
        sa.Column("camera", sa.String(64)),
        sa.Column("sol", sa.Integer),
        sa.Column("taken_at", UTCDateTime),
        sa.Column("mars_local_time", sa.String(16)),
        sa.Column("received_at", UTCDateTime),
        sa.Column("page_url", sa.Text),
        sa.Column("thumbnail_url", sa.Text),
        sa.Column("medium_url", sa.Text),
        sa.Column("large_url", sa.Text),
        sa.Column("full_url", sa.Text),
        sa.Column("width", sa.Integer),
        sa.Column("height", sa.Integer),
        sa.Column("status", sa.String(16), nullable=False, server_default="new"),
        sa.Column("first_seen_at", UTCDateTime, nullable=False),
        sa.Column("raw", json_type(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_candidates"),
        sa.UniqueConstraint("source", "external_id", name="uq_candidates_source_external_id"),
    )
    op.create_index("ix_candidates_status_id", "candidates", ["status", "id"])
    op.create_table(
        "poll_state",
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("cursor", sa.Text),
        sa.Column("sweep", json_type()),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("last_attempt_at", UTCDateTime),
        sa.Column("last_success_at", UTCDateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("last_error_at", UTCDateTime),
        sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_poll_at", UTCDateTime),
        sa.Column("lease_owner", sa.String(128)),
        sa.Column("lease_until", UTCDateTime),
        sa.PrimaryKeyConstraint("source", name="pk_poll_state"),
    )
    op.create_table(
        "backfills",
        sa.Column("id", id_type(), autoincrement=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("range_key", sa.String(64), nullable=False),
        sa.Column("from_sol", sa.Integer),
        sa.Column("to_sol", sa.Integer),
        sa.Column("next_request", json_type()),
        sa.Column("done", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("fetched", sa.Integer, nullable=False, server_default="0"),
        sa.Column("inserted", sa.Integer, nullable=False, server_default="0"),
        sa.Column("total", sa.Integer),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_backfills"),
        sa.UniqueConstraint("source", "range_key", name="uq_backfills_source_range_key"),
    )


def downgrade() -> None:
    op.drop_table("backfills")
    op.drop_table("poll_state")
    op.drop_index("ix_candidates_status_id", table_name="candidates")
    op.drop_table("candidates")
