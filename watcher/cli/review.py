"""Commands for decisions: approve, reject, undo, entries."""

from __future__ import annotations

import asyncio
import getpass
import json
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from watcher.cli.app import app, out, with_watcher
from watcher.core import Watcher
from watcher.types import RENDITIONS, Actor, Entry, EntryDraft, EntryStatus, Role
from watcher.views import EntryOut


def cli_actor() -> Actor:
    """Decisions from the command line are audited as ``cli:<login name>``."""
    return Actor(getpass.getuser(), Role.ADMIN, kind="cli")


@app.command()
def approve(
    ctx: typer.Context,
    candidate_ids: Annotated[
        list[int], typer.Argument(help="One candidate, or several in order (a sequence).")
    ],
    heading: Annotated[str | None, typer.Option("--heading", help="Default: NASA's title.")] = None,
    text: Annotated[str | None, typer.Option("--text", help="The paragraph (Markdown).")] = None,
    alt: Annotated[str | None, typer.Option("--alt", help="Alt text. Default: the title.")] = None,
    credit: Annotated[
        str | None, typer.Option("--credit", help="Default: NASA's credit field.")
    ] = None,
    rendition: Annotated[
        str, typer.Option("--rendition", help=f"One of {', '.join(RENDITIONS)}.")
    ] = "large",
    as_json: Annotated[bool, typer.Option("--json", help="Print the entry as JSON.")] = False,
) -> None:
    """Approve a candidate (or a sequence of them) as a new entry of the running list."""
    draft = EntryDraft(
        heading=heading or "",
        body=text or "",
        alt_text=alt or "",
        credit=credit,
        rendition=rendition,
    )

    async def body(watcher: Watcher) -> Entry:
        return await asyncio.to_thread(watcher.approve, candidate_ids, draft, cli_actor())

    entry = with_watcher(ctx, body)
    if as_json:
        print(json.dumps(EntryOut.of(entry).model_dump(mode="json")))
    else:
        ids = ", ".join(str(i) for i in entry.candidate_ids)
        out.print(f"approved candidate {ids} as entry #{entry.id}: {entry.heading}")


@app.command()
def reject(
    ctx: typer.Context,
    candidate_id: Annotated[int, typer.Argument(help="The candidate.")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why (optional).")] = None,
) -> None:
    """Reject a candidate (it leaves the queue; `watcher undo` brings it back)."""

    async def body(watcher: Watcher) -> None:
        await asyncio.to_thread(watcher.reject, candidate_id, cli_actor(), reason=reason)

    with_watcher(ctx, body)
    out.print(f"rejected candidate {candidate_id}" + (f" ({reason})" if reason else ""))


@app.command()
def undo(ctx: typer.Context) -> None:
    """Take back your latest approve or reject made from the command line."""

    async def body(watcher: Watcher) -> str:
        event = await asyncio.to_thread(watcher.undo_last, cli_actor())
        return f"undone: {event.subject_type} {event.subject_id} is back where it was"

    out.print(with_watcher(ctx, body))


@app.command()
def entries(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON array.")] = False,
    unpublished: Annotated[
        bool, typer.Option("--unpublished", help="Include unpublished entries.")
    ] = False,
) -> None:
    """The running list's entries, in list order."""

    async def body(watcher: Watcher) -> list[Entry]:
        status = None if unpublished else EntryStatus.PUBLISHED
        return await asyncio.to_thread(watcher.list_entries, status)

    found = with_watcher(ctx, body)
    if as_json:
        rows = [EntryOut.of(e).model_dump(mode="json") for e in found]
        print(json.dumps(rows, ensure_ascii=False))
        return
    table = Table(box=box.SIMPLE_HEAD)
    for column in ("#", "id", "status", "frames", "by"):
        table.add_column(column, no_wrap=True)
    table.add_column("heading", overflow="fold", min_width=16)
    for entry in found:
        table.add_row(
            str(entry.position),
            str(entry.id),
            entry.status.value,
            str(len(entry.candidate_ids)),
            entry.created_by,
            entry.heading,
        )
    out.print(table)
    out.print(f"{len(found)} entr{'y' if len(found) == 1 else 'ies'}")
