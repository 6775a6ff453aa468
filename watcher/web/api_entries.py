"""API: the running list's entries (list, create, read, edit, publish/unpublish, delete,
reorder)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from watcher.exceptions import InvalidInput
from watcher.types import EntryDraft, EntryStatus
from watcher.views import EntryOut
from watcher.web.api_auth import Caller, WatcherDep, entry_answer, problems, wanted_version
from watcher.web.api_models import DRAFT_FIELDS, EntryCreate, EntryList, EntryPatch, OrderIn
from watcher.web.numbers import path_id, query_integer

router = APIRouter()

EntryId = Annotated[int, path_id("The entry's id.")]


@router.get(
    "/entries",
    response_model=EntryList,
    summary="The running list's entries",
    responses=problems(422),
)
def list_entries(
    watcher: WatcherDep,
    actor: Caller,
    status: Annotated[Literal["published", "unpublished", "draft", "all"], Query()] = "all",
) -> EntryList:
    """In list order (position)."""
    wanted = None if status == "all" else EntryStatus(status)
    return EntryList(items=[EntryOut.of(e) for e in watcher.list_entries(wanted)])


@router.post(
    "/entries",
    response_model=EntryOut,
    status_code=201,
    response_description="The new entry (`Location` names it).",
    summary="Create an entry from one or more candidates",
    responses=problems(404, 409, 422),
)
def create_entry(
    new: EntryCreate, response: Response, watcher: WatcherDep, actor: Caller
) -> EntryOut:
    """Approves the candidates (all still new) into one entry: a still, or a sequence in the
    order given. Empty fields start from NASA's title and credit; without a `heading` and a
    `body` the entry is a `draft` (while `[publish] require_words` is on)."""
    entry = watcher.approve(new.candidate_ids, new.entry_draft(), actor, new.versions)
    return entry_answer(response, entry, created=True)


@router.put(
    "/entries/order",
    response_model=EntryList,
    summary="Reorder the running list",
    responses=problems(409, 422),
)
def reorder(order: OrderIn, watcher: WatcherDep, actor: Caller) -> EntryList:
    """`order` names every entry once; if the list changed meanwhile, 409."""
    return EntryList(items=[EntryOut.of(e) for e in watcher.reorder_entries(order.order, actor)])


@router.get(
    "/entries/{entry_id}",
    response_model=EntryOut,
    summary="One entry",
    responses=problems(404, 422),
)
def get_entry(
    entry_id: EntryId, response: Response, watcher: WatcherDep, actor: Caller
) -> EntryOut:
    """`ETag` carries its version, for `If-Match` on PATCH and DELETE."""
    return entry_answer(response, watcher.get_entry(entry_id))


@router.patch(
    "/entries/{entry_id}",
    response_model=EntryOut,
    summary="Edit, publish or unpublish an entry",
    responses=problems(404, 409, 422),
)
def patch_entry(
    entry_id: EntryId,
    changes: EntryPatch,
    request: Request,
    response: Response,
    watcher: WatcherDep,
    actor: Caller,
) -> EntryOut:
    """Send the version you saw (`version`, or `If-Match: "vN"`) and the fields to change;
    fields left out keep their value. `status` publishes (a draft too) or unpublishes;
    publishing needs a heading and a paragraph, else 422 naming the field. A stale version
    is refused with 409 naming who changed it and when."""
    version = wanted_version(changes.version, request)
    edits = changes.candidate_ids is not None or any(
        getattr(changes, name) is not None for name in DRAFT_FIELDS
    )
    if not edits and changes.status is None:
        raise InvalidInput({"fields": "send at least one field to change"})
    entry = None
    if edits:
        current = watcher.get_entry(entry_id)
        draft = EntryDraft(
            heading=current.heading if changes.heading is None else changes.heading,
            body=current.body if changes.body is None else changes.body,
            alt_text=current.alt_text if changes.alt_text is None else changes.alt_text,
            credit=changes.credit,
            rendition=changes.rendition or current.rendition,
        )
        status = EntryStatus(changes.status) if changes.status is not None else None
        entry = watcher.edit_entry(
            entry_id, version, draft, actor, changes.candidate_ids, status=status
        )
    elif changes.status is not None:
        entry = watcher.set_entry_status(entry_id, version, EntryStatus(changes.status), actor)
    assert entry is not None
    return entry_answer(response, entry)


@router.delete(
    "/entries/{entry_id}",
    status_code=204,
    response_class=Response,
    response_description="Deleted.",
    summary="Delete an entry (its candidates return to the queue)",
    responses=problems(404, 409, 422),
)
def delete_entry(
    entry_id: EntryId,
    request: Request,
    watcher: WatcherDep,
    actor: Caller,
    version: Annotated[
        int | None, query_integer(1, "The version you saw; or send If-Match.")
    ] = None,
) -> Response:
    """Takes the entry off the list for good; its candidates become new again. To keep it
    but hide it, PATCH `status` to `unpublished` instead."""
    watcher.delete_entry(entry_id, wanted_version(version, request), actor)
    return Response(status_code=204)
