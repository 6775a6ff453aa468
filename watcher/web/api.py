"""The JSON API, ``/api/v1``: the editors' queue, decisions and entries, for programs.

Callers authenticate with an API token (``Authorization: Bearer wt_...``) or, from a
browser, with the session cookie plus ``X-CSRF-Token`` on unsafe methods (see
``api_auth``). Errors are ``application/problem+json`` (``problems.py``, mapped in
``app.py``). The routes are thin: parse, call the ``Watcher`` facade, shape with
``watcher.views``. The OpenAPI document is ``/api/v1/openapi.json``; ``/api/v1/docs``
renders it as a page.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from watcher.web import api_admin, api_candidates, api_entries, api_publishing
from watcher.web.api_auth import problems
from watcher.web.api_docs import docs_context
from watcher.web.templating import render

router = APIRouter(prefix="/api/v1", responses=problems(400, 401, 403))
router.include_router(api_candidates.router, tags=["queue"])
router.include_router(api_entries.router, tags=["entries"])
router.include_router(api_publishing.router, tags=["publishing"])
router.include_router(api_publishing.admin_router, tags=["admin"])
router.include_router(api_admin.router, tags=["admin"])


@router.get("/docs", include_in_schema=False)
def docs(request: Request) -> Response:
    """The API reference, generated from the OpenAPI document (public: no data in it)."""
    return render(request, "api/docs.html", docs_context(request.app.openapi()))


__all__ = ["router"]
