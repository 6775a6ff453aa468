"""Errors of the JSON API as ``application/problem+json`` (RFC 9457)."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus

from fastapi.responses import JSONResponse

PROBLEM_TYPE = "about:blank"


def problem(
    status: int,
    title: str | None = None,
    detail: str | None = None,
    *,
    errors: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, object] = {
        "type": PROBLEM_TYPE,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = dict(errors)
    return JSONResponse(
        body, status_code=status, media_type="application/problem+json", headers=dict(headers or {})
    )
