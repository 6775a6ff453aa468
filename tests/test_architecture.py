"""The import direction of the layout, checked on the source so later changes keep it.

Ground (types, limits, exceptions, urls, csp, markup, text, pictures, template_dirs, config,
config_checks, config_reader, config_curate, config_retention, cache_layout, fetch)
imports nothing above it; fetch's helpers (fetch_body, fetch_failures, fetch_slots) are
ground too, imported by fetch alone. Each concept folder (``polling/``, ``review/``,
``accounts/``, ``publish/``, ``deliver/``, ``curate/``, ``retention/``) holds pure rules
and helpers that import only the ground (and their own concept's rules), and one service,
the facade's part, which may also use the store.
``db/`` imports only the ground. ``core`` composes the services; ``web``, ``service`` and
``cli`` reach everything through it. Every module of the package, ``demo/`` included, is
checked.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "watcher"
CONCEPTS = {"polling", "review", "accounts", "publish", "deliver", "curate", "retention"}
GROUND = {
    "types", "limits", "exceptions", "urls", "csp", "markup", "text", "pictures", "cameras",
    "template_dirs", "config",
    "config_checks", "config_reader", "config_curate", "config_retention", "fetch", "files",
    "cache_layout",
}  # fmt: skip
# What each unit may import from watcher (besides itself and its own package's __init__).
RULES = {
    "types": set(),
    "limits": {"types"},
    "exceptions": set(),
    "urls": set(),
    "csp": set(),
    "markup": set(),
    "text": {"types"},
    "pictures": {"types", "urls"},
    "cameras": set(),
    "template_dirs": set(),
    "files": set(),
    "cache_layout": set(),
    "config": {"exceptions", "limits", "types", "template_dirs", "config_checks", "config_reader"},
    "config_checks": {"limits", "template_dirs"},
    "config_reader": {
        "config",
        "config_checks",
        "config_curate",
        "config_retention",
        "exceptions",
    },
    "config_curate": {"config", "config_checks", "config_reader"},
    "config_retention": {"config", "config_checks", "config_reader"},
    # fetch's helpers sit beside it in the ground, but only fetch imports them: every other
    # module reaches HTTP through fetch.Fetcher.
    "fetch_body": {"config", "exceptions", "types"},
    "fetch_failures": {"config", "exceptions", "types"},
    "fetch_slots": {"exceptions"},
    "fetch": {"config", "exceptions", "types", "fetch_body", "fetch_failures", "fetch_slots"},
    "db": GROUND | {"plans"},
    "views": {"types", "markup"},
    "polling.decide": GROUND,
    "polling.sources": GROUND,
    "accounts.passwords": GROUND,
    "publish.model": GROUND,
    "publish.digest": GROUND | {"publish.model"},
    "publish.animate": GROUND | {"publish.model"},
    "publish.status": GROUND,
    "publish.writer": GROUND | {"publish.model"},
    "publish.site_lock": GROUND,
    "publish.feeds": GROUND | {"publish.model"},
    "publish.pieces": set(),
    "publish.page_views": GROUND | {"publish.model"},
    "publish.render": GROUND
    | {"publish.model", "publish.digest", "publish.feeds", "publish.pieces", "publish.page_views"},
    "publish.animator": GROUND | {"publish.animate", "publish.model"},
    "publish.cache": GROUND
    | {"publish.model", "publish.pieces", "publish.render", "publish.writer"},
    "deliver.outbox": GROUND | {"plans"},
    "deliver.links": GROUND | {"deliver.signing"},
    "deliver.signing": GROUND,
    "deliver.channels": GROUND | {"deliver.links", "deliver.signing"},
    "deliver.dispatch": GROUND
    | {"deliver.channels", "deliver.links", "deliver.outbox", "deliver.signing"},
    "deliver.worker": GROUND
    | {"deliver.channels", "deliver.dispatch", "deliver.links", "deliver.outbox"},
    "curate.score": GROUND,
    # curation's pure rules: plain values in, groups out
    "curate.frames": {"types", "cameras"},
    "curate.sequences": {"types", "curate.frames"},
    "curate.groups": {"types", "curate.frames", "curate.sequences"},
    "curate.fingerprint": GROUND,
    "retention.rules": GROUND | {"plans"},
}
# Shared by the services: plans (what storage writes), who may do what, change listeners,
# named leases. A service never imports another service: make_watcher hands it what it needs.
SERVICE = GROUND | {"views", "plans", "permissions", "changes", "leases"}
RULES |= {
    "plans": {"types"},
    "permissions": {"exceptions", "types"},
    "changes": set(),
    "leases": {"exceptions", "types"},
    "polling.store": GROUND | {"plans", "leases"},
    "review.store": GROUND,
    "accounts.store": GROUND,
    "publish.store": GROUND | {"plans", "leases"},
    "deliver.store": GROUND | {"plans"},
    "curate.store": GROUND | {"plans", "leases"},
    "retention.store": GROUND | {"leases"},
    "polling.poller": SERVICE | {"polling.decide", "polling.sources", "polling.store"},
    "polling.checker": SERVICE | {"polling.poller", "polling.sources"},
    "review.desk": SERVICE | {"polling.sources", "review.store"},
    "accounts.editors": SERVICE | {"accounts.passwords", "accounts.store"},
    "publish.publisher": SERVICE
    | {f"publish.{m}" for m in ("model", "digest", "animator", "status", "writer", "render")}
    | {"publish.cache", "publish.store", "publish.site_lock"},
    "deliver.deliverer": SERVICE
    | {f"deliver.{m}" for m in ("outbox", "links", "signing", "channels", "dispatch", "worker")}
    | {"deliver.store"},
    "curate.grouper": SERVICE | {"curate.frames", "curate.groups", "curate.score", "curate.store"},
    "curate.curator": SERVICE | {"curate.fingerprint", "curate.grouper", "curate.store"},
    "retention.pruner": SERVICE | {"retention.rules", "retention.store"},
    # What /metrics shows: the services' reports (handed to it by make_watcher) and
    # the store's figures, as Prometheus metrics.
    "metrics": GROUND | {"publish.model"},
    "core": SERVICE
    | {"db", "metrics"}
    | {"polling.poller", "polling.checker", "review.desk", "accounts.editors"}
    | {"publish.publisher", "publish.model", "deliver.deliverer", "deliver.channels"}
    | {"curate.curator", "retention.pruner"},
    "web": GROUND | {"core", "views", "accounts.passwords"},
    "background": GROUND | {"core"},
    "follower": GROUND | {"core"},
    "service": GROUND | {"core", "web", "background", "follower"},
    "demo": GROUND | {"core", "service", "polling.sources", "accounts.passwords"},
    "cli": GROUND | {"core", "views", "service", "demo"},
}


def unit(module: str) -> str:
    """``watcher.polling.sources.rss`` -> ``polling.sources``; ``watcher.db.review`` -> ``db``;
    ``watcher.types.polling`` -> ``types``: the types package's concept modules are one
    ground unit, which imports nothing else from watcher."""
    parts = module.split(".")[1:]
    if not parts:
        return "__init__"
    if parts[0] in CONCEPTS and len(parts) > 1:
        return f"{parts[0]}.{parts[1]}"
    return parts[0]


def module_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_units(path: Path) -> set[str]:
    """Every watcher unit a module imports, at the most specific name it uses
    (``from watcher.publish import render`` imports ``publish.render``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            base = node.module
            names = [
                f"{base}.{alias.name}" if base.count(".") < 2 else base for alias in node.names
            ]
        for name in names:
            if name == "watcher" or name.startswith("watcher."):
                found.add(unit(name))
    return found


def package_of(unit_name: str) -> str:
    return unit_name.split(".")[0]


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(PACKAGE)) for p in MODULES])
def test_imports_follow_the_layering(path: Path) -> None:
    own = unit(module_of(path))
    if own == "__init__" or own in CONCEPTS:
        return  # a package's __init__ re-exports; what it re-exports is checked at the source
    assert own in RULES, f"{path.relative_to(PACKAGE)}: no layering rule for {own!r}"
    seen = {u for u in imported_units(path) if u not in ("__init__", "__version__")}
    allowed = RULES[own] | {own, package_of(own)}
    extra = {u for u in seen if u not in allowed and u not in CONCEPTS}
    assert not extra, f"{path.relative_to(PACKAGE)} ({own}) must not import {sorted(extra)}"


def test_every_unit_has_a_rule_and_exists() -> None:
    units = {unit(module_of(p)) for p in MODULES} - {"__init__"} - CONCEPTS
    assert not units - set(RULES), f"units without a rule: {sorted(units - set(RULES))}"
    assert not set(RULES) - units, f"rules for units that are gone: {sorted(set(RULES) - units)}"


def test_only_db_touches_sqlalchemy_connections() -> None:
    offenders = sorted(
        str(p.relative_to(PACKAGE))
        for p in MODULES
        if "db" not in p.relative_to(PACKAGE).parts[:1]
        and any(
            isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy")
            for node in ast.walk(ast.parse(p.read_text()))
        )
    )
    assert offenders == []


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


def test_types_package_reexports_every_concept_module() -> None:
    """``from watcher.types import X`` is how every layer imports a type, so the package
    re-exports each public name its concept modules define, and nothing else."""
    import watcher.types

    defined = set()
    for path in (PACKAGE / "types").glob("*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef | ast.FunctionDef):
                defined.add(node.name)
            elif isinstance(node, ast.Assign):
                defined |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    assert set(watcher.types.__all__) == {n for n in defined if not n.startswith("_")}
