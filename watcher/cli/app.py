"""The ``watcher`` command's shared parts: the Typer app, error-to-exit-code mapping,
building a Watcher per command, logging.

Exit codes: 0 ok, 1 runtime failure (database, unexpected error), 2 usage or config error.
An upstream (NASA) failure is not a failure of ``poll``: it is recorded in the source's
health and retried later.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.text import Text

from watcher import __version__
from watcher.cli.group import WatcherGroup, state_of
from watcher.cli.json_logs import JsonFormatter
from watcher.exceptions import (
    AuthError,
    ConfigError,
    Conflict,
    FetchError,
    InvalidInput,
    NotFound,
    ParseError,
    PermissionDenied,
    StorageError,
    UsageError,
    WatcherError,
)
from watcher.limits import MAX_ID

if TYPE_CHECKING:
    from watcher.core import Watcher

T = TypeVar("T")

app = typer.Typer(
    name="watcher",
    help="Watch NASA's Mars image feeds and queue new images for editors.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=WatcherGroup,
)
db_app = typer.Typer(help="Database schema management.", no_args_is_help=True)
app.add_typer(db_app, name="db")

# Text from NASA, editors and config ("[publish] site_dir") is never read as Rich markup:
# styles are given as Text objects where wanted.
out = Console(highlight=False, soft_wrap=True, markup=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)

# The commands about sources share this flag, declared once so it reads the same everywhere.
OnlySource = Annotated[
    str | None, typer.Option("--source", "-s", metavar="NAME", help="Only this source.")
]


def id_argument(help: str) -> Any:
    """An id on the command line. One past what a table's key holds is refused like any
    malformed argument (exit 2, naming the range) before a database is asked: the driver
    would fail on it with an error of its own."""
    return typer.Argument(metavar="ID", help=help, min=1, max=MAX_ID)


def fail(message: str, code: int) -> NoReturn:
    err.print(Text.assemble(("error:", "red"), " ", message))
    raise typer.Exit(code)


def guard(fn: Callable[[], T], *, verbose: bool) -> T:
    """Run a command body, turning watcher's errors into messages and exit codes."""
    try:
        return fn()
    except InvalidInput as exc:
        fail("; ".join(f"{field}: {message}" for field, message in exc.errors.items()), 2)
    except (ConfigError, UsageError) as exc:
        fail(str(exc), 2)
    except (Conflict, AuthError, PermissionDenied) as exc:
        fail(str(exc), 1)
    except NotFound as exc:
        fail(str(exc), 1)
    except StorageError as exc:
        fail(str(exc), 1)
    except (FetchError, ParseError) as exc:
        fail(f"upstream failed: {exc}", 1)
    except WatcherError as exc:
        fail(str(exc), 1)
    except KeyboardInterrupt:
        err.print("interrupted")
        raise typer.Exit(130) from None
    except typer.Exit:
        raise
    except Exception as exc:
        if verbose:
            err.print_exception()
        fail(f"unexpected {type(exc).__name__}: {exc} (run with -v for the traceback)", 1)


def with_watcher(
    ctx: typer.Context,
    body: Callable[[Watcher], Coroutine[Any, Any, T]],
    *,
    prepare: bool = True,
    log_format: str | None = None,
) -> T:
    """Run ``body`` on a Watcher built from the config, logging as configured
    (``log_format``, when given, wins over ``[service] log_format``)."""
    state = state_of(ctx)

    def run() -> T:
        # Imported here, not at the top: ``--version`` and ``--help`` need none of it, and
        # the core imports each part's dependencies only when a command uses that part.
        import asyncio

        from watcher.core import make_watcher

        settings = state.settings()
        configure_logging(settings.log_level, state.verbose, log_format or settings.log_format)

        async def main() -> T:
            watcher = make_watcher(settings)
            try:
                if prepare:
                    await asyncio.to_thread(watcher.prepare_database)
                return await body(watcher)
            finally:
                await watcher.aclose()

        return asyncio.run(main())

    return guard(run, verbose=state.verbose)


def call_watcher(ctx: typer.Context, call: Callable[[Watcher], T], *, prepare: bool = True) -> T:
    """``call`` on the facade in a worker thread (its methods block on the database, and
    the watcher's own event loop must stay free), under every command's error mapping."""

    async def body(watcher: Watcher) -> T:
        import asyncio

        return await asyncio.to_thread(call, watcher)

    return with_watcher(ctx, body, prepare=prepare)


def configure_logging(level: str, verbose: bool, log_format: str = "text") -> None:
    """Rich's log panel for a person at a terminal; plain, unwrapped, timestamped lines for
    journald, files and pipes, so every message stays one greppable line; with
    ``log_format`` "json", one JSON object per line wherever stderr goes."""
    handler: logging.Handler
    if log_format == "json":
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        layout = "%(message)s"
    elif sys.stderr.isatty():
        handler = RichHandler(console=err, show_path=False, rich_tracebacks=verbose, markup=False)
        layout = "%(message)s"
    else:
        handler = logging.StreamHandler(sys.stderr)
        layout = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(
        level=logging.DEBUG if verbose else getattr(logging, level),
        format=layout,
        datefmt="%Y-%m-%dT%H:%M:%S",
        handlers=[handler],
        force=True,
    )
    for noisy in ("httpx", "httpcore", "apscheduler", "uvicorn.error", "alembic"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)


def version(value: bool) -> None:
    if value:
        out.print(f"watcher {__version__}")
        raise typer.Exit()


# The global options (--config, --verbose) are every command's: see watcher.cli.group.
@app.callback()
def main_callback(
    version: Annotated[
        bool, typer.Option("--version", callback=version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    pass


def iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z") if value else None


def short_time(value: str | None) -> str:
    """``11-25 15:41`` (UTC): the table is for a glance; --json has the full times."""
    return value[5:16].replace("T", " ") if value else "-"
