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
    animations/<key>.webp|.gif   frame sequences (see animate.py)

Paginated because 10,000 entries of large pictures on one page is several megabytes of
HTML before a single image loads; 100 entries a page keeps a page under ~300 KB.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from watcher.config import DEFAULT_TITLE
from watcher.markup import render_markdown
from watcher.pictures import DISPLAY_WIDTH, fit, shown_credit, still
from watcher.publish.digest import digest
from watcher.publish.feeds import atom_feed, json_feed
from watcher.publish.model import Animation, RenderedSite, SiteContent
from watcher.template_dirs import effective_files, search_path
from watcher.types import PublishedEntry
from watcher.urls import entry_path

PAGE_SIZE = 100
EAGER_IMAGES = 3  # the first pictures of a page load at once; the rest lazily
PACKAGE = Path(__file__).resolve().parent.parent
# Bump when rendering changes in a way the fingerprint cannot see (it hashes the
# templates, this module, pictures.py and markup.py): cached pieces and reused pages are
# then dropped.
RENDER_VERSION = 1


@dataclass(frozen=True, slots=True)
class Picture:
    """One entry's picture as the templates need it, URLs already checked (see
    ``watcher.pictures.Still``). ``link`` is the larger file the picture opens; None
    when there is none (no link, no "click for a larger version")."""

    src: str | None
    srcset: str | None
    sizes: str | None
    width: int | None
    height: int | None
    link: str | None
    webp: str | None = None
    gif: str | None = None


NO_PICTURE = Picture(None, None, None, None, None, None)


@dataclass(frozen=True, slots=True)
class EntryView:
    entry: PublishedEntry
    picture: Picture
    credit: str
    body_html: Markup
    meta: str
    href: str  # the permalink, relative to the site root


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


def picture(entry: PublishedEntry, animation: Animation | None) -> Picture:
    """The first frame as ``watcher.pictures.still`` shows it, or the animation when one
    was built (laid out at its own size, linking to the first frame's largest file)."""
    shown = still(entry.frames[0], entry.rendition) if entry.frames else None
    if shown is None:
        return NO_PICTURE
    if animation is not None:
        width, height = fit(animation.width, animation.height, DISPLAY_WIDTH)
        largest = shown.largest
        link = None if largest.width and largest.width <= animation.width else largest.url
        return Picture(
            shown.src, None, None, width, height, link, animation.webp_path, animation.gif_path
        )
    return Picture(shown.src, shown.srcset, shown.sizes, shown.width, shown.height, shown.larger)


def meta_line(entry: PublishedEntry) -> str:
    """Mission, camera, sol, Mars local time and Earth date, as far as they are known."""
    parts = []
    if entry.mission:
        parts.append(entry.mission.title())
    if entry.camera:
        parts.append(entry.camera.replace("_", " "))
    if entry.sol is not None:
        parts.append(f"sol {entry.sol}")
    if entry.mars_local_time:
        parts.append(f"{entry.mars_local_time} Mars local time")
    if entry.taken_at is not None:
        parts.append(entry.taken_at.astimezone(UTC).strftime("%Y-%m-%d"))
    return " · ".join(parts)


def entry_view(entry: PublishedEntry, animation: Animation | None) -> EntryView:
    return EntryView(
        entry=entry,
        picture=picture(entry, animation),
        credit=shown_credit(entry.credit),
        body_html=Markup(render_markdown(entry.body)),  # noqa: S704 (sanitised by nh3)
        meta=meta_line(entry),
        href=entry_path(entry.id),
    )


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
    code = [package / "publish" / "render.py", package / "pictures.py", package / "markup.py"]
    sources = [*templates.items(), *((path.name, path) for path in code)]
    for name, path in sources:
        hasher.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    for name in ("jinja2", "markdown-it-py", "nh3", "markupsafe"):
        hasher.update(f"{name}={metadata.version(name)}".encode())
    return hasher.hexdigest()[:16]


class RenderCache:
    """Pieces rendered before, reused when their key (content digest plus everything else
    a piece depends on) is the same, so a hit is always right.

    Only the pieces used by the latest render are kept (memory stays at one site's
    worth). ``seed`` starts it from a persisted copy (see cache.py); ``added`` holds
    the kinds of piece rendered anew (the caller clears it once it kept them). Not
    thread-safe: one render at a time per cache.
    """

    def __init__(self, seed: Mapping[str, str] | None = None) -> None:
        self._old: dict[str, str] = dict(seed or {})
        self._new: dict[str, str] = {}
        self.added: set[str] = set()  # key prefixes ("a:", "p:") of pieces made since

    def lookup(self, key: str) -> str | None:
        value = self._new.get(key)
        if value is None:
            value = self._old.get(key)
            if value is not None:
                self._new[key] = value
        return value

    def keep(self, key: str, value: str) -> str:
        self._new[key] = value
        self.added.add(key[:2])
        return value

    def rotate(self) -> None:
        self._old, self._new = self._new, {}

    def pieces(self, prefix: str = "") -> dict[str, str]:
        """The pieces of the latest render (after ``rotate``) whose key starts ``prefix``."""
        return {k: v for k, v in self._old.items() if k.startswith(prefix)}


