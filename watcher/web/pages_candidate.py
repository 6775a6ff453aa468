"""One candidate: its large picture, metadata, raw record and neighbours, and the entry
form; approving or rejecting it (from its page or from a queue card); the preview."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from watcher.cameras import camera_name
from watcher.core import Watcher
from watcher.exceptions import Conflict, InvalidInput, NotFound
from watcher.types import RENDITIONS, Candidate, CandidateStatus
from watcher.urls import shown_url
from watcher.web.api_models import DRAFT_FIELDS
from watcher.web.auth import (
    CheckedForm,
    EditorSession,
    actor_of,
    safe_next,
    watcher_of,
)
from watcher.web.numbers import PathId
from watcher.web.pages_common import (
    approval_notice,
    candidate_href,
    card_of,
    draft_of,
    mars_time,
    notice_from,
    other_errors,
    pretty_json,
    query_of,
    text,
    version_of,
    whole,
    with_notice,
)
from watcher.web.pages_compare import compare_again
from watcher.web.pages_entries import entry_preview
from watcher.web.pages_queue import parse_queue, queue_again
from watcher.web.templating import render, utc

router = APIRouter(include_in_schema=False)

EPOCH = datetime.min.replace(tzinfo=UTC)
FORM_FIELDS = (*DRAFT_FIELDS, "reason")


@dataclass(frozen=True, slots=True)
class Decision:
    """How a candidate was decided: ``approved`` (with its entry) or ``rejected``."""

    kind: str
    by: str
    at: str
    entry: int | None = None
    reason: str | None = None


def draft_values(form: FormData | None, candidate: Candidate) -> dict[str, str]:
    """The entry form's values: as typed, or the defaults (NASA's credit, large)."""
    if form is None:
        values = dict.fromkeys(DRAFT_FIELDS, "")
        return {**values, "credit": candidate.credit or "", "rendition": "large"}
    values = {key: text(form, key) for key in DRAFT_FIELDS}
    return {**values, "rendition": values["rendition"] or "large"}


def decision_of(watcher: Watcher, candidate: Candidate) -> Decision | None:
    c = candidate
    if c.status is CandidateStatus.NEW:
        return None
    by, at = c.decided_by or "someone", utc(c.decided_at)
    if c.status is CandidateStatus.REJECTED:
        return Decision("rejected", by, at, reason=c.reject_reason)
    return Decision("approved", by, at, entry=watcher.entry_of(c.id))


def metadata_of(c: Candidate) -> list[tuple[str, str]]:
    size = f"{c.width} x {c.height} px" if c.width and c.height else "-"
    return [
        ("Title", c.title or "-"),
        ("Caption", c.caption or "-"),
        ("Mission", c.mission or "-"),
        ("Camera", camera_name(c.camera) or "-"),
        ("Sol", "-" if c.sol is None else str(c.sol)),
        ("Taken (UTC)", utc(c.taken_at, with_seconds=True)),
        ("Mars local time", mars_time(c.mars_local_time) or "-"),
        ("Received by NASA", utc(c.received_at, with_seconds=True)),
        ("First seen here", utc(c.first_seen_at, with_seconds=True)),
        ("Source", c.source),
        ("NASA id", c.external_id),
        ("Credit", c.credit or "-"),
        ("Size", size),
        ("Status", c.status.value),
    ]


def candidate_page(
    request: Request,
    candidate: Candidate,
    *,
    next_url: str,
    values: dict[str, str] | None = None,
    reason: str = "",
    errors: dict[str, str] | None = None,
    problem: str | None = None,
    preview: bool = False,
    status: int = 200,
) -> Response:
    watcher, c = watcher_of(request), candidate
    sequence = sorted(
        [c, *watcher.neighbours(c)], key=lambda n: (n.taken_at is None, n.taken_at or EPOCH, n.id)
    )
    context = {
        "active": "queue",
        "require_words": watcher.settings.publish.require_words,
        "candidate": c,
        "title": c.title or f"Candidate {c.id}",
        "picture": shown_url(c.large_url) or shown_url(c.medium_url) or shown_url(c.thumbnail_url),
        "full": next(
            (u for u in map(shown_url, (c.full_url, c.large_url, c.medium_url)) if u), None
        ),
        "nasa_page": shown_url(c.page_url),
        "metadata": metadata_of(c),
        "raw": pretty_json(dict(c.raw)),
        "tiles": [
            (
                shown_url(t.medium_url or t.thumbnail_url),
                shown_url(t.full_url or t.large_url),
                f"{t.imageid}: {t.width} x {t.height} px at column {t.left}, row {t.top}",
            )
            for t in c.tiles
        ],
        "sequence": [card_of(n, next_url, current=n.id == c.id) for n in sequence]
        if len(sequence) > 1
        else [],
        "decision": decision_of(watcher, c),
        "is_new": c.status is CandidateStatus.NEW,
        "show_form": c.status is CandidateStatus.NEW or values is not None,
        "values": values or draft_values(None, c),
        "reason": reason,
        "renditions": RENDITIONS,
        "next_url": next_url,
        "preview": preview,
        "notice": notice_from(request.query_params),
        "problem": problem,
        "errors": errors or {},
        "general_errors": other_errors(errors or {}, FORM_FIELDS),
    }
    return render(request, "editor/candidate.html", context, status)


@router.get("/editor/candidates/{candidate_id}")
def candidate(
    request: Request,
    candidate_id: PathId,
    session: EditorSession,
    next: str = "/editor",
) -> Response:
    found = watcher_of(request).get_candidate(candidate_id)
    return candidate_page(request, found, next_url=safe_next(next))


def _after_decision(
    request: Request, candidate_id: int, next_url: str, done: str, **numbers: int
) -> str:
    """The next new candidate of the queue the editor came from, else that queue."""
    if urlsplit(next_url).path == "/editor":
        query = parse_queue(query_of(next_url))
        if not query.errors:
            wanted = replace(query.wanted, status=CandidateStatus.NEW)
            try:
                found = watcher_of(request).search_candidates(
                    wanted, limit=1, before_id=candidate_id
                )
            except InvalidInput:
                found = []
            if found:
                return with_notice(candidate_href(found[0].id, next_url), done, **numbers)
    return with_notice(next_url, done, **numbers)


def _refused(
    request: Request,
    candidate_id: int,
    form: FormData,
    exc: InvalidInput | Conflict,
) -> Response:
    """A refused decision: the page again with everything typed (or the queue again)."""
    next_url = safe_next(text(form, "next"))
    status = 422 if isinstance(exc, InvalidInput) else 409
    errors = exc.errors if isinstance(exc, InvalidInput) else {}
    problem = None if isinstance(exc, InvalidInput) else f"Already decided: {exc}."
    if text(form, "origin") != "candidate":
        if urlsplit(next_url).path == "/editor/compare":
            return compare_again(request, next_url, problem or str(exc), status)
        return queue_again(request, next_url, problem=problem or str(exc), status=status)
    found = watcher_of(request).get_candidate(candidate_id)
    return candidate_page(
        request,
        found,
        next_url=next_url,
        values=draft_values(form, found),
        reason=text(form, "reason"),
        errors=errors,
        problem=problem,
        status=status,
    )


@router.post("/editor/candidates/{candidate_id}/approve")
def approve(
    request: Request,
    candidate_id: PathId,
    session: EditorSession,
    form: CheckedForm,
) -> Response:
    watcher = watcher_of(request)
    next_url = safe_next(text(form, "next"))
    version = version_of(form)
    on_page = text(form, "origin") == "candidate"
    draft = draft_of(draft_values(form, watcher.get_candidate(candidate_id))) if on_page else None
    versions = {candidate_id: version} if version is not None else None
    try:
        entry = watcher.approve([candidate_id], draft, actor_of(session), versions)
    except (InvalidInput, Conflict) as exc:
        return _refused(request, candidate_id, form, exc)
    done = approval_notice(entry, "approved", "drafted")
    if on_page:
        target = _after_decision(request, candidate_id, next_url, done, entry=entry.id)
    else:
        target = with_notice(next_url, done, entry=entry.id)
    return RedirectResponse(target, status_code=303)


@router.post("/editor/candidates/{candidate_id}/reject")
def reject(
    request: Request,
    candidate_id: PathId,
    session: EditorSession,
    form: CheckedForm,
) -> Response:
    next_url = safe_next(text(form, "next"))
    version = version_of(form)
    try:
        watcher_of(request).reject(
            candidate_id, actor_of(session), reason=text(form, "reason"), version=version
        )
    except (InvalidInput, Conflict) as exc:
        return _refused(request, candidate_id, form, exc)
    if text(form, "origin") == "candidate":
        target = _after_decision(
            request, candidate_id, next_url, "rejected", candidate=candidate_id
        )
    else:
        target = with_notice(next_url, "rejected", candidate=candidate_id)
    return RedirectResponse(target, status_code=303)


@router.post("/editor/preview")
def preview(request: Request, session: EditorSession, form: CheckedForm) -> Response:
    """The entry form again, its text kept, with the paragraph rendered as it will be."""
    candidate_id = whole(text(form, "candidate_id"))
    if candidate_id is not None:
        found = watcher_of(request).get_candidate(candidate_id)
        return candidate_page(
            request,
            found,
            next_url=safe_next(text(form, "next")),
            values=draft_values(form, found),
            reason=text(form, "reason"),
            preview=True,
        )
    entry_id = whole(text(form, "entry_id"))
    if entry_id is not None:
        return entry_preview(request, entry_id, form)
    raise NotFound("nothing to preview: the form named no candidate or entry")


__all__ = ["router"]
