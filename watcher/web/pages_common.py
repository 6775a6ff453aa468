"""What the editor pages share: candidate cards, notices after redirects, form parsing,
and the frame of a page with a form.

Everything a template shows is prepared here as plain values, so templates keep to loops
and conditionals. Nothing from a URL is echoed as free text: notices come from a fixed
map, and only whole numbers are taken from the query string to fill them in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from watcher.cameras import camera_name
from watcher.exceptions import InvalidInput
from watcher.limits import MAX_ID, MAX_INTEGER
from watcher.types import (
    Candidate,
    CandidateStatus,
    Entry,
    EntryDraft,
    EntryStatus,
    group_label,
)
from watcher.urls import shown_url
from watcher.web.templating import render, utc

Choice = TypeVar("Choice", bound=StrEnum)

# Digits enough for the largest id (19); a longer number is no number a form could mean.
_NUMBER = re.compile(r"[0-9]{1,19}")
_CLOCK = re.compile(r"[0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?")
NOTICE_KEYS = ("done", "entry", "candidate", "n")

# done -> (message with numbers, message without them)
NOTICES: dict[str, tuple[str, str]] = {
    "approved": ("Approved: entry #{entry} is on the running list.", "Approved."),
    "drafted": (
        "Approved and saved as a draft: entry #{entry} goes public once it has a heading "
        "and a paragraph (Entries page, Edit, Publish).",
        "Approved and saved as a draft.",
    ),
    "rejected": ("Rejected candidate {candidate}.", "Rejected."),
    "approved_each": ("Approved {n} candidates, one entry each.", "Approved the selection."),
    "drafted_each": (
        "Approved {n} candidates, each saved as a draft on the Entries page.",
        "Approved the selection as drafts.",
    ),
    "grouped": ("Grouped {n} candidates into entry #{entry}.", "Grouped the selection."),
    "grouped_draft": (
        "Grouped {n} candidates into entry #{entry}, saved as a draft.",
        "Grouped the selection into a draft.",
    ),
    "animated": (
        "Approved {n} frames as one animation: entry #{entry}. Drop or reorder frames and "
        "choose the still here.",
        "Approved as one animation.",
    ),
    "animated_draft": (
        "Approved {n} frames as one animation, saved as draft entry #{entry}: drop or reorder "
        "frames, choose the still, write it and publish it here.",
        "Approved as one animation, saved as a draft.",
    ),
    "rejected_many": ("Rejected {n} candidates.", "Rejected the selection."),
    "undone_approve": (
        "Undone: entry #{entry} is gone and its candidates are back in the queue.",
        "Undone: the approval was taken back.",
    ),
    "undone_reject": (
        "Undone: candidate {candidate} is back in the queue.",
        "Undone: the rejection was taken back.",
    ),
    "saved": ("Saved entry #{entry}.", "Saved."),
    "published": ("Entry #{entry} is published.", "Published."),
    "publish_needs_words": (
        "Entry #{entry} needs a heading and a paragraph before it is published: write them "
        "here, then press Publish.",
        "Write a heading and a paragraph, then press Publish.",
    ),
    "unpublished": (
        "Entry #{entry} is unpublished: it stays here but leaves the list.",
        "Unpublished.",
    ),
    "deleted": ("Deleted entry #{entry}; its candidates are back in the queue.", "Deleted."),
    "reordered": ("Saved the new order.", "Saved the new order."),
    "editor_added": ("Added the editor.", "Added the editor."),
    "editor_disabled": ("Disabled the editor; their sessions ended.", "Disabled the editor."),
    "editor_enabled": ("Enabled the editor.", "Enabled the editor."),
    "password_reset": (
        "Set a new password; that editor's sessions ended.",
        "Set a new password.",
    ),
    "token_revoked": ("Revoked token #{n}.", "Revoked the token."),
    "site_saved": ("Saved; the next edition shows it.", "Saved."),
    "edition_made": ("Published edition {n}.", "Published a new edition."),
    "nothing_changed": (
        "Nothing changed since the last edition: no edition made.",
        "Nothing changed since the last edition.",
    ),
    "publish_busy": (
        "Another replica is publishing right now; try again in a moment.",
        "Another replica is publishing right now.",
    ),
    "subscriber_added": ("Added subscriber #{n}.", "Added the subscriber."),
    "subscriber_removed": ("Unsubscribed #{n}.", "Unsubscribed."),
    "webhook_removed": ("Removed webhook #{n}.", "Removed the webhook."),
    "webhook_enabled": ("Enabled webhook #{n} again.", "Enabled the webhook."),
}


def notice_from(params: Mapping[str, str]) -> str | None:
    """The fixed message a redirect asked for with ``?done=...``, or None."""
    spec = NOTICES.get(params.get("done", ""))
    if spec is None:
        return None
    numbers = {key: int(value) for key in NOTICE_KEYS[1:] if (value := whole(params.get(key)))}
    try:
        return spec[0].format(**numbers)
    except KeyError:
        return spec[1]


def with_notice(url: str, done: str, **numbers: int) -> str:
    """``url`` (a path on this site) with the notice ``done`` and its numbers, replacing any
    notice it carried."""
    parts = urlsplit(url)
    kept = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in NOTICE_KEYS
    ]
    added = [("done", done)] + [(k, str(v)) for k, v in numbers.items()]
    return urlunsplit(("", "", parts.path, urlencode(kept + added), ""))


def approval_notice(entry: Entry, published: str, drafted: str) -> str:
    """The notice naming what an approval made: ``published`` or, for a draft, ``drafted``
    (so the editor never believes a draft went public, or the other way round)."""
    return drafted if entry.status is EntryStatus.DRAFT else published


def without_notice(url: str) -> str:
    parts = urlsplit(url)
    kept = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in NOTICE_KEYS
    ]
    return urlunsplit(("", "", parts.path, urlencode(kept), ""))


def query_of(url: str) -> dict[str, str]:
    """The (last value of each) query parameter of a local URL."""
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


# -- values ------------------------------------------------------------------------


def whole(value: str | None, most: int = MAX_ID) -> int | None:
    """A non-negative whole number typed as digits, at most ``most`` (by default the largest
    id; ``MAX_INTEGER`` for a sol, a version or an edition's number), else None: a number
    past its column's range never reaches the database, which would fail on it."""
    text = (value or "").strip()
    number = int(text) if _NUMBER.fullmatch(text) else None
    return number if number is not None and number <= most else None


def version_of(form: FormData) -> int | None:
    """The version a form says its editor saw (its ``version`` field), None when it has
    none; one no candidate or entry can have (a hand-made form) is refused, never ignored,
    since it is what guards the change."""
    given = text(form, "version").strip()
    version = whole(given, MAX_INTEGER)
    if given and version is None:
        raise InvalidInput({"version": "this form is broken: reload the page and try again"})
    return version


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def texts(form: FormData, name: str) -> list[str]:
    return [value for value in form.getlist(name) if isinstance(value, str)]


def known(kind: type[Choice], value: str) -> Choice | None:
    """``value`` as one of ``kind``'s members, or None when it is none of them: a filter in
    the query string that names nothing known filters nothing."""
    return kind(value) if value in set(kind) else None


def chosen(kind: type[Choice], value: str, field: str, message: str) -> Choice:
    """The member a form's select chose; anything else (a hand-made request) is refused as
    the facade refuses a bad value, with ``message`` beside ``field``."""
    member = known(kind, value)
    if member is None:
        raise InvalidInput({field: message})
    return member


def form_page(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> Response:
    """A page with a form, as first shown or again after the facade refused what was typed:
    the notice a redirect asked for above it, each field's error beside that field."""
    shown = {**context, "notice": notice_from(request.query_params), "errors": errors or {}}
    return render(request, template, shown, status)


def mars_time(value: str | None) -> str | None:
    """``15:28:38`` -> ``15:28:38 LMST`` (local mean solar time); other forms as given."""
    if not value or not value.strip():
        return None
    value = value.strip()
    return f"{value} LMST" if _CLOCK.fullmatch(value) else value


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


def candidate_href(candidate_id: int, next_url: str | None) -> str:
    href = f"/editor/candidates/{candidate_id}"
    return f"{href}?next={quote(next_url, safe='')}" if next_url else href


def draft_of(values: Mapping[str, str]) -> EntryDraft:
    """The entry form's values as a draft; an empty credit means "the one we have" (NASA's
    on approval, the entry's own on an edit)."""
    return EntryDraft(
        heading=values.get("heading", ""),
        body=values.get("body", ""),
        alt_text=values.get("alt_text", ""),
        credit=values.get("credit", "").strip() or None,
        rendition=values.get("rendition", "") or "large",
    )


def other_errors(errors: Mapping[str, str], fields: Iterable[str]) -> list[str]:
    """Messages about fields a form does not show (so none is lost)."""
    shown = set(fields)
    return [f"{key}: {message}" for key, message in errors.items() if key not in shown]


# -- candidate cards ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Badge:
    """A small label on a card's picture: its ``text`` and a ``kind`` styling it (a status,
    or a name a later badge brings with its own style)."""

    text: str
    kind: str


@dataclass(frozen=True, slots=True)
class Card:
    """One candidate as the queue (and the neighbour strips) show it. ``line`` is its one
    line under the picture (see ``card_line``); ``badges`` sit on its picture."""

    id: int
    title: str
    thumb: str | None
    width: int | None
    height: int | None
    mission: str
    camera: str
    sol: str
    taken: str
    local_time: str | None
    credit: str
    source: str
    status: str
    version: int
    is_new: bool
    href: str
    full: str | None
    selection: str
    nasa_id: str
    preview: str | None
    line: tuple[str, ...]
    badges: tuple[Badge, ...] = ()
    current: bool = False
    score: str | None = None
    reasons: tuple[str, ...] = ()
    group_href: str | None = None
    group_size: int = 1
    members: tuple[Member, ...] = ()
    sequence_id: int | None = None
    frames: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Member:
    """A frame of a card's group, as a small thumbnail in the side panel."""

    id: int
    thumb: str | None
    href: str


def card_line(candidate: Candidate) -> tuple[str, ...]:
    """What a card's one line says, in parts, leaving out what is unknown: a raw frame's
    camera in plain words, its sol and its time (``15:28``, Mars local mean solar time, when
    NASA gave one, else ``21:37 UTC``); a picture without a camera (the Image Library, a
    news item) its title and the day it was taken. The whole time is in the details."""
    c = candidate
    lead = camera_name(c.camera) or c.title or f"Candidate {c.id}"
    parts = [lead]
    if c.sol is not None:
        parts.append(f"Sol {c.sol}")
    local = (c.mars_local_time or "").strip()
    if _CLOCK.fullmatch(local):
        hours, minutes = local.split(":")[:2]
        parts.append(f"{int(hours):02d}:{minutes}")
    elif c.taken_at is not None:
        fmt = "%H:%M UTC" if c.camera else "%Y-%m-%d"
        parts.append(c.taken_at.astimezone(UTC).strftime(fmt))
    return tuple(parts)


def badges_of(candidate: Candidate) -> tuple[Badge, ...]:
    """The badges of a card: its status once decided, its group ("12 similar", "stereo
    pair", "sequence · 10 frames") and its score ("73")."""
    found = []
    if candidate.status is not CandidateStatus.NEW:
        found.append(Badge(candidate.status.value, candidate.status.value))
    if candidate.group_id is not None and candidate.group_size > 1:
        found.append(Badge(group_label(candidate.group_kind, candidate.group_size), "group"))
    if candidate.score is not None:
        found.append(Badge(f"{candidate.score:.0f}", "score"))
    return tuple(found)


def group_href(candidate: Candidate) -> str | None:
    """The queue listing every frame of the candidate's group, or None when alone."""
    return f"/editor?group={candidate.group_id}" if candidate.group_id is not None else None


def card_of(
    candidate: Candidate,
    next_url: str | None,
    *,
    current: bool = False,
    members: Sequence[Candidate] = (),
) -> Card:
    c = candidate
    return Card(
        id=c.id,
        title=c.title or f"Candidate {c.id}",
        thumb=shown_url(c.thumbnail_url) or shown_url(c.medium_url),
        width=c.width,
        height=c.height,
        mission=c.mission or "-",
        camera=camera_name(c.camera) or "-",
        sol="-" if c.sol is None else str(c.sol),
        taken=utc(c.taken_at, with_seconds=True),
        local_time=mars_time(c.mars_local_time),
        credit=c.credit or "-",
        source=c.source,
        status=c.status.value,
        version=c.version,
        is_new=c.status is CandidateStatus.NEW,
        href=candidate_href(c.id, next_url),
        full=shown_url(c.full_url) or shown_url(c.large_url) or shown_url(c.medium_url),
        selection=f"{c.id}:{c.version}",
        nasa_id=c.external_id,
        preview=shown_url(c.medium_url) or shown_url(c.thumbnail_url),
        line=card_line(c),
        badges=badges_of(c),
        current=current,
        score=None if c.score is None else f"{c.score:.0f}",
        reasons=c.score_reasons,
        group_href=group_href(c) if c.group_size > 1 else None,
        group_size=c.group_size,
        members=tuple(
            Member(
                m.id,
                shown_url(m.thumbnail_url) or shown_url(m.medium_url),
                candidate_href(m.id, next_url),
            )
            for m in members
        ),
    )


def parse_selection(values: Iterable[str]) -> tuple[list[int], dict[int, int]]:
    """Checkbox values ``id`` or ``id:version`` -> the ids (in order, once) and versions.
    A value whose id or version is no number (a hand-made form) selects nothing: decided
    without the version it names, the candidate would lose its guard."""
    ids: list[int] = []
    versions: dict[int, int] = {}
    for value in values:
        head, colon, tail = value.partition(":")
        candidate_id = whole(head)
        version = whole(tail, MAX_INTEGER)
        if candidate_id is None or candidate_id in ids or (colon and version is None):
            continue
        ids.append(candidate_id)
        if version is not None:
            versions[candidate_id] = version
    return ids, versions
