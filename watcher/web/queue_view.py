"""What the queue page shows around its cards, as plain values: the status tabs with their
counts, the line saying how many match and which of them are shown, and which of the folded
filters are in use (so the fold opens by itself when one is, or when one is wrong)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from watcher.types import Candidate, CandidateStatus, StatusCounts
from watcher.web.pages_common import Card

# Typed in the bar above the cards; every other filter is folded away under "Filters".
QUICK_FILTERS = ("q", "camera")
FOLDED_FILTERS = ("mission", "source", "sol_min", "sol_max", "from", "to")
# Fields of the fold whose errors open it (status and per page are fields, not filters).
FOLDED_FIELDS = ("status", *FOLDED_FILTERS, "limit")


@dataclass(frozen=True, slots=True)
class Tab:
    """One status of the queue: a link to it keeping the other filters, and how many of the
    filtered candidates have it ("" when not counted)."""

    status: str
    label: str
    count: str
    href: str
    current: bool


def how_many(number: int, cap: int) -> str:
    """``1234`` -> ``1,234``; past the cap the count stopped at, ``1,000+``."""
    return f"{cap:,}+" if number > cap else f"{number:,}"


def count_of(counts: StatusCounts, status: str) -> int | None:
    """How many of ``counts`` have ``status`` ("all": every status); None when not counted."""
    if status == "all":
        return counts.total
    if not counts.by_status:
        return None
    return counts.by_status.get(CandidateStatus(status), 0)


def tabs(
    counts: StatusCounts | None, statuses: tuple[str, ...], current: str, href: Callable[[str], str]
) -> list[Tab]:
    """A tab per status, in ``statuses`` order, each linking to ``href(status)``. A status
    no candidate is in (``published``, kept for the API's filter, which candidates have not
    reached since entries hold the publishing) is left out unless it is the one shown."""
    shown = []
    for status in statuses:
        number = count_of(counts, status) if counts is not None else None
        if status == "published" and number == 0 and status != current:
            continue
        count = "" if number is None or counts is None else how_many(number, counts.cap)
        label = status.capitalize()
        shown.append(Tab(status, label, count, href(status), status == current))
    return shown


def summary(
    counts: StatusCounts | None, status: str, first: int, shown: int, cards: int | None = None
) -> str:
    """``312 new · showing 1-60`` (with an en dash): how many match in the status shown, and
    which of them are shown; ``660 new in 131 cards · showing 1-60`` when the queue shows
    one card per group (``cards``). A text search too wide to count per status says how
    many match in every status."""
    if counts is None:
        return ""
    number = count_of(counts, status)
    if number is None:
        head = f"{how_many(counts.total, counts.cap)} match in every status"
    elif status == "all":
        head = f"{how_many(number, counts.cap)} in all"
    else:
        head = f"{how_many(number, counts.cap)} {status}"
    if cards is not None and number is not None and cards != number:
        head += f" in {how_many(cards, counts.cap)} card{'' if cards == 1 else 's'}"
    if not shown:
        return head
    return f"{head} · showing {first:,}\N{EN DASH}{first + shown - 1:,}"


def folded_in_use(values: Mapping[str, str]) -> int:
    """How many of the folded filters are set (shown on the fold's summary)."""
    return sum(1 for key in FOLDED_FILTERS if values.get(key))


def fold_open(values: Mapping[str, str], errors: Mapping[str, str]) -> bool:
    """The fold starts open when a filter in it is set or a field in it is wrong, so
    nothing narrowing the queue, and no error, is ever hidden."""
    return folded_in_use(values) > 0 or any(key in errors for key in FOLDED_FIELDS)


def with_sequence(card: Card, candidate: Candidate, members: Sequence[Candidate]) -> Card:
    """A sequence's card, able to approve its new frames (two or more) as one animation:
    their ``id:version`` in taken order, so a frame decided meanwhile refuses the lot."""
    if candidate.group_kind != "sequence" or candidate.group_id is None:
        return card
    frames = tuple(f"{m.id}:{m.version}" for m in members if m.status is CandidateStatus.NEW)
    if len(frames) < 2:
        return replace(card, sequence_id=candidate.group_id)
    return replace(card, sequence_id=candidate.group_id, frames=frames)


__all__ = [
    "FOLDED_FILTERS",
    "QUICK_FILTERS",
    "Tab",
    "count_of",
    "fold_open",
    "folded_in_use",
    "how_many",
    "summary",
    "tabs",
    "with_sequence",
]
