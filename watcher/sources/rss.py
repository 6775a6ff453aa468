"""RSS and Atom feeds (nasa.gov, JPL, science.nasa.gov) through feedparser.

A feed is one page holding its latest items, so a sweep is one request (conditional, since
these servers honour ETag / Last-Modified) and a backfill is impossible.

feedparser is given the body as a stream, never a string: a string that looks like a URL
or a path would make it fetch or open a file. HTML is not sanitised by feedparser (that
would drop ``srcset``); it is only ever read here for its text and its ``<img>`` elements.
Each entry is first turned into a plain JSON dict (``raw``), and the candidate is built
from that dict alone, so re-normalising a stored ``raw`` gives the same candidate.
"""

from __future__ import annotations

import io
import re
import time
from datetime import UTC, datetime
from html import unescape
from typing import Any
from urllib.parse import urljoin

import feedparser

from watcher.config import SourceConfig
from watcher.exceptions import ParseError, UsageError
from watcher.sources.common import (
    AdapterBase,
    Img,
    Problems,
    find_images,
    high_water,
    html_to_text,
    infer_mission,
    optional_text,
    parse_timestamp,
    positive,
    snippet,
    text,
)
from watcher.types import CandidateData, Page, PageRequest, PollState, cursor_time

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".tif", ".tiff", ".avif")
THUMBNAIL_MIN_WIDTH = 300
MEDIUM_MIN_WIDTH = 800

_DRUPAL_STYLE = re.compile(r"^(https?://[^?#]*?/)styles/[^/?#]+/public/([^?#]+)")
_MAX_DEPTH = 12


class RssAdapter(AdapterBase):
    """Turns an RSS/Atom feed into candidates, keeping entries that match the keywords."""

    kind = "rss"

    def __init__(self, config: SourceConfig, image_hosts: tuple[str, ...]) -> None:
        super().__init__(config, image_hosts)

    def first_request(self, state: PollState) -> PageRequest:
        return PageRequest(self.config.url, (), True, {})

    def backfill_request(self, from_sol: int | None, to_sol: int | None) -> PageRequest:
        raise UsageError("an RSS feed only carries its latest items: there is nothing to backfill")

    def parse_page(self, body: bytes, request: PageRequest) -> Page:
        try:
            parsed = feedparser.parse(
                io.BytesIO(body), resolve_relative_uris=False, sanitize_html=False
            )
            entries = list(parsed.get("entries") or ())
            version = parsed.get("version") or ""
            broken = bool(parsed.get("bozo"))
        except Exception as exc:
            raise ParseError(f"rss: feed could not be parsed ({type(exc).__name__})") from None
        if not entries and (not version or broken):
            raise ParseError(f"rss: not an RSS or Atom feed, got {snippet(body)}")

        problems = Problems()
        if broken:
            problems.note(f"feed is not well-formed: {parsed.get('bozo_exception')}")
        candidates = self.collect(entries, "entry", problems, self._entry)

        return Page(
            candidates=tuple(candidates),
            skipped=problems.skipped,
            high_water=high_water(c.received_at for c in candidates),
            problems=tuple(problems.messages),
        )

    def _entry(self, entry: Any) -> CandidateData | str | None:
        """A feedparser entry as a candidate; None when no keyword matches it."""
        record = jsonable(entry)
        return self.normalise(record) if self.matches(record) else None

    def matches(self, record: Any) -> bool:
        """Whether the entry's title, summary, content or categories are on the source's
        topic (``keywords``, ``exclude``; see ``Topic``)."""
        if not isinstance(record, dict):
            return True
        return self.topic.wanted(_texts(record))

    def normalise(self, record: Any) -> CandidateData | str:
        """One entry (as produced by ``jsonable``) as a candidate, or why it was skipped."""
        if not isinstance(record, dict):
            return f"not an object ({type(record).__name__})"
        guid = text(record.get("id")) or text(record.get("link"))
        external_id = unescape(guid).strip()
        if not external_id:
            return "no guid or link"
        page_url = self._url(record.get("link"), self.config.url)
        images = self._images(record, page_url or self.config.url)
        if images is None:
            return f"{external_id[:80]}: no usable image URL"

        title = html_to_text(text(record.get("title")))
        caption = html_to_text(text(record.get("summary")))
        when = (
            parse_timestamp(record.get("published_parsed"))
            or parse_timestamp(record.get("published"))
            or parse_timestamp(record.get("updated_parsed"))
            or parse_timestamp(record.get("updated"))
        )
        mission = self.config.mission or infer_mission(*_texts(record))
        return CandidateData(
            source=self.config.name,
            external_id=external_id,
            mission=mission,
            title=title,
            caption=caption,
            credit=_credit(record.get("media_credit")),
            received_at=when,
            page_url=page_url,
            raw=record,
            **images,
        )

    def _images(self, record: dict[str, Any], base: str) -> dict[str, Any] | None:
        """Image URLs (and size) of an entry: enclosure, media:content, media:thumbnail, or
        the first usable ``<img>`` of its content or summary, in that order of trust."""
        found: dict[str, Any] = {}
        enclosures = [
            link for link in _dicts(record.get("links")) if link.get("rel") == "enclosure"
        ]
        for enclosure in enclosures + _dicts(record.get("enclosures")):
            href = self._url(enclosure.get("href"), base)
            if href and _is_image(enclosure.get("type"), href):
                style = _DRUPAL_STYLE.match(href)
                if style:  # a derived crop (Drupal image style): its source is the original
                    found["thumbnail_url"] = href
                    found["full_url"] = self._url(style.group(1) + style.group(2), base)
                else:
                    found["full_url"] = href
                break
        if not found.get("full_url"):
            for media in _dicts(record.get("media_content")):
                href = self._url(media.get("url"), base)
                medium = text(media.get("medium")).lower()
                if href and (
                    medium == "image" or (not medium and _is_image(media.get("type"), href))
                ):
                    found["full_url"] = href
                    found["width"] = positive(media.get("width"))
                    found["height"] = positive(media.get("height"))
                    break
        if not found.get("thumbnail_url"):
            for thumb in _dicts(record.get("media_thumbnail")):
                href = self._url(thumb.get("url"), base)
                if href:
                    found["thumbnail_url"] = href
                    break
        if not found.get("full_url") and not found.get("thumbnail_url"):
            for img in _html_images(record):
                from_html = self._from_img(img, base)
                if from_html:
                    found.update(from_html)
                    break
        if not (found.get("full_url") or found.get("thumbnail_url")):
            return None
        return found

    def _from_img(self, img: Img, base: str) -> dict[str, Any] | None:
        """Renditions from one ``<img>``: the widest ``srcset`` candidate is the full image,
        ``src`` the large one, and the smallest candidates wide enough the thumbnail and
        medium ones. Width/height attributes describe ``src``; they are scaled to the full
        image when the ``srcset`` says how wide that is."""
        src = self._url(img.src, base)
        sized = sorted(
            (width, url)
            for candidate, width in img.srcset
            if width and (url := self._url(candidate, base))
        )
        if not src and not sized:
            return None
        full = sized[-1][1] if sized else src
        width, height = img.width, img.height
        if sized and full != src:
            if width and height:
                height = round(height * sized[-1][0] / width)
            width = sized[-1][0]
        return {
            "full_url": full,
            "large_url": src if src != full else None,
            "medium_url": next((u for w, u in sized if w >= MEDIUM_MIN_WIDTH), None),
            "thumbnail_url": next((u for w, u in sized if w >= THUMBNAIL_MIN_WIDTH), None),
            "width": width,
            "height": height,
        }

    def _url(self, value: object, base: str) -> str | None:
        if not isinstance(value, str) or not value.strip():
            return None
        value = value.strip()
        if "://" not in value:
            try:
                value = urljoin(base, value)
            except ValueError:  # e.g. a broken IPv6 literal in the base
                return None
        return self.clean(value)


