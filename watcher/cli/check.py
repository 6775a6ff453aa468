"""``watcher check``: are NASA's answers still the shapes watcher expects? (The facade's
``check_sources`` does the asking and checking; this prints.)"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer
from rich.text import Text

from watcher.cli.app import OnlySource, app, err, out, with_watcher
from watcher.cli.output import JsonArray, fields_of, print_json, print_table
from watcher.types import SourceCheck

if TYPE_CHECKING:
    from watcher.core import Watcher


SHOWN_PROBLEMS = 2
COLOURS = {"ok": "green", "changed": "red", "unreachable": "red"}


@app.command()
def check(
    ctx: typer.Context,
    source: OnlySource = None,
    as_json: JsonArray = False,
) -> None:
    """Ask each enabled source (or --source) what a first poll would, and check every answer
    strictly against the shape watcher expects. Exit 1 when an answer's shape changed or a
    host could not be reached; nothing is written to the database."""

    async def body(watcher: Watcher) -> list[SourceCheck]:
        return await watcher.check_sources([source] if source is not None else None)

    checks = with_watcher(ctx, body, prepare=False)
    if as_json:
        print_json([_check_json(c) for c in checks], ensure_ascii=False)
    else:
        _print_table(checks)
    unreachable: dict[str, str] = {}
    for checked in checks:
        for request in checked.unreachable:
            unreachable.setdefault(request.host, request.error or "")
    for host, error in unreachable.items():
        err.print(f"could not reach {host}: {error}", markup=False)
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


def _check_json(checked: SourceCheck) -> dict[str, Any]:
    per_request = ("what", "url", "status", "problems", "notes", "error")
    return {
        **fields_of(checked, "source", "kind", "host", "result", "ok"),
        "requests": len(checked.requests),
        **fields_of(checked, "problems", "notes"),
        "checked": [fields_of(r, *per_request) for r in checked.requests],
    }


def _print_table(checks: list[SourceCheck]) -> None:
    if not checks:
        out.print("no enabled source to check")
        return
    print_table(
        ("source", "kind", "host", "requests", "result"),
        [
            (
                Text(checked.source),
                Text(checked.kind),
                Text(checked.host),
                Text(str(len(checked.requests))),
                Text(_result(checked), style=COLOURS[checked.result]),
            )
            for checked in checks
        ],
        fold=True,
    )
    for checked in checks:
        for note in checked.notes:
            out.print(f"{checked.source}: note: {note}", markup=False)


def _result(checked: SourceCheck) -> str:
    if checked.result == "changed":
        shown = "; ".join(checked.problems[:SHOWN_PROBLEMS])
        more = len(checked.problems) - SHOWN_PROBLEMS
        return f"changed: {shown}" + (f" (and {more} more)" if more > 0 else "")
    if checked.result == "unreachable":
        return f"unreachable: {checked.unreachable[0].error}"
    return "ok"
