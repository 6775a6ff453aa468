"""The queue: ``GET /editor`` (filters, cards, keyset pages), bulk decisions, undo."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from watcher.cameras import camera_name
from watcher.exceptions import Conflict, InvalidInput, NotFound
from watcher.limits import MAX_INTEGER
from watcher.text import text_errors
from watcher.types import (
    Candidate,
    CandidateFilter,
    CandidateStatus,
    EntryStatus,
    Session,
    day_start,
)
from watcher.web.auth import (
    CheckedForm,
    EditorSession,
    actor_of,
    safe_next,
    watcher_of,
)
from watcher.web.pages_common import (
    approval_notice,
    card_of,
    notice_from,
    parse_selection,
    query_of,
    text,
    texts,
    whole,
    with_notice,
)
from watcher.web.queue_view import fold_open, folded_in_use, summary, tabs, with_sequence
from watcher.web.templating import render

router = APIRouter(include_in_schema=False)

STATUSES = ("new", "approved", "rejected", "published", "all")
FILTERS = ("status", "mission", "camera", "source", "sol_min", "sol_max", "from", "to", "q")
TYPED = ("mission", "camera", "source", "q")  # filters taken as text (the others are parsed)
# Ten rows of the grid's six columns at 1280 px: the first screen and some scrolling.
DEFAULT_LIMIT = 60
MAX_LIMIT = 200
MAX_TEXT = 200
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True, slots=True)
class QueueQuery:
    """The queue's query string, checked: the filter, the page, and what was wrong."""

    values: dict[str, str]
    wanted: CandidateFilter
    limit: int = DEFAULT_LIMIT
    before: int | None = None
    errors: dict[str, str] = field(default_factory=dict)
    at: int = 1
    sort: str = "score"
    grouped: bool = True
    group: int | None = None

    def _curation(self, sort: str | None) -> list[tuple[str, str]]:
        """The sort, the grouping and the group shown, defaults left out."""
        chosen = sort or self.sort
        return [
            ("sort", "" if chosen == "score" else chosen),
            ("grouped", "" if self.grouped else "no"),
            ("group", "" if self.group is None else str(self.group)),
        ]

    def url(
        self,
        *,
        before: int | None = None,
        at: int = 1,
        status: str | None = None,
        sort: str | None = None,
    ) -> str:
        """This queue page's URL, defaults left out: ``before`` for an older page of it
        (``at``: the place of its first card, for the count line), ``status`` for the
        same filters in another status, ``sort`` for them in another order."""
        values = {**self.values, "status": status or self.values.get("status", "")}
        pairs = [(key, values[key]) for key in FILTERS if values.get(key)]
        pairs = [(k, v) for k, v in pairs if (k, v) != ("status", "new")]
        pairs += [(k, v) for k, v in self._curation(sort) if v]
        if self.limit != DEFAULT_LIMIT:
            pairs.append(("limit", str(self.limit)))
        if before is not None:
            pairs.append(("before", str(before)))
            if at > 1:
                pairs.append(("at", str(at)))
        return "/editor" + (f"?{urlencode(pairs)}" if pairs else "")


def _day(value: str) -> date | None:
    if not _DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def parse_queue(params: Mapping[str, str]) -> QueueQuery:
    """Every filter parsed on its own; a bad one gets a message for beside its field."""
    values = {key: params.get(key, "").strip()[:MAX_TEXT] for key in (*FILTERS, "limit")}
    errors: dict[str, str] = {}
    status = values["status"] or "new"
    if status not in STATUSES:
        errors["status"] = "choose new, approved, rejected, published or all"
    sols: dict[str, int | None] = {}
    for key in ("sol_min", "sol_max"):
        sols[key] = whole(values[key], MAX_INTEGER)
        if values[key] and sols[key] is None:
            errors[key] = "enter a sol as a whole number, e.g. 1965"
    days: dict[str, date | None] = {}
    for key in ("from", "to"):
        days[key] = _day(values[key])
        if values[key] and days[key] is None:
            errors[key] = "enter a date as YYYY-MM-DD"
    start, end = days["from"], days["to"]
    if start and end and end < start:
        errors["to"] = "must not be before the first date"
    if len(params.get("q", "")) > MAX_TEXT:
        errors["q"] = f"keep the search under {MAX_TEXT} characters"
    for key, problem in text_errors({k: values[k] for k in TYPED}).items():
        errors.setdefault(key, problem)
    limit = whole(values["limit"]) if values["limit"] else DEFAULT_LIMIT
    if limit is None or not 1 <= limit <= MAX_LIMIT:
        errors["limit"] = f"show between 1 and {MAX_LIMIT} per page"
        limit = DEFAULT_LIMIT
    before = whole(params.get("before"))
    if params.get("before") and before is None:
        errors["before"] = "this page link is broken: start again from the newest"
    wanted = CandidateFilter(
        status=None if status == "all" or "status" in errors else CandidateStatus(status),
        mission=values["mission"] or None,
        camera=values["camera"] or None,
        source=values["source"] or None,
        sol_min=sols["sol_min"],
        sol_max=sols["sol_max"],
        taken_from=day_start(start),
        taken_to=day_start(end, after=True),
        text=values["q"] or None,
    )
    values["status"] = status
    at = whole(params.get("at")) if before is not None else None
    sort = "time" if params.get("sort") == "time" else "score"
    group = whole(params.get("group"))
    grouped = params.get("grouped") != "no"
    return QueueQuery(values, wanted, limit, before, errors, max(1, at or 1), sort, grouped, group)


