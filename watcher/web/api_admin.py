"""API for admins (a signed-in admin session; tokens never are admins): the audit log,
editors, API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from watcher.types import TokenScope
from watcher.views import AuditEventOut, EditorOut, TokenOut
from watcher.web.api_auth import Admin, WatcherDep, next_page, problems
from watcher.web.api_models import AuditPage, EditorList, NewToken, TokenCreate, TokenList
from watcher.web.numbers import PathId, query_id

router = APIRouter()


@router.get(
    "/audit", response_model=AuditPage, summary="The audit log (admins)", responses=problems(422)
)
def audit(
    request: Request,
    watcher: WatcherDep,
    admin: Admin,
    actor: Annotated[str | None, Query(max_length=200, description="Who acted.")] = None,
    subject_type: Annotated[
        str | None, Query(max_length=50, description="entry, candidate, editor, token, list")
    ] = None,
    subject_id: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: Annotated[int | None, query_id("Keyset: only ids below this.")] = None,
) -> AuditPage:
    """Every decision and edit, newest first: who, when, what, before and after."""
    events = watcher.audit_events(
        admin,
        limit=limit,
        before_id=before,
        by=actor or None,
        subject_type=subject_type or None,
        subject_id=subject_id or None,
    )
    return AuditPage(
        items=[AuditEventOut.of(e) for e in events],
        next=next_page(request, [e.id for e in events], limit),
    )


@router.get("/editors", response_model=EditorList, summary="Editors (admins)")
def editors(watcher: WatcherDep, admin: Admin) -> EditorList:
    return EditorList(items=[EditorOut.of(e) for e in watcher.list_editors(admin)])


@router.get("/tokens", response_model=TokenList, summary="API tokens, without secrets (admins)")
def tokens(watcher: WatcherDep, admin: Admin) -> TokenList:
    return TokenList(items=[TokenOut.of(t) for t in watcher.list_api_tokens(admin)])


@router.post(
    "/tokens",
    response_model=NewToken,
    status_code=201,
    response_description="The token and its secret, shown this once.",
    summary="Create an API token (admins)",
    responses=problems(422),
)
def create_token(new: TokenCreate, watcher: WatcherDep, admin: Admin) -> NewToken:
    """The answer holds the secret, this once; only its hash is kept."""
    token, secret = watcher.create_api_token(new.name, TokenScope(new.scope), admin)
    return NewToken(token=TokenOut.of(token), secret=secret)


@router.post(
    "/tokens/{token_id}/revoke",
    response_model=TokenOut,
    summary="Revoke an API token (admins)",
    responses=problems(404, 422),
)
def revoke_token(token_id: PathId, watcher: WatcherDep, admin: Admin) -> TokenOut:
    """From now on the token is refused (401); it stays listed, with `revoked_at`."""
    return TokenOut.of(watcher.revoke_api_token(token_id, admin))
