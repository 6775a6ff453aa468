"""Editions, the published state, site settings, subscribers, webhooks, the outbox.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from watcher.db.columns import UTCDateTime, id_type, json_type

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "editions",
        sa.Column("number", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("published_at", UTCDateTime, nullable=False),
        sa.Column("added", json_type(), nullable=False),
        sa.Column("changed", json_type(), nullable=False),
        sa.Column("removed", json_type(), nullable=False),
        sa.Column("reordered", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("site_changed", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("entries", sa.Integer, nullable=False),
        sa.Column("audit_id", id_type(), nullable=False),
        sa.PrimaryKeyConstraint("number", name="pk_editions"),
    )
    op.create_table(
        "published_entries",
        sa.Column("entry_id", id_type(), autoincrement=False, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("edition", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name="pk_published_entries"),
    )
    op.create_table(
        "site_settings",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_site_settings"),
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("until", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_leases"),
    )
    op.create_table(
        "subscribers",
        sa.Column("id", id_type(), autoincrement=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("confirmed_at", UTCDateTime),
        sa.Column("unsubscribed_at", UTCDateTime),
        sa.Column("confirmation_sent_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_subscribers"),
        sa.UniqueConstraint("email", name="uq_subscribers_email"),
    )
    op.create_table(
        "webhooks",
        sa.Column("id", id_type(), autoincrement=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("created_by", sa.String(96), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("disabled_reason", sa.Text),
        sa.Column("last_success_at", UTCDateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("last_error_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_webhooks"),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", id_type(), autoincrement=True),
        sa.Column("edition", sa.Integer),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("lease_owner", sa.String(128)),
        sa.Column("lease_until", UTCDateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("sent_at", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        sa.UniqueConstraint("key", name="uq_deliveries_key"),
    )
    op.create_index("ix_deliveries_due", "deliveries", ["status", "next_attempt_at"])
    op.create_index("ix_deliveries_edition", "deliveries", ["edition", "channel"])
    op.create_table(
        "subscribe_attempts",
        sa.Column("id", id_type(), autoincrement=True),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_subscribe_attempts"),
    )
    op.create_index("ix_subscribe_attempts_client_at", "subscribe_attempts", ["client", "at"])
    op.create_index("ix_subscribe_attempts_email_at", "subscribe_attempts", ["email", "at"])


def downgrade() -> None:
    op.drop_index("ix_subscribe_attempts_email_at", table_name="subscribe_attempts")
    op.drop_index("ix_subscribe_attempts_client_at", table_name="subscribe_attempts")
    op.drop_table("subscribe_attempts")
    op.drop_index("ix_deliveries_edition", table_name="deliveries")
    op.drop_index("ix_deliveries_due", table_name="deliveries")
    for table in (
        "deliveries",
        "webhooks",
        "subscribers",
        "leases",
        "site_settings",
        "published_entries",
        "editions",
    ):
        op.drop_table(table)
