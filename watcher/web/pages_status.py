"""The admins' Status page: how the service is doing, drawn rather than listed.

Three figures, each a bounded read (``Watcher.status_figures``): images per sol and camera
over each mission's latest sols (is NASA sending, and from which cameras?), each source's
latest polls with their outcome and time taken (is a source failing or slowing down?),
and the deliveries of the latest editions (did every reader get them?). The functions
below choose what to chart (which cameras get a colour, what each bar is called); the
geometry is ``charts``'.
"""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter, Request
from fastapi.responses import Response

from watcher.cameras import camera_name
from watcher.types import EditionDeliveries, MissionSols, PollOutcome, PollRecord
from watcher.web.auth import AdminSession, watcher_of
from watcher.web.charts import Chart, LegendItem, Series, number, stacked_bars
from watcher.web.templating import render, utc

router = APIRouter(include_in_schema=False)

SOLS = 30  # images per sol: each mission's latest sols
POLLS = 50  # polls: each source's latest
EDITIONS = 30  # deliveries: the latest editions
COLOURS = 8  # cameras with a colour of their own; the rest are "other cameras"

_OUTCOMES = (
    (PollOutcome.OK, "ok", "ok"),
    (PollOutcome.NOT_MODIFIED, "not modified", "unchanged"),
    (PollOutcome.FAILED, "failed", "failed"),
)


def _camera_words(code: str | None) -> str:
    if code is None:
        return "camera not given"
    name = camera_name(code)
    return f"{name} ({code})" if name and name != code else code


def images_chart(figures: MissionSols, ident: str = "images") -> Chart:
    """One bar per sol of the window (a sol without images is an empty slot: the gap is
    the news), stacked by camera; the cameras with the most images get a colour each, in
    that order, the rest share one."""
    sols = list(range(figures.first, figures.last + 1))
    totals: dict[str | None, int] = {}
    per_sol: dict[int, int] = {}
    for item in figures.counts:
        totals[item.camera] = totals.get(item.camera, 0) + item.count
        per_sol[item.sol] = per_sol.get(item.sol, 0) + item.count
    ranked = sorted(totals, key=lambda camera: (-totals[camera], camera or ""))
    named = ranked if len(ranked) <= COLOURS else ranked[: COLOURS - 1]
    layer_of = {camera: i for i, camera in enumerate(named)}
    grid: dict[tuple[int, int], int] = {}
    for item in figures.counts:
        cell = (item.sol, layer_of.get(item.camera, len(named)))
        grid[cell] = grid.get(cell, 0) + item.count
    layers = [(_camera_words(camera), f"s{i}") for i, camera in enumerate(named)]
    if len(named) < len(ranked):
        layers.append((f"{len(ranked) - len(named)} other cameras", "other"))
    series = [
        Series(words, key, tuple(grid.get((sol, i)) for sol in sols))
        for i, (words, key) in enumerate(layers)
    ]
    busiest = max(sols, key=lambda sol: per_sol.get(sol, 0))
    return stacked_bars(
        ident=ident,
        title=f"Images per sol and camera: {figures.mission}",
        desc=(
            f"{number(sum(totals.values()))} images of {figures.mission} from {len(totals)} "
            f"cameras on sols {figures.first} to {figures.last}; the most on sol {busiest} "
            f"({number(per_sol.get(busiest, 0))})."
        ),
        unit="images",
        categories=[str(sol) for sol in sols],
        series=series,
        category_name="sol",
    )


def polls_chart(source: str, polls: tuple[PollRecord, ...], ident: str = "polls") -> Chart:
    """One bar per poll, oldest first: its height the time it took, its colour how it
    ended; named by when it ended (UTC). The legend counts polls; the table lists each
    poll in words, its error included."""
    categories = [poll.finished_at.strftime("%m-%d %H:%M") for poll in polls]
    series = [
        Series(
            name,
            key,
            tuple(poll.duration_ms if poll.outcome is outcome else None for poll in polls),
        )
        for outcome, name, key in _OUTCOMES
    ]
    counts = {outcome: sum(p.outcome is outcome for p in polls) for outcome, _, _ in _OUTCOMES}
    slowest = max((poll.duration_ms for poll in polls), default=0)
    chart = stacked_bars(
        ident=ident,
        title=f"Polls of {source}: outcome and time taken",
        desc=(
            f"The latest {len(polls)} polls of {source}: {counts[PollOutcome.OK]} ok, "
            f"{counts[PollOutcome.NOT_MODIFIED]} not modified, "
            f"{counts[PollOutcome.FAILED]} failed; the slowest took {number(slowest)} ms."
        ),
        unit="ms",
        categories=categories,
        series=series,
        category_name="finished",
    )
    words = {outcome: name for outcome, name, _ in _OUTCOMES}
    rows = tuple(
        (
            utc(poll.finished_at, with_seconds=True),
            words[poll.outcome],
            number(poll.duration_ms),
            number(poll.requests),
            number(poll.inserted),
            poll.error or "",
        )
        for poll in polls
    )
    columns = ("finished", "outcome", "ms", "requests", "new", "error")
    legend = tuple(
        LegendItem(name, key, f"{counts[outcome]} polls") for outcome, name, key in _OUTCOMES
    )
    return replace(chart, columns=columns, rows=rows, legend=legend)


def deliveries_chart(editions: tuple[EditionDeliveries, ...]) -> Chart:
    """One bar per edition: its messages sent, still pending (retrying included) and given
    up (failed)."""
    parts = (("sent", "sent"), ("pending", "pending"), ("failed", "failed"))
    series = [
        Series(name, key, tuple(getattr(e, name) or None for e in editions)) for name, key in parts
    ]
    sent, pending, failed = (sum(getattr(e, name) for e in editions) for name, _ in parts)
    first, last = (editions[0].edition, editions[-1].edition) if editions else (0, 0)
    return stacked_bars(
        ident="deliveries",
        title="Deliveries per edition",
        desc=(
            f"Editions {first} to {last}: {number(sent)} messages sent, {number(pending)} "
            f"pending, {number(failed)} failed."
        ),
        unit="messages",
        categories=[str(e.edition) for e in editions],
        series=series,
        category_name="edition",
    )


@router.get("/editor/status")
def status(request: Request, session: AdminSession) -> Response:
    figures = watcher_of(request).status_figures(sols=SOLS, polls=POLLS, editions=EDITIONS)
    context = {
        "active": "status",
        "images": [
            (mission.mission, images_chart(mission, f"images-{i}"))
            for i, mission in enumerate(figures.missions)
        ],
        "polls": [
            (name, polls_chart(name, polls, f"polls-{i}"))
            for i, (name, polls) in enumerate(figures.polls)
        ],
        "deliveries": deliveries_chart(figures.deliveries),
        "sols": SOLS,
        "poll_count": POLLS,
        "edition_count": EDITIONS,
    }
    return render(request, "editor/status.html", context)


__all__ = ["router"]
