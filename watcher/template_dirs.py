"""Where Jinja finds a template: the operator's folder first, then the shipped templates.

The templates live in the repository's top-level ``templates/`` (``site/`` the public
list, ``editor/`` and ``public/`` the app's pages, ``email/`` subscribers' mail, ``api/``
the API's docs page), where an operator looks to restyle a page; ``pyproject.toml``
installs that folder into the package as ``watcher/templates``, so a wheel works without
the repository. ``[publish] templates_dir`` names a folder of the same layout: a file
there replaces the shipped file of the same path, and whatever it leaves out still comes
from the shipped set, so an operator copies only the templates they change.

The site's, the web app's and the mail's Jinja environments all take their search path
from here, so the three agree on where a template comes from.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def shipped() -> Path:
    """The templates watcher comes with: inside the package when installed from a wheel;
    in a checkout (and an editable install, which maps only importable code into the
    package) the repository's ``templates/`` beside the package."""
    installed = PACKAGE / "templates"
    return installed if installed.is_dir() else PACKAGE.parent / "templates"


def folders() -> tuple[str, ...]:
    """The shipped folders (``api``, ``editor``, ...); an operator's folder overrides
    templates inside some of them."""
    return tuple(sorted(path.name for path in shipped().iterdir() if path.is_dir()))


def search_path(override: Path | None, folder: str = "") -> list[Path]:
    """The directories a loader of ``folder`` looks in, the first match winning: the
    operator's copy, then the shipped one. ``folder`` "" is the whole tree (names such as
    ``editor/queue.html``)."""
    roots = [shipped()] if override is None else [override, shipped()]
    return [root / folder if folder else root for root in roots]


def effective_files(override: Path | None, folder: str) -> dict[str, Path]:
    """What a loader of ``folder`` reads for each template name (relative to ``folder``,
    ``/``-separated): the operator's file where there is one, else the shipped file. A
    digest of these changes whenever a template that renders does."""
    chosen: dict[str, Path] = {}
    for directory in reversed(search_path(override, folder)):
        for path in directory.rglob("*"):
            if path.is_file():
                chosen[path.relative_to(directory).as_posix()] = path
    return dict(sorted(chosen.items()))
