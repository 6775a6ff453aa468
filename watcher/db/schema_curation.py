"""Curation's columns and indexes on the candidates table (``schema.candidates`` splices
them in): the fingerprinting job's to-do mark, and the score and group the grouping job
stores, indexed so the queue sorted by score, or one card per group, reads an index alone.

- ``fingerprint_due``: FINGERPRINT_NEW or FINGERPRINT_ARCHIVE while the picture waits to
  be fingerprinted, NULL once it was (or failed: see ``fingerprint_failures``); its index
  is partial, so "the next to fingerprint" reads a few entries however large the table.
- ``score`` (NULL until computed), ``score_reasons`` (a JSON list of short strings) and
  ``score_digest`` (``score.score_inputs_digest``: a score is rewritten only when it moved).
- ``group_id`` (the group's leader, NULL when alone), ``group_kind``, ``group_size`` (1
  when alone) and ``group_hero``: true for the card the queue shows, the group's hero or a
  frame alone, so the grouped queue is a stretch of ``ix_candidates_cards*``; a sol range
  (the common filter) reads ``ix_candidates_sol_cards`` alone, by time or by score.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Column, Float, Index, Integer, SmallInteger, String, text, true

from watcher.db.columns import id_type, json_type

DUE_ONLY: dict[str, Any] = {
    f"{db}_where": text("fingerprint_due IS NOT NULL") for db in ("sqlite", "postgresql")
}
GROUPED_ONLY: dict[str, Any] = {
    f"{db}_where": text("group_id IS NOT NULL") for db in ("sqlite", "postgresql")
}


def curation_columns() -> list[Any]:
    """The columns and indexes, new objects each call (a Column belongs to one table)."""
    return [
        Column("fingerprint_due", SmallInteger, server_default="1"),
        Column("score", Float),
        Column("score_reasons", json_type()),
        Column("score_digest", String(16)),
        Column("group_id", id_type()),
        Column("group_kind", String(16)),
        Column("group_size", Integer, nullable=False, server_default="1"),
        Column("group_hero", Boolean, nullable=False, server_default=true()),
        Index("ix_candidates_fingerprint_due", "fingerprint_due", "id", **DUE_ONLY),
        Index("ix_candidates_score", "status", "score", "id"),
        Index("ix_candidates_cards", "status", "group_hero", "id"),
        Index("ix_candidates_cards_score", "status", "group_hero", "score", "id"),
        Index("ix_candidates_sol_cards", "status", "sol", "group_hero", "score", "id"),
        Index("ix_candidates_group", "group_id", **GROUPED_ONLY),
    ]
