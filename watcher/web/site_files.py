"""The published site, served at ``/`` straight from ``site_dir``.

``site_dir`` is a symlink that each publish swaps to a new, complete version, and the
files are looked up through it on every request, so readers move from one edition to the
next between two requests, never in the middle of one. Starlette's StaticFiles gives ETag
and Last-Modified, and answers 304 to a conditional request.
"""

from __future__ import annotations

from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

NOTHING_YET = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Nothing published yet</title></head>
<body><main><h1>Nothing published yet</h1>
<p>The running list appears here once editors have approved the first image.</p>
</main></body></html>
"""


class SiteFiles(StaticFiles):
    """StaticFiles over the site's symlink, with a short public cache and a page for the
    time before the first publish."""

    def __init__(self, site_dir: Path):
        super().__init__(directory=site_dir, html=True, check_dir=False)
        self.site_dir = site_dir

    async def check_config(self) -> None:
        """Before the first publish there is no site directory; that is not an error."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            response = await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code == 404 and path in ("", "."):
                return HTMLResponse(NOTHING_YET, headers={"Cache-Control": "no-cache"})
            raise
        if response.status_code in (200, 304):
            response.headers.setdefault("Cache-Control", "public, max-age=60")
        return response
