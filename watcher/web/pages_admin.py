"""Admin pages (audit log, editors, API tokens) and every editor's own account page."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from watcher.exceptions import InvalidInput
from watcher.types import ApiToken, AuditEvent, Editor, Role, Session, TokenScope
from watcher.web.auth import (
    SESSION_COOKIE,
    AdminSession,
    CheckedForm,
    EditorSession,
    actor_of,
    watcher_of,
)
from watcher.web.numbers import PathId
from watcher.web.pages_common import chosen, form_page, text, whole
from watcher.web.templating import render, utc

router = APIRouter(include_in_schema=False)

AUDIT_PAGE = 50
SUBJECT_TYPES = ("entry", "candidate", "editor", "token", "list")
MAX_VALUE = 400


# -- audit ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditRow:
    """An audit event, readable: ``changes`` are (field, before, after), either side None
    when the subject was created or removed."""

    event: AuditEvent
    at: str
    subject: str
    subject_href: str | None
    changes: list[tuple[str, str | None, str | None]]


def _readable(value: Any) -> str:
    if value is None:
        return "-"
    if value == "":
        return "(empty)"
    shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return shown if len(shown) <= MAX_VALUE else shown[:MAX_VALUE] + "…"


def changes_of(event: AuditEvent) -> list[tuple[str, str | None, str | None]]:
    """Every field that differs; all of them when the subject was created or removed."""
    before, after = event.before, event.after
    old, new = dict(before or {}), dict(after or {})
    return [
        (
            key,
            _readable(old.get(key)) if before is not None else None,
            _readable(new.get(key)) if after is not None else None,
        )
        for key in dict.fromkeys([*old, *new])
        if old.get(key) != new.get(key) or before is None or after is None
    ]


def audit_row(event: AuditEvent) -> AuditRow:
    kind, ident = event.subject_type, event.subject_id
    href = {"entry": f"/editor/entries/{ident}", "candidate": f"/editor/candidates/{ident}"}
    return AuditRow(
        event=event,
        at=utc(event.at, with_seconds=True),
        subject=f"{kind} #{ident}" if kind in ("entry", "token") else f"{kind} {ident}",
        subject_href=href.get(kind) if whole(ident) is not None else None,
        changes=changes_of(event),
    )


@router.get("/editor/audit")
def audit(request: Request, session: AdminSession) -> Response:
    params = request.query_params
    values = {key: params.get(key, "").strip()[:100] for key in ("by", "type", "subject")}
    errors: dict[str, str] = {}
    if values["type"] and values["type"] not in SUBJECT_TYPES:
        errors["type"] = "choose one of " + ", ".join(SUBJECT_TYPES)
    before = whole(params.get("before"))
    if params.get("before") and before is None:
        errors["before"] = "this page link is broken: start again from the newest"
    events: list[AuditEvent] = []
    if not errors:
        events = watcher_of(request).audit_events(
            actor_of(session),
            limit=AUDIT_PAGE + 1,
            before_id=before,
            by=values["by"] or None,
            subject_type=values["type"] or None,
            subject_id=values["subject"] or None,
        )
    shown = events[:AUDIT_PAGE]
    pairs = [(k, v) for k, v in values.items() if v]
    context = {
        "active": "audit",
        "filters": values,
        "subject_types": SUBJECT_TYPES,
        "rows": [audit_row(e) for e in shown],
        "older_url": "/editor/audit?" + urlencode([*pairs, ("before", shown[-1].id)])
        if len(events) > AUDIT_PAGE
        else None,
        "newest_url": "/editor/audit" + (f"?{urlencode(pairs)}" if pairs else "")
        if before is not None
        else None,
        "errors": errors,
    }
    return render(request, "editor/audit.html", context, 422 if errors else 200)


# -- editors --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EditorRow:
    editor: Editor
    index: int
    created: str
    last_login: str
    disable_error: str | None
    password_error: str | None


def editors_page(
    request: Request,
    session: Session,
    *,
    added: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    row: tuple[str, str, str] | None = None,
    status: int = 200,
) -> Response:
    """``errors`` belong to the add form; ``row`` is (name, field, message) for one row."""
    editors = watcher_of(request).list_editors(actor_of(session))
    rows = [
        EditorRow(
            editor=e,
            index=i,
            created=utc(e.created_at),
            last_login=utc(e.last_login_at),
            disable_error=row[2] if row and row[0] == e.name and row[1] == "disabled" else None,
            password_error=row[2] if row and row[0] == e.name and row[1] == "password" else None,
        )
        for i, e in enumerate(editors, start=1)
    ]
    context = {
        "active": "editors",
        "rows": rows,
        "roles": [r.value for r in Role],
        "added": added or {"name": "", "role": Role.EDITOR.value},
    }
    return form_page(request, "editor/editors.html", context, errors=errors, status=status)


@router.get("/editor/editors")
def editors(request: Request, session: AdminSession) -> Response:
    return editors_page(request, session)


@router.post("/editor/editors")
def add_editor(request: Request, session: AdminSession, form: CheckedForm) -> Response:
    added = {"name": text(form, "name"), "role": text(form, "role")}
    try:
        role = chosen(Role, added["role"], "role", "choose admin or editor")
        watcher_of(request).add_editor(
            added["name"], text(form, "password"), role, actor_of(session)
        )
    except InvalidInput as exc:
        return editors_page(request, session, added=added, errors=exc.errors, status=422)
    return RedirectResponse("/editor/editors?done=editor_added", status_code=303)


@router.post("/editor/editors/disabled")
def set_disabled(request: Request, session: AdminSession, form: CheckedForm) -> Response:
    name, disabled = text(form, "name"), text(form, "disabled") == "1"
    try:
        watcher_of(request).set_editor_disabled(name, disabled, actor_of(session))
    except InvalidInput as exc:
        message = "; ".join(exc.errors.values())
        return editors_page(request, session, row=(name, "disabled", message), status=422)
    done = "editor_disabled" if disabled else "editor_enabled"
    return RedirectResponse(f"/editor/editors?done={done}", status_code=303)


@router.post("/editor/editors/password")
def reset_password(request: Request, session: AdminSession, form: CheckedForm) -> Response:
    name = text(form, "name")
    try:
        watcher_of(request).reset_password(name, text(form, "password"), actor_of(session))
    except InvalidInput as exc:
        message = "; ".join(exc.errors.values())
        return editors_page(request, session, row=(name, "password", message), status=422)
    return RedirectResponse("/editor/editors?done=password_reset", status_code=303)


# -- API tokens -----------------------------------------------------------------------


def tokens_page(
    request: Request,
    session: Session,
    *,
    created: tuple[ApiToken, str] | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    tokens = watcher_of(request).list_api_tokens(actor_of(session))
    context = {
        "active": "tokens",
        "tokens": [(t, utc(t.created_at), utc(t.last_used_at), utc(t.revoked_at)) for t in tokens],
        "scopes": [s.value for s in TokenScope],
        "created": created,
        "values": values or {"name": "", "scope": TokenScope.READ.value},
    }
    return form_page(request, "editor/tokens.html", context, errors=errors, status=status)


@router.get("/editor/tokens")
def tokens(request: Request, session: AdminSession) -> Response:
    return tokens_page(request, session)


@router.post("/editor/tokens")
def create_token(request: Request, session: AdminSession, form: CheckedForm) -> Response:
    """The secret is shown on this response only (never in a URL, never again)."""
    values = {"name": text(form, "name"), "scope": text(form, "scope")}
    try:
        scope = chosen(TokenScope, values["scope"], "scope", "choose read or write")
        created = watcher_of(request).create_api_token(values["name"], scope, actor_of(session))
    except InvalidInput as exc:
        return tokens_page(request, session, values=values, errors=exc.errors, status=422)
    return tokens_page(request, session, created=created, status=201)


@router.post("/editor/tokens/{token_id}/revoke")
def revoke_token(
    request: Request,
    token_id: PathId,
    session: AdminSession,
    form: CheckedForm,
) -> Response:
    watcher_of(request).revoke_api_token(token_id, actor_of(session))
    return RedirectResponse(f"/editor/tokens?done=token_revoked&n={token_id}", status_code=303)


# -- your own account -----------------------------------------------------------------


def account_page(
    request: Request, *, errors: dict[str, str] | None = None, status: int = 200
) -> Response:
    return form_page(
        request, "editor/account.html", {"active": "account"}, errors=errors, status=status
    )


@router.get("/editor/account")
def account(request: Request, session: EditorSession) -> Response:
    return account_page(request)


@router.post("/editor/account")
def change_password(request: Request, session: EditorSession, form: CheckedForm) -> Response:
    """A new password ends every session of the editor: sign in again with it."""
    password = text(form, "password")
    if password != text(form, "confirm"):
        return account_page(request, errors={"confirm": "the two passwords differ"}, status=422)
    try:
        watcher_of(request).change_own_password(
            session.editor.name, text(form, "current"), password
        )
    except InvalidInput as exc:
        return account_page(request, errors=exc.errors, status=422)
    response = RedirectResponse("/editor/login?notice=password_changed", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


__all__ = ["router"]
