"""``create_app(watcher)``: the ASGI app served by ``watcher run``."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from watcher import __version__
from watcher.core import Watcher


def create_app(watcher: Watcher) -> FastAPI:
    app = FastAPI(title="watcher", version=__version__, docs_url=None, redoc_url=None)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        """200 while the database answers (sources may still be failing: see ``status``),
        503 when it does not. Load balancers and systemd watchdogs read the code; people
        read the body."""
        body = watcher.health()
        code = 503 if body["status"] == "unavailable" else 200
        return JSONResponse(body, status_code=code, headers={"Cache-Control": "no-store"})

    return app
