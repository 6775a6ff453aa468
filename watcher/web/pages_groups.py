"""A sequence's card as one animation: its live preview, and approving its new frames as
one entry in taken order (then edited on the entry page: drop, reorder, choose the still)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from watcher.exceptions import Conflict, InvalidInput, NotFound
from watcher.web.auth import CheckedForm, EditorSession, actor_of, safe_next, watcher_of
from watcher.web.numbers import PathId
from watcher.web.pages_common import (
    approval_notice,
    parse_selection,
    text,
    texts,
    with_notice,
)
from watcher.web.pages_queue import queue_again

router = APIRouter(include_in_schema=False)


@router.post("/editor/groups/{group_id}/approve")
def approve_animation(
    request: Request, group_id: PathId, session: EditorSession, form: CheckedForm
) -> Response:
    """One entry of the sequence's frames named in the form (``id:version``, so a frame
    decided meanwhile refuses the lot), in taken order; then its page, to edit it."""
    watcher = watcher_of(request)
    next_url = safe_next(text(form, "next"))
    members = watcher.group_members([group_id]).get(group_id, [])
    if not members or members[0].group_kind != "sequence":
        raise NotFound(f"group {group_id} is not a sequence")
    ids, versions = parse_selection(texts(form, "ids"))
    wanted = set(ids)
    frames = [m.id for m in members if m.id in wanted]
    if len(frames) < 2:
        problem = "Nothing approved: an animation needs two or more new frames of the sequence."
        return queue_again(request, next_url, problem=problem, status=422)
    try:
        entry = watcher.approve(frames, None, actor_of(session), versions)
    except (Conflict, InvalidInput, NotFound) as exc:
        status = 409 if isinstance(exc, Conflict) else 422
        return queue_again(request, next_url, problem=f"Nothing approved: {exc}", status=status)
    notice = approval_notice(entry, "animated", "animated_draft")
    target = with_notice(f"/editor/entries/{entry.id}", notice, entry=entry.id, n=len(frames))
    return RedirectResponse(target, status_code=303)


@router.get("/editor/groups/{group_id}/preview")
async def preview(request: Request, group_id: PathId, session: EditorSession) -> Response:
    """The sequence's frames animated (WebP), built once and then read from the cache;
    404 for a group that is not a sequence, 422 with the reason when it cannot be made."""
    animation = await watcher_of(request).group_preview(group_id)
    headers = {"Cache-Control": "private, max-age=300"}
    return Response(animation.webp, media_type="image/webp", headers=headers)


__all__ = ["router"]
