"""``create_app(watcher)``: the ASGI app served by ``watcher run``.

``/healthz``, ``/metrics`` (Prometheus; loopback and configured addresses only), the
editor app under ``/editor``, the JSON API under ``/api/v1`` (its OpenAPI
description at ``/api/v1/openapi.json``), static files under ``/static`` and the icon at
``/favicon.ico``, where browsers look for it. Every response carries a strict
Content-Security-Policy: scripts and styles only from this site, images only from it and
the configured image hosts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from watcher import __version__, csp
from watcher.config import Settings
from watcher.core import Watcher
from watcher.exceptions import (
    AuthError,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    StorageError,
    UsageError,
)
from watcher.web import api, auth, editor, metrics, public
from watcher.web.numbers import exact_bounds
from watcher.web.problems import problem
from watcher.web.proxies import TrustedProxies
from watcher.web.site_files import SiteFiles
from watcher.web.templating import make_templates, render

log = logging.getLogger("watcher.web")
STATIC = Path(__file__).resolve().parent.parent / "static"


def content_security_policy(settings: Settings) -> str:
    """The header every response carries; the published site's pages carry the same
    policy in a ``<meta>`` tag (``watcher.csp``)."""
    return csp.content_security_policy(settings.image_hosts)


def create_app(watcher: Watcher) -> FastAPI:
    app = FastAPI(
        title="watcher API",
        version=__version__,
        description="Review NASA Mars image candidates and edit the running list.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.watcher = watcher
    app.openapi = _with_exact_bounds(app)  # type: ignore[method-assign]
    app.state.templates = make_templates(watcher.settings.publish.templates_dir)
    policy = content_security_policy(watcher.settings)

    @app.middleware("http")
    async def headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        elapsed = (time.perf_counter() - started) * 1000
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers["Server-Timing"] = f"app;dur={elapsed:.2f}"
        if request.url.path.startswith(("/editor", "/api/")):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    # Outermost: every part of the app sees the client the trusted proxies name.
    app.add_middleware(TrustedProxies, proxies=watcher.settings.trusted_proxies)
    app.mount("/static", StaticFiles(packages=[("watcher", "static")]), name="static")

    _health(app, watcher)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        """Browsers and feed readers ask for it on their own, before and after the first
        publish; every page also links the SVG icon."""
        return FileResponse(
            STATIC / "favicon.ico",
            media_type="image/x-icon",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    app.include_router(metrics.router)
    app.include_router(auth.router)
    app.include_router(editor.router)
    app.include_router(api.router)
    app.include_router(public.router)
    # Last: everything no route above claims is a file of the published site.
    app.mount("/", SiteFiles(watcher.settings.site_dir), name="site")
    _errors(app)
    return app


def create_worker_app(watcher: Watcher) -> FastAPI:
    """What a ``--role worker`` replica serves: ``/healthz`` for its supervisor and
    ``/metrics`` (its polls, publishes and deliveries are counted in its own process), and
    nothing else: no site, editor or API."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.watcher = watcher
    app.add_middleware(TrustedProxies, proxies=watcher.settings.trusted_proxies)
    _health(app, watcher)
    app.include_router(metrics.router)
    return app


def _health(app: FastAPI, watcher: Watcher) -> None:
    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        """200 while the database answers (sources may still be failing: see ``status``),
        503 when it does not. Load balancers and systemd watchdogs read the code; people
        read the body."""
        body = watcher.health()
        code = 503 if body["status"] == "unavailable" else 200
        return JSONResponse(body, status_code=code, headers={"Cache-Control": "no-store"})


