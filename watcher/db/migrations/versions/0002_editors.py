"""Editors, sessions, API tokens, entries, decisions and the audit log.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from watcher.db.columns import UTCDateTime, id_type, json_type

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "editors",
        sa.Column("id", id_type(), autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("name_key", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("password_changed_at", UTCDateTime, nullable=False),
        sa.Column("last_login_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_editors"),
        sa.UniqueConstraint("name_key", name="uq_editors_name_key"),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("editor_id", id_type(), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_seen_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("client", sa.String(64)),
        sa.Column("user_agent", sa.String(256)),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
        sa.ForeignKeyConstraint(
            ["editor_id"], ["editors.id"], name="fk_sessions_editor_id_editors", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_sessions_editor_id", "sessions", ["editor_id"])
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(160), nullable=False),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("window_started_at", UTCDateTime, nullable=False),
        sa.Column("locked_until", UTCDateTime),
        sa.PrimaryKeyConstraint("key", name="pk_login_throttle"),
    )
    op.create_table(
        "setup_tokens",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("used_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_setup_tokens"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", id_type(), autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("scope", sa.String(8), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_used_at", UTCDateTime),
        sa.Column("revoked_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    op.create_table(
        "entries",
        sa.Column("id", id_type(), autoincrement=True),
        sa.Column("heading", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False, server_default=""),
        sa.Column("alt_text", sa.Text, nullable=False, server_default=""),
        sa.Column("credit", sa.Text, nullable=False, server_default=""),
        sa.Column("rendition", sa.String(16), nullable=False, server_default="large"),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="published"),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_entries"),
    )
    op.create_index("ix_entries_position", "entries", ["position"])
    op.create_table(
        "entry_candidates",
        sa.Column("entry_id", id_type(), nullable=False),
        sa.Column("candidate_id", id_type(), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("entry_id", "candidate_id", name="pk_entry_candidates"),
        sa.UniqueConstraint("candidate_id", name="uq_entry_candidates_candidate_id"),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["entries.id"],
            name="fk_entry_candidates_entry_id_entries",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"], ["candidates.id"], name="fk_entry_candidates_candidate_id_candidates"
        ),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", id_type(), autoincrement=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor", sa.String(96), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("subject_type", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.Column("before", json_type()),
        sa.Column("after", json_type()),
        sa.Column("undone_by", id_type()),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index(
        "ix_audit_log_subject_type_subject_id", "audit_log", ["subject_type", "subject_id"]
    )
    op.create_index("ix_audit_log_actor_id", "audit_log", ["actor", "id"])
    with op.batch_alter_table("candidates") as batch:
        batch.add_column(sa.Column("version", sa.Integer, nullable=False, server_default="1"))
        batch.add_column(sa.Column("decided_by", sa.String(64)))
        batch.add_column(sa.Column("decided_at", UTCDateTime))
        batch.add_column(sa.Column("reject_reason", sa.Text))
    # Values the queue's filters offer, kept as candidates arrive (a GROUP BY over a million
    # candidates takes seconds).
    op.create_table(
        "facets",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("kind", "value", name="pk_facets"),
    )
    for kind in ("camera", "mission", "source"):
        op.execute(
            f"INSERT INTO facets (kind, value) SELECT DISTINCT '{kind}', {kind} "  # noqa: S608
            f"FROM candidates WHERE {kind} IS NOT NULL"
        )
    # The queue: every filter is served from an index alone (the page's rows are fetched by
    # id afterwards), keyset-paginated by id.
    op.drop_index("ix_candidates_status_id", table_name="candidates")
    op.create_index(
        "ix_candidates_queue",
        "candidates",
        ["status", "id", "sol", "mission", "source", "taken_at"],
    )
    op.create_index("ix_candidates_camera", "candidates", ["status", "camera", "id", "sol"])
    op.create_index("ix_candidates_sol", "candidates", ["status", "sol", "id"])
    op.create_index("ix_candidates_taken", "candidates", ["status", "taken_at", "id"])
    op.create_index("ix_candidates_sequence", "candidates", ["sol", "camera", "taken_at"])
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE candidates_fts USING fts5("
            "title, caption, external_id, content='', tokenize='unicode61')"
        )
        op.execute(
            "CREATE TRIGGER candidates_fts_insert AFTER INSERT ON candidates BEGIN "
            "INSERT INTO candidates_fts(rowid, title, caption, external_id) "
            "VALUES (new.id, new.title, new.caption, new.external_id); END"
        )
        op.execute(
            "INSERT INTO candidates_fts(rowid, title, caption, external_id) "
            "SELECT id, title, caption, external_id FROM candidates"
        )
    elif dialect == "postgresql":
        op.execute(
            "CREATE INDEX ix_candidates_search ON candidates USING gin (to_tsvector('simple', "
            "coalesce(title, '') || ' ' || coalesce(caption, '') || ' ' || external_id))"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER candidates_fts_insert")
        op.execute("DROP TABLE candidates_fts")
    elif dialect == "postgresql":
        op.drop_index("ix_candidates_search", table_name="candidates")
    op.drop_table("facets")
    for name in ("queue", "camera", "sol", "taken", "sequence"):
        op.drop_index(f"ix_candidates_{name}", table_name="candidates")
    op.create_index("ix_candidates_status_id", "candidates", ["status", "id"])
    with op.batch_alter_table("candidates") as batch:
        batch.drop_column("reject_reason")
        batch.drop_column("decided_at")
        batch.drop_column("decided_by")
        batch.drop_column("version")
    op.drop_table("audit_log")
    op.drop_table("entry_candidates")
    op.drop_table("entries")
    op.drop_table("api_tokens")
    op.drop_table("setup_tokens")
    op.drop_table("login_throttle")
    op.drop_table("sessions")
    op.drop_table("editors")
