"""The entry page's frames and animation, prepared for the template.

The frames editor (``static/frames.js``) arranges tiles the server renders, one per id of
the form's ``frames`` field, and writes the new order back into that field: the server
side, its validation and the page without JavaScript (a text field of ids) stay as they
are. A field that is not a plain list of ids gets no tiles, so what was typed stays in
the text field to be corrected.

An entry of several frames also shows what became of its animation: the animation itself
from the publisher's cache, "not made yet", or why the last attempt failed, with the still
the list shows meanwhile.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from watcher.core import AnimationState, AnimationStatus, Watcher
from watcher.types import Entry, EntryStatus
from watcher.web.pages_common import Card, card_of, whole
from watcher.web.templating import utc

_SEPARATORS = re.compile(r"[\s,]+")


@dataclass(frozen=True, slots=True)
class FrameTile:
    """One frame as the frames editor shows it; ``card`` is None for an id no candidate has
    (typed by hand: saving names it beside the field)."""

    id: int
    card: Card | None
    label: str


def _label(candidate_id: int, card: Card | None) -> str:
    if card is None:
        return f"candidate {candidate_id} (not found)"
    parts = [f"candidate {card.id}", card.camera, f"sol {card.sol}", card.taken]
    return ", ".join(part for part in parts if part and part != "-")


def frame_tiles(watcher: Watcher, value: str) -> list[FrameTile] | None:
    """The ids in ``value`` (the frames field) as tiles, in that order; None when it holds
    anything but ids (or none), so the page keeps the text field for it."""
    parts = [part for part in _SEPARATORS.split(value.strip()) if part]
    ids = [whole(part) for part in parts]
    if not ids or any(i is None for i in ids):
        return None
    wanted = list(dict.fromkeys(i for i in ids if i is not None))
    cards = {c.id: card_of(c, None) for c in watcher.get_candidates(wanted)}
    return [FrameTile(i, cards.get(i), _label(i, cards.get(i))) for i in wanted]


@dataclass(frozen=True, slots=True)
class AnimationView:
    """What the entry page says of the entry's animation. ``webp`` and ``gif`` are the
    made animation's addresses; ``still`` the frame shown instead (the first one)."""

    status: str
    headline: str
    detail: str
    webp: str | None = None
    gif: str | None = None
    width: int | None = None
    height: int | None = None
    still: Card | None = None
    reason: str | None = None


def animation_file_url(key: str, suffix: str) -> str:
    return f"/editor/animations/{key}.{suffix}"


def animation_view(
    watcher: Watcher, entry: Entry, first: Card | None, state: AnimationState | None = None
) -> AnimationView | None:
    """The animation panel of ``entry``'s page (None for an entry of one frame)."""
    if len(entry.candidate_ids) < 2:
        return None
    if state is None:
        state = watcher.animation_states([entry.id]).get(entry.id)
    if state is None:
        return None
    published = entry.status is EntryStatus.PUBLISHED
    if state.status is AnimationStatus.READY:
        return AnimationView(
            status="ready",
            headline=f"The animation: {state.frames} frames",
            detail="As the list shows it, frames in the order below.",
            webp=animation_file_url(state.key, "webp"),
            gif=animation_file_url(state.key, "gif"),
            width=state.width,
            height=state.height,
        )
    if state.status is AnimationStatus.FAILED and state.failure is not None:
        failure = state.failure
        detail = (
            f"Tried at {utc(failure.at)}; the list shows the still meanwhile. "
            f"It is tried again at the first publish after {utc(failure.retry_at)}, or at "
            "the next publish once the frames change."
        )
        if not published:
            detail = (
                f"Tried at {utc(failure.at)}. It is tried again when the entry is published "
                f"(not before {utc(failure.retry_at)}, unless the frames change)."
            )
        return AnimationView(
            status="failed",
            headline="The animation failed",
            detail=detail,
            still=first,
            reason=failure.reason,
        )
    when = "at the next publish" if published else "when the entry is published"
    return AnimationView(
        status="pending",
        headline="Not made yet",
        detail=f"The animation of these {state.frames} frames will be made {when}.",
        still=first,
    )
