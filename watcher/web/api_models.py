"""The JSON API's request and response models.

Responses mirror the shapes of ``watcher.views`` (the routes build them with those functions
and FastAPI checks them against these models), so the OpenAPI document describes exactly
what is sent. Requests are checked here for types and sizes; the facade checks the rest.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

_CANDIDATE_EXAMPLE: dict[str, Any] = {
    "id": 4211,
    "source": "perseverance",
    "external_id": "NRF_1965_0791209845_417ECM_N0880000NCAM00500_01_295J",
    "mission": "perseverance",
    "title": "Mars Perseverance Sol 1965: Right Navigation Camera (Navcam)",
    "caption": "NASA's Mars Perseverance rover acquired this image using its Right Navcam.",
    "credit": "NASA/JPL-Caltech",
    "camera": "NAVCAM_RIGHT",
    "sol": 1965,
    "taken_at": "2026-08-01T10:14:03Z",
    "mars_local_time": "15:28:38",
    "received_at": "2026-08-01T12:40:10Z",
    "first_seen_at": "2026-08-01T12:45:00Z",
    "status": "new",
    "page_url": None,
    "image_url": None,
    "thumbnail_url": None,
    "medium_url": None,
    "large_url": None,
    "full_url": None,
    "width": 1288,
    "height": 968,
    "version": 1,
    "decided_by": None,
    "decided_at": None,
    "reject_reason": None,
    "tiles": [],
}


class Problem(BaseModel):
    """An error (RFC 9457), sent as ``application/problem+json``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "about:blank",
                    "title": "Changed by someone else",
                    "status": 409,
                    "detail": "candidate 4211 was already approved by alice at 2026-08-01 "
                    "12:50 UTC",
                }
            ]
        }
    )

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: dict[str, str] | None = Field(
        None, description="For 422: each bad field (or query parameter) and what is wrong."
    )


# -- responses ----------------------------------------------------------------------------


class Me(BaseModel):
    name: str
    role: Literal["admin", "editor"]
    kind: Literal["editor", "token", "cli"] = Field(
        description="`editor`: a signed-in browser session; `token`: an API token."
    )
    can_write: bool
    is_admin: bool


class TileOut(BaseModel):
    """One piece of a frame NASA sent in tiles: where it sits and its files."""

    imageid: str
    left: int = Field(description="NASA's subframeRect: 1-based column of the left edge.")
    top: int
    width: int
    height: int
    thumbnail_url: str | None
    medium_url: str | None
    large_url: str | None
    full_url: str | None


class CandidateOut(BaseModel):
    """A candidate as ``watcher queue --json`` prints it."""

    model_config = ConfigDict(json_schema_extra={"examples": [_CANDIDATE_EXAMPLE]})

    id: int
    source: str
    external_id: str
    mission: str | None
    title: str
    caption: str
    credit: str | None
    camera: str | None
    sol: int | None
    taken_at: datetime | None
    mars_local_time: str | None
    received_at: datetime | None
    first_seen_at: datetime | None
    status: Literal["new", "approved", "rejected", "published"]
    page_url: str | None
    image_url: str | None = Field(description="The largest rendition known.")
    thumbnail_url: str | None
    medium_url: str | None
    large_url: str | None
    full_url: str | None
    width: int | None
    height: int | None
    version: int = Field(description="Grows with each decision; send it back to decide.")
    decided_by: str | None
    decided_at: datetime | None
    reject_reason: str | None
    tiles: list[TileOut] = Field(
        default_factory=list,
        description="A frame NASA sent in tiles: every tile seen, its own files included.",
    )


class CandidateBrief(BaseModel):
    """A candidate in a list of neighbours: enough for a thumbnail strip."""

    id: int
    title: str
    camera: str | None
    sol: int | None
    taken_at: datetime | None
    status: Literal["new", "approved", "rejected", "published"]
    thumbnail_url: str | None


class CandidateDetail(CandidateOut):
    """A candidate with NASA's raw record, its sequence neighbours and its entry (if any)."""

    raw: dict[str, Any] = Field(description="The record exactly as NASA's feed sent it.")
    neighbours: list[CandidateBrief] = Field(
        description="Frames of the same camera and sol, close in time, oldest first."
    )
    entry_id: int | None = Field(description="The entry holding this candidate, if any.")


class CandidatePage(BaseModel):
    items: list[CandidateOut]
    next: str | None = Field(description="URL of the next page (keyset), or null at the end.")


class BulkResult(BaseModel):
    """What became of one candidate of a bulk decision."""

    id: int
    ok: bool
    entry_id: int | None = Field(None, description="The new entry, when approved.")
    problem: Problem | None = Field(None, description="Why not, when refused.")


class BulkResults(BaseModel):
    results: list[BulkResult]


