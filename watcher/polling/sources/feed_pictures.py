"""Which picture an RSS or Atom item shows, and its renditions; never a logo or an icon.

Feeds name a picture in several places, trusted in this order: an enclosure, the widest
``media:content`` image, ``media:thumbnail``, else the lead picture of the item's HTML.
nasa.gov's WordPress feed has no enclosures: the picture is the post's lead ``<img>``, which
is not always its first (a press release may open with the NASA logo; see
``PictureFinder._lead``), and a post's ``<img>`` carries its renditions in ``srcset``.
Every URL is resolved against the item and must be on an allowed image host.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urljoin

from watcher.polling.sources.common import list_of, positive, text
from watcher.polling.sources.html import Html, Img
from watcher.urls import resolve_url

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".tif", ".tiff", ".avif")
THUMBNAIL_MIN_WIDTH = 300
MEDIUM_MIN_WIDTH = 800
MIN_PICTURE_SIZE = 200  # declared pixels below which an image is an icon, not a picture

_DRUPAL_STYLE = re.compile(r"^(https?://[^?#]*?/)styles/[^/?#]+/public/([^?#]+)")
# Words in an image's path that name it as no picture: nasa.gov's press releases lead with
# "nasa_meatball_1_2.jpeg", and WordPress pages carry avatars, emoji and spacers.
_NOT_A_PICTURE = re.compile(
    r"(?:^|[^a-z0-9])(?:[a-z0-9]*logos?|icons?|favicon|avatars?|gravatar|emojis?|smil(?:ey|ies)"
    r"|sprites?|placeholder|meatball)(?:[^a-z0-9]|$)"
    # tracking pixels, by whole name only: "styles/1x1_cardfeed/" holds real (square) pictures
    r"|/(?:pixel|spacer|blank|1x1|transparent|clear)\.[a-z]+$"
)
_NOT_A_PICTURE_CLASS = re.compile(r"(?:^|[-_])(?:logo|icon|avatar|gravatar|emoji|smiley)(?:[-_]|$)")
# Theme and core assets (nasa.gov's "default-thumbnail.jpg" placeholder), never a post's own.
_SITE_ASSETS = ("/wp-content/themes/", "/wp-includes/")
# imgix-style ``fit`` values that cut the picture; ``fit=clip`` (nasa.gov's ``src``) does not.
_CROPPING_FITS = frozenset(("crop", "facearea"))


class PictureFinder:
    """Finds an item's picture; ``clean`` allowlists each URL (the adapter's URL cleaner)."""

    def __init__(self, clean: Callable[[object], str | None]) -> None:
        self._clean = clean

    def find(
        self, record: dict[str, Any], pages: list[Html], base: str, page_url: str | None
    ) -> tuple[dict[str, Any], tuple[Html, Img] | None] | str:
        """Image URLs (and size) of an entry, and the ``<img>`` they came from if any; or why
        it has none. Enclosure, media:content, media:thumbnail, else the lead picture of its
        content or summary HTML (``_lead``), in that order of trust; never a logo or icon."""
        found: dict[str, Any] = {}
        enclosures = [
            link for link in list_of(record.get("links"), dict) if link.get("rel") == "enclosure"
        ]
        for enclosure in enclosures + list_of(record.get("enclosures"), dict):
            href = self.url(enclosure.get("href"), base)
            if href and _is_image(enclosure.get("type"), href) and not _no_picture(href):
                style = _DRUPAL_STYLE.match(href)
                if style:  # a derived crop (Drupal image style): its source is the original
                    found["thumbnail_url"] = href
                    found["full_url"] = self.url(style.group(1) + style.group(2), base)
                else:
                    found["full_url"] = href
                break
        if not found.get("full_url"):
            found.update(self._media_content(record, base) or {})
        if not found.get("thumbnail_url"):
            for thumb in list_of(record.get("media_thumbnail"), dict):
                href = self.url(thumb.get("url"), base)
                if href and not _no_picture(href):
                    found["thumbnail_url"] = href
                    break
        if found.get("full_url") or found.get("thumbnail_url"):
            return found, None
        return self._lead(pages, base, page_url)

    def _media_content(self, record: dict[str, Any], base: str) -> dict[str, Any] | None:
        """The widest media:content image that is a picture (the first among equals)."""
        best: dict[str, Any] | None = None
        for media in list_of(record.get("media_content"), dict):
            href = self.url(media.get("url"), base)
            medium = text(media.get("medium")).lower()
            if not href or not (
                medium == "image" or (not medium and _is_image(media.get("type"), href))
            ):
                continue
            width, height = positive(media.get("width")), positive(media.get("height"))
            wider = best is None or (width or 0) > (best["width"] or 0)
            if wider and not _no_picture(href, width, height):
                best = {"full_url": href, "width": width, "height": height}
        return best

    def _lead(
        self, pages: list[Html], base: str, page_url: str | None
    ) -> tuple[dict[str, Any], tuple[Html, Img]] | str:
        """The item's lead picture among the ``<img>`` of its HTML.

        Never a logo, icon, avatar, emoji, spacer or tracking pixel (``_no_picture``).
        Then, best first: an image WordPress marks as the post's own (``wp-post-image``, or
        ``fetchpriority="high"``, which it gives the picture a page leads with); one of the
        post's media (``attachment-*`` / ``wp-image-*`` classes, or the first ``<figure>``
        picture); any other; last, a teaser card (an image linking to another page, such as
        nasa.gov's "related" cards, which show other articles' pictures). Among marked
        images of the same rank the wider wins; otherwise the first does.
        """
        best: tuple[tuple[int, int, int], dict[str, Any], tuple[Html, Img]] | None = None
        seen_any = False
        figure_seen = False
        index = 0
        for page in pages:
            for img in page.images:
                index += 1
                found = self._from_img(img, base)
                if not found:
                    continue
                seen_any = True
                width, height = found["width"] or img.width, found["height"] or img.height
                urls = (found["full_url"], found["thumbnail_url"], self.url(img.src, base))
                if any(_no_picture(u, width, height, img.classes) for u in urls if u):
                    continue
                teaser = self._elsewhere(img.link, base, page_url)
                first_figure = img.in_figure and not teaser and not figure_seen
                figure_seen = figure_seen or first_figure
                rank = _rank(img, first_figure, teaser)
                key = (rank, (found["width"] or 0) if rank >= 2 else 0, -index)
                if best is None or key > best[0]:
                    best = (key, found, (page, img))
        if best is None:
            return "only logos, icons or tiny images" if seen_any else "no usable image URL"
        return best[1], best[2]

    def _elsewhere(self, link: str | None, base: str, page_url: str | None) -> bool:
        """Whether a link around an image leads to another page (not to an image file and
        not to the item itself): the image is then a teaser for that page."""
        if not link:
            return False
        try:
            target = urljoin(base, link)
        except ValueError:
            return True
        return not _is_image(None, target) and (
            page_url is None or _page(target) != _page(page_url)
        )

    def _from_img(self, img: Img, base: str) -> dict[str, Any] | None:
        """Renditions from one ``<img>``: the widest un-cropped ``srcset`` candidate (or
        ``src`` when it is wider) is the full image, ``src`` the large one, and the smallest
        un-cropped candidates wide enough the thumbnail and medium ones. A face crop
        (WordPress ``...&fit=crop&crop=faces``) shows only part of the picture: it may be
        the thumbnail when no whole rendition fits, never the full, large or medium one.
        Width/height attributes describe ``src``; they are scaled to the full image when the
        ``srcset`` says how wide that is."""
        src = self.url(img.src, base)
        whole_src = src if src and not _is_crop(src) else None
        sized = sorted(
            (width, url)
            for candidate, width in img.srcset
            if width and (url := self.url(candidate, base))
        )
        whole = [(w, u) for w, u in sized if not _is_crop(u)]
        crops = [(w, u) for w, u in sized if _is_crop(u)]
        width, height = (img.width, img.height) if whole_src else (None, None)
        full = whole_src
        if whole and (not whole_src or not img.width or whole[-1][0] >= img.width):
            full = whole[-1][1]
            if full != whole_src:
                height = round(height * whole[-1][0] / width) if width and height else None
                width = whole[-1][0]
        medium = next((u for w, u in whole if w >= MEDIUM_MIN_WIDTH), None)
        thumbnail = next((u for w, u in whole + crops if w >= THUMBNAIL_MIN_WIDTH), None)
        if not (full or medium or thumbnail):
            thumbnail = src or (crops[-1][1] if crops else None)
        if not thumbnail and not full and not medium:
            return None
        return {
            "full_url": full,
            "large_url": whole_src if whole_src != full else None,
            "medium_url": medium,
            "thumbnail_url": thumbnail,
            "width": width,
            "height": height,
        }

    def url(self, value: object, base: str) -> str | None:
        """``value`` as an absolute URL (a relative one resolved against ``base``) that
        ``clean`` accepts; None for anything else."""
        if not isinstance(value, str) or not value.strip():
            return None
        value = value.strip()
        if "://" not in value:
            joined = resolve_url(base, value)  # as the browser would (``/\\host`` is a host)
            if joined is None:
                return None
            value = joined
        return self._clean(value)


def _rank(img: Img, first_figure: bool, teaser: bool) -> int:
    if teaser:
        return 0
    if img.priority or "wp-post-image" in img.classes:
        return 3
    if first_figure or any(name.startswith(("attachment-", "wp-image-")) for name in img.classes):
        return 2
    return 1


def _no_picture(
    url: str, width: int | None = None, height: int | None = None, classes: tuple[str, ...] = ()
) -> bool:
    """A logo, icon, avatar, emoji, spacer, placeholder or tracking pixel: named so (file,
    folder or class), an SVG drawing, or declared smaller than a picture."""
    path = "/" + url.split("?", 1)[0].split("#", 1)[0].lower().split("://", 1)[-1].partition("/")[2]
    return (
        any(size is not None and size < MIN_PICTURE_SIZE for size in (width, height))
        or any(_NOT_A_PICTURE_CLASS.search(name) for name in classes)
        or path.endswith(".svg")
        or any(asset in path for asset in _SITE_ASSETS)
        or _NOT_A_PICTURE.search(path) is not None
    )


def _is_crop(url: str) -> bool:
    """Whether a URL asks the image server for a crop: ``crop=...`` (faces, focalpoint, a
    box) unless ``fit`` says the picture is only scaled, or ``fit=crop``."""
    query = url.partition("?")[2].partition("#")[0]
    if "crop" not in query.lower():
        return False
    params = {k.lower(): v.strip().lower() for k, v in parse_qsl(query, keep_blank_values=True)}
    fit = params.get("fit")
    return fit in _CROPPING_FITS or ("crop" in params and fit is None)


def _page(url: str) -> str:
    return url.split("#", 1)[0].split("://", 1)[-1].rstrip("/").lower()


def _is_image(kind: object, url: str) -> bool:
    if isinstance(kind, str) and kind.strip():
        return kind.strip().lower().startswith("image/")
    path = url.split("?", 1)[0].split("#", 1)[0].lower()
    return path.endswith(IMAGE_EXTENSIONS)
