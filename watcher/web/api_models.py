"""The JSON API's request models, and the responses only the API sends.

A response is built from the shapes of ``watcher.views`` (one model per value, the same the
CLI prints), wrapped here in the pages and lists the routes answer, so the OpenAPI document
describes exactly what is sent. Requests are checked here for types and sizes; the facade
checks the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from watcher.types import Actor, Candidate, EntryDraft
from watcher.views import (
    AuditEventOut,
    CandidateBrief,
    CandidateCardOut,
    CandidateOut,
    EditorOut,
    EntryOut,
    Shape,
    SourceHealthOut,
    TokenOut,
)
from watcher.web.numbers import BodyId, BodyVersion


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


class Me(Shape[Actor]):
    name: str
    role: Literal["admin", "editor"]
    kind: Literal["editor", "token", "cli"] = Field(
        description="`editor`: a signed-in browser session; `token`: an API token."
    )
    can_write: bool
    is_admin: bool


class CandidateDetail(CandidateOut):
    """A candidate with NASA's raw record, its sequence neighbours and its entry (if any)."""

    raw: dict[str, Any] = Field(
        description="The record exactly as NASA's feed sent it; once pruned ([retention]), "
        "a stub with only what the score reads and watcher_pruned_at."
    )
    neighbours: list[CandidateBrief] = Field(
        description="Frames of the same camera and sol, close in time, oldest first."
    )
    entry_id: int | None = Field(description="The entry holding this candidate, if any.")

    @classmethod
    def in_context(
        cls, candidate: Candidate, neighbours: Iterable[Candidate], entry_id: int | None
    ) -> Self:
        """``candidate`` with its raw record, its ``neighbours`` and the entry holding it."""
        return cls._of(
            candidate,
            raw=dict(candidate.raw),
            neighbours=[CandidateBrief.of(c) for c in neighbours],
            entry_id=entry_id,
        )


class CandidatePage(BaseModel):
    items: list[CandidateCardOut]
    next: str | None = Field(description="URL of the next page (keyset), or null at the end.")


class BulkResult(BaseModel):
    """What became of one candidate of a bulk decision."""

    id: int
    ok: bool
    entry_id: int | None = Field(None, description="The new entry, when approved.")
    problem: Problem | None = Field(None, description="Why not, when refused.")


class BulkResults(BaseModel):
    results: list[BulkResult]


class EntryList(BaseModel):
    items: list[EntryOut]


class Facets(BaseModel):
    """The values the queue's filters can take."""

    camera: list[str] = []
    mission: list[str] = []
    source: list[str] = []


class SourceList(BaseModel):
    items: list[SourceHealthOut]


class AuditPage(BaseModel):
    items: list[AuditEventOut]
    next: str | None


class EditorList(BaseModel):
    items: list[EditorOut]


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

    def entry_draft(self) -> EntryDraft:
        """What the facade approves a new entry with: a heading or alt text left out is empty
        and a credit None (the facade fills them from NASA's title and credit), the rendition
        large."""
        return EntryDraft(
            heading=self.heading or "",
            body=self.body or "",
            alt_text=self.alt_text or "",
            credit=self.credit,
            rendition=self.rendition or "large",
        )


# The fields of an entry its editor writes (the API's drafts, the pages' entry forms).
DRAFT_FIELDS = tuple(Draft.model_fields)


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

    version: BodyVersion | None = Field(None, description="The candidate's version you saw.")


class RejectIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "blurred", "version": 1}]},
    )

    reason: str | None = Field(None, max_length=2000)
    version: BodyVersion | None = Field(None, description="The candidate's version you saw.")


class BulkIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"action": "reject", "ids": [4211, 4212], "reason": "dark"}]
        },
    )

    action: Literal["approve", "reject"]
    ids: list[BodyId] = Field(
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

    candidate_ids: list[BodyId] = Field(
        min_length=1, description="One candidate (a still) or several (a sequence, in order)."
    )
    versions: dict[BodyId, BodyVersion] | None = Field(
        None, description="Candidate id -> the version you saw (optional)."
    )


class EntryPatch(Draft):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"version": 2, "heading": "Better heading"}]},
    )

    version: BodyVersion | None = Field(
        None, description="The entry's version you saw; required unless If-Match is sent."
    )
    candidate_ids: list[BodyId] | None = Field(
        None, min_length=1, description="Replaces the frames; dropped ones return to the queue."
    )
    status: Literal["published", "unpublished"] | None = Field(
        None,
        description=(
            "`published` puts the entry (a draft too) on the public list; while "
            "`[publish] require_words` is on it needs a heading and a paragraph (sent here "
            "or already written), else 422 naming the field. `unpublished` takes it off."
        ),
    )


class OrderIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"order": [3, 1, 2]}]}
    )

    order: list[BodyId] = Field(description="Every entry's id, once, in the new order.")


class TokenCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "newsroom bot", "scope": "read"}]}
    )

    name: str = Field(max_length=200)
    scope: Literal["read", "write"] = "read"
