"""What the site's templates show, computed here so they hold only loops and conditionals:
an entry's picture and words (``entry_view``), the hero above the list (``hero_entry``),
and the share card of a page (``Share``: Open Graph and Twitter tags, the description).

Pure: no I/O, no clock. Everything a page links to stays relative to the site's root
(so an export works from any host); only the share card is absolute, because Open Graph
demands it: its ``url`` exists only when the site's public address is configured, and its
picture is NASA's own absolute URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC

from markupsafe import Markup

from watcher.cameras import camera_name
from watcher.markup import plain_text, render_markdown
from watcher.pictures import DISPLAY_WIDTH, fit, shown_credit, still
from watcher.publish.model import Animation
from watcher.types import PublishedEntry
from watcher.urls import entry_path

# The widest box a picture gets: the hero above the list and a permalink page's picture.
# The stylesheet's --wide is the same width, so the ``sizes`` attribute tells the truth.
WIDE_WIDTH = 1200
DESCRIPTION_CHARS = 200  # what link previews show of a description, about
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True, slots=True)
class Picture:
    """One entry's picture as the templates need it, URLs already checked (see
    ``watcher.pictures.Still``). ``link`` is the larger file the picture opens; None
    when there is none (the picture is then not a link)."""

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
    href: str  # the permalink, relative to the site's root


@dataclass(frozen=True, slots=True)
class Share:
    """A page as a shared link shows it (Open Graph, Twitter card, meta description).
    ``url`` is the page's absolute address (also its canonical link), None without a
    configured public address; ``image`` is an absolute http(s) URL or None."""

    kind: str  # "website" (the list) or "article" (an entry)
    title: str
    description: str
    url: str | None
    image: str | None = None
    image_alt: str = ""
    image_width: int | None = None
    image_height: int | None = None


def picture(
    entry: PublishedEntry, animation: Animation | None, layout: int = DISPLAY_WIDTH
) -> Picture:
    """The first frame as ``watcher.pictures.still`` shows it in a ``layout``-wide box,
    or the animation when one was built (laid out at its own size, linking to the first
    frame's largest file)."""
    shown = still(entry.frames[0], entry.rendition, layout) if entry.frames else None
    if shown is None:
        return NO_PICTURE
    if animation is not None:
        width, height = fit(animation.width, animation.height, layout)
        largest = shown.largest
        link = None if largest.width and largest.width <= animation.width else largest.url
        return Picture(
            shown.src, None, None, width, height, link, animation.webp_path, animation.gif_path
        )
    return Picture(shown.src, shown.srcset, shown.sizes, shown.width, shown.height, shown.larger)


def meta_line(entry: PublishedEntry, animation: Animation | None = None) -> str:
    """Mission, camera, sol, Mars local time and Earth date, as far as they are known, and
    "animation of N frames" only when the animation exists: a sequence whose animation
    could not be made is shown as its still, promising no motion."""
    parts = []
    if entry.mission:
        parts.append(entry.mission.title())
    if camera := camera_name(entry.camera):
        parts.append(camera)
    if entry.sol is not None:
        parts.append(f"sol {entry.sol}")
    if entry.mars_local_time:
        parts.append(f"{entry.mars_local_time} Mars local time")
    if entry.taken_at is not None:
        day = entry.taken_at.astimezone(UTC)
        parts.append(f"{day.day} {MONTHS[day.month - 1]} {day.year}")
    if animation is not None:
        parts.append(f"animation of {animation.frames} frames")
    return " · ".join(parts)


def entry_view(
    entry: PublishedEntry, animation: Animation | None, layout: int = DISPLAY_WIDTH
) -> EntryView:
    return EntryView(
        entry=entry,
        picture=picture(entry, animation, layout),
        credit=shown_credit(entry.credit),
        body_html=Markup(render_markdown(entry.body)),  # noqa: S704 (sanitised by nh3)
        meta=meta_line(entry, animation),
        href=entry_path(entry.id),
    )


def widened(view: EntryView, animation: Animation | None) -> EntryView:
    """``view`` with its picture in the wide box (a permalink page shows it larger)."""
    return replace(view, picture=picture(view.entry, animation, WIDE_WIDTH))


def newest(entries: Sequence[PublishedEntry]) -> PublishedEntry | None:
    """The entry added last (the list's order is the editors' own)."""
    return max(entries, key=lambda e: (e.created_at, e.id), default=None)


def hero_entry(entries: Sequence[PublishedEntry]) -> PublishedEntry | None:
    """The entry whose picture leads the list: the newest addition, which otherwise sits
    at the list's end; None when the list is empty or that entry is its first (it would
    stand twice in a row) or has no picture."""
    lead = newest(entries)
    if lead is None or lead is entries[0] or not lead.frames:
        return None
    return lead


def described(text: str) -> str:
    """Plain words cut at a word to about ``DESCRIPTION_CHARS``."""
    words = plain_text(text)
    if len(words) <= DESCRIPTION_CHARS:
        return words
    return words[:DESCRIPTION_CHARS].rsplit(" ", 1)[0].rstrip(",;:.") + "…"


def entry_share(view: EntryView, public_url: str | None) -> Share:
    """An entry's permalink page as a shared link: its heading, paragraph and picture."""
    entry = view.entry
    url = f"{public_url}/{view.href}" if public_url else None
    share = Share("article", entry.heading, described(entry.body) or entry.heading, url)
    return _with_picture(share, entry)


def list_share(
    title: str, intro: str, lead: PublishedEntry | None, public_url: str | None, path: str
) -> Share:
    """An index page (``path`` from the root: "" for the first) as a shared link: the
    list's title and intro, and the picture of ``lead``."""
    url = f"{public_url}/{path}" if public_url else None
    share = Share("website", title, described(intro), url)
    return _with_picture(share, lead) if lead is not None else share


def _with_picture(share: Share, entry: PublishedEntry) -> Share:
    """The editor's rendition of the entry's first frame, described with its credit."""
    shown = still(entry.frames[0], entry.rendition) if entry.frames else None
    if shown is None:
        return share
    alt = " ".join((entry.alt_text or entry.heading).split()).rstrip(".")
    return replace(
        share,
        image=shown.chosen.url,
        image_alt=f"{alt}. Image courtesy of {shown_credit(entry.credit)}",
        image_width=shown.chosen.width,
        image_height=shown.chosen.height,
    )
