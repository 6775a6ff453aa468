"""Commands about feeds and the queue: run, poll, backfill, queue, sources, db, demo."""

from __future__ import annotations

import signal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from watcher import __version__
from watcher.cameras import camera_name
from watcher.cli.app import (
    OnlySource,
    app,
    call_watcher,
    configure_logging,
    db_app,
    err,
    fail,
    guard,
    iso,
    out,
    short_time,
    with_watcher,
)
from watcher.cli.empty_queue import why_empty
from watcher.cli.group import state_of
from watcher.cli.output import JsonArray, fields_of, held_by, lease_json, print_json, print_table
from watcher.limits import MAX_ID, MAX_INTEGER
from watcher.types import (
    Backfill,
    Candidate,
    CandidateFilter,
    CandidateStatus,
    PollReport,
    ReplicaRole,
    group_label,
)

if TYPE_CHECKING:
    from watcher.core import Watcher
    from watcher.views import CandidateOut


QUEUE_COLUMNS = ("id", "status", "source", "camera", "sol", "taken (UTC)", "title")


_PAGE = 500


class QueueSort(StrEnum):
    TIME = "time"
    SCORE = "score"


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class StatusFilter(StrEnum):
    NEW = "new"
    APPROVED = "approved"
    REJECTED = "rejected"
    PUBLISHED = "published"
    ALL = "all"


@app.command()
def run(
    ctx: typer.Context,
    log_format: Annotated[
        LogFormat | None,
        typer.Option(
            "--log-format",
            help="text, or json: one JSON object per line (time, level, logger, message, "
            "exception). Default: [service] log_format, else text.",
        ),
    ] = None,
    role: Annotated[
        ReplicaRole,
        typer.Option(
            "--role",
            help="all: everything; web: HTTP only (keeps its own site_dir current); "
            "worker: polls, publishing, deliveries and curation, serving only /healthz "
            "and /metrics.",
        ),
    ] = ReplicaRole.ALL,
) -> None:
    """Run the service: poll every source on its schedule, serve the public list, the
    editor app, the API, /healthz and /metrics, publish after changes and deliver each
    edition. Replicas sharing one PostgreSQL database may split this with --role."""
    from watcher.service import Service

    def ready(service: Service) -> None:
        if (log_format or service.watcher.settings.log_format) == "json":
            return  # every stderr line is a JSON object; the service logged where it serves
        if not service.site:
            err.print(
                f"watcher {__version__} running as a worker (polls, publishing, deliveries, "
                f"curation): health at {service.url}/healthz, metrics at {service.url}/metrics "
                "(Ctrl-C stops)"
            )
            return
        err.print(
            f"watcher {__version__} running ({role.value}): public list at {service.url}/, "
            f"editor at {service.url}/editor, health at {service.url}/healthz (Ctrl-C stops)"
        )

    async def body(watcher: Watcher) -> None:
        await Service.for_role(watcher, role, on_ready=ready).run()

    with_watcher(ctx, body, prepare=False, log_format=log_format.value if log_format else None)


@app.command()
def poll(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Poll once and exit.")] = False,
    source: OnlySource = None,
    force: Annotated[
        bool, typer.Option("--force", help="Poll even a source that is backing off.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object per source.")
    ] = False,
) -> None:
    """Poll sources. With --once: each enabled source (or --source) once, then exit 0 even
    when NASA fails (see `watcher sources`); exit 1 when a poll failed on watcher's side
    (the database, a bug), once every source had its turn. Without: poll on schedule, no
    web server."""
    from watcher.service import Service

    async def body(watcher: Watcher) -> list[PollReport]:
        if not once:
            await Service(watcher, web=False, background=False).run()
            return []
        if source is not None:
            return [await watcher.poll_source(watcher.settings.source(source).name, force=force)]
        return await watcher.poll_all(force=force)

    reports = with_watcher(ctx, body)
    for report in reports:
        if as_json:
            print_json(_report_json(report))
        else:
            out.print(_report_line(report))
    ours = [report.source for report in reports if report.internal]
    if ours:
        fail(f"could not poll {', '.join(ours)} (not NASA's doing: see the error above)", 1)


def _report_json(report: PollReport) -> dict[str, Any]:
    counts = ("requests", "pages", "seen", "inserted", "skipped", "not_modified", "busy")
    return {
        **fields_of(report, "source", "ok", *counts),
        "deferred_until": iso(report.deferred_until),
        "error": report.error,
        "held_by": lease_json(report.held_by),
    }


