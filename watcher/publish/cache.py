"""Rendering and writing the site for one publisher, reusing what earlier publishes made.

Three layers of reuse, each keyed by content so a hit is always right:

- the current version's manifest: an entry page (or a later index page) whose reuse tag
  is unchanged is not rendered at all, the writer hardlinks it (render.render_parts);
- the in-memory ``RenderCache`` (pieces.py): pieces of the previous render (articles, pages);
- the article pieces persisted under ``cache_dir/render/`` (one JSON file per render
  fingerprint, replaced atomically), so the first publish after a restart renders only
  what changed instead of 10,000 Markdown paragraphs and templates.

The persisted file is a cache: unreadable or missing, it is ignored (and rewritten); it
is not fsynced, because losing it costs time, never correctness.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import orjson

from watcher.exceptions import ReuseFailed
from watcher.files import write_atomic
from watcher.publish import writer
from watcher.publish.model import SiteContent, WriteReport
from watcher.publish.pieces import RenderCache
from watcher.publish.render import fingerprint, render_parts

log = logging.getLogger("watcher.publish")

ARTICLES = "a:"  # the pieces worth keeping across restarts (index pages are made of them)


def pieces_path(cache_dir: Path, version: str) -> Path:
    return cache_dir / "render" / f"pieces-{version}.json"


def load_pieces(cache_dir: Path, version: str) -> dict[str, str]:
    """The persisted pieces of render fingerprint ``version``; {} when missing or bad."""
    try:
        data = orjson.loads(pieces_path(cache_dir, version).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str)}


def save_pieces(cache_dir: Path, version: str, pieces: dict[str, str]) -> None:
    """Replace the persisted pieces atomically and drop other fingerprints' files."""
    target = pieces_path(cache_dir, version)
    try:
        write_atomic(target, orjson.dumps(pieces))
        for other in target.parent.glob("pieces-*.json"):
            if other != target:
                other.unlink(missing_ok=True)
    except OSError as exc:  # a cache: publishing goes on without it
        log.warning("could not keep rendered pieces in %s: %s", target.parent, exc)


class SiteBuilder:
    """Renders ``SiteContent`` into ``site_dir``, reusing earlier work (see the module's
    doc). One build at a time (publishes hold the lease); exports use ``render_site``."""

    def __init__(self, site_dir: Path, cache_dir: Path) -> None:
        self.site_dir = site_dir
        self.cache_dir = cache_dir
        self._cache: RenderCache | None = None
        self._version = ""

    def cache(self, templates_dir: Path | None = None) -> RenderCache:
        """The render cache, started from the persisted pieces on first use (or when the
        templates changed under a running process)."""
        version = fingerprint(templates_dir)
        if self._cache is None or version != self._version:
            self._cache = RenderCache(load_pieces(self.cache_dir, version))
            self._version = version
        return self._cache

    def build(self, content: SiteContent, timings: dict[str, float]) -> WriteReport:
        """Render what changed and swap the new version in (``stage`` then
        ``writer.swap_site``; ``write`` counts both)."""
        staged = self.stage(content, timings)
        began = time.perf_counter()
        site = writer.swap_site(staged)
        timings["write"] = round(timings["write"] + _since(began), 6)
        return site

    def stage(self, content: SiteContent, timings: dict[str, float]) -> writer.Staged:
        """Render what changed and write the new version beside the served one, durable but
        not served; ``timings`` gets ``render`` (of which ``page_and_feeds``: index pages
        and both feeds), ``write`` and ``cache`` (keeping the pieces for a restart) in
        seconds."""
        started = time.perf_counter()
        cache = self.cache(content.templates_dir)
        previous = writer.current_manifest(self.site_dir)
        rendered = render_parts(content, cache, previous)
        timings["render"] = _since(started)
        timings["page_and_feeds"] = rendered.timings.get("pages_and_feeds", 0.0)
        began = time.perf_counter()
        try:
            staged = writer.stage_site(
                self.site_dir,
                rendered.files,
                content.edition,
                tags=rendered.tags,
                reused=rendered.reused,
            )
        except ReuseFailed as exc:  # the current version lost a file: render it all
            log.warning("%s; rendering every page again", exc)
            rendered = render_parts(content, cache)
            staged = writer.stage_site(
                self.site_dir, rendered.files, content.edition, tags=rendered.tags
            )
        timings["write"] = _since(began)
        began = time.perf_counter()
        if ARTICLES in cache.added:
            save_pieces(self.cache_dir, self._version, cache.pieces(ARTICLES))
        cache.added.clear()
        timings["cache"] = _since(began)
        return staged


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 6)
