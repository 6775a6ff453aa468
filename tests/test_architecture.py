"""The import direction of DESIGN.md, checked on the source so later changes keep it:
types/exceptions <- config <- {decide, db, sources, fetch} <- core <- {web, service} <- cli.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "watcher"

# What each part may import from watcher (besides itself).
FACADE = {"config", "db", "decide", "exceptions", "fetch", "sources", "types", "urls",
          "security", "markup", "views", "publish", "deliver"}  # fmt: skip
ALLOWED = {
    "types": {"types"},
    "exceptions": set(),
    "urls": set(),
    "markup": set(),
    "config": {"exceptions", "types"},
    "security": {"config"},
    "views": {"types", "markup"},
    "pictures": {"types"},
    "decide": {"config", "types", "exceptions"},
    "fetch": {"config", "exceptions", "types"},
    "db": {"config", "exceptions", "types", "security"},
    "sources": {"config", "exceptions", "types", "urls"},
    "publish": {"config", "exceptions", "types", "urls", "markup", "pictures"},
    "deliver": {"config", "exceptions", "types", "urls", "markup", "pictures", "fetch", "security"},
    "facade": FACADE,
    "polling": FACADE | {"facade"},
    "checking": FACADE | {"facade", "polling"},
    "review": FACADE | {"facade"},
    "accounts": FACADE | {"facade", "review"},
    "publishing": FACADE | {"facade", "review"},
    "delivery": FACADE | {"facade", "review"},
    "core": FACADE
    | {"facade", "polling", "checking", "review", "accounts", "publishing", "delivery"},
    "web": {"core", "config", "exceptions", "types", "views", "markup", "security", "urls"},
    "background": {"core", "exceptions", "config", "types"},
    "service": {"core", "exceptions", "web", "config", "types", "background"},
    "cli": {"core", "config", "exceptions", "types", "service", "demo", "views"},
}


def part_of(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0].removesuffix(".py")


def imported_parts(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            if name.startswith("watcher."):
                found.add(name.split(".")[1])
            elif name == "watcher":
                found.add("__init__")
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if part_of(p) in ALLOWED)


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(PACKAGE)) for p in MODULES])
def test_imports_follow_the_layering(path: Path) -> None:
    part = part_of(path)
    extra = imported_parts(path) - ALLOWED[part] - {part, "__init__"}
    assert not extra, f"{path.relative_to(PACKAGE)} ({part}) must not import {sorted(extra)}"


def test_the_check_sees_every_layer() -> None:
    # Layers not written yet are allowed to be missing; every module that exists is checked.
    assert {part_of(p) for p in MODULES} <= set(ALLOWED)
    assert {"types", "config", "db", "sources", "core", "web", "cli"} <= {
        part_of(p) for p in MODULES
    }


def test_public_surface_loads_lazily_and_completely() -> None:
    import subprocess
    import sys

    code = (
        "import sys, watcher, watcher.config\n"
        "assert 'watcher.core' not in sys.modules, 'config pulled in the core'\n"
        "assert set(watcher.__all__) == {'__version__', *watcher._EXPORTS}\n"
        "missing = [n for n in watcher.__all__ if getattr(watcher, n, None) is None]\n"
        "assert not missing, missing\n"
        "assert watcher.make_watcher.__module__ == 'watcher.core'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