def jsonable(value: Any, depth: int = 0) -> Any:
    """A plain JSON value from feedparser's output: FeedParserDicts become dicts and
    ``struct_time`` values canonical UTC strings, so ``raw`` can be stored with orjson."""
    if value is None or type(value) in (str, int, bool):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if depth > _MAX_DEPTH:
        return None
    if isinstance(value, time.struct_time):
        try:
            return cursor_time(datetime(*value[:6], tzinfo=UTC))
        except (TypeError, ValueError, OverflowError):
            return None
    if isinstance(value, dict):
        return {str(k): jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v, depth + 1) for v in value]
    return str(value)


def _texts(record: dict[str, Any]) -> list[str]:
    """Plain text of title, summary, content and category terms, for matching."""
    texts = [html_to_text(text(record.get(key))) for key in ("title", "summary")]
    texts += [html_to_text(text(c.get("value"))) for c in _dicts(record.get("content"))]
    texts += [text(tag.get("term")) for tag in _dicts(record.get("tags"))]
    return texts


def _html_images(record: dict[str, Any]) -> list[Img]:
    images: list[Img] = []
    for content in _dicts(record.get("content")):
        images += find_images(text(content.get("value")))
    images += find_images(text(record.get("summary")))
    return images


def _dicts(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _is_image(kind: object, url: str) -> bool:
    if isinstance(kind, str) and kind.strip():
        return kind.strip().lower().startswith("image/")
    path = url.split("?", 1)[0].split("#", 1)[0].lower()
    return path.endswith(IMAGE_EXTENSIONS)


def _credit(credits: object) -> str | None:
    for credit in _dicts(credits):
        value = optional_text(credit.get("content"))
        if value:
            return value
    return None
