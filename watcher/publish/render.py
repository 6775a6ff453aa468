"""The public site as bytes: ``render_site(content)`` maps relative paths to file contents.

Pure: everything comes from ``SiteContent`` (no clock, no database, no network), so the
same content always renders the same bytes, and the writer can hardlink every file that did
not change. For that reason only the first index page carries the edition and its time;
entry pages and later index pages change only when what they show changes.

Layout (every link relative, so the copy works from ``file://`` or any host)::

    index.html            title, intro, status line, entries 1..PAGE_SIZE in list order
    page/<n>.html         the following pages (PAGE_SIZE entries each)
    entries/<id>.html     one permalink page per entry (the URL the feeds link to)
    feed.atom, feed.json  the newest entries (see feeds.py)
    site.css              the stylesheet
    favicon.svg, favicon.ico   the site's icon (every page links the SVG)
    animations/<key>.webp|.gif   frame sequences (see animate.py)

Paginated because 10,000 entries of large pictures on one page is several megabytes of
HTML before a single image loads; 100 entries a page keeps a page under ~300 KB.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape
from markupsafe import Markup

from watcher.config import DEFAULT_INTRO, DEFAULT_TITLE
from watcher.markup import render_markdown
from watcher.publish.digest import digest
from watcher.publish.feeds import atom_feed, json_feed
from watcher.publish.model import RenderedSite, SiteContent
from watcher.publish.page_views import (
    WIDE_WIDTH,
    EntryView,
    entry_share,
    entry_view,
    hero_entry,
    list_share,
    newest,
    widened,
)
from watcher.publish.pieces import RenderCache
from watcher.template_dirs import effective_files, search_path
from watcher.text import clean_text, is_safe, safe_entry
from watcher.types import PublishedEntry
from watcher.urls import entry_path

PAGE_SIZE = 100
EAGER_IMAGES = 3  # the first pictures of a page load at once; the rest lazily
PACKAGE = Path(__file__).resolve().parent.parent
# Bump when rendering changes in a way the fingerprint cannot see (it hashes the
# templates, this module, page_views.py, pictures.py, urls.py and markup.py): cached
# pieces and reused pages are then dropped.
RENDER_VERSION = 2
STATIC_FILES = ("site.css", "favicon.svg", "favicon.ico")  # copied from watcher/static


@lru_cache(maxsize=4)
def environment(templates_dir: Path | None = None) -> Environment:
    """The site's templates (``site/``), the operator's ``templates_dir`` first."""
    env = Environment(
        loader=FileSystemLoader(search_path(templates_dir, "site")),
        autoescape=select_autoescape(["html", "xml"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates are read once per process (as ``fingerprint`` is): no stat() of
        # base.html and _figure.html at each of 20,000 renders.
        auto_reload=False,
    )
    env.filters["utc"] = utc
    return env


def utc(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def page_path(number: int) -> str:
    return "index.html" if number == 1 else f"page/{number}.html"


def pages(count: int) -> int:
    return max(1, -(-count // PAGE_SIZE))


def fingerprint(templates_dir: Path | None = None) -> str:
    """What rendered pieces depend on besides their content: the templates (the operator's
    where ``templates_dir`` has them), this module, the Markdown renderer and the libraries'
    versions. Part of every cache key and reuse tag, so changing a template re-renders
    everything once (no stale page survives)."""
    return _fingerprint(PACKAGE, templates_dir)


@lru_cache(maxsize=4)
def _fingerprint(package: Path, templates_dir: Path | None) -> str:
    hasher = hashlib.sha256(f"render {RENDER_VERSION}".encode())
    templates = effective_files(templates_dir, "site")
    code = [
        package / "publish" / "render.py",
        package / "publish" / "page_views.py",
        package / "pictures.py",
        package / "urls.py",
        package / "markup.py",
    ]
    sources = [*templates.items(), *((path.name, path) for path in code)]
    for name, path in sources:
        hasher.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    for name in ("jinja2", "markdown-it-py", "nh3", "markupsafe"):
        hasher.update(f"{name}={metadata.version(name)}".encode())
    return hasher.hexdigest()[:16]


def _article(view: EntryView, root: str, lazy: bool, templates_dir: Path | None) -> str:
    template = environment(templates_dir).get_template("_article.html")
    return template.render(view=view, root=root, lazy=lazy)


def _page(run: _Run, articles: list[str], number: int, intro: Markup) -> bytes:
    """An index page; the first carries the status line and the hero."""
    content = run.content
    root = "" if number == 1 else "../"
    hero = None
    if number == 1 and (lead := hero_entry(content.entries)) is not None:
        hero = entry_view(lead, content.animations.get(lead.id), WIDE_WIDTH)
    # A later page shows its own first picture when shared: its tag then stays the same
    # when an entry is added elsewhere.
    lead = newest(content.entries) if number == 1 else content.entries[(number - 1) * PAGE_SIZE]
    path = "" if number == 1 else page_path(number)
    share = list_share(run.title, content.intro or DEFAULT_INTRO, lead, content.public_url, path)
    html = run.index_template.render(
        root=root,
        title=run.title,
        intro=intro,
        first=number == 1,
        edition=content.edition,
        updated=content.updated,
        notes=content.notes,
        hero=hero,
        share=share,
        articles=[Markup(article) for article in articles],  # noqa: S704 (rendered escaped)
        page=number,
        pages=run.total,
        previous=root + page_path(number - 1) if number > 1 else None,
        next=root + page_path(number + 1) if number < run.total else None,
        first_href=root + "index.html",
        subscribe=content.subscribe,
        policy=content.policy,
    )
    return html.encode()


def render_site(content: SiteContent, cache: RenderCache | None = None) -> dict[str, bytes]:
    """Every file of the site (relative path -> bytes). With ``cache`` (kept by the caller
    between renders) an unchanged entry's pieces are reused instead of rendered again."""
    return render_parts(content, cache).files


