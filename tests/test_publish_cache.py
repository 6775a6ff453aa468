"""Reuse across publishes and restarts: unchanged pages are linked, not rendered; rendered
pieces survive a restart in cache_dir; the served site is always what a full render makes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from watcher.publish import cache as site_cache
from watcher.publish import render, writer
from watcher.publish.cache import SiteBuilder
from watcher.publish.render import PAGE_SIZE, RenderCache, render_parts, render_site

from .test_publish_render import content, entry

COUNT = PAGE_SIZE * 2 + 5  # three index pages


def served(site: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(site)): p.read_bytes()
        for p in site.rglob("*")
        if p.is_file() and p.name != writer.MARKER
    }


def counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count article renders (each one is a Markdown paragraph and a template)."""
    calls = [0]
    original = render._article

    def article(*args: object, **kwargs: object) -> str:
        calls[0] += 1
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(render, "_article", article)
    return calls


def test_unchanged_pages_are_reused_by_tag_and_the_result_is_a_full_render(
    tmp_path: Path,
) -> None:
    entries = [entry(i) for i in range(1, COUNT + 1)]
    first = content(*entries)
    rendered = render_parts(first)
    assert not rendered.reused and set(rendered.files) == set(render_site(first))
    previous = dict(rendered.tags)
    edited = list(entries)
    edited[PAGE_SIZE + 3] = replace(edited[PAGE_SIZE + 3], heading="Edited")
    second = replace(first, entries=tuple(edited), edition=4)
    again = render_parts(second, RenderCache(), previous)
    changed = {p for p in again.files if p.startswith(("entries/", "page/"))}
    assert changed == {f"entries/{PAGE_SIZE + 4}.html", "page/2.html"}
    assert "page/3.html" in again.reused and len(again.reused) == (COUNT - 1) + 1  # + page 3
    full = render_site(second)
    assert {**again.files, **{p: full[p] for p in again.reused}} == full


def test_a_restart_renders_only_what_changed_and_serves_a_full_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site, cache_dir = tmp_path / "site", tmp_path / "cache"
    entries = [entry(i, body=f"Paragraph {i}") for i in range(1, COUNT + 1)]
    first = content(*entries, edition=1)
    SiteBuilder(site, cache_dir).build(first, {})
    assert served(site) == render_site(first)
    assert list((cache_dir / "render").glob("pieces-*.json"))

    calls = counting(monkeypatch)
    edited = list(entries)
    edited[7] = replace(edited[7], body="A new paragraph")
    second = replace(first, entries=tuple(edited), edition=2)
    timings: dict[str, float] = {}
    report = SiteBuilder(site, cache_dir).build(second, timings)  # a new process's builder
    assert calls[0] == 1  # the edited entry's article; the rest came from cache_dir
    assert report.linked >= COUNT - 1 and report.written < 10
    assert {"render", "page_and_feeds", "write", "cache"} <= set(timings)
    assert served(site) == render_site(second)


def test_a_file_lost_from_the_current_version_is_rendered_again(tmp_path: Path) -> None:
    site = tmp_path / "site"
    builder = SiteBuilder(site, tmp_path / "cache")
    first = content(*(entry(i) for i in range(1, 6)), edition=1)
    builder.build(first, {})
    (site / "entries" / "3.html").unlink()  # by hand, behind watcher's back
    second = replace(first, edition=2)
    builder.build(second, {})
    assert served(site) == render_site(second)


def test_unreadable_pieces_are_ignored(tmp_path: Path) -> None:
    version = render.fingerprint()
    path = site_cache.pieces_path(tmp_path, version)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x00not json")
    assert site_cache.load_pieces(tmp_path, version) == {}
    site_cache.save_pieces(tmp_path, version, {"a:x": "<p>x</p>"})
    assert site_cache.load_pieces(tmp_path, version) == {"a:x": "<p>x</p>"}


def test_a_title_change_rerenders_every_page(tmp_path: Path) -> None:
    site = tmp_path / "site"
    builder = SiteBuilder(site, tmp_path / "cache")
    first = content(*(entry(i) for i in range(1, 6)), edition=1)
    builder.build(first, {})
    second = replace(first, title="A new title", edition=2)
    report = builder.build(second, {})
    assert report.linked <= 3  # site.css and the two icons at most
    assert served(site) == render_site(second)
