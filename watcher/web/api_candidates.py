"""API: who am I, the queue (list, search, one candidate), decisions, undo, facets, sources."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request, Response

from watcher.core import Watcher
from watcher.exceptions import Conflict, InvalidInput, NotFound
from watcher.text import text_problem
from watcher.types import Candidate, CandidateFilter, CandidateStatus, day_start
from watcher.views import (
    AuditEventOut,
    CandidateCardOut,
    CandidateOut,
    EntryOut,
    SourceHealthOut,
)
from watcher.web.api_auth import Caller, WatcherDep, entry_answer, etag, next_page, problems
from watcher.web.api_models import (
    ApproveIn,
    BulkIn,
    BulkResults,
    CandidateDetail,
    CandidatePage,
    Facets,
    Me,
    RejectIn,
    SourceList,
)
from watcher.web.numbers import path_id, query_id, query_integer
from watcher.web.problems import PROBLEM_TYPE

router = APIRouter()

CandidateId = Annotated[int, path_id("The candidate's id.")]
StatusFilter = Literal["new", "approved", "rejected", "published", "all"]


@router.get("/me", response_model=Me, summary="Who the caller is")
def me(actor: Caller) -> Me:
    """The signed-in editor or the token: name, role, kind (`editor` or `token`), and whether
    it may change anything."""
    return Me.of(actor)


@router.get(
    "/candidates",
    response_model=CandidatePage,
    summary="List and search the queue",
    responses=problems(422),
)
def list_candidates(
    request: Request,
    response: Response,
    watcher: WatcherDep,
    actor: Caller,
    status: Annotated[StatusFilter, Query(description="`all`: any status.")] = "new",
    mission: Annotated[str | None, Query(max_length=100)] = None,
    camera: Annotated[str | None, Query(max_length=100)] = None,
    source: Annotated[str | None, Query(max_length=100)] = None,
    sol_min: Annotated[int | None, query_integer(0)] = None,
    sol_max: Annotated[int | None, query_integer(0)] = None,
    taken_from: Annotated[
        date | None, Query(alias="from", description="First day taken (UTC), inclusive.")
    ] = None,
    taken_to: Annotated[
        date | None, Query(alias="to", description="Last day taken (UTC), inclusive.")
    ] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Text in title, caption or image id.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before: Annotated[int | None, query_id("Keyset: only after this id (see `next`).")] = None,
    sort: Annotated[
        Literal["time", "score"],
        Query(description="`score`: curation's score, highest first (unscored last)."),
    ] = "time",
    grouped: Annotated[
        bool, Query(description="One item per group (its best frame) with its `members`.")
    ] = False,
) -> CandidatePage:
    """Newest first, or by score. Follow `next` (also sent as `Link: rel="next"`) for the
    next page. A text search (`q`) is listed newest first, one item per frame."""
    if q is not None and (problem := text_problem(q)) is not None:
        raise InvalidInput({"q": problem})
    wanted = CandidateFilter(
        status=None if status == "all" else CandidateStatus(status),
        mission=mission or None,
        camera=camera or None,
        source=source or None,
        sol_min=sol_min,
        sol_max=sol_max,
        taken_from=day_start(taken_from),
        taken_to=day_start(taken_to, after=True),
        text=(q or "").strip() or None,
    )
    found = watcher.list_cards(
        wanted, by_score=sort == "score", grouped=grouped, limit=limit, before_id=before
    )
    following = next_page(request, [c.id for c in found], limit)
    if following:
        response.headers["Link"] = f'<{following}>; rel="next"'
    return CandidatePage(items=_cards(watcher, found, grouped and not wanted.text), next=following)


def _cards(watcher: Watcher, found: list[Candidate], grouped: bool) -> list[CandidateCardOut]:
    if not grouped:
        return [CandidateCardOut.of(c) for c in found]
    members = watcher.group_members([c.group_id for c in found if c.group_id is not None])
    return [
        CandidateCardOut.with_members(c, members.get(c.group_id, []) if c.group_id else [])
        for c in found
    ]


@router.get(
    "/candidates/{candidate_id}",
    response_model=CandidateDetail,
    summary="One candidate, its raw record and its neighbours",
    responses=problems(404, 422),
)
def get_candidate(
    candidate_id: CandidateId, response: Response, watcher: WatcherDep, actor: Caller
) -> CandidateDetail:
    """All metadata, NASA's raw record, the frames of the same sequence (same camera and
    sol, close in time) and the entry holding it. `ETag` carries its version."""
    candidate = watcher.get_candidate(candidate_id)
    response.headers["ETag"] = etag(candidate.version)
    neighbours = watcher.neighbours(candidate)
    return CandidateDetail.in_context(candidate, neighbours, watcher.entry_of(candidate.id))


@router.post(
    "/candidates/{candidate_id}/approve",
    response_model=EntryOut,
    status_code=201,
    response_description="The new entry (`Location` names it).",
    summary="Approve a candidate into a new entry",
    responses=problems(404, 409, 422),
)
def approve(
    candidate_id: CandidateId,
    response: Response,
    watcher: WatcherDep,
    actor: Caller,
    draft: Annotated[ApproveIn | None, Body()] = None,
) -> EntryOut:
    """Every field is optional: the heading and alt text start from NASA's title, the
    credit from NASA's credit. With a `heading` and a `body` the entry is published; without
    either (while `[publish] require_words` is on, the default) it is a `draft`, which
    never reaches readers until an editor writes both and PATCHes the entry's `status` to
    `published`. With `version`, a candidate changed since is refused (409)."""
    given = draft or ApproveIn.model_validate({})
    versions = {candidate_id: given.version} if given.version is not None else None
    entry = watcher.approve([candidate_id], given.entry_draft(), actor, versions)
    return entry_answer(response, entry, created=True)


@router.post(
    "/candidates/{candidate_id}/reject",
    response_model=CandidateOut,
    summary="Reject a candidate",
    responses=problems(404, 409, 422),
)
def reject(
    candidate_id: CandidateId,
    response: Response,
    watcher: WatcherDep,
    actor: Caller,
    decision: Annotated[RejectIn | None, Body()] = None,
) -> CandidateOut:
    """An optional reason; with `version`, a candidate changed since is refused (409)."""
    given = decision or RejectIn.model_validate({})
    candidate = watcher.reject(candidate_id, actor, reason=given.reason, version=given.version)
    response.headers["ETag"] = etag(candidate.version)
    return CandidateOut.of(candidate)


def refusal(exc: Conflict | NotFound | InvalidInput) -> dict[str, Any]:
    """A refused item of a bulk decision, as the problem a single decision would answer."""
    body: dict[str, Any] = {"type": PROBLEM_TYPE, "detail": str(exc), "errors": None}
    if isinstance(exc, Conflict):
        return {**body, "title": "Changed by someone else", "status": 409}
    if isinstance(exc, NotFound):
        return {**body, "title": "Not found", "status": 404}
    return {**body, "title": "Invalid input", "status": 422, "errors": exc.errors}


@router.post(
    "/candidates/bulk",
    response_model=BulkResults,
    summary="Approve or reject several candidates",
    responses=problems(422),
)
def bulk(decision: BulkIn, watcher: WatcherDep, actor: Caller) -> dict[str, Any]:
    """Each candidate is decided on its own (approving makes one entry each, from NASA's
    title: a `draft` while `[publish] require_words` is on): one that someone decided first
    is reported, not fatal to the rest."""
    results: list[dict[str, Any]] = []
    for candidate_id in dict.fromkeys(decision.ids):
        try:
            if decision.action == "approve":
                entry = watcher.approve([candidate_id], None, actor)
                results.append({"id": candidate_id, "ok": True, "entry_id": entry.id})
            else:
                watcher.reject(candidate_id, actor, reason=decision.reason)
                results.append({"id": candidate_id, "ok": True})
        except (Conflict, NotFound, InvalidInput) as exc:
            results.append({"id": candidate_id, "ok": False, "problem": refusal(exc)})
    return {"results": results}


@router.post(
    "/undo",
    response_model=AuditEventOut,
    summary="Undo your last approve or reject",
    responses=problems(404, 409),
)
def undo(watcher: WatcherDep, actor: Caller) -> AuditEventOut:
    """Takes back the caller's latest decision not undone yet; answers the audit event of
    the undo. An approval whose entry was edited since cannot be undone (409)."""
    return AuditEventOut.of(watcher.undo_last(actor))


@router.get("/facets", response_model=Facets, summary="Values the queue's filters can take")
def facets(watcher: WatcherDep, actor: Caller) -> dict[str, Any]:
    """Cameras, missions and sources seen so far (cached for a minute)."""
    return dict(watcher.facets())


@router.get("/sources", response_model=SourceList, summary="Each source's health")
def sources(watcher: WatcherDep, actor: Caller) -> SourceList:
    """Last poll, outcome, next poll and candidate count of each configured source."""
    return SourceList(items=[SourceHealthOut.of(s) for s in watcher.sources_health()])
