"""``watcher curate``: fingerprint candidates' pictures now, as the service does in the
background (``watcher run`` runs a round every ``[curate] interval``)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, Any

import typer

from watcher.cli.app import app, fail, out, with_watcher
from watcher.cli.output import JsonOutcome, fields_of, held_by, lease_json, print_json
from watcher.limits import MAX_ID
from watcher.types import CurateReport

if TYPE_CHECKING:
    from watcher.core import Watcher


_COUNTS = ("fingerprinted", "failed", "deferred", "cached", "requests", "waiting", "retrying")
_ADDED = (*_COUNTS[:5], "scored")


@app.command()
def curate(
    ctx: typer.Context,
    once: Annotated[
        bool, typer.Option("--once", help="Fingerprint what is due now, then exit.")
    ] = False,
    backfilled: Annotated[
        bool, typer.Option("--backfilled", help="The backfilled archive too.")
    ] = False,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            min=1,
            max=MAX_ID,
            metavar="N",
            help="At most N pictures (default: [curate] batch).",
        ),
    ] = None,
    as_json: JsonOutcome = False,
) -> None:
    """Fingerprint candidates' pictures: fetch each new candidate's smallest rendition at
    low priority and keep its perceptual hashes and statistics, newest first. A picture
    that cannot be had is recorded and tried again later; that is not a failure of the
    command. The service does this by itself every [curate] interval, so --once is for
    cron or for a database the service does not run on; there is no schedule here."""
    if not once:
        fail("watcher run curates on schedule; give --once for one run from here", 2)

    async def body(watcher: Watcher) -> CurateReport:
        batch = watcher.settings.curate.batch
        remaining = limit or batch
        total = CurateReport()
        while remaining > 0:
            report = await watcher.curate_once(
                min(remaining, batch), backfilled=True if backfilled else None
            )
            total = _added(total, report)
            done = report.fingerprinted + report.failed
            remaining -= done
            if not done or report.deferred or report.busy:
                break
        return total

    report = with_watcher(ctx, body)
    if as_json:
        print_json(_report_json(report), ensure_ascii=False)
        return
    for candidate_id, why in report.failures:
        out.print(f"candidate {candidate_id}: {why}", markup=False)
    out.print(_report_line(report), markup=False)


def _added(total: CurateReport, report: CurateReport) -> CurateReport:
    """Two rounds as one: their counts added, the backlog as the later one left it, the
    most groups a round found on the sols it touched."""
    return replace(
        report,
        **{name: getattr(total, name) + getattr(report, name) for name in _ADDED},
        failures=total.failures + report.failures,
        groups=max(total.groups, report.groups),
    )


def _report_json(report: CurateReport) -> dict[str, Any]:
    return {
        **fields_of(report, *_COUNTS, "busy", "groups", "scored"),
        "failures": [{"candidate": cid, "error": why} for cid, why in report.failures],
        "held_by": lease_json(report.held_by),
    }


def _report_line(report: CurateReport) -> str:
    if report.busy:
        return f"another watcher is curating right now{held_by(report.held_by)}; nothing done"
    cached = f" ({report.cached} from the cache)" if report.cached else ""
    deferred = (
        f", {report.deferred} left for later (an image host was needed by a poll)"
        if report.deferred
        else ""
    )
    return (
        f"{report.fingerprinted} fingerprinted{cached}, {report.failed} failed (tried again "
        f"later){deferred}; {report.waiting} waiting, {report.retrying} waiting for a retry; "
        f"{report.groups} groups on the sols touched, {report.scored} scored"
    )
