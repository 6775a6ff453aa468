"""Curation's fingerprints: a picture's hashes and statistics per candidate, the failures
waiting for a retry, and the candidates' to-do mark (``fingerprint_due``) with a partial
index over the ones still waiting. Candidates stored before this and already decided are
archive (fingerprinted only when asked); the ones waiting for review are due.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from watcher.db.columns import UTCDateTime, id_type

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_DUE = sa.text("fingerprint_due IS NOT NULL")


def upgrade() -> None:
    # Plain ADD COLUMN (SQLite has it): the candidates table keeps its search triggers.
    op.add_column("candidates", sa.Column("fingerprint_due", sa.SmallInteger, server_default="1"))
    op.execute("UPDATE candidates SET fingerprint_due = 2 WHERE status <> 'new'")
    op.create_index(
        "ix_candidates_fingerprint_due",
        "candidates",
        ["fingerprint_due", "id"],
        sqlite_where=_DUE,
        postgresql_where=_DUE,
    )
    candidate = sa.ForeignKey("candidates.id", ondelete="CASCADE")
    op.create_table(
        "fingerprints",
        sa.Column("candidate_id", id_type(), candidate, primary_key=True),
        sa.Column("phash", sa.BigInteger, nullable=False),
        sa.Column("dhash", sa.BigInteger, nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        *(
            sa.Column(name, sa.Float, nullable=False)
            for name in ("colourfulness", "entropy", "sharpness", "brightness", "black")
        ),
        sa.Column("url", sa.Text),
        sa.Column("computed_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "fingerprint_failures",
        sa.Column(
            "candidate_id",
            id_type(),
            sa.ForeignKey("candidates.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.Column("failed_at", UTCDateTime, nullable=False),
        sa.Column("retry_at", UTCDateTime, nullable=False),
        sa.Column("archive", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index(
        "ix_fingerprint_failures_retry", "fingerprint_failures", ["archive", "retry_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_fingerprint_failures_retry", table_name="fingerprint_failures")
    op.drop_table("fingerprint_failures")
    op.drop_table("fingerprints")
    op.drop_index("ix_candidates_fingerprint_due", table_name="candidates")
    # Plain DROP COLUMN (SQLite >= 3.35): a batch copy would lose the search triggers.
    op.drop_column("candidates", "fingerprint_due")