def _article(view: EntryView, root: str, lazy: bool, templates_dir: Path | None) -> str:
    template = environment(templates_dir).get_template("_article.html")
    return template.render(view=view, root=root, lazy=lazy)


def _page(
    content: SiteContent, articles: list[str], number: int, total: int, intro: Markup
) -> bytes:
    root = "" if number == 1 else "../"
    html = (
        environment(content.templates_dir)
        .get_template("index.html")
        .render(
            root=root,
            title=content.title or DEFAULT_TITLE,
            intro=intro,
            first=number == 1,
            edition=content.edition,
            updated=content.updated,
            notes=content.notes,
            articles=[Markup(article) for article in articles],  # noqa: S704 (rendered escaped)
            page=number,
            pages=total,
            previous=root + page_path(number - 1) if number > 1 else None,
            next=root + page_path(number + 1) if number < total else None,
            first_href=root + "index.html",
            subscribe=content.subscribe,
        )
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
    cache = cache or RenderCache()
    previous = previous or {}
    digests = content.digests or {}
    title = content.title or DEFAULT_TITLE
    version = fingerprint(content.templates_dir)
    shared = f"{version}\0{title}\0{content.subscribe:d}"
    context = hashlib.sha256(shared.encode()).hexdigest()[:16]
    started = time.perf_counter()
    total = pages(len(content.entries))
    page_template = environment(content.templates_dir).get_template("entry.html")
    files: dict[str, bytes] = {}
    tags: dict[str, str] = {}
    reused: list[str] = []
    articles: list[list[str]] = [[] for _ in range(total)]
    article_keys: list[list[str]] = [[] for _ in range(total)]
    for index, entry in enumerate(content.entries):
        animation = content.animations.get(entry.id)
        shown = digests.get(entry.id) or digest(entry)
        anim = f"{animation.key}.{animation.width}x{animation.height}" if animation else "-"
        number, place = divmod(index, PAGE_SIZE)
        root, lazy = ("" if number == 0 else "../"), place >= EAGER_IMAGES
        article_key = f"a:{version}.{shown}.{anim}.{number > 0:d}{lazy:d}"
        path = entry_path(entry.id)
        tag = f"t:{context}.{shown}.{anim}.{number + 1}"
        article_keys[number].append(article_key)
        article = cache.lookup(article_key)
        page_wanted = previous.get(path) != tag
        page = None
        if page_wanted:
            page_key = f"p:{context}.{shown}.{anim}.{number + 1}"
            page = cache.lookup(page_key)
        if article is None or (page_wanted and page is None):
            view = entry_view(entry, animation)
            if article is None:
                article = cache.keep(article_key, _article(view, root, lazy, content.templates_dir))
            if page_wanted and page is None:
                back = "../" + page_path(number + 1) + f"#entry-{entry.id}"
                page = cache.keep(
                    page_key,
                    page_template.render(
                        root="../", title=title, view=view, back=back, subscribe=content.subscribe
                    ),
                )
        articles[number].append(article)
        if page is None:
            reused.append(path)
        else:
            files[path] = page.encode()
            tags[path] = tag
    finished_entries = time.perf_counter()
    intro: Markup | None = None
    for number in range(1, total + 1):
        path = page_path(number)
        if number > 1:
            keys = "\n".join(article_keys[number - 1])
            seen = f"{context}\0{number}\0{total}\0{keys}".encode()
            tag = "t:" + hashlib.sha256(seen).hexdigest()
            if previous.get(path) == tag:
                reused.append(path)
                continue
            tags[path] = tag
        if intro is None:
            intro = Markup(render_markdown(content.intro))  # noqa: S704 (sanitised by nh3)
        files[path] = _page(content, articles[number - 1], number, total, intro)
    cache.rotate()
    for animation in content.animations.values():
        files[animation.webp_path] = animation.webp
        files[animation.gif_path] = animation.gif
    files["site.css"] = (PACKAGE / "static" / "site.css").read_bytes()
    files["feed.atom"] = atom_feed(content)
    files["feed.json"] = json_feed(content)
    finished = time.perf_counter()
    timings = {
        "entries": finished_entries - started,
        "pages_and_feeds": finished - finished_entries,
    }
    return RenderedSite(files=files, tags=tags, reused=tuple(reused), timings=timings)