def _with_exact_bounds(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """``app``'s OpenAPI document as FastAPI makes it (once, then cached), with integer
    bounds made exact again (see ``numbers.exact_bounds``)."""
    made_by_fastapi = app.openapi

    def openapi() -> dict[str, Any]:
        first = app.openapi_schema is None
        document = made_by_fastapi()
        return exact_bounds(document) if first else document

    return openapi


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _errors(app: FastAPI) -> None:
    """Watcher's exceptions as pages (for people) or problem+json (for programs).

    Starlette picks the handler of the nearest class in an exception's MRO, so
    ``InvalidInput`` gets its own answer although it is a ``UsageError``.
    """
    for exc_class, handler in _ERROR_HANDLERS:
        app.add_exception_handler(exc_class, handler)


def _error_page(request: Request, status: int, title: str, detail: str) -> Response:
    """The error page an editor's browser gets, or the same as problem+json under /api."""
    if _is_api(request):
        return problem(status, title, detail)
    context = {"status": status, "title": title, "detail": detail}
    return render(request, "editor/error.html", context, status)


def _shown_as(status: int, title: str) -> Callable[[Request, Exception], Awaitable[Response]]:
    """A handler for errors whose message is fit to show as it is, under one status."""

    async def handler(request: Request, exc: Exception) -> Response:
        return _error_page(request, status, title, str(exc))

    return handler


async def _sign_in_required(request: Request, exc: auth.AuthRequired) -> Response:
    """A program is told how to authenticate; a person is sent to the sign-in form and
    brought back afterwards."""
    if _is_api(request):
        return problem(
            401,
            "Sign-in required",
            "send Authorization: Bearer <token>",
            headers={"WWW-Authenticate": 'Bearer realm="watcher"'},
        )
    return auth.login_redirect(request)


async def _form_expired(request: Request, exc: auth.CsrfFailed) -> Response:
    """Put as an expired form, its usual cause, with the way out: reload it."""
    return _error_page(
        request,
        403,
        "Form expired",
        "The form was missing its security token or it did not match. "
        "Reload the page and try again.",
    )


async def _invalid_input(request: Request, exc: InvalidInput) -> Response:
    """Programs get the errors field by field, to point at what to fix."""
    if _is_api(request):
        return problem(422, "Invalid input", str(exc), errors=exc.errors)
    return _error_page(request, 422, "Invalid input", str(exc))


async def _malformed_request(request: Request, exc: RequestValidationError) -> Response:
    """A request the routes' declared parameters reject, answered like ``InvalidInput``:
    each error keyed by its field's dotted path (``body`` when the whole body is wrong).

    A number in the path that no id can be (``/candidates/0``, an id past what the table's
    key holds) is answered 404, as an id that is merely unused is: nothing is there.
    """
    wrong_path = [
        error
        for error in exc.errors()
        if error["loc"][:1] == ("path",) and error["type"] in _OUT_OF_RANGE
    ]
    if wrong_path:
        name = str(wrong_path[0]["loc"][-1])
        given = str(wrong_path[0].get("input", ""))
        shown = given if len(given) <= 40 else given[:40] + "..."
        return _error_page(request, 404, "Not found", f"no such {name}: {shown}")
    errors = {
        ".".join(str(part) for part in error["loc"][1:]) or "body": str(error["msg"])
        for error in exc.errors()
    }
    if _is_api(request):
        return problem(422, "Invalid input", "see errors", errors=errors)
    detail = "; ".join(f"{field}: {message}" for field, message in errors.items())
    return _error_page(request, 422, "Invalid input", detail)


_OUT_OF_RANGE = frozenset({"greater_than", "greater_than_equal", "less_than", "less_than_equal"})


async def _database_unavailable(request: Request, exc: StorageError) -> Response:
    """Logged for the operator; all the caller can do is try again."""
    log.error("database error serving %s: %s", request.url.path, exc)
    return _error_page(request, 503, "Database unavailable", "Try again in a moment.")


async def _unexpected(request: Request, exc: Exception) -> Response:
    """A bug: the traceback goes to the log, never to the caller."""
    log.exception("unexpected error serving %s %s", request.method, request.url.path)
    return _error_page(
        request,
        500,
        "Something went wrong",
        "The error was logged. Try again, or tell whoever runs this watcher.",
    )


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """Starlette's own errors (no route, wrong method) in the same dress as watcher's."""
    title = {400: "Bad request", 404: "Not found", 405: "Method not allowed"}.get(
        exc.status_code, "Error"
    )
    return _error_page(request, exc.status_code, title, str(exc.detail))


_ERROR_HANDLERS: tuple[tuple[type[Exception], Callable[..., Awaitable[Response]]], ...] = (
    (auth.AuthRequired, _sign_in_required),
    (auth.CsrfFailed, _form_expired),
    (PermissionDenied, _shown_as(403, "Not allowed")),
    (AuthError, _shown_as(401, "Not signed in")),
    (NotFound, _shown_as(404, "Not found")),
    (Conflict, _shown_as(409, "Changed by someone else")),
    (InvalidInput, _invalid_input),
    (UsageError, _shown_as(400, "Bad request")),
    (StorageError, _database_unavailable),
    (RequestValidationError, _malformed_request),
    (Exception, _unexpected),
    (StarletteHTTPException, _http_error),
)
