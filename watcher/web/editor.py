"""The editor app's pages (queue, candidate, entries, audit, admin pages)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
