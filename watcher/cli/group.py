"""The command tree's shared habits, in one place: the global options every command
accepts, and help that reads well in a terminal.

Typer builds the tree of commands when the program starts; ``WatcherGroup`` (the root's
class) then walks it once and gives every command, nested groups included:

- the global options ``--config``/``-c`` and ``--verbose``/``-v``, before or after the
  command's name (``watcher --config X queue`` and ``watcher queue --config X``). Given in
  both places, the one after the command wins: the later, more specific word, as with a
  command's own options. They fill one ``State`` shared by the whole invocation;
  ``WATCHER_CONFIG`` applies when neither gives a file (``load_settings``);
- ``--help``/``-h``, listed with the options;
- help text as paragraphs: a docstring's line breaks are only the source's wrapping, so
  each paragraph is joined into one line and Rich wraps it to the terminal. Brackets stay
  literal (``[publish] require_words`` is a config key, not Rich markup);
- flags without a value placeholder, and every value named by an upper-case word: its
  declared metavar, else its own name (``--limit N``, ``--heading HEADING``).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FunctionType
from typing import Annotated, Any

import typer
from rich.markup import escape
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from watcher.config import Settings, load_settings

GLOBAL_PANEL = "Global options"


@dataclass
class State:
    """What the global options say, for every command of one invocation."""

    config: Path | None = None
    verbose: bool = False

    def settings(self) -> Settings:
        return load_settings(self.config)


def state_of(ctx: typer.Context) -> State:
    """The invocation's State (made by the first global option parsed)."""
    return ctx.ensure_object(State)


def _remember_config(ctx: typer.Context, value: Path | None) -> None:
    if value is not None:
        state_of(ctx).config = value


def _remember_verbose(ctx: typer.Context, value: bool) -> None:
    state = state_of(ctx)
    state.verbose = state.verbose or value


def _show_help(ctx: typer.Context, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        typer.echo(ctx.get_help(), color=ctx.color)
        raise typer.Exit()


def _shared_options(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            metavar="PATH",
            help="Config file (default: $WATCHER_CONFIG, else config/watcher.toml).",
            callback=_remember_config,
            expose_value=False,
            rich_help_panel=GLOBAL_PANEL,
        ),
    ] = None,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="Debug logging and tracebacks.",
            callback=_remember_verbose,
            expose_value=False,
            rich_help_panel=GLOBAL_PANEL,
        ),
    ] = False,
    show_help: Annotated[
        bool,
        typer.Option(
            "--help",
            "-h",
            help="Show this message and exit.",
            callback=_show_help,
            is_eager=True,
            expose_value=False,
        ),
    ] = False,
) -> None:
    """Never run: its parameters, as Typer makes them, are the options every command
    shares: the global ones and --help."""


# Made into parameters once per command: resolved once (see ``resolve_annotations``).
_shared_options.__annotations__ = typing.get_type_hints(_shared_options, include_extras=True)


def resolve_annotations(app: typer.Typer) -> None:
    """Evaluate, once, the annotations of every command under ``app`` (and of the shared
    options). They are strings (``from __future__ import annotations``), and Typer
    evaluates each string again every time it makes a parameter of it: for every
    command at every start, the shared options once per command. Resolved here, that is
    a few milliseconds instead of tens, on every ``watcher ...``."""
    callbacks = [info.callback for info in app.registered_commands]
    if app.registered_callback is not None:
        callbacks.append(app.registered_callback.callback)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            resolve_annotations(group.typer_instance)
    for callback in callbacks:
        if isinstance(callback, FunctionType):
            callback.__annotations__ = typing.get_type_hints(callback, include_extras=True)


def _params_of(declaration: Callable[..., None]) -> list[Any]:
    """The parameters Typer makes of ``declaration``'s signature: fresh objects each time,
    so no two commands share one."""
    holder = typer.Typer(add_completion=False)
    holder.command()(declaration)
    return list(typer.main.get_command(holder).params)


def plain_help(text: str | None) -> str | None:
    """A docstring as paragraphs of one line each, single-spaced, brackets escaped."""
    if text is None:
        return None
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(escape(" ".join(p.split())) for p in paragraphs if p.strip())


class NamedArgument(TyperArgument):
    """An argument named by its upper-case word alone, like an option's value: ``ID`` in
    its help row (not ``ID <int>``) and in the usage line (``ID...``, ``[ID]`` when
    optional), as most command lines write them."""

    def display_type_rich(self, ctx: object) -> str | None:
        return None

    def _usage_display_name(self) -> str:
        name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
        return name if self.nargs == 1 else f"{name}..."


def _polish_param(param: Any) -> None:
    if not isinstance(param, TyperOption | TyperArgument):
        return
    param.help = plain_help(param.help)
    if isinstance(param, TyperOption) and param.is_flag:
        param.metavar = ""
        return
    if param.metavar is None:
        param.metavar = (param.name or "value").upper()
    if isinstance(param, TyperArgument):
        param.__class__ = NamedArgument


def polish(command: TyperCommand | TyperGroup) -> None:
    """Give ``command`` and everything under it the shared habits (see the module)."""
    added = _params_of(_shared_options)
    taken = {name for param in command.params for name in param.opts}
    clash = taken & {name for param in added for name in param.opts}
    assert not clash, f"{command.name}: {sorted(clash)} are global options"
    command.params.extend(added)
    command.help = plain_help(command.help)
    for param in command.params:
        _polish_param(param)
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            if isinstance(sub, TyperCommand | TyperGroup):
                polish(sub)


class WatcherGroup(TyperGroup):
    """The root command: once Typer has built the tree, it gives every command the
    shared habits."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        polish(self)
