"""Commands for decisions: approve, reject, undo, and ``watcher entries`` (the list, and
``entries publish`` for a draft)."""

from __future__ import annotations

import getpass
from typing import TYPE_CHECKING, Annotated

import typer

from watcher.cli.app import app, call_watcher, id_argument, out
from watcher.cli.output import JsonArray, print_json, print_listing
from watcher.types import RENDITIONS, Actor, Entry, EntryDraft, EntryStatus, Role

if TYPE_CHECKING:
    from watcher.core import Watcher


entries_app = typer.Typer(
    help="The running list's entries: list them (the default), publish a draft."
)
app.add_typer(entries_app, name="entries")

PUBLISH_HINT = "publish it with: watcher entries publish {id} --heading '...' --text '...'"


def cli_actor() -> Actor:
    """Decisions from the command line are audited as ``cli:<login name>``."""
    return Actor(getpass.getuser(), Role.ADMIN, kind="cli")


@app.command()
def approve(
    ctx: typer.Context,
    candidate_ids: Annotated[
        list[int], id_argument("One candidate, or several in order (a sequence).")
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
    """Approve a candidate (or a sequence of them) as a new entry of the running list.

    With --heading and --text the entry is published; without them it is saved as a draft
    (unless [publish] require_words = false), which `watcher entries publish` publishes."""
    from watcher.views import EntryOut

    draft = EntryDraft(
        heading=heading or "",
        body=text or "",
        alt_text=alt or "",
        credit=credit,
        rendition=rendition,
    )
    entry = call_watcher(ctx, lambda watcher: watcher.approve(candidate_ids, draft, cli_actor()))
    if as_json:
        print_json(EntryOut.of(entry).model_dump(mode="json"))
    else:
        ids = ", ".join(str(i) for i in entry.candidate_ids)
        if entry.status is EntryStatus.DRAFT:
            out.print(f"approved candidate {ids} as draft entry #{entry.id}: {entry.heading}")
            out.print(PUBLISH_HINT.format(id=entry.id))
        else:
            out.print(f"approved candidate {ids} as entry #{entry.id}: {entry.heading}")


@app.command()
def reject(
    ctx: typer.Context,
    candidate_id: Annotated[int, id_argument("The candidate.")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why (optional).")] = None,
) -> None:
    """Reject a candidate (it leaves the queue; `watcher undo` brings it back)."""
    call_watcher(ctx, lambda watcher: watcher.reject(candidate_id, cli_actor(), reason=reason))
    out.print(f"rejected candidate {candidate_id}" + (f" ({reason})" if reason else ""))


@app.command()
def undo(ctx: typer.Context) -> None:
    """Take back your latest approve or reject made from the command line."""
    event = call_watcher(ctx, lambda watcher: watcher.undo_last(cli_actor()))
    out.print(f"undone: {event.subject_type} {event.subject_id} is back where it was")


@entries_app.callback(invoke_without_command=True)
def entries(
    ctx: typer.Context,
    as_json: JsonArray = False,
    unpublished: Annotated[
        bool, typer.Option("--unpublished", help="Include unpublished entries.")
    ] = False,
) -> None:
    """The running list's entries, in list order: published ones and drafts (marked as
    such, waiting for their words); --unpublished adds the ones taken off the list."""
    from watcher.views import EntryOut

    if ctx.invoked_subcommand is not None:
        return
    found = call_watcher(ctx, lambda watcher: watcher.list_entries(None))
    if not unpublished:
        found = [e for e in found if e.status is not EntryStatus.UNPUBLISHED]
    print_listing(
        found,
        as_json=as_json,
        shape=EntryOut.of,
        columns=("#", "id", "status", "frames", "by", "heading"),
        row=_entry_row,
        cut=("heading",),
        ensure_ascii=False,
    )
    if as_json:
        return
    out.print(f"{len(found)} entr{'y' if len(found) == 1 else 'ies'}")
    drafts = [e for e in found if e.status is EntryStatus.DRAFT]
    if drafts:
        out.print(f"{len(drafts)} draft(s), not public: " + PUBLISH_HINT.format(id="ID"))


@entries_app.command("publish")
def publish_entry(
    ctx: typer.Context,
    entry_id: Annotated[int, id_argument("The entry (a draft, or unpublished).")],
    heading: Annotated[
        str | None, typer.Option("--heading", help="Default: the entry's heading.")
    ] = None,
    text: Annotated[
        str | None, typer.Option("--text", help="The paragraph (Markdown). Default: its own.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the entry as JSON.")] = False,
) -> None:
    """Publish an entry with these words: it joins the public list at the next edition.
    Refused (exit 2) without a heading and a paragraph."""
    from watcher.views import EntryOut

    def publish(watcher: Watcher) -> Entry:
        current = watcher.get_entry(entry_id)
        draft = EntryDraft(
            heading=current.heading if heading is None else heading,
            body=current.body if text is None else text,
            alt_text=current.alt_text,
            rendition=current.rendition,
        )
        return watcher.edit_entry(
            entry_id, current.version, draft, cli_actor(), status=EntryStatus.PUBLISHED
        )

    entry = call_watcher(ctx, publish)
    if as_json:
        print_json(EntryOut.of(entry).model_dump(mode="json"))
    else:
        out.print(f"published entry #{entry.id}: {entry.heading}")


def _entry_row(entry: Entry) -> tuple[str, ...]:
    return (
        str(entry.position),
        str(entry.id),
        entry.status.value,
        str(len(entry.candidate_ids)),
        entry.created_by,
        entry.heading,
    )
