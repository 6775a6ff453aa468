"""An index on the outbox's status and channel, so ``/metrics`` counts deliveries per
channel and state from the index alone (a scrape reads it every few seconds, and the
outbox holds a row per subscriber per edition).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_deliveries_state", "deliveries", ["status", "channel"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_state", "deliveries")