def render_parts(
    content: SiteContent,
    cache: RenderCache | None = None,
    previous: Mapping[str, str] | None = None,
) -> RenderedSite:
    """The site as ``render_site`` makes it, except that an entry page or a later index
    page whose reuse tag equals ``previous[path]`` (the tags the current version was
    written with) is not rendered at all: it is listed in ``reused`` for the writer to
    hardlink. Every other file is in ``files``; ``tags`` holds the tag of each taggable
    one, for the next render to compare with."""
    content = safe_content(content)
    run = _Run.of(content, cache or RenderCache(), previous or {})
    out = _Output()
    started = time.perf_counter()
    listed = _render_entries(run, out)
    finished_entries = time.perf_counter()
    _render_index_pages(run, listed, out)
    run.cache.rotate()
    out.files.update(_animations_style_and_feeds(content))
    finished = time.perf_counter()
    timings = {
        "entries": finished_entries - started,
        "pages_and_feeds": finished - finished_entries,
    }
    return RenderedSite(files=out.files, tags=out.tags, reused=tuple(out.reused), timings=timings)


def safe_content(content: SiteContent) -> SiteContent:
    """``content`` without a character the feeds' XML cannot hold, whatever the database
    kept: text stored before the text rule (or typed into the config) must never stop a
    publish. The content itself when all is clean, which costs one check per entry."""
    entries = tuple(safe_entry(entry) for entry in content.entries)
    changes: dict[str, Any] = {}
    if any(a is not b for a, b in zip(content.entries, entries, strict=True)):
        changes["entries"] = entries
    for name in ("title", "intro", "base_url"):
        value = getattr(content, name)
        if not is_safe(value):
            changes[name] = clean_text(value)
    for name in ("subscribe", "public_url"):
        value = getattr(content, name)
        if value is not None and not is_safe(value):
            changes[name] = clean_text(value)
    if not all(is_safe(note) for note in content.notes):
        changes["notes"] = tuple(clean_text(note) for note in content.notes)
    if not all(is_safe(hub) for hub in content.hubs):
        changes["hubs"] = tuple(hub for hub in content.hubs if is_safe(hub))
    return replace(content, **changes) if changes else content


@dataclass(frozen=True, slots=True)
class _Run:
    """What every piece of one render depends on besides its own entry.

    ``version`` (the fingerprint) keys the articles; ``context`` adds what a whole page
    shows besides its entries (the title, the subscribe form, the public address, the
    Content-Security-Policy) and keys
    the pages and tags; ``listing`` adds the intro, which later index pages describe
    themselves with.
    """

    content: SiteContent
    cache: RenderCache
    previous: Mapping[str, str]
    digests: Mapping[int, str]
    title: str
    version: str
    context: str
    listing: str
    total: int
    entry_template: Template
    index_template: Template

    @classmethod
    def of(cls, content: SiteContent, cache: RenderCache, previous: Mapping[str, str]) -> _Run:
        title = content.title or DEFAULT_TITLE
        version = fingerprint(content.templates_dir)
        shared = f"{version}\0{title}\0{content.subscribe}\0{content.public_url}\0{content.policy}"
        context = hashlib.sha256(shared.encode()).hexdigest()[:16]
        listing = hashlib.sha256(f"{context}\0{content.intro}".encode()).hexdigest()[:16]
        templates = environment(content.templates_dir)
        return cls(
            content=content,
            cache=cache,
            previous=previous,
            digests=content.digests or {},
            title=title,
            version=version,
            context=context,
            listing=listing,
            total=pages(len(content.entries)),
            entry_template=templates.get_template("entry.html"),
            index_template=templates.get_template("index.html"),
        )


