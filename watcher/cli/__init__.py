"""The ``watcher`` command. Thin: it builds a Watcher, calls it, and prints.

Exit codes: 0 ok, 1 runtime failure (database, a refused decision, an unexpected error),
2 usage or config error.
"""

from __future__ import annotations

import sys

from watcher.cli import (  # noqa: F401 (they register commands)
    accounts,
    check,
    curate,
    polling,
    prune,
    publishing,
    review,
)
from watcher.cli.app import app
from watcher.cli.group import resolve_annotations

resolve_annotations(app)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


__all__ = ["app", "main"]
