"""The numbers a request names, bounded by what their database columns hold.

A number past its column's range never reaches the database: its driver would refuse it
with an error of its own (SQLite past 64 bits, PostgreSQL past a BIGINT or an INTEGER),
answered as a 500 or a 503. So every route declares its numbers with these bounds (the
OpenAPI document shows them), and the app answers a path id out of range like any unknown
id, 404, and a query parameter or body field out of range as a mistake, 422 naming it.
The bounds themselves are ``watcher.limits``' (the CLI checks its arguments against the
same ones).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import Field

from watcher.limits import MAX_ID, MAX_INTEGER


def path_id(description: str | None = None) -> Any:
    """An id in the path: 1 up to the largest id a table holds."""
    return Path(ge=1, le=MAX_ID, description=description)


def query_id(description: str | None = None, *, low: int = 1) -> Any:
    """An id in the query string (a keyset page's ``before``, or ``after`` from ``low=0``)."""
    return Query(ge=low, le=MAX_ID, description=description)


def query_integer(low: int, description: str | None = None) -> Any:
    """A sol, an edition's number or a version in the query string: an INTEGER column's."""
    return Query(ge=low, le=MAX_INTEGER, description=description)


# The id of a candidate, entry, group, subscriber, webhook or token in the path.
PathId = Annotated[int, path_id()]
# An edition's number in the path (an INTEGER column).
EditionNumber = Annotated[int, Path(ge=1, le=MAX_INTEGER)]
# In a JSON body: an id (a bulk decision's, an entry's frames, the list's order) and the
# version of a candidate or entry the caller saw.
BodyId = Annotated[int, Field(ge=1, le=MAX_ID)]
BodyVersion = Annotated[int, Field(ge=1, le=MAX_INTEGER)]


def exact_bounds(document: Any) -> Any:
    """``document`` (an OpenAPI document, changed in place) with every integer's bounds as
    integers again. FastAPI's model of a schema keeps ``minimum`` and ``maximum`` as floats,
    and the largest id as a float is 2**63, one past it: a client (or a schema-driven test)
    would take 2**63 for a valid id. No integer here is bounded past the largest id."""
    if isinstance(document, dict):
        if document.get("type") == "integer":
            for key in ("minimum", "maximum"):
                if isinstance(document.get(key), float):
                    document[key] = max(-MAX_ID - 1, min(MAX_ID, int(document[key])))
        for value in document.values():
            exact_bounds(value)
    elif isinstance(document, list):
        for value in document:
            exact_bounds(value)
    return document


__all__ = [
    "BodyId",
    "BodyVersion",
    "EditionNumber",
    "PathId",
    "exact_bounds",
    "path_id",
    "query_id",
    "query_integer",
]