@dataclass(slots=True)
class _Output:
    """What a render has made so far: files by path, their reuse tags, the reused paths."""

    files: dict[str, bytes] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    reused: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Listed:
    """Each index page's articles in list order, and their cache keys: the keys say what
    a later index page shows, so they make its reuse tag."""

    articles: list[list[str]]
    keys: list[list[str]]


@dataclass(frozen=True, slots=True)
class _EntryKeys:
    """Where one entry's pieces are found: the article's cache key (it depends on the
    entry's index page: relative links, eager or lazy image), the permalink page's path
    and reuse tag, and the page's cache key, None when the tag still holds (not rendered)."""

    number: int  # the index page, from 0
    lazy: bool
    article: str
    path: str
    tag: str
    page: str | None


def _entry_keys(run: _Run, entry: PublishedEntry, index: int) -> _EntryKeys:
    animation = run.content.animations.get(entry.id)
    shown = run.digests.get(entry.id) or digest(entry)
    anim = f"{animation.key}.{animation.width}x{animation.height}" if animation else "-"
    number, place = divmod(index, PAGE_SIZE)
    lazy = place >= EAGER_IMAGES
    path = entry_path(entry.id)
    tag = f"t:{run.context}.{shown}.{anim}.{number + 1}"
    page_wanted = run.previous.get(path) != tag
    return _EntryKeys(
        number=number,
        lazy=lazy,
        article=f"a:{run.version}.{shown}.{anim}.{number > 0:d}{lazy:d}",
        path=path,
        tag=tag,
        page=f"p:{run.context}.{shown}.{anim}.{number + 1}" if page_wanted else None,
    )


def _render_entries(run: _Run, out: _Output) -> _Listed:
    """Every entry's article, for its index page, and its permalink page, into ``out``."""
    listed = _Listed([[] for _ in range(run.total)], [[] for _ in range(run.total)])
    for index, entry in enumerate(run.content.entries):
        keys = _entry_keys(run, entry, index)
        listed.keys[keys.number].append(keys.article)
        listed.articles[keys.number].append(_render_entry(run, entry, keys, out))
    return listed


def _render_entry(run: _Run, entry: PublishedEntry, keys: _EntryKeys, out: _Output) -> str:
    """One entry's article (returned) and permalink page (into ``out``, or listed as reused),
    each taken from the cache when it has them; the view is built only for what it lacks."""
    article = run.cache.lookup(keys.article)
    page = run.cache.lookup(keys.page) if keys.page is not None else None
    if article is None or (keys.page is not None and page is None):
        view = entry_view(entry, run.content.animations.get(entry.id))
        if article is None:
            root = "" if keys.number == 0 else "../"
            html = _article(view, root, keys.lazy, run.content.templates_dir)
            article = run.cache.keep(keys.article, html)
        if keys.page is not None and page is None:
            page = run.cache.keep(keys.page, _entry_page(run, view, keys.number))
    if page is None:
        out.reused.append(keys.path)
    else:
        out.files[keys.path] = page.encode()
        out.tags[keys.path] = keys.tag
    return article


def _entry_page(run: _Run, view: EntryView, number: int) -> str:
    """An entry's permalink page, its picture in the wide box; its back link returns to
    the entry on its index page."""
    back = "../" + page_path(number + 1) + f"#entry-{view.entry.id}"
    return run.entry_template.render(
        root="../",
        title=run.title,
        view=widened(view, run.content.animations.get(view.entry.id)),
        back=back,
        share=entry_share(view, run.content.public_url),
        subscribe=run.content.subscribe,
        policy=run.content.policy,
    )


def _render_index_pages(run: _Run, listed: _Listed, out: _Output) -> None:
    """The index pages into ``out``. The first is always rendered (it carries the edition);
    a later one is reused when its tag (what it shows) is unchanged."""
    intro: Markup | None = None
    for number in range(1, run.total + 1):
        path = page_path(number)
        if number > 1:
            keys = "\n".join(listed.keys[number - 1])
            seen = f"{run.listing}\0{number}\0{run.total}\0{keys}".encode()
            tag = "t:" + hashlib.sha256(seen).hexdigest()
            if run.previous.get(path) == tag:
                out.reused.append(path)
                continue
            out.tags[path] = tag
        if intro is None:
            intro = Markup(render_markdown(run.content.intro))  # noqa: S704 (sanitised by nh3)
        out.files[path] = _page(run, listed.articles[number - 1], number, intro)


def _animations_style_and_feeds(content: SiteContent) -> dict[str, bytes]:
    """The files rendered whole at every publish: built elsewhere or cheap to make."""
    files: dict[str, bytes] = {}
    for animation in content.animations.values():
        files[animation.webp_path] = animation.webp
        files[animation.gif_path] = animation.gif
    for name in STATIC_FILES:
        files[name] = (PACKAGE / "static" / name).read_bytes()
    files["feed.atom"] = atom_feed(content)
    files["feed.json"] = json_feed(content)
    return files
