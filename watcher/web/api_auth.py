"""Who calls the JSON API, and the shared bits of its routes: ids in the path, pages of a
list, versions (ETag / If-Match), the error responses the OpenAPI document names.

- ``Authorization: Bearer wt_...``: an API token (read or write scope, never an admin).
  A header that is not a live Bearer token is refused (401), never ignored; a read token
  may only use GET (403 on anything else).
- Otherwise the browser's session cookie; then every unsafe method must carry the session's
  CSRF token in ``X-CSRF-Token`` (403 without it).
- Otherwise 401 with ``WWW-Authenticate: Bearer``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Depends, Request, Response, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from watcher.accounts.passwords import same_secret
from watcher.core import Watcher
from watcher.exceptions import InvalidInput, PermissionDenied
from watcher.limits import MAX_INTEGER
from watcher.types import Actor, Entry
from watcher.views import EntryOut
from watcher.web.api_models import Problem
from watcher.web.auth import (
    SAFE_METHODS,
    SESSION_COOKIE,
    AuthRequired,
    CsrfFailed,
    actor_of,
    current_session,
    watcher_of,
)

CSRF_HEADER = "X-CSRF-Token"

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    bearerFormat="wt_...",
    description="An API token created by an admin (`watcher tokens` or /editor/tokens): "
    "`Authorization: Bearer wt_...`. Read-scoped tokens may only read.",
)
cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    scheme_name="session",
    description="A signed-in browser's session cookie. Every POST, PUT, PATCH and DELETE "
    f"must then carry the session's CSRF token in the `{CSRF_HEADER}` header.",
)


def api_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    session_cookie: Annotated[str | None, Security(cookie)],
) -> Actor:
    """The caller, from a Bearer token or the session cookie (with CSRF on unsafe methods)."""
    watcher = watcher_of(request)
    if request.headers.get("authorization") is not None:
        actor = watcher.token_actor(credentials.credentials) if credentials else None
        if actor is None:
            raise AuthRequired()
        if request.method not in SAFE_METHODS and not actor.can_write:
            # The facade refuses too; refusing here first answers 403, not a 422 about the body.
            raise PermissionDenied(f"{actor.label} may only read (a read-scoped token)")
        return actor
    session = current_session(request) if session_cookie else None
    if session is None:
        raise AuthRequired()
    if request.method not in SAFE_METHODS and not same_secret(
        request.headers.get(CSRF_HEADER), session.csrf_token
    ):
        raise CsrfFailed()
    return actor_of(session)


def admin_actor(actor: Annotated[Actor, Depends(api_actor)]) -> Actor:
    """An admin's signed-in session: tokens never reach admin endpoints."""
    if actor.kind == "token" or not actor.is_admin:
        raise PermissionDenied("only an admin, signed in, may do that")
    return actor


Caller = Annotated[Actor, Depends(api_actor)]
Admin = Annotated[Actor, Depends(admin_actor)]
WatcherDep = Annotated[Watcher, Depends(watcher_of)]


# -- pages of a list -----------------------------------------------------------------------


def next_page(request: Request, ids: list[int], limit: int, *, key: str = "before") -> str | None:
    """The URL of the page after this one, or None when this one is short: this request's
    URL with ``key`` (``before`` newest first, ``after`` oldest first) set to the last id."""
    if len(ids) < limit:
        return None
    return str(request.url.include_query_params(**{key: ids[-1]}))


# -- conditional requests -----------------------------------------------------------------

_ETAG = re.compile(r'^\s*"v(\d{1,10})"\s*$')


def etag(version: int) -> str:
    return f'"v{version}"'


def entry_answer(response: Response, entry: Entry, *, created: bool = False) -> EntryOut:
    """An entry as every route answers it: its shape, its version as ``ETag`` (what a
    later ``If-Match`` sends back), and for one just ``created`` (201) its ``Location``."""
    if created:
        response.headers["Location"] = f"/api/v1/entries/{entry.id}"
    response.headers["ETag"] = etag(entry.version)
    return EntryOut.of(entry)


def if_match_version(request: Request) -> int | None:
    """The version an ``If-Match: "vN"`` header names; None without the header.

    ``*``, unknown tags and versions no entry can have are refused with 422: the version is
    what guards the change.
    """
    header = request.headers.get("if-match")
    if header is None:
        return None
    match = _ETAG.match(header)
    if match is None or int(match.group(1)) > MAX_INTEGER:
        raise InvalidInput({"If-Match": 'send one ETag as given, e.g. "v3"'})
    return int(match.group(1))


def wanted_version(given: int | None, request: Request) -> int:
    """``version`` from the body or query, else from If-Match; one of them is required."""
    if given is not None:
        return given
    from_header = if_match_version(request)
    if from_header is None:
        raise InvalidInput({"version": "send the version you saw (or an If-Match header)"})
    return from_header


# -- OpenAPI: error responses -------------------------------------------------------------

# ``Problem`` is in the document's components because ``BulkResult`` refers to it.
_PROBLEM_SCHEMA = {"$ref": f"#/components/schemas/{Problem.__name__}"}
_WHY = {
    400: "Bad request: a body that is not UTF-8 text, or what this watcher's config does not "
    "offer (e.g. a confirmation mail while email is off)",
    401: "No credentials, or an unknown or revoked token (WWW-Authenticate: Bearer)",
    403: "Not allowed: a read token writing, an editor on an admin endpoint, a missing "
    "X-CSRF-Token",
    404: "No such thing",
    409: "Someone else decided or changed it first (who and when in `detail`)",
    422: "Invalid input (`errors` names each field)",
}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for FastAPI: these statuses, as problem+json."""
    return {
        code: {
            "description": _WHY[code],
            "content": {"application/problem+json": {"schema": _PROBLEM_SCHEMA}},
        }
        for code in codes
    }