def _report_line(report: PollReport) -> str:
    if report.busy:
        return f"{report.source}: already being polled elsewhere{held_by(report.held_by)}; skipped"
    if report.error:
        retry = f" (next try {iso(report.deferred_until)})" if report.deferred_until else ""
        return f"{report.source}: FAILED after {report.requests} request(s): {report.error}{retry}"
    if report.deferred_until and not report.requests:
        return f"{report.source}: backing off until {iso(report.deferred_until)} (use --force)"
    if report.not_modified:
        return f"{report.source}: nothing new (1 request)"
    return (
        f"{report.source}: {report.inserted} new, {report.seen} seen, {report.skipped} skipped, "
        f"{report.requests} request(s)"
    )


@app.command()
def backfill(
    ctx: typer.Context,
    source: Annotated[
        str, typer.Option("--source", "-s", metavar="NAME", help="The source to backfill.")
    ],
    from_sol: Annotated[
        int | None,
        typer.Option(
            "--from-sol", min=0, max=MAX_INTEGER, metavar="SOL", help="First sol (raw images)."
        ),
    ] = None,
    to_sol: Annotated[
        int | None,
        typer.Option(
            "--to-sol", min=0, max=MAX_INTEGER, metavar="SOL", help="Last sol (raw images)."
        ),
    ] = None,
    restart: Annotated[bool, typer.Option("--restart", help="Start this range over.")] = False,
) -> None:
    """Fetch a source's history. Interrupt it at any time: running it again continues."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[inserted]} new"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )
    task_id = progress.add_task(f"backfill {source}", total=None, inserted=0)

    def update(state: Backfill) -> None:
        progress.update(
            task_id, completed=state.fetched, total=state.total, inserted=state.inserted
        )

    async def body(watcher: Watcher) -> Backfill:
        import asyncio

        loop = asyncio.get_running_loop()

        def interrupted() -> None:
            # First Ctrl-C: finish the page in hand and stop. A second one aborts at once.
            err.print("stopping after the page in hand (Ctrl-C again to abort)")
            watcher.request_stop()
            loop.remove_signal_handler(signal.SIGINT)

        loop.add_signal_handler(signal.SIGINT, interrupted)
        with progress:
            return await watcher.backfill(
                source, from_sol=from_sol, to_sol=to_sol, restart=restart, progress=update
            )

    result = with_watcher(ctx, body)
    if result.done:
        out.print(f"{source}: backfill complete: {result.inserted} new of {result.fetched} records")
    else:
        out.print(
            f"{source}: backfill stopped after {result.fetched} records "
            f"({result.inserted} new); run the same command again to continue"
        )
        raise typer.Exit(1)


@app.command()
def queue(
    ctx: typer.Context,
    as_json: JsonArray = False,
    status: Annotated[
        StatusFilter,
        typer.Option(
            "--status", help="Which candidates: new, approved, rejected, published or all."
        ),
    ] = StatusFilter.NEW,
    limit: Annotated[
        int,
        typer.Option(
            "--limit", min=0, max=MAX_ID, metavar="N", help="At most N, newest first (0: all)."
        ),
    ] = 100,
    source: OnlySource = None,
    sort: Annotated[
        QueueSort,
        typer.Option("--sort", help="time: newest first; score: curation's score, highest first."),
    ] = QueueSort.TIME,
    grouped: Annotated[
        bool,
        typer.Option(
            "--grouped", help="One item per group (its best frame) with its members' ids."
        ),
    ] = False,
) -> None:
    """List candidates, newest first (default: the new ones waiting for review). Each on
    one line, its title cut to fit the terminal; an empty list says why it is empty.
    --sort score orders them by curation's score; --grouped shows one per group."""
    from watcher.views import CandidateOut

    wanted = None if status is StatusFilter.ALL else CandidateStatus(status.value)
    by_score = sort is QueueSort.SCORE

    def find(watcher: Watcher) -> tuple[list[CandidateOut], str]:
        if by_score or grouped:
            shaped = _cards(
                watcher, CandidateFilter(status=wanted, source=source), by_score, grouped, limit
            )
        else:
            found = watcher.list_candidates(status=wanted, source=source, limit=limit or None)
            shaped = [CandidateOut.of(c) for c in found]
        if shaped or as_json:
            return shaped, ""
        return shaped, why_empty(watcher.sources_health(), status=wanted, source=source)

    found, why = call_watcher(ctx, find)
    rows = [c.model_dump(mode="json") for c in found]
    if as_json:
        print_json(rows, ensure_ascii=False)
        return
    if not rows:
        out.print(why, markup=False)
        return
    # Every status is the one asked for unless --status all: then it is worth a column;
    # curation's columns are worth it when it orders or folds the list.
    show_status = status is StatusFilter.ALL
    curated = by_score or grouped
    columns = [c for c in QUEUE_COLUMNS if show_status or c != "status"]
    if curated:
        columns[1:1] = ["score", "group"]
    print_table(
        columns,
        [_queue_row(row, show_status, curated) for row in rows],
        cut=("camera", "title"),
    )
    if grouped:
        frames = sum(max(1, len(row["members"])) for row in rows)
        out.print(f"{len(rows)} card(s) of {frames} candidate(s)")
    else:
        out.print(f"{len(rows)} candidate(s)")


