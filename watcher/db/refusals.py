"""What the database refuses because of a record's content, told apart from a failure that
may pass.

A page's candidates are written in one statement. When the database refuses it, the store
writes them again one at a time (``candidates.insert_candidates``) and skips the records
refused for what they hold: a value too long or out of range, a date or a character the
database cannot keep, a constraint. Asking again would get the same answer, so the cursor
moves past them. Any other failure (the database busy, unreachable, out of space, a
statement of ours it does not understand) is not about the record: it fails the page's
transaction, cursor included, and the poll is tried again with its backoff.
"""

from __future__ import annotations

import orjson
from sqlalchemy.exc import DataError, IntegrityError, StatementError

# PostgreSQL's "program limit exceeded": a text too long for the search index's tsvector,
# an index row too large. (psycopg files it under OperationalError, with the outages.)
_PROGRAM_LIMIT = "54000"
# Raised by a driver while binding one value: an int past 64 bits (SQLite), a lone
# surrogate (no UTF-8 holds it), a value orjson cannot write as JSON.
_UNBINDABLE = (OverflowError, UnicodeEncodeError, orjson.JSONEncodeError)


def refused_for_content(exc: BaseException) -> bool:
    """Whether ``exc``, raised while writing one record, is the database refusing what the
    record holds (the same answer every time), not a failure that may pass."""
    if isinstance(exc, DataError | IntegrityError):
        return True  # SQLSTATE classes 22 and 23; SQLite's constraints and "too big"
    if isinstance(exc, _UNBINDABLE):
        return True
    if isinstance(exc, StatementError):
        orig = exc.orig
        if isinstance(orig, _UNBINDABLE):
            return True
        return getattr(orig, "sqlstate", None) == _PROGRAM_LIMIT
    return False


def refusal_reason(exc: BaseException) -> str:
    """The refusal in one short line, for the log."""
    orig = exc.orig if isinstance(exc, StatementError) and exc.orig is not None else exc
    text = str(orig).strip().splitlines()
    return (f"{type(orig).__name__}: {text[0]}" if text else type(orig).__name__)[:200]
