"""Compare: two to four candidates side by side at the same scale, to choose the best of a
group or of a stereo pair (``GET /editor/compare?ids=1,2``), each with its one line, its
picture statistics once measured, and the queue's own approve / reject forms.

The queue's bulk form posts its selection here (``POST /editor/compare``, CSRF-checked like
every post); it is answered with a redirect to the page's plain address, so the form's token
never ends up in a URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from watcher.pictures import still
from watcher.types import Candidate, Fingerprint, Frame
from watcher.web.auth import CheckedForm, EditorSession, safe_next, watcher_of
from watcher.web.pages_common import Card, card_of, notice_from, parse_selection, text, texts
from watcher.web.pages_queue import queue_again
from watcher.web.templating import render

router = APIRouter(include_in_schema=False)

FEWEST, MOST = 2, 4
PAGE_WIDTH = 1200  # the compare row's width at most; each frame gets its share
MAX_IDS_TEXT = 200


@dataclass(frozen=True, slots=True)
class Picture:
    """The file a compare column loads: the smallest that fills the column, with the larger
    ones (up to the full image) offered to dense screens."""

    src: str
    srcset: str | None
    width: int | None
    height: int | None


@dataclass(frozen=True, slots=True)
class Column:
    """One frame on the compare page: its card (line, links, version), the ``picture`` it
    shows, and its statistics as (name, percent) once its fingerprint exists."""

    card: Card
    picture: Picture | None
    stats: tuple[tuple[str, str], ...]
    number: int


def picked_ids(values: list[str]) -> tuple[list[int], str | None]:
    """The ids asked for (``1,2,3`` or one ``id:version`` per value, as the queue's
    checkboxes send them), in order, once; or why they cannot be compared."""
    parts = [part.strip() for value in values for part in value[:MAX_IDS_TEXT].split(",")]
    parts = [part for part in parts if part]
    ids, _ = parse_selection(parts)
    if len(ids) < len({p.partition(":")[0] for p in parts}):
        return [], "The ids must be candidate numbers, e.g. ids=12,13."
    if len(ids) < FEWEST:
        return [], "Pick two to four frames to compare (tick them, or press x on the queue)."
    if len(ids) > MOST:
        return [], f"Compare at most four frames at a time ({len(ids)} were picked)."
    return ids, None


def picture_of(candidate: Candidate, layout: int) -> Picture | None:
    c = candidate
    frame = Frame(
        candidate_id=c.id,
        taken_at=c.taken_at,
        thumbnail_url=c.thumbnail_url,
        medium_url=c.medium_url,
        large_url=c.large_url,
        full_url=c.full_url,
        width=c.width,
        height=c.height,
    )
    shown = still(frame, "full", layout)
    if shown is None:
        return None
    return Picture(shown.src, shown.srcset, shown.width, shown.height)


def stats_of(fingerprint: Fingerprint | None) -> tuple[tuple[str, str], ...]:
    """A fingerprint's statistics in words an editor reads, each 0..100 %."""
    if fingerprint is None:
        return ()
    f = fingerprint
    named = (
        ("Colour", f.colourfulness),
        ("Detail", f.entropy),
        ("Sharpness", f.sharpness),
        ("Brightness", f.brightness),
        ("Black", f.black),
    )
    return tuple((name, f"{round(value * 100)} %") for name, value in named)


def compare_url(ids: list[int], next_url: str) -> str:
    pairs = [("ids", ",".join(str(i) for i in ids))]
    if next_url != "/editor":
        pairs.append(("next", next_url))
    return f"/editor/compare?{urlencode(pairs)}"


def compare_page(
    request: Request,
    values: list[str],
    next_url: str,
    *,
    refused: str | None = None,
    refused_status: int = 409,
) -> Response:
    """The page for the ids asked for, or the reason there is nothing to compare;
    ``refused``: why a decision posted from it was refused (shown above the frames)."""
    watcher = watcher_of(request)
    ids, problem = picked_ids(values)
    found = watcher.get_candidates(ids) if ids else []
    missing = [i for i in ids if i not in {c.id for c in found}]
    if missing:
        problem = "No candidate " + ", ".join(f"#{i}" for i in missing) + "."
    here = compare_url(ids, next_url)
    columns: list[Column] = []
    group_ids: list[str] = []
    if problem is None:
        prints = watcher.fingerprints_for(ids)
        layout = PAGE_WIDTH // len(found)
        for number, c in enumerate(found, start=1):
            card = card_of(c, here)
            columns.append(Column(card, picture_of(c, layout), stats_of(prints.get(c.id)), number))
        group_ids = [col.card.selection for col in columns if col.card.is_new]
    context = {
        "active": "queue",
        "require_words": watcher.settings.publish.require_words,
        "columns": columns,
        "count": len(columns),
        "sizes": f"(max-width: 800px) 100vw, {100 // max(1, len(columns))}vw",
        "here": here,
        "back": next_url,
        "group_ids": group_ids if len(group_ids) >= FEWEST else [],
        "selection": ",".join(i.partition(":")[0] for i in group_ids),
        "notice": notice_from(request.query_params),
        "problem": problem or refused,
    }
    status = 200 if problem is None else (404 if missing else 422)
    if problem is None and refused is not None:
        status = refused_status
    return render(request, "editor/compare.html", context, status)


def compare_again(request: Request, compare_at: str, problem: str, status: int) -> Response:
    """The compare page a refused decision came from (its ``next``), with the reason."""
    parts = urlsplit(compare_at)
    params = parse_qs(parts.query)
    back = safe_next((params.get("next") or [""])[0])
    return compare_page(
        request, params.get("ids", []), back, refused=problem, refused_status=status
    )


@router.get("/editor/compare")
def compare(request: Request, session: EditorSession) -> Response:
    values = request.query_params.getlist("ids")
    next_url = safe_next(request.query_params.get("next"))
    return compare_page(request, values, next_url)


@router.post("/editor/compare")
def compare_selected(request: Request, session: EditorSession, form: CheckedForm) -> Response:
    """The queue's selection (its bulk form's ``ids``, ticked order in ``selection``)."""
    next_url = safe_next(text(form, "next"))
    ids, problem = picked_ids(texts(form, "ids"))
    if problem is not None:
        return queue_again(request, next_url, problem=problem, status=422)
    ticked, _ = parse_selection(text(form, "selection").split(","))
    ordered = list(dict.fromkeys([i for i in ticked if i in ids] + ids))
    return RedirectResponse(compare_url(ordered, next_url), status_code=303)


__all__ = ["compare_again", "picked_ids", "router"]