def _cards(
    watcher: Watcher, wanted: CandidateFilter, by_score: bool, grouped: bool, limit: int
) -> list[CandidateOut]:
    """The queue by score and/or one item per group (with its members), ``limit`` at most
    (0: all), page by page."""
    from watcher.views import CandidateCardOut, CandidateOut

    found: list[Candidate] = []
    while True:
        page = limit - len(found) if limit else _PAGE
        before = found[-1].id if found else None
        more = watcher.list_cards(
            wanted, by_score=by_score, grouped=grouped, limit=min(page, _PAGE), before_id=before
        )
        found += more
        if len(more) < min(page, _PAGE) or (limit and len(found) >= limit):
            break
    if not grouped:
        return [CandidateOut.of(c) for c in found]
    members = watcher.group_members([c.group_id for c in found if c.group_id is not None])
    return [
        CandidateCardOut.with_members(c, members.get(c.group_id, []) if c.group_id else [])
        for c in found
    ]


def _queue_row(row: dict[str, Any], show_status: bool, curated: bool) -> list[str]:
    """A candidate's JSON shape as a row of the queue's table (the camera in words;
    with ``curated``, its score and its group as the queue's card badges say it)."""
    cells = [
        str(row["id"]),
        row["status"],
        row["source"],
        camera_name(row["camera"]) or "",
        "" if row["sol"] is None else str(row["sol"]),
        (row["taken_at"] or "")[:16].replace("T", " "),
        row["title"],
    ]
    if not show_status:
        del cells[1]
    if curated:
        cells[1:1] = [_score_cell(row["score"]), _group_cell(row)]
    return cells


def _score_cell(score: float | None) -> str:
    return "" if score is None else str(round(score))


def _group_cell(row: dict[str, Any]) -> str:
    """The card's group badge in words ("12 similar", "sequence · 10 frames")."""
    return group_label(row["kind"], int(row["group_size"]))


@app.command()
def sources(ctx: typer.Context, as_json: JsonArray = False) -> None:
    """Each source's health: last success, last error, next poll."""
    from watcher.views import SourceHealthOut

    found = call_watcher(ctx, lambda watcher: watcher.sources_health())
    rows = [SourceHealthOut.of(s).model_dump(mode="json") for s in found]
    if as_json:
        print_json(rows, ensure_ascii=False)
        return
    colours = {"ok": "green", "failing": "red", "pending": "yellow", "disabled": "dim"}
    print_table(
        ("source", "health", "fails", "candidates", "last success", "next poll"),
        [
            (
                row["name"],
                Text(row["health"], style=colours[row["health"]]),
                str(row["consecutive_failures"]),
                str(row["candidates"]),
                short_time(row["last_success_at"]),
                short_time(row["next_poll_at"]),
            )
            for row in rows
        ],
        title="sources (times in UTC)",
    )
    for row in rows:
        if row["last_error"]:
            when = short_time(row["last_error_at"])
            earlier = "" if row["health"] == "failing" else " (since recovered)"
            out.print(f"{row['name']}: last error at {when}{earlier}: {row['last_error']}")


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create the database or migrate it to the newest schema."""
    before, after = call_watcher(ctx, lambda watcher: watcher.upgrade_database(), prepare=False)
    if before == after:
        out.print(f"database already at revision {after}")
    else:
        out.print(f"database upgraded from {before or 'empty'} to {after}")


@db_app.command("current")
def db_current(ctx: typer.Context) -> None:
    """Print the database's schema revision."""
    revision = call_watcher(ctx, lambda watcher: watcher.store.schema_revision(), prepare=False)
    out.print(revision or "empty (run `watcher db upgrade`)")


@app.command()
def demo(
    ctx: typer.Context,
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port for watcher's own server.")
    ] = 8000,
    duration: Annotated[
        float | None,
        typer.Option("--duration", metavar="SECONDS", help="Stop after this many seconds."),
    ] = None,
    data_dir: Annotated[
        Path, typer.Option("--data-dir", metavar="DIR", help="Where the demo keeps its database.")
    ] = Path("var/demo"),
) -> None:
    """Run the service offline against recorded NASA feeds replayed on 127.0.0.1."""
    import asyncio

    from watcher.demo.run import run_demo

    state = state_of(ctx)

    def body() -> None:
        configure_logging("INFO", state.verbose)
        asyncio.run(run_demo(port=port, duration=duration, data_dir=data_dir, console=err))

    guard(body, verbose=state.verbose)
