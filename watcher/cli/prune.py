"""``watcher prune``: remove what is past use now, as the service does once a day
(``[retention] interval``), by the ages in ``[retention]``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from watcher.cli.app import app, err, with_watcher
from watcher.cli.output import JsonOutcome, held_by, lease_json, print_json, print_table
from watcher.config import RetentionConfig
from watcher.types import PruneKind, PruneReport

if TYPE_CHECKING:
    from watcher.core import Watcher


_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


@app.command()
def prune(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would go; remove nothing.")
    ] = False,
    as_json: JsonOutcome = False,
) -> None:
    """Remove what is past use, by the ages in [retention]: NASA's records of rejected and
    long-unreviewed candidates (their rows stay, so no poll queues them again), cached
    pictures no entry shows, failed-animation records, sent outbox rows, old audit rows,
    expired sessions, sign-up attempts and subscriptions never confirmed. Nothing
    published or pending is touched. Exit 1 when another watcher is pruning right now."""

    async def body(watcher: Watcher) -> tuple[PruneReport, RetentionConfig]:
        return await watcher.prune(dry_run=dry_run), watcher.settings.retention

    report, config = with_watcher(ctx, body)
    if as_json:
        print_json(_report_json(report))
    elif report.busy:
        err.print(f"another watcher{held_by(report.held_by)} is pruning; nothing done")
    else:
        _print_report(report, config)
    if report.busy:
        raise typer.Exit(1)


def _report_json(report: PruneReport) -> dict[str, Any]:
    return {
        "dry_run": report.dry_run,
        "busy": report.busy,
        "stopped": report.stopped,
        "counts": {kind.value: report.count(kind) for kind in PruneKind},
        "total": report.total,
        "held_by": lease_json(report.held_by),
    }


def _print_report(report: PruneReport, config: RetentionConfig) -> None:
    rows = []
    for kind in PruneKind:
        count = report.count(kind)
        rows.append((kind.value, "-" if count is None else str(count), _rule(kind, config)))
    print_table(("kind", "would go" if report.dry_run else "removed", "older than"), rows)
    if report.stopped:
        err.print("stopped early (the lease was lost); the rest waits for the next prune")


def _rule(kind: PruneKind, config: RetentionConfig) -> str:
    """The age a kind is kept for, as the config file writes it (the kinds are named as
    the [retention] keys; expired sessions have no age)."""
    if kind is PruneKind.EXPIRED_SESSIONS:
        return "their end"
    seconds: float | None = getattr(config, kind.value)
    if seconds is None:
        return "never (kept for ever)"
    for unit, size in _UNITS:
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
