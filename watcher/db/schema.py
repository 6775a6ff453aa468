"""Tables, as SQLAlchemy Core metadata. The Alembic migrations are the source of truth for
the database itself; this module mirrors them for queries (a test checks they agree).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    true,
)

from watcher.db.columns import UTCDateTime, id_type, json_type
from watcher.db.schema_curation import curation_columns
from watcher.limits import (
    MAX_ADDRESS,
    MAX_CAMERA,
    MAX_CLIENT,
    MAX_EXTERNAL_ID,
    MAX_FACET_VALUE,
    MAX_MARS_LOCAL_TIME,
    MAX_MISSION,
    MAX_SOURCE,
    MAX_TARGET,
    MAX_USER_AGENT,
)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)


candidates = Table(
    "candidates",
    metadata,
    Column("id", id_type(), primary_key=True, autoincrement=True),
    Column("source", String(MAX_SOURCE), nullable=False),
    Column("external_id", String(MAX_EXTERNAL_ID), nullable=False),
    Column("mission", String(MAX_MISSION)),
    Column("title", Text, nullable=False, server_default=""),
    Column("caption", Text, nullable=False, server_default=""),
    Column("credit", Text),
    Column("camera", String(MAX_CAMERA)),
    Column("sol", Integer),
    Column("taken_at", UTCDateTime),
    Column("mars_local_time", String(MAX_MARS_LOCAL_TIME)),
    Column("received_at", UTCDateTime),
    Column("page_url", Text),
    Column("thumbnail_url", Text),
    Column("medium_url", Text),
    Column("large_url", Text),
    Column("full_url", Text),
    Column("width", Integer),
    Column("height", Integer),
    Column("status", String(16), nullable=False, server_default="new"),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("raw", json_type(), nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("decided_by", String(64)),
    Column("decided_at", UTCDateTime),
    Column("reject_reason", Text),
    Column("tiles", json_type()),
    UniqueConstraint("source", "external_id"),
    Index("ix_candidates_queue", "status", "id", "sol", "mission", "source", "taken_at"),
    Index("ix_candidates_camera", "status", "camera", "id", "sol"),
    Index("ix_candidates_sol", "status", "sol", "id"),
    Index("ix_candidates_taken", "status", "taken_at", "id"),
    Index("ix_candidates_sequence", "sol", "camera", "taken_at"),
    Index("ix_candidates_mission_sol", "mission", "sol", "camera"),
    *curation_columns(),
)

FINGERPRINT_NEW = 1  # polled: fingerprinted by the curation job
FINGERPRINT_ARCHIVE = 2  # backfilled (or decided before curation): only when asked
CANDIDATE_ID = "candidates.id"

# A candidate's picture, measured (watcher.types.Fingerprint). The hashes are unsigned
# 64-bit values stored as the signed BIGINT of the same bits (two's complement).
fingerprints = Table(
    "fingerprints",
    metadata,
    Column(
        "candidate_id", id_type(), ForeignKey(CANDIDATE_ID, ondelete="CASCADE"), primary_key=True
    ),
    Column("phash", BigInteger, nullable=False),
    Column("dhash", BigInteger, nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("colourfulness", Float, nullable=False),
    Column("entropy", Float, nullable=False),
    Column("sharpness", Float, nullable=False),
    Column("brightness", Float, nullable=False),
    Column("black", Float, nullable=False),
    Column("url", Text),
    Column("computed_at", UTCDateTime, nullable=False),
)

# A picture that could not be had: tried again from retry_at (archive: only when asked).
fingerprint_failures = Table(
    "fingerprint_failures",
    metadata,
    Column(
        "candidate_id", id_type(), ForeignKey(CANDIDATE_ID, ondelete="CASCADE"), primary_key=True
    ),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=False),
    Column("failed_at", UTCDateTime, nullable=False),
    Column("retry_at", UTCDateTime, nullable=False),
    Column("archive", Boolean, nullable=False, server_default=false()),
    Index("ix_fingerprint_failures_retry", "archive", "retry_at"),
)

facets = Table(
    "facets",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("value", String(MAX_FACET_VALUE), primary_key=True),
)

FACET_KINDS = ("camera", "mission", "source")

# Text search. SQLite: the FTS5 table ``candidates_fts`` (rowid = candidate id), filled by
# a trigger on insert. PostgreSQL: a GIN index over this expression. Both tokenise on
# anything but letters and digits, so "NRF_1965_0841393386" is "nrf 1965 0841393386".
SEARCH_DOCUMENT = "coalesce(title, '') || ' ' || coalesce(caption, '') || ' ' || external_id"
FTS_TABLE = "candidates_fts"

poll_state = Table(
    "poll_state",
    metadata,
    Column("source", String(MAX_SOURCE), primary_key=True),
    Column("cursor", Text),
    Column("sweep", json_type()),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("last_attempt_at", UTCDateTime),
    Column("last_success_at", UTCDateTime),
    Column("last_error", Text),
    Column("last_error_at", UTCDateTime),
    Column("consecutive_failures", Integer, nullable=False, server_default="0"),
    Column("next_poll_at", UTCDateTime),
    Column("marker", Text),
)

# Each source's latest polls (watcher.types.PollRecord), for the Status page; written with
# the poll's last state and pruned to the newest POLL_LOG_KEEP a source in the same
# transaction, so it never grows.
poll_log = Table(
    "poll_log",
    metadata,
    Column("id", id_type(), primary_key=True, autoincrement=True),
    Column("source", String(MAX_SOURCE), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("requests", Integer, nullable=False, server_default="0"),
    Column("inserted", Integer, nullable=False, server_default="0"),
    Column("error", Text),
    Index("ix_poll_log_source_id", "source", "id"),
)

backfills = Table(
    "backfills",
    metadata,
    Column("id", id_type(), primary_key=True, autoincrement=True),
    Column("source", String(MAX_SOURCE), nullable=False),
    Column("range_key", String(64), nullable=False),
    Column("from_sol", Integer),
    Column("to_sol", Integer),
    Column("next_request", json_type()),
    Column("done", Boolean, nullable=False, server_default=false()),
    Column("fetched", Integer, nullable=False, server_default="0"),
    Column("inserted", Integer, nullable=False, server_default="0"),
    Column("total", Integer),
    Column("started_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("source", "range_key"),
)

editors = Table(
    "editors",
    metadata,
    Column("id", id_type(), primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False),
    Column("name_key", String(64), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("disabled", Boolean, nullable=False, server_default=false()),
    Column("created_at", UTCDateTime, nullable=False),
    Column("password_changed_at", UTCDateTime, nullable=False),
    Column("last_login_at", UTCDateTime),
    UniqueConstraint("name_key"),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("editor_id", id_type(), ForeignKey("editors.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("client", String(MAX_CLIENT)),
    Column("user_agent", String(MAX_USER_AGENT)),
    Index(None, "editor_id"),
)

login_throttle = Table(
    "login_throttle",
    metadata,
    Column("key", String(160), primary_key=True),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("window_started_at", UTCDateTime, nullable=False),
    Column("locked_until", UTCDateTime),
)

setup_tokens = Table(
    "setup_tokens",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", id_type(), primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("scope", String(8), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
    UniqueConstraint("token_hash"),
)

entries = Table(
    "entries",
    metadata,
    Column("id", id_type(), primary_key=True, autoincrement=True),
    Column("heading", Text, nullable=False),
    Column("body", Text, nullable=False, server_default=""),
    Column("alt_text", Text, nullable=False, server_default=""),
    Column("credit", Text, nullable=False, server_default=""),
    Column("rendition", String(16), nullable=False, server_default="large"),
    Column("position", Integer, nullable=False),
    Column("status", String(16), nullable=False, server_default="published"),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_by", String(64), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "position"),
)

entry_candidates = Table(
    "entry_candidates",
    metadata,
    Column(
        "entry_id",
        id_type(),
        ForeignKey("entries.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("candidate_id", id_type(), ForeignKey("candidates.id"), primary_key=True),
    Column("position", Integer, nullable=False),
    UniqueConstraint("candidate_id"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", id_type(), primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(96), nullable=False),
    Column("action", String(32), nullable=False),
    Column("subject_type", String(16), nullable=False),
    Column("subject_id", String(64), nullable=False),
    Column("before", json_type()),
    Column("after", json_type()),
    Column("undone_by", id_type()),
    Index(None, "subject_type", "subject_id"),
    Index(None, "actor", "id"),
)

editions = Table(
    "editions",
    metadata,
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("published_at", UTCDateTime, nullable=False),
    Column("added", json_type(), nullable=False),
    Column("changed", json_type(), nullable=False),
    Column("removed", json_type(), nullable=False),
    Column("reordered", Boolean, nullable=False, server_default=false()),
    Column("site_changed", Boolean, nullable=False, server_default=false()),
    Column("entries", Integer, nullable=False),
    Column("audit_id", id_type(), nullable=False),
)

published_entries = Table(
    "published_entries",
    metadata,
    Column("entry_id", id_type(), primary_key=True, autoincrement=False),
    Column("digest", String(64), nullable=False),
    Column("position", Integer, nullable=False),
    Column("edition", Integer, nullable=False),
)

site_settings = Table(
    "site_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

leases = Table(
    "leases",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("owner", String(128), nullable=False),
    Column("until", UTCDateTime, nullable=False),
    # The holder's process (watcher.types.ProcessId) and since when it holds the lease:
    # NULL for a lease taken before 0008 recorded them.
    Column("host", String(255)),
    Column("pid", Integer),
    Column("started", String(128)),
    Column("since", UTCDateTime),
)

subscribers = Table(
    "subscribers",
    metadata,
    Column("id", id_type(), primary_key=True, autoincrement=True),
    Column("email", String(MAX_ADDRESS), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("confirmed_at", UTCDateTime),
    Column("unsubscribed_at", UTCDateTime),
    Column("confirmation_sent_at", UTCDateTime),
    UniqueConstraint("email"),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", id_type(), primary_key=True, autoincrement=True),
    Column("url", Text, nullable=False),
    Column("secret", String(128), nullable=False),
    Column("created_by", String(96), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("enabled", Boolean, nullable=False, server_default=true()),
    Column("consecutive_failures", Integer, nullable=False, server_default="0"),
    Column("disabled_reason", Text),
    Column("last_success_at", UTCDateTime),
    Column("last_error", Text),
    Column("last_error_at", UTCDateTime),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", id_type(), primary_key=True, autoincrement=True),
    Column("edition", Integer),
    Column("channel", String(16), nullable=False),
    Column("target", String(MAX_TARGET), nullable=False),
    Column("key", String(128), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("lease_owner", String(128)),
    Column("lease_until", UTCDateTime),
    Column("last_error", Text),
    Column("sent_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("key"),
    Index("ix_deliveries_due", "status", "next_attempt_at"),
    Index("ix_deliveries_edition", "edition", "channel"),
    Index("ix_deliveries_state", "status", "channel"),  # /metrics counts from it alone
    Index("ix_deliveries_edition_status", "edition", "status"),
)

# Public sign-up requests of the last hour, so every replica sees the same rate limits.
subscribe_attempts = Table(
    "subscribe_attempts",
    metadata,
    Column("id", id_type(), primary_key=True, autoincrement=True),
    Column("client", String(MAX_CLIENT), nullable=False),
    Column("email", String(MAX_ADDRESS), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index(None, "client", "at"),
    Index(None, "email", "at"),
)
