"""How long a value may be, wherever two parts of watcher must agree on it.

A column's size in ``db/schema.py`` and the rule that cuts or refuses a value before it
reaches that column are one rule, so each is written once, here: a change to one cannot
leave the other behind. It matters because PostgreSQL refuses a value longer than its
column while SQLite keeps it, so a drift would pass on SQLite and fail in production.
The Alembic migrations keep their literal sizes: they are the history of the database.

The same holds for numbers: an id or a sol read from a request or the command line is
checked against the range of its column before it reaches the database, whose drivers
refuse a number past it with an error of their own (SQLite past 64 bits; PostgreSQL past
its BIGINT or INTEGER), which would otherwise surface as a 500 or a traceback.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from watcher.types import CandidateData

# A source's name: the config file's ``[[sources]] name``, and every table keyed by it.
MAX_SOURCE = 64
# NASA's id of an image within its source; longer is not a real id.
MAX_EXTERNAL_ID = 255
MAX_MISSION = 32
MAX_CAMERA = 64
MAX_MARS_LOCAL_TIME = 16
# A candidate's words. Their columns are TEXT, without a size, but PostgreSQL's search
# index holds title, caption and id as one tsvector, which it refuses past 1 MB: a 1.2 MB
# caption once failed its whole page there (and SQLite would have kept it). NASA's longest
# are a few thousand characters; these leave room for any real one and keep the index
# safe even for text of 4-byte characters.
MAX_TITLE = 1_000
MAX_CAPTION = 100_000
MAX_CREDIT = 1_000

# The longest value the database keeps for these candidate fields; the sources cut what
# they normalise to it, and the store checks again before inserting.
FIELD_LIMITS = {
    "source": MAX_SOURCE,
    "external_id": MAX_EXTERNAL_ID,
    "mission": MAX_MISSION,
    "camera": MAX_CAMERA,
    "mars_local_time": MAX_MARS_LOCAL_TIME,
    "title": MAX_TITLE,
    "caption": MAX_CAPTION,
    "credit": MAX_CREDIT,
}
IDENTITY_FIELDS = ("source", "external_id")
_DESCRIPTIVE_LIMITS = tuple(
    (name, limit) for name, limit in FIELD_LIMITS.items() if name not in IDENTITY_FIELDS
)

# An INTEGER column: 32 bits on PostgreSQL, which refuses anything wider ("integer out of
# range"), while SQLite keeps 64. The narrower rule is the one, on both databases.
MIN_INTEGER = -(2**31)
MAX_INTEGER = 2**31 - 1
# A picture's size in pixels: unknown (None) when outside an INTEGER column, the image
# itself being fine.
SIZE_FIELDS = ("width", "height")

# One value of the queue's filter lists (a camera, a mission, a source).
MAX_FACET_VALUE = 255
# What a delivery goes to: an address, a webhook id or a WebSub hub's URL.
MAX_TARGET = 255
# An email address (RFC 5321's limit on a path), for subscribers and sign-up attempts.
MAX_ADDRESS = 254
# The client address recorded with a session or a sign-up attempt.
MAX_CLIENT = 64
# The browser's User-Agent recorded with a session.
MAX_USER_AGENT = 256
# A webhook's URL, in the API's request and in the rule that vets it.
MAX_WEBHOOK_URL = 2000
# A confirmation or unsubscribe token as the public pages read it from a link: ours are
# under 80 characters, so anything this long is refused before it is parsed.
MAX_LINK_TOKEN = 200

# The largest id of every table (and of a curation group, which is its leader's id):
# PostgreSQL's BIGINT and SQLite's INTEGER are both signed 64-bit. Ids start at 1.
MAX_ID = 2**63 - 1
# The largest value of a plain INTEGER column: sols, versions, edition numbers. PostgreSQL
# keeps 32 bits there while SQLite keeps 64, so only PostgreSQL would catch a drift.
MAX_INTEGER = 2**31 - 1


def is_id(value: int) -> bool:
    """Whether ``value`` can be the id of a row: a number that is not cannot name one."""
    return 1 <= value <= MAX_ID


def fits_integer(value: int) -> bool:
    """Whether an INTEGER column (on every database watcher runs on) can hold ``value``."""
    return MIN_INTEGER <= value <= MAX_INTEGER


def fit_limits(item: CandidateData) -> CandidateData | str:
    """``item`` as the database can keep it, or why it cannot be stored at all.

    Decided per field: an identity too long to be a real id, or a sol no Mars day has
    (past an INTEGER column: a garbled record, whose sol would mislead the queue), refuse
    the record; descriptive text is cut (a title cut short is still the image's title);
    a pixel size past an INTEGER column is dropped (unknown, as when NASA leaves it out).
    """
    for name in IDENTITY_FIELDS:
        if len(getattr(item, name)) > FIELD_LIMITS[name]:
            return f"{name} longer than {FIELD_LIMITS[name]} characters"
    sol = item.sol
    if sol is not None and not MIN_INTEGER <= sol <= MAX_INTEGER:
        return f"sol {str(sol)[:24]} out of range"
    # On the ingest hot path (twice a record): plain loops over precomputed pairs.
    changes: dict[str, Any] = {}
    for name, limit in _DESCRIPTIVE_LIMITS:
        value = getattr(item, name)
        if value is not None and len(value) > limit:
            changes[name] = value[:limit]
    for name in SIZE_FIELDS:
        size = getattr(item, name)
        if size is not None and not MIN_INTEGER <= size <= MAX_INTEGER:
            changes[name] = None
    return replace(item, **changes) if changes else item
