"""The error tree drawn in ``watcher/exceptions.py``'s docstring is the real one, and it is
the whole one: no module elsewhere grows a WatcherError of its own."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

from watcher import exceptions
from watcher.exceptions import WatcherError

PACKAGE = Path(__file__).resolve().parent.parent / "watcher"
# One row of the drawing: the tree's prefix (4 characters a level), then the class name.
ROW = re.compile(r"^(?P<prefix>(?:[│ ] {3})*(?:[├└]── )?)(?P<name>[A-Z]\w*)\b")


def drawn_tree() -> dict[str, str | None]:
    """Class name -> the name it hangs from in the docstring's drawing (None: the root)."""
    doc = exceptions.__doc__ or ""
    block = doc.split("::", 1)[1].split("\n\n")[1]  # the indented block after "::"
    parents: dict[str, str | None] = {}
    path: list[str] = []
    for line in block.splitlines():
        match = ROW.match(line.removeprefix("    "))
        assert match, f"not a row of the tree: {line!r}"
        depth = len(match["prefix"]) // 4
        assert depth <= len(path), f"{match['name']} skips a level"
        del path[depth:]
        parents[match["name"]] = path[-1] if path else None
        path.append(match["name"])
    return parents


def real_tree() -> dict[str, str | None]:
    """Every WatcherError class of ``watcher.exceptions`` -> the WatcherError it extends."""
    tree: dict[str, str | None] = {}
    for name, value in vars(exceptions).items():
        if inspect.isclass(value) and issubclass(value, WatcherError):
            bases = [b for b in value.__bases__ if issubclass(b, WatcherError)]
            assert len(bases) <= 1, f"{name} extends two WatcherErrors"
            tree[name] = bases[0].__name__ if bases else None
            assert value.__module__ == exceptions.__name__, f"{name} is defined elsewhere"
    return tree


def test_the_docstring_draws_every_class_under_its_real_parent() -> None:
    assert drawn_tree() == real_tree()


def test_no_module_outside_exceptions_defines_a_watcher_error() -> None:
    tree = set(real_tree())
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "exceptions.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                bases = {ast.unparse(base).rsplit(".", 1)[-1] for base in node.bases}
                if bases & tree:
                    found.append(f"{path.relative_to(PACKAGE)}: {node.name}")
    assert not found, f"move these into watcher/exceptions.py and its drawing: {found}"
