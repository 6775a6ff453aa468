"""How commands print what they found: ``--json`` for programs (the shapes of
``watcher.views``, as the API sends them), a table for people.

Every table has the same look (a rule under the head, two spaces between columns, nothing
else), so a person reading ``watcher queue`` and ``watcher webhooks list`` side by side
sees one tool.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich import box
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from watcher.cli.app import err, out
from watcher.types import LeaseHolder

if TYPE_CHECKING:
    from pydantic import BaseModel


# The --json flags several commands share, declared once so they read the same in --help.
JsonArray = Annotated[bool, typer.Option("--json", help="Print one JSON array.")]
JsonOutcome = Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")]

Found = TypeVar("Found")

FOLDED_MIN_WIDTH = 16
CUT_MIN_WIDTH = 8


def fields_of(value: object, *names: str) -> dict[str, Any]:
    """``value``'s attributes of these names, in this order: the plain part of a report's
    JSON object (tuples print as JSON arrays)."""
    return {name: getattr(value, name) for name in names}


def print_json(value: Any, *, ensure_ascii: bool = True) -> None:
    """One JSON document on standard output, for programs (never through rich, which would
    wrap long lines)."""
    print(json.dumps(value, ensure_ascii=ensure_ascii))


def print_secret(about: str, secret: str) -> None:
    """A secret shown this once: alone on standard output, so a script captures just it,
    and what it is on standard error, for the person at the terminal."""
    err.print(about)
    print(secret)


def print_shapes(shapes: Iterable[BaseModel], *, ensure_ascii: bool = True) -> None:
    """``--json`` of a listing: one array of the values' shapes."""
    print_json([shape.model_dump(mode="json") for shape in shapes], ensure_ascii=ensure_ascii)


def print_table(
    columns: Sequence[str],
    rows: Iterable[Sequence[RenderableType]],
    *,
    fold: bool = False,
    cut: Collection[str] = (),
    no_wrap: bool = True,
    title: str | None = None,
) -> None:
    """A listing for a person. ``fold``: the last column is free text (a result) and folds
    at the terminal's edge while the others keep to one line. ``cut``: these columns (a
    title, a heading) keep each row to one line: they give up width first and their text
    ends in "…" where the terminal is too narrow. ``no_wrap=False`` lets every column wrap
    instead."""
    table = Table(
        box=box.SIMPLE_HEAD,
        title=title,
        title_justify="left",
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    for index, column in enumerate(columns):
        if column in cut:
            # Wrapping lets the column shrink before the others; the cells themselves
            # (one_line) never wrap.
            table.add_column(column, no_wrap=False, min_width=CUT_MIN_WIDTH)
        elif fold and index == len(columns) - 1:
            table.add_column(column, overflow="fold", min_width=FOLDED_MIN_WIDTH)
        else:
            table.add_column(column, no_wrap=no_wrap)
    for row in rows:
        table.add_row(
            *(
                one_line(cell) if name in cut else plain(cell)
                for name, cell in zip(columns, row, strict=True)
            )
        )
    out.print(table)


def plain(cell: RenderableType) -> RenderableType:
    """A cell as given, a string as literal text (a table never reads markup in data)."""
    return Text(cell) if isinstance(cell, str) else cell


def one_line(cell: RenderableType) -> RenderableType:
    """A cell of a ``cut`` column: plain text (never read as Rich markup: titles come from
    NASA) on one line, cut with "…"."""
    if isinstance(cell, str):
        return Text(cell, no_wrap=True, overflow="ellipsis")
    return cell


def print_listing(
    found: Sequence[Found],
    *,
    as_json: bool,
    shape: Callable[[Found], BaseModel],
    columns: Sequence[str],
    row: Callable[[Found], Sequence[RenderableType]],
    fold: bool = False,
    cut: Collection[str] = (),
    no_wrap: bool = True,
    ensure_ascii: bool = True,
) -> None:
    """What a listing command found: with ``--json`` one array of each value's ``shape``,
    else a table of each value's ``row`` under ``columns``."""
    if as_json:
        print_shapes(map(shape, found), ensure_ascii=ensure_ascii)
    else:
        rows = [row(value) for value in found]
        print_table(columns, rows, fold=fold, cut=cut, no_wrap=no_wrap)


def lease_json(holder: LeaseHolder | None) -> dict[str, Any] | None:
    """A busy report's ``held_by``: who held the lease, as the API shows it (null when
    not busy, or when the holder let go just then)."""
    from watcher.views import LeaseOut

    return LeaseOut.of(holder).model_dump(mode="json") if holder is not None else None


def held_by(holder: LeaseHolder | None) -> str:
    """`` (pid 4242 on web-2 since ..., until ...)``: who holds a lease, for a busy line;
    empty when that is not known."""
    from watcher.views import iso

    if holder is None:
        return ""
    who = f"pid {holder.pid} on {holder.host}" if holder.process else holder.owner
    since = f" since {iso(holder.since)}" if holder.since else ""
    return f" ({who}{since}, until {iso(holder.until)} unless renewed)"
