"""Who is asking: browser sessions (cookie + CSRF token) and API tokens (Bearer).

- The session cookie holds a random token; the database keeps only its hash. It is
  HttpOnly, SameSite=Lax, and Secure when ``server.public_url`` is https. Every sign-in
  makes a new session (and ends the browser's previous one): no session fixation.
- Every state-changing form carries the session's CSRF token; the sign-in and setup forms,
  which come before any session, use a double-submit cookie instead.
- API calls authenticate with ``Authorization: Bearer wt_...``; a browser may call the API
  with its session cookie, and then must send the CSRF token as ``X-CSRF-Token``.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from watcher.accounts.passwords import new_secret, same_secret
from watcher.core import Watcher
from watcher.exceptions import AuthError, Conflict, InvalidInput, PermissionDenied
from watcher.types import Actor, Session
from watcher.web.templating import render

SESSION_COOKIE = "watcher_session"
FORM_COOKIE = "watcher_form"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

router = APIRouter(include_in_schema=False)


class AuthRequired(Exception):
    """Nobody is signed in (pages redirect to the sign-in form; the API answers 401)."""


class CsrfFailed(Exception):
    """A state-changing request without the right CSRF token (403)."""


def watcher_of(request: Request) -> Watcher:
    watcher: Watcher = request.app.state.watcher
    return watcher


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def current_session(request: Request) -> Session | None:
    """The signed-in session, looked up once per request."""
    if not hasattr(request.state, "session"):
        token = request.cookies.get(SESSION_COOKIE)
        request.state.session = watcher_of(request).session(token)
    session: Session | None = request.state.session
    return session


def editor_session(request: Request) -> Session:
    session = current_session(request)
    if session is None:
        raise AuthRequired()
    return session


def admin_session(request: Request) -> Session:
    session = editor_session(request)
    if not session.editor.is_admin:
        raise PermissionDenied("only an admin may see this page")
    return session


def actor_of(session: Session) -> Actor:
    return Actor(session.editor.name, session.editor.role)


async def checked_form(
    request: Request, session: Annotated[Session, Depends(editor_session)]
) -> FormData:
    """The posted form, once its CSRF token matched the session's (else 403)."""
    form = await request.form()
    if not same_secret(str(form.get("csrf_token") or ""), session.csrf_token):
        raise CsrfFailed()
    return form


# What the editor app's routes ask for, named once: any signed-in editor's session, an
# admin's, and a posted form whose CSRF token matched the session's.
EditorSession = Annotated[Session, Depends(editor_session)]
AdminSession = Annotated[Session, Depends(admin_session)]
CheckedForm = Annotated[FormData, Depends(checked_form)]


def safe_next(target: str | None) -> str:
    """Only a path on this site: a ``next`` parameter must not send anyone elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/editor"
    # Browsers read "/\\host" as "//host"; control characters can hide either.
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return "/editor"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/editor"
    return target


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    settings = watcher_of(request).settings
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(settings.editor.session_max),
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )


def _check_form_token(request: Request, posted: str) -> None:
    if not same_secret(request.cookies.get(FORM_COOKIE), posted):
        raise CsrfFailed()


def _form_page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    """Render a pre-session form with a fresh double-submit token in cookie and field."""
    token = request.cookies.get(FORM_COOKIE) or new_secret()
    response = render(request, name, {**context, "form_token": token}, status)
    response.set_cookie(
        FORM_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=watcher_of(request).settings.secure_cookies,
        path="/editor",
    )
    return response


@router.get("/editor/login")
def login_form(request: Request, next: str | None = None) -> Response:
    if current_session(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _form_page(request, "editor/login.html", {"next": safe_next(next), "name": ""})


@router.post("/editor/login")
def login(
    request: Request,
    name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/editor",
    form_token: Annotated[str, Form()] = "",
) -> Response:
    _check_form_token(request, form_token)
    watcher = watcher_of(request)
    try:
        token, _ = watcher.sign_in(
            name,
            password,
            client=client_address(request),
            user_agent=request.headers.get("user-agent"),
            replaces=request.cookies.get(SESSION_COOKIE),
        )
    except AuthError as exc:
        status = 429 if exc.retry_after else 401
        response = _form_page(
            request,
            "editor/login.html",
            {"next": safe_next(next), "name": name, "error": str(exc)},
            status,
        )
        if exc.retry_after:
            response.headers["Retry-After"] = str(int(exc.retry_after) + 1)
        return response
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(request, response, token)
    response.delete_cookie(FORM_COOKIE, path="/editor")
    return response


@router.post("/editor/logout")
def logout(request: Request, form: CheckedForm) -> Response:
    watcher_of(request).sign_out(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/editor/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/editor/setup")
def setup_form(request: Request, token: str = "") -> Response:
    watcher = watcher_of(request)
    if not watcher.setup_link_valid(token):
        return render(request, "editor/setup_expired.html", {}, 410)
    return _form_page(request, "editor/setup.html", {"token": token, "name": ""})


@router.post("/editor/setup")
def setup(
    request: Request,
    token: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
    form_token: Annotated[str, Form()] = "",
) -> Response:
    _check_form_token(request, form_token)
    watcher = watcher_of(request)
    errors: dict[str, str] = {}
    if password != confirm:
        errors["confirm"] = "the two passwords differ"
    else:
        try:
            watcher.complete_setup(token, name, password)
        except InvalidInput as exc:
            errors = exc.errors
        except (AuthError, Conflict):
            return render(request, "editor/setup_expired.html", {}, 410)
    if errors:
        context = {"token": token, "name": name, "errors": errors}
        return _form_page(request, "editor/setup.html", context, 422)
    session_token, _ = watcher.sign_in(name, password, client=client_address(request))
    response = RedirectResponse("/editor", status_code=303)
    set_session_cookie(request, response, session_token)
    return response


def login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/editor/login?next={quote(target, safe='')}", status_code=303)