class EntryOut(BaseModel):
    """An entry of the running list."""

    id: int
    heading: str
    body: str = Field(description="The editor's paragraph (Markdown subset).")
    body_html: str = Field(description="``body`` rendered and sanitised.")
    alt_text: str
    credit: str
    rendition: Literal["medium", "large", "full"]
    position: int
    status: Literal["published", "unpublished"]
    version: int = Field(description="Send it back (or If-Match) to edit or delete.")
    candidate_ids: list[int] = Field(description="Its frames, in order.")
    created_by: str
    created_at: datetime | None
    updated_by: str
    updated_at: datetime | None


class EntryList(BaseModel):
    items: list[EntryOut]


class Facets(BaseModel):
    """The values the queue's filters can take."""

    camera: list[str] = []
    mission: list[str] = []
    source: list[str] = []


class SourceHealthOut(BaseModel):
    name: str
    kind: str
    url: str
    enabled: bool
    interval_seconds: float
    health: Literal["ok", "pending", "failing", "disabled"]
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    consecutive_failures: int
    next_poll_at: datetime | None
    cursor: str | None
    candidates: int


class SourceList(BaseModel):
    items: list[SourceHealthOut]


class AuditEventOut(BaseModel):
    id: int
    at: datetime | None
    actor: str
    action: str
    subject_type: str
    subject_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    undone_by: int | None = Field(description="The id of the event that undid this one.")


class AuditPage(BaseModel):
    items: list[AuditEventOut]
    next: str | None


class EditorOut(BaseModel):
    name: str
    role: Literal["admin", "editor"]
    disabled: bool
    created_at: datetime | None
    last_login_at: datetime | None


class EditorList(BaseModel):
    items: list[EditorOut]


class TokenOut(BaseModel):
    """An API token as listed: never its secret."""

    id: int
    name: str
    prefix: str = Field(description="The first characters of the secret, to recognise it.")
    scope: Literal["read", "write"]
    created_by: str
    created_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenList(BaseModel):
    items: list[TokenOut]


class NewToken(BaseModel):
    token: TokenOut
    secret: str = Field(description="Shown this once; only its hash is kept.")


# -- requests -----------------------------------------------------------------------------


class Draft(BaseModel):
    """What an editor writes for an entry; every field optional."""

    model_config = ConfigDict(extra="forbid")

    heading: str | None = Field(None, max_length=1000, description="Empty: NASA's title.")
    body: str | None = Field(None, max_length=50_000, description="Markdown subset.")
    alt_text: str | None = Field(None, max_length=2000, description="Empty: NASA's title.")
    credit: str | None = Field(None, max_length=1000, description="Null: NASA's credit.")
    rendition: Literal["medium", "large", "full"] | None = None


class ApproveIn(Draft):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "heading": "Dust devil crossing Jezero's floor",
                    "body": "Watch the **lower left**: a dust devil, caught by Navcam.",
                    "alt_text": "A pale column of dust over a flat, rocky plain.",
                    "rendition": "large",
                    "version": 1,
                }
            ]
        },
    )

    version: int | None = Field(None, description="The candidate's version you saw.")


class RejectIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "blurred", "version": 1}]},
    )

    reason: str | None = Field(None, max_length=2000)
    version: int | None = Field(None, description="The candidate's version you saw.")


class BulkIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"action": "reject", "ids": [4211, 4212], "reason": "dark"}]
        },
    )

    action: Literal["approve", "reject"]
    ids: list[int] = Field(
        min_length=1, max_length=500, description="Candidates, each decided alone."
    )
    reason: str | None = Field(None, max_length=2000, description="For `reject`.")


class EntryCreate(Draft):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "candidate_ids": [4211, 4212, 4213],
                    "heading": "Ingenuity's shadow, frame by frame",
                    "versions": {"4211": 1},
                }
            ]
        },
    )

    candidate_ids: list[int] = Field(
        min_length=1, description="One candidate (a still) or several (a sequence, in order)."
    )
    versions: dict[int, int] | None = Field(
        None, description="Candidate id -> the version you saw (optional)."
    )


class EntryPatch(Draft):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"version": 2, "heading": "Better heading"}]},
    )

    version: int | None = Field(
        None, description="The entry's version you saw; required unless If-Match is sent."
    )
    candidate_ids: list[int] | None = Field(
        None, min_length=1, description="Replaces the frames; dropped ones return to the queue."
    )
    status: Literal["published", "unpublished"] | None = None


class OrderIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"order": [3, 1, 2]}]}
    )

    order: list[int] = Field(description="Every entry's id, once, in the new order.")


class TokenCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "newsroom bot", "scope": "read"}]}
    )

    name: str = Field(max_length=200)
    scope: Literal["read", "write"] = "read"
