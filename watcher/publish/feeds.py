"""The Atom (feedgen) and JSON Feed 1.1 views of the running list.

Feeds carry the newest ``feed_items`` entries, newest *created* first, not the list's
editorial order: a feed reader's job is to show what is new, and an entry an editor
places near the top of the list years after the first ones is still new to a subscriber.
Entry ids never change (``tag:<host>,2026:entry/<id>``), so a reader shows each entry
once however often it is edited or moved; an edit shows up as a new ``updated`` time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import urlsplit

import orjson
from feedgen.feed import FeedGenerator

from watcher.config import DEFAULT_INTRO, DEFAULT_TITLE
from watcher.markup import plain_text, render_markdown
from watcher.pictures import Still, shown_credit, still
from watcher.publish.model import SiteContent
from watcher.types import PublishedEntry
from watcher.urls import entry_path

TAG_YEAR = 2026  # part of every entry id: never change it


def entry_id(base_url: str, entry: int) -> str:
    host = urlsplit(base_url).hostname or "localhost"
    return f"tag:{host},{TAG_YEAR}:entry/{entry}"


def newest(entries: Sequence[PublishedEntry], count: int) -> list[PublishedEntry]:
    return sorted(entries, key=lambda e: (e.created_at, e.id), reverse=True)[: max(0, count)]


def _still(entry: PublishedEntry) -> Still | None:
    return still(entry.frames[0], entry.rendition) if entry.frames else None


def content_html(entry: PublishedEntry, shown: Still | None) -> str:
    """The entry as feed HTML: picture (linking to a larger file when there is one),
    credit, paragraph; every value escaped."""
    parts = []
    if shown is not None:
        alt = escape(entry.alt_text or entry.heading)
        size = f' width="{shown.width}"' if shown.width else ""
        size += f' height="{shown.height}"' if shown.height else ""
        img = f'<img src="{escape(shown.src)}"{size} alt="{alt}">'
        if shown.larger:
            img = f'<a href="{escape(shown.larger)}">{img}</a>'
        parts.append(f"<p>{img}</p>")
        parts.append(
            f"<p><small>Image courtesy of {escape(shown_credit(entry.credit))}</small></p>"
        )
    parts.append(render_markdown(entry.body))
    return "\n".join(part for part in parts if part)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def atom_feed(content: SiteContent) -> bytes:
    base = content.base_url.rstrip("/")
    feed = FeedGenerator()
    feed.id(f"{base}/")
    feed.title(content.title or DEFAULT_TITLE)
    feed.subtitle(plain_text(content.intro) or plain_text(DEFAULT_INTRO))
    feed.link(href=f"{base}/", rel="alternate", type="text/html")
    feed.link(href=f"{base}/feed.atom", rel="self", type="application/atom+xml")
    for hub in content.hubs:
        feed.link(href=hub, rel="hub")
    feed.language("en")
    feed.updated(content.updated)
    feed.generator("watcher")
    # feedgen prepends each added entry; add oldest first so the newest leads the feed.
    for entry in reversed(newest(content.entries, content.feed_items)):
        item = feed.add_entry(order="prepend")
        item.id(entry_id(base, entry.id))
        item.title(entry.heading)
        item.link(href=f"{base}/{entry_path(entry.id)}", rel="alternate", type="text/html")
        item.published(entry.created_at)
        item.updated(entry.updated_at)
        item.author(name=shown_credit(entry.credit))
        item.summary(plain_text(entry.body) or entry.heading)
        item.content(content_html(entry, _still(entry)), type="html")
    data: bytes = feed.atom_str(pretty=True)
    return data


def json_feed(content: SiteContent) -> bytes:
    base = content.base_url.rstrip("/")
    items: list[dict[str, Any]] = []
    for entry in newest(content.entries, content.feed_items):
        shown = _still(entry)
        item: dict[str, Any] = {
            "id": entry_id(base, entry.id),
            "url": f"{base}/{entry_path(entry.id)}",
            "title": entry.heading,
            "content_html": content_html(entry, shown),
            "content_text": plain_text(entry.body),
            "date_published": _iso(entry.created_at),
            "date_modified": _iso(entry.updated_at),
        }
        item["authors"] = [{"name": shown_credit(entry.credit)}]
        if shown is not None:
            item["image"] = shown.src
            item["external_url"] = shown.largest.url
        items.append(item)
    document: dict[str, Any] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": content.title or DEFAULT_TITLE,
        "home_page_url": f"{base}/",
        "feed_url": f"{base}/feed.json",
        "description": plain_text(content.intro),
        "language": "en",
        "items": items,
    }
    if content.hubs:
        document["hubs"] = [{"type": "WebSub", "url": hub} for hub in content.hubs]
    return orjson.dumps(document, option=orjson.OPT_INDENT_2)
