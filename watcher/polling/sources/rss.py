"""RSS and Atom feeds (nasa.gov, JPL, science.nasa.gov) through feedparser.

A feed is one page holding its latest items, so a sweep is one request (conditional, since
these servers honour ETag / Last-Modified) and a backfill is impossible.

feedparser is given the body as a stream, never a string: a string that looks like a URL
or a path would make it fetch or open a file. HTML is not sanitised by feedparser (that
would drop ``srcset``); it is only ever read here for its text and its ``<img>`` elements.
Which picture an item shows is ``feed_pictures``' job (nasa.gov's WordPress feed has no
enclosures: the picture is the post's lead ``<img>``, not always its first).
Each entry is first turned into a plain JSON dict (``raw``), and the candidate is built
from that dict alone, so re-normalising a stored ``raw`` gives the same candidate.
"""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime
from html import unescape
from typing import Any

import feedparser

from watcher.config import SourceConfig
from watcher.exceptions import ParseError, UsageError
from watcher.polling.sources.common import (
    AdapterBase,
    Problems,
    high_water,
    infer_mission,
    list_of,
    optional_text,
    parse_timestamp,
    snippet,
    text,
)
from watcher.polling.sources.credits import credit_after, fallback_credit
from watcher.polling.sources.feed_pictures import PictureFinder
from watcher.polling.sources.html import Html, html_to_text, read_html
from watcher.types import CandidateData, Page, PageRequest, PollState, cursor_time

_MAX_DEPTH = 12


class RssAdapter(AdapterBase):
    """Turns an RSS/Atom feed into candidates, keeping entries that match the keywords."""

    kind = "rss"

    def __init__(self, config: SourceConfig, image_hosts: tuple[str, ...]) -> None:
        super().__init__(config, image_hosts)
        self.pictures = PictureFinder(self.clean)

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

    def _normalise(self, record: Any) -> CandidateData | str:
        """One entry (as produced by ``jsonable``) as a candidate, or why it was skipped.

        Its credit is its own words first (DESIGN.md "Credits"): media:credit, else the
        credit under its lead picture, else the first its HTML states; else the table's.
        """
        if not isinstance(record, dict):
            return f"not an object ({type(record).__name__})"
        guid = text(record.get("id")) or text(record.get("link"))
        external_id = unescape(guid).strip()
        if not external_id:
            return "no guid or link"
        page_url = self.pictures.url(record.get("link"), self.config.url)
        pages = _html(record)
        images = self.pictures.find(record, pages, page_url or self.config.url, page_url)
        if isinstance(images, str):
            return f"{external_id[:80]}: {images}"
        found, lead = images

        title = html_to_text(text(record.get("title")))
        caption = html_to_text(text(record.get("summary")))
        when = (
            parse_timestamp(record.get("published_parsed"))
            or parse_timestamp(record.get("published"))
            or parse_timestamp(record.get("updated_parsed"))
            or parse_timestamp(record.get("updated"))
        )
        mission = self.config.mission or infer_mission(*_texts(record))
        credit = (
            _media_credit(record.get("media_credit"))
            or (credit_after(*lead) if lead else None)
            or next(filter(None, map(credit_after, pages)), None)
            or fallback_credit(self.kind)
        )
        return CandidateData(
            source=self.config.name,
            external_id=external_id,
            mission=mission,
            title=title,
            caption=caption,
            credit=credit,
            received_at=when,
            page_url=page_url,
            raw=record,
            **found,
        )


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
    texts += [html_to_text(text(c.get("value"))) for c in list_of(record.get("content"), dict)]
    texts += [text(tag.get("term")) for tag in list_of(record.get("tags"), dict)]
    return texts


def _html(record: dict[str, Any]) -> list[Html]:
    """The entry's HTML, content (content:encoded) first, then the summary."""
    pages = [
        read_html(text(content.get("value"))) for content in list_of(record.get("content"), dict)
    ]
    return [*pages, read_html(text(record.get("summary")))]


def _media_credit(credits: object) -> str | None:
    for credit in list_of(credits, dict):
        value = optional_text(credit.get("content"))
        if value:
            return value
    return None