def _label(key: str, value: str) -> str:
    return (camera_name(value) or value) if key == "camera" else value


def _options(
    facets: Mapping[str, list[str]], values: Mapping[str, str]
) -> dict[str, list[tuple[str, str]]]:
    """Each select's choices as (value, label): what the store has seen, plus the value
    asked for; a camera is labelled in plain words, its code stays the value."""
    options = {}
    for key in ("mission", "camera", "source"):
        choices = list(facets.get(key, []))
        if values.get(key) and values[key] not in choices:
            choices.append(values[key])
        options[key] = [(value, _label(key, value)) for value in choices]
    return options


def queue_page(
    request: Request,
    params: Mapping[str, str],
    *,
    problem: str | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The queue for ``params``; also re-rendered (with ``problem``) after a refused POST."""
    watcher = watcher_of(request)
    query = parse_queue(params)
    all_errors = {**query.errors, **(errors or {})}
    found: list[Candidate] = []
    counts = None
    cards_in: int | None = None
    grouped = query.grouped and watcher.settings.curate.enabled
    if not query.errors:
        try:
            found = _listed(request, query, grouped)
            counts = watcher.queue_counts(query.wanted, limit=query.limit + 1)
            if grouped and query.group is None:
                cards_in = watcher.count_cards(query.wanted)
        except InvalidInput as exc:
            all_errors.update(exc.errors)
    if all_errors and status == 200:
        status = 422
    here = query.url(before=query.before, at=query.at)
    shown = found[: query.limit]
    older = query.url(before=shown[-1].id, at=query.at + len(shown)) if shown else None
    members = watcher.group_members(sorted({c.group_id for c in shown if c.group_id}))
    cards = [
        with_sequence(card_of(c, here, members=group), c, group)
        for c in shown
        for group in [members.get(c.group_id or 0, [])]
    ]
    context = {
        "sorts": [(s, query.url(sort=s), s == query.sort) for s in ("score", "time")],
        "group_shown": query.group,
        "group_card": next((c for c in cards if c.frames), None) if query.group else None,
        "sort": query.sort,
        "active": "queue",
        "require_words": watcher.settings.publish.require_words,
        "filters": query.values,
        "statuses": STATUSES,
        "tabs": tabs(counts, STATUSES, query.values["status"], lambda s: query.url(status=s)),
        "summary": summary(counts, query.values["status"], query.at, len(shown), cards_in),
        "fold_open": fold_open(query.values, all_errors),
        "folded_in_use": folded_in_use(query.values),
        "default_limit": DEFAULT_LIMIT,
        "options": _options(watcher.facets(), query.values),
        "cards": cards,
        "details": cards[0] if cards else None,
        "unfiltered": bool(query.errors),
        "older_url": older if len(found) > query.limit else None,
        "newest_url": query.url() if query.before is not None else None,
        "here": here,
        "notice": notice_from(params),
        "problem": problem,
        "errors": all_errors,
    }
    return render(request, "editor/queue.html", context, status)


def _listed(request: Request, query: QueueQuery, grouped: bool) -> list[Candidate]:
    """The page's candidates (one more than shown, to tell there is a next page): a
    group's members in taken order, or the queue by time or score, one card per group
    when ``grouped``."""
    watcher = watcher_of(request)
    if query.group is not None:
        members = watcher.group_members([query.group]).get(query.group, [])
        status = query.wanted.status
        return [m for m in members if status is None or m.status is status]
    return watcher.list_cards(
        query.wanted,
        by_score=query.sort == "score",
        grouped=grouped,
        limit=query.limit + 1,
        before_id=query.before,
    )


def queue_again(
    request: Request,
    next_url: str,
    *,
    problem: str | None = None,
    errors: Mapping[str, str] | None = None,
    status: int,
) -> Response:
    """The queue page a refused form came from (its ``next``), with the reason."""
    params = query_of(next_url) if urlsplit(next_url).path == "/editor" else {}
    params = {k: v for k, v in params.items() if k != "done"}
    return queue_page(request, params, problem=problem, errors=errors, status=status)


@router.get("/editor")
def queue(request: Request, session: EditorSession) -> Response:
    return queue_page(request, dict(request.query_params))


# -- bulk decisions and undo ----------------------------------------------------------


def _group_order(request: Request, ids: list[int], order: str, clicked: str) -> list[int]:
    """The frames of a sequence: by taken time (default), or in the order clicked."""
    if order == "selected":
        first = [i for i in (whole(part) for part in clicked.split(",")) if i in ids]
        return list(dict.fromkeys(first + ids))
    found = watcher_of(request).get_candidates(ids)
    found.sort(key=lambda c: (c.taken_at is None, c.taken_at or datetime.min.replace(tzinfo=UTC)))
    return [c.id for c in found]


@router.post("/editor/bulk")
def bulk(request: Request, session: EditorSession, form: CheckedForm) -> Response:
    next_url = safe_next(text(form, "next"))
    ids, versions = parse_selection(texts(form, "ids"))
    action = text(form, "action")
    if not ids:
        return queue_again(request, next_url, problem="Select at least one candidate.", status=422)
    if action == "group":
        frames = _group_order(request, ids, text(form, "order"), text(form, "selection"))
        try:
            entry = watcher_of(request).approve(frames, None, actor_of(session), versions)
        except (Conflict, InvalidInput, NotFound) as exc:
            status = 409 if isinstance(exc, Conflict) else 422
            return queue_again(request, next_url, problem=f"Nothing grouped: {exc}", status=status)
        notice = approval_notice(entry, "grouped", "grouped_draft")
        target = with_notice(next_url, notice, entry=entry.id, n=len(frames))
        return RedirectResponse(target, status_code=303)
    if action not in ("approve_each", "reject"):
        return queue_again(request, next_url, problem="Choose what to do.", status=422)
    try:
        done, drafts, problems = _decide_each(
            request, session, action, ids, versions, text(form, "reason")
        )
    except InvalidInput as exc:
        return queue_again(request, next_url, errors=exc.errors, status=422)
    if problems:
        verb = "Rejected" if action == "reject" else "Approved"
        message = f"{verb} {done} of {len(ids)}. " + "; ".join(problems) + "."
        return queue_again(request, next_url, problem=message, status=409)
    kind = "rejected_many" if action == "reject" else "approved_each"
    if drafts:
        kind = "drafted_each"
    return RedirectResponse(with_notice(next_url, kind, n=done), status_code=303)


def _decide_each(
    request: Request,
    session: Session,
    action: str,
    ids: list[int],
    versions: dict[int, int],
    reason: str,
) -> tuple[int, int, list[str]]:
    """Approve (an entry each) or reject every id; how many went through, how many of
    those are drafts, and why the others did not (decided meanwhile). A bad reason fails on
    the first, changing nothing."""
    watcher, actor = watcher_of(request), actor_of(session)
    done, drafts, problems = 0, 0, []
    for candidate_id in ids:
        try:
            if action == "reject":
                watcher.reject(
                    candidate_id, actor, reason=reason, version=versions.get(candidate_id)
                )
            else:
                entry = watcher.approve([candidate_id], None, actor, versions)
                drafts += entry.status is EntryStatus.DRAFT
            done += 1
        except (Conflict, NotFound) as exc:
            problems.append(str(exc))
    return done, drafts, problems


@router.post("/editor/undo")
def undo(request: Request, session: EditorSession, form: CheckedForm) -> Response:
    next_url = safe_next(text(form, "next"))
    try:
        event = watcher_of(request).undo_last(actor_of(session))
    except NotFound as exc:
        return queue_again(request, next_url, problem=str(exc), status=404)
    except Conflict as exc:
        return queue_again(request, next_url, problem=f"Cannot undo: {exc}.", status=409)
    subject = whole(event.subject_id) or 0
    if event.subject_type == "entry":
        target = with_notice(next_url, "undone_approve", entry=subject)
    else:
        target = with_notice(next_url, "undone_reject", candidate=subject)
    return RedirectResponse(target, status_code=303)


__all__ = ["QueueQuery", "parse_queue", "queue_again", "queue_page", "router"]
