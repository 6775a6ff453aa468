"""Curation's scores and groups on the candidates table: the score, its reasons and inputs'
digest, the group (its leader's id, kind and size) and whether the candidate is the card
the queue shows (its group's hero, or alone), with the indexes that list the queue by
score and one card per group.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from watcher.db.columns import id_type, json_type

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_GROUPED = sa.text("group_id IS NOT NULL")
_INDEXES = {
    "ix_candidates_score": ["status", "score", "id"],
    "ix_candidates_cards": ["status", "group_hero", "id"],
    "ix_candidates_cards_score": ["status", "group_hero", "score", "id"],
    "ix_candidates_sol_cards": ["status", "sol", "group_hero", "score", "id"],
}


def upgrade() -> None:
    # Plain ADD COLUMN (SQLite has it): the candidates table keeps its search triggers.
    op.add_column("candidates", sa.Column("score", sa.Float))
    op.add_column("candidates", sa.Column("score_reasons", json_type()))
    op.add_column("candidates", sa.Column("score_digest", sa.String(16)))
    op.add_column("candidates", sa.Column("group_id", id_type()))
    op.add_column("candidates", sa.Column("group_kind", sa.String(16)))
    op.add_column(
        "candidates", sa.Column("group_size", sa.Integer, nullable=False, server_default="1")
    )
    op.add_column(
        "candidates",
        sa.Column("group_hero", sa.Boolean, nullable=False, server_default=sa.true()),
    )
    for name, columns in _INDEXES.items():
        op.create_index(name, "candidates", columns)
    op.create_index(
        "ix_candidates_group",
        "candidates",
        ["group_id"],
        sqlite_where=_GROUPED,
        postgresql_where=_GROUPED,
    )


def downgrade() -> None:
    op.drop_index("ix_candidates_group", table_name="candidates")
    for name in reversed(_INDEXES):
        op.drop_index(name, table_name="candidates")
    # Plain DROP COLUMN (SQLite >= 3.35): a batch copy would lose the search triggers.
    for column in ("group_hero", "group_size", "group_kind", "group_id"):
        op.drop_column("candidates", column)
    for column in ("score_digest", "score_reasons", "score"):
        op.drop_column("candidates", column)
