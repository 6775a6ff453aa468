"""``create_app(watcher)``: the ASGI app served by ``watcher run``.

``/healthz``, the editor app under ``/editor``, the JSON API under ``/api/v1`` (its OpenAPI
description at ``/api/v1/openapi.json``), static files under ``/static``. Every response
carries a strict Content-Security-Policy: scripts and styles only from this site, images
only from it and the configured image hosts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from watcher import __version__
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
from watcher.web import api, auth, editor, public
from watcher.web.problems import problem
from watcher.web.site_files import SiteFiles
from watcher.web.templating import make_templates, render

log = logging.getLogger("watcher.web")


def content_security_policy(settings: Settings) -> str:
    images = ["'self'", "data:"]
    for host in settings.image_hosts:
        images += [f"https://{host}", f"http://{host}"]
    return "; ".join(
        [
            "default-src 'self'",
            f"img-src {' '.join(images)}",
            "script-src 'self'",
            "style-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


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

    app.mount("/static", StaticFiles(packages=[("watcher", "static")]), name="static")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        """200 while the database answers (sources may still be failing: see ``status``),
        503 when it does not. Load balancers and systemd watchdogs read the code; people
        read the body."""
        body = watcher.health()
        code = 503 if body["status"] == "unavailable" else 200
        return JSONResponse(body, status_code=code, headers={"Cache-Control": "no-store"})

    app.include_router(auth.router)
    app.include_router(editor.router)
    app.include_router(api.router)
    app.include_router(public.router)
    # Last: everything no route above claims is a file of the published site.
    app.mount("/", SiteFiles(watcher.settings.site_dir), name="site")
    _errors(app)
    return app


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _errors(app: FastAPI) -> None:
    """Watcher's exceptions as pages (for people) or problem+json (for programs)."""

    def page(request: Request, status: int, title: str, detail: str) -> Response:
        if _is_api(request):
            return problem(status, title, detail)
        context = {"status": status, "title": title, "detail": detail}
        return render(request, "editor/error.html", context, status)

    @app.exception_handler(auth.AuthRequired)
    async def auth_required(request: Request, exc: auth.AuthRequired) -> Response:
        if _is_api(request):
            return problem(
                401,
                "Sign-in required",
                "send Authorization: Bearer <token>",
                headers={"WWW-Authenticate": 'Bearer realm="watcher"'},
            )
        return auth.login_redirect(request)

    @app.exception_handler(auth.CsrfFailed)
    async def csrf_failed(request: Request, exc: auth.CsrfFailed) -> Response:
        return page(
            request,
            403,
            "Form expired",
            "The form was missing its security token or it did not match. "
            "Reload the page and try again.",
        )

    @app.exception_handler(PermissionDenied)
    async def denied(request: Request, exc: PermissionDenied) -> Response:
        return page(request, 403, "Not allowed", str(exc))

    @app.exception_handler(AuthError)
    async def auth_error(request: Request, exc: AuthError) -> Response:
        return page(request, 401, "Not signed in", str(exc))

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        return page(request, 404, "Not found", str(exc))

    @app.exception_handler(Conflict)
    async def conflict(request: Request, exc: Conflict) -> Response:
        return page(request, 409, "Changed by someone else", str(exc))

    @app.exception_handler(InvalidInput)
    async def invalid(request: Request, exc: InvalidInput) -> Response:
        if _is_api(request):
            return problem(422, "Invalid input", str(exc), errors=exc.errors)
        return page(request, 422, "Invalid input", str(exc))

    @app.exception_handler(UsageError)
    async def usage(request: Request, exc: UsageError) -> Response:
        return page(request, 400, "Bad request", str(exc))

    @app.exception_handler(StorageError)
    async def storage(request: Request, exc: StorageError) -> Response:
        log.error("database error serving %s: %s", request.url.path, exc)
        return page(request, 503, "Database unavailable", "Try again in a moment.")

    @app.exception_handler(RequestValidationError)
    async def validation(request: Request, exc: RequestValidationError) -> Response:
        errors = {
            ".".join(str(part) for part in error["loc"][1:]) or "body": str(error["msg"])
            for error in exc.errors()
        }
        if _is_api(request):
            return problem(422, "Invalid input", "see errors", errors=errors)
        detail = "; ".join(f"{field}: {message}" for field, message in errors.items())
        return page(request, 422, "Invalid input", detail)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error serving %s %s", request.method, request.url.path)
        return page(
            request,
            500,
            "Something went wrong",
            "The error was logged. Try again, or tell whoever runs this watcher.",
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "Error")
        return page(request, exc.status_code, title, str(exc.detail))
