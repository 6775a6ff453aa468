"""What readers see of an entry's picture: which file, at what size, what "larger" opens,
and whose credit. One set of rules for the site's pages, the Atom and JSON feeds and the
subscribers' mail, so the three cannot drift apart; it sits below ``publish`` and
``deliver`` because those two never import each other (DESIGN.md, "Import direction").

A frame names up to four files (thumbnail, medium, large, full) but says only the full
image's size. Laying any file out at that size stretched a 320-px thumbnail to the 800-px
column, so each file's width is learnt from what its URL states, never by fetching it:

- raw images: ``…_320.jpg``, ``…_800.jpg``, ``…_1200.jpg``; the full file is the record's size;
- WordPress (nasa.gov, science.nasa.gov): ``?w=NNN`` or ``?resize=W,H``;
- the image library (``~thumb`` … ``~orig``): unknown, except that ``~orig`` is the full file.

No file is wider than the full image (NASA's resizers do not enlarge), so a width a URL
states is capped by it. A width that cannot be learnt stays unknown: nothing then claims a
size, and the stylesheet shows the file at most at its natural size.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from watcher.types import Frame
from watcher.urls import shown_url

RANKS = ("thumbnail", "medium", "large", "full")  # smallest file first
DEFAULT_RENDITION = "large"  # what an entry without a (known) choice loads at most
DISPLAY_WIDTH = 800  # the site's column; wider files are shown scaled down to it
# The credit shown when an entry has none (entries approved before credits had a fallback).
# The same words as watcher.polling.sources.credits.DEFAULT_CREDIT; a test keeps the two equal.
DEFAULT_CREDIT = "NASA"

_RAW_SIZE = re.compile(r"_(320|800|1200)\.(?:jpe?g|png)$", re.IGNORECASE)
_WP_WIDTH = re.compile(r"(?:^|&)w=(\d{1,5})(?=&|$)")
_WP_RESIZE = re.compile(r"(?:^|&)resize=(\d{1,5})(?:,|%2C)(\d{1,5})(?=&|$)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Rendition:
    """One file of a frame: its name in ``RANKS``, its URL (http(s) only) and, when known
    without fetching it, its natural width and height."""

    name: str
    url: str
    width: int | None
    height: int | None


@dataclass(frozen=True, slots=True)
class Still:
    """A frame as a page shows it.

    ``chosen`` is the editor's rendition as far as it exists: the largest file the
    picture loads. ``src`` is the smallest file, up to ``chosen``, that fills the box
    without being enlarged; ``srcset``/``sizes`` offer the files from it to ``chosen`` to
    dense screens (none is narrower than the box). ``width``/``height`` are the box: the
    chosen file's width, at most the column's (None when that width is unknown: then
    ``src`` is ``chosen`` and the stylesheet keeps it at its natural size).
    ``larger`` is the file "click for a larger version" opens: the largest one, when it is
    larger than ``chosen``; else None and there is no such link.
    """

    src: str
    width: int | None
    height: int | None
    srcset: str | None
    sizes: str | None
    chosen: Rendition
    largest: Rendition
    larger: str | None


def safe_url(url: str | None) -> str | None:
    """``url`` as a browser will read it when it is http(s), else None. URLs were cleaned
    against the image hosts when they were stored; this check (``shown_url``) keeps
    ``javascript:`` and friends out whatever happened since, and any URL a browser would
    read as another host than the one it was checked as. Attribute escaping is the
    template's job."""
    return shown_url(url)


def shown_credit(credit: str | None) -> str:
    """The credit line's words: the entry's own, or ``DEFAULT_CREDIT`` when it has none
    (a page never says "Image courtesy of" and nothing)."""
    return " ".join((credit or "").split()) or DEFAULT_CREDIT


def url_size(url: str) -> tuple[int | None, int | None]:
    """The (width, height) a rendition's URL states; None for what it does not say."""
    address = url.partition("#")[0]
    path, _, query = address.partition("?")
    if query:
        resized = _WP_RESIZE.search(query)
        if resized:
            return _positive(int(resized.group(1))), _positive(int(resized.group(2)))
        width = _WP_WIDTH.search(query)
        if width:
            return _positive(int(width.group(1))), None
    raw = _RAW_SIZE.search(path)
    if raw:
        return int(raw.group(1)), None
    return None, None


def renditions(frame: Frame) -> tuple[Rendition, ...]:
    """The frame's files, smallest first, each URL once (under its smallest name, so a
    file listed as both "large" and "full" counts as the large one that exists), each
    with the width it can be known to have and never wider than the full image."""
    full_width, full_height = _positive(frame.width), _positive(frame.height)
    if full_width is None or full_height is None:
        full_height = None
    full_url = safe_url(frame.full_url)
    urls = (frame.thumbnail_url, frame.medium_url, frame.large_url, frame.full_url)
    found: list[Rendition] = []
    seen: set[str] = set()
    for name, given in zip(RANKS, urls, strict=True):
        url = safe_url(given)
        if url is None or url in seen:
            continue
        seen.add(url)
        width, height = url_size(url)
        if width is None and url == full_url:
            width, height = full_width, full_height
        if width is not None and full_width is not None and width > full_width:
            width, height = full_width, full_height
        if width is not None and height is None and full_width and full_height:
            height = max(1, round(width * full_height / full_width))
        found.append(Rendition(name, url, width, height))
    return tuple(found)


def choose(files: tuple[Rendition, ...], wanted: str) -> Rendition:
    """The editor's rendition, honoured up to the largest file there is: when it does not
    exist, the largest file below it; only when none is below, the nearest above it (the
    least more than was asked for). ``files`` is ``renditions()``, not empty."""
    rank = RANKS.index(wanted if wanted in RANKS else DEFAULT_RENDITION)
    below = [f for f in files if RANKS.index(f.name) <= rank]
    return below[-1] if below else files[0]


def fit(width: int, height: int | None, layout: int) -> tuple[int, int | None]:
    """A ``width`` x ``height`` picture's box in a ``layout``-wide column: its own size,
    or scaled down to the column keeping the aspect ratio (never enlarged)."""
    if width <= layout:
        return width, height
    return layout, max(1, round(height * layout / width)) if height else None


def still(frame: Frame, rendition: str, layout: int = DISPLAY_WIDTH) -> Still | None:
    """How ``frame`` is shown when the editor chose ``rendition`` (see ``Still``); None
    when it has no usable file."""
    files = renditions(frame)
    if not files:
        return None
    chosen = choose(files, rendition)
    largest = files[-1]
    bigger = largest.width is None or chosen.width is None or largest.width > chosen.width
    larger = largest.url if largest is not chosen and bigger else None
    if chosen.width is None:
        return Still(chosen.url, None, None, None, None, chosen, largest, larger)
    width, height = fit(chosen.width, chosen.height, layout)
    fill: dict[int, Rendition] = {}
    for file in files[: files.index(chosen) + 1]:
        if file.width is not None and width <= file.width <= chosen.width:
            fill.setdefault(file.width, file)
    shown = sorted(fill.items())
    srcset = sizes = None
    if len(shown) > 1:
        srcset = ", ".join(f"{file.url} {w}w" for w, file in shown)
        sizes = f"(max-width: {width}px) 100vw, {width}px"
    return Still(shown[0][1].url, width, height, srcset, sizes, chosen, largest, larger)


def _positive(value: int | None) -> int | None:
    return value if value is not None and value > 0 else None
