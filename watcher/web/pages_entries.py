"""The running list: its entries in order (move, publish/unpublish, delete) and the page
that edits one entry (text, rendition, frames) and publishes a draft once it has words;
a sequence's animation preview comes from the publisher's cache (see ``pages_frames``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from watcher.core import AnimationStatus, Watcher
from watcher.exceptions import Conflict, InvalidInput, NotFound
from watcher.types import RENDITIONS, Entry, EntryStatus
from watcher.views import EntryOut
from watcher.web.api_models import DRAFT_FIELDS
from watcher.web.auth import (
    CheckedForm,
    EditorSession,
    actor_of,
    watcher_of,
)
from watcher.web.numbers import PathId
from watcher.web.pages_common import (
    Card,
    card_of,
    draft_of,
    notice_from,
    other_errors,
    text,
    version_of,
    whole,
)
from watcher.web.pages_frames import animation_view, frame_tiles
from watcher.web.templating import render, utc

router = APIRouter(include_in_schema=False)

EDIT_FIELDS = (*DRAFT_FIELDS, "frames")
_SEPARATORS = re.compile(r"[\s,]+")


@dataclass(frozen=True, slots=True)
class EntryRow:
    """An entry as the list shows it, with the orders its move buttons would save."""

    entry: Entry
    thumb: Card | None
    updated: str
    up: str | None
    down: str | None
    toggle: str | None  # None: a draft, published from its edit page once it has words
    toggle_label: str
    animation_failed: bool = False


def _moved(order: list[int], index: int, step: int) -> str | None:
    other = index + step
    if not 0 <= other < len(order):
        return None
    moved = list(order)
    moved[index], moved[other] = moved[other], moved[index]
    return ",".join(str(i) for i in moved)


def _cards(watcher: Watcher, ids: tuple[int, ...]) -> list[Card]:
    return [card_of(candidate, None) for candidate in watcher.get_candidates(ids)]


def entries_page(request: Request, *, problem: str | None = None, status: int = 200) -> Response:
    watcher = watcher_of(request)
    entries = watcher.list_entries()
    order = [e.id for e in entries]
    states = watcher.animation_states([e.id for e in entries if len(e.candidate_ids) > 1])
    failed = {i for i, state in states.items() if state.status is AnimationStatus.FAILED}
    rows = []
    for index, entry in enumerate(entries):
        published = entry.status is EntryStatus.PUBLISHED
        draft = entry.status is EntryStatus.DRAFT
        first = _cards(watcher, entry.candidate_ids[:1])
        rows.append(
            EntryRow(
                entry=entry,
                thumb=first[0] if first else None,
                updated=utc(entry.updated_at),
                up=_moved(order, index, -1),
                down=_moved(order, index, 1),
                toggle=None if draft else ("unpublished" if published else "published"),
                toggle_label="Unpublish" if published else "Publish",
                animation_failed=entry.id in failed,
            )
        )
    context = {
        "active": "entries",
        "rows": rows,
        "notice": notice_from(request.query_params),
        "problem": problem,
    }
    return render(request, "editor/entries.html", context, status)


def _to_list(done: str, entry_id: int) -> RedirectResponse:
    target = f"/editor/entries?done={done}&entry={entry_id}#entry-{entry_id}"
    return RedirectResponse(target, status_code=303)


@router.get("/editor/entries")
def entries(request: Request, session: EditorSession) -> Response:
    return entries_page(request)


@router.post("/editor/entries/order")
def reorder(request: Request, session: EditorSession, form: CheckedForm) -> Response:
    order = [whole(part) for part in _SEPARATORS.split(text(form, "order").strip())]
    ids = [i for i in order if i is not None]
    if not ids or len(ids) != len(order):
        return entries_page(
            request, problem="The new order was not a list of entry ids.", status=422
        )
    try:
        watcher_of(request).reorder_entries(ids, actor_of(session))
    except Conflict as exc:
        return entries_page(request, problem=f"Not reordered: {exc}.", status=409)
    return _to_list("reordered", whole(text(form, "moved")) or ids[0])


@router.post("/editor/entries/{entry_id}/status")
def set_status(
    request: Request,
    entry_id: PathId,
    session: EditorSession,
    form: CheckedForm,
) -> Response:
    wanted = text(form, "status")
    if wanted not in ("published", "unpublished"):
        return entries_page(request, problem="Choose published or unpublished.", status=422)
    version = version_of(form) or 0
    watcher = watcher_of(request)
    try:
        watcher.set_entry_status(entry_id, version, EntryStatus(wanted), actor_of(session))
    except Conflict as exc:
        return entries_page(request, problem=f"Not changed: {exc}.", status=409)
    except InvalidInput as exc:
        # Missing words: the entry's own page, with each message beside its field.
        entry = watcher.get_entry(entry_id)
        return entry_page(request, entry, errors=exc.errors, status=422)
    return _to_list(wanted, entry_id)


@router.post("/editor/entries/{entry_id}/delete")
def delete(
    request: Request, entry_id: PathId, session: EditorSession, form: CheckedForm
) -> Response:
    version = version_of(form) or 0
    try:
        watcher_of(request).delete_entry(entry_id, version, actor_of(session))
    except Conflict as exc:
        return entries_page(request, problem=f"Not deleted: {exc}.", status=409)
    return RedirectResponse(f"/editor/entries?done=deleted&entry={entry_id}", status_code=303)


# -- editing one entry ----------------------------------------------------------------


def entry_values(entry: Entry) -> dict[str, str]:
    """The edit form's fields, from the entry's shape: what its editor wrote, and its frames
    as they are typed (ids separated by commas)."""
    shown = EntryOut.of(entry)
    frames = ", ".join(str(i) for i in shown.candidate_ids)
    return {**shown.model_dump(include=set(DRAFT_FIELDS)), "frames": frames}


def parse_frames(value: str) -> list[int]:
    parts = [part for part in _SEPARATORS.split(value.strip()) if part]
    if not parts:
        raise InvalidInput({"frames": "list at least one candidate id"})
    ids = [whole(part) for part in parts]
    if any(i is None for i in ids):
        raise InvalidInput({"frames": "use candidate ids (whole numbers) separated by commas"})
    return [i for i in ids if i is not None]


def entry_page(
    request: Request,
    entry: Entry,
    *,
    values: dict[str, str] | None = None,
    version: int | None = None,
    errors: dict[str, str] | None = None,
    problem: str | None = None,
    theirs: Entry | None = None,
    preview: bool = False,
    status: int = 200,
) -> Response:
    watcher = watcher_of(request)
    values = values or entry_values(entry)
    frames = _cards(watcher, entry.candidate_ids)
    context = {
        "active": "entries",
        "entry": entry,
        "values": values,
        "version": entry.version if version is None else version,
        "theirs": theirs,
        "frames": frames,
        "tiles": frame_tiles(watcher, values.get("frames", "")),
        "animation": animation_view(watcher, entry, frames[0] if frames else None),
        "updated": utc(entry.updated_at),
        "renditions": RENDITIONS,
        "preview": preview,
        "problem": problem,
        "notice": notice_from(request.query_params),
        "errors": errors or {},
        "general_errors": other_errors(errors or {}, EDIT_FIELDS),
        "can_publish": entry.status is not EntryStatus.PUBLISHED,
    }
    return render(request, "editor/entry.html", context, status)


def entry_preview(request: Request, entry_id: int, form: FormData) -> Response:
    entry = watcher_of(request).get_entry(entry_id)
    values = {key: text(form, key) for key in EDIT_FIELDS}
    version = version_of(form)
    return entry_page(request, entry, values=values, version=version, preview=True)


@router.get("/editor/entries/{entry_id}")
def edit_form(request: Request, entry_id: PathId, session: EditorSession) -> Response:
    return entry_page(request, watcher_of(request).get_entry(entry_id))


@router.post("/editor/entries/{entry_id}")
def save(request: Request, entry_id: PathId, session: EditorSession, form: CheckedForm) -> Response:
    """Save the entry's text; with the Publish button, publish it too (a draft's way onto
    the list), refused beside the heading or paragraph when one is missing."""
    watcher = watcher_of(request)
    current = watcher.get_entry(entry_id)
    values = {key: text(form, key) for key in EDIT_FIELDS}
    version = version_of(form) or 0
    publish = text(form, "publish") == "1"
    status = EntryStatus.PUBLISHED if publish else None
    try:
        frames = parse_frames(values["frames"])
        watcher.edit_entry(
            entry_id, version, draft_of(values), actor_of(session), frames, status=status
        )
    except InvalidInput as exc:
        errors = {("frames" if k == "candidates" else k): v for k, v in exc.errors.items()}
        return entry_page(
            request, current, values=values, version=version, errors=errors, status=422
        )
    except NotFound as exc:
        errors = {"frames": str(exc)}
        return entry_page(
            request, current, values=values, version=version, errors=errors, status=422
        )
    except Conflict as exc:
        latest = watcher.get_entry(entry_id)
        theirs = latest if latest.version != version else None
        return entry_page(
            request,
            latest,
            values=values,
            version=latest.version,
            problem=f"Not saved: {exc}.",
            theirs=theirs,
            status=409,
        )
    return _to_list("published" if publish else "saved", entry_id)


@router.get("/editor/animations/{name}")
def animation_file(request: Request, name: str, session: EditorSession) -> Response:
    """An animation from the publisher's cache (``<key>.webp`` or ``.gif``), for the entry
    page's preview; its name is its content's hash, so it may be kept."""
    data = watcher_of(request).animation_file(name)
    if data is None:
        raise NotFound("no such animation")
    media = "image/webp" if name.endswith(".webp") else "image/gif"
    headers = {"Cache-Control": "private, max-age=86400, immutable"}
    return Response(data, media_type=media, headers=headers)


__all__ = ["entry_preview", "router"]
