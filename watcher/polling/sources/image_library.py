"""images-api.nasa.gov ``/search``: NASA's Image and Video Library (Collection+JSON).

One search per configured query, page by page (pages start at 1). Results come in
relevance order, and ``date_created`` is when an asset was made, not when NASA published
it: a page with nothing new says nothing about the next one, and an old picture can be
published today. So every poll walks each query's pages (at most ``max_pages``) and keeps
the items not stored yet (the store's unique key is the set difference on ``nasa_id``);
each query is walked whatever the others found. Once a sweep has completed, searches are
narrowed to items made at most ``YEAR_MARGIN`` years before the newest ``date_created``
seen, a margin wide enough for the archive uploads NASA makes.

Renditions are not guessed from the preview link: each new item's asset manifest (its
``href``, a JSON list such as ``…~orig.tif``, ``…~large.jpg``, ``…~medium.jpg``,
``…~small.jpg``, ``…~thumb.jpg``) names the real files, at one extra request per new item
(``detail_request`` / ``with_details``; the core fetches it only for items it has not
stored). The original is the full-size file when browsers can show it (a TIFF is not).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any
from urllib.parse import quote, urlsplit

import orjson

from watcher.config import SourceConfig
from watcher.exceptions import ConfigError, ParseError, UsageError
from watcher.polling.sources.common import (
    AdapterBase,
    Problems,
    high_water,
    infer_mission,
    json_body,
    list_of,
    next_page,
    optional_text,
    param,
    parse_timestamp,
    positive,
    text,
    to_int,
)
from watcher.polling.sources.credits import center_credit, credit_in_text, fallback_credit
from watcher.polling.sources.html import plain
from watcher.text import safe_candidate
from watcher.types import CandidateData, Page, PageRequest, PollState

DETAILS_URL = "https://images.nasa.gov/details/"
MAX_RESULTS = 10_000  # the API answers 400 past 10,000 hits ("refine your search")
YEAR_MARGIN = 2
DETAIL = "detail"  # the context key of a manifest request
WEB_FORMATS = (".jpg", ".jpeg", ".png", ".gif", ".webp")
# Rendition markers of the asset manifest, and the candidate field each one fills.
_MARKER = re.compile(r"~(orig|large|medium|small|thumb)\.([A-Za-z0-9]{2,5})$")
_FIELDS = {
    "orig": "full_url",
    "large": "large_url",
    "medium": "medium_url",
    "small": "thumbnail_url",
    "thumb": "thumbnail_url",
}


class ImageLibraryAdapter(AdapterBase):
    """Builds image-library searches and turns their result pages into candidates."""

    kind = "image_library"

    def __init__(self, config: SourceConfig, image_hosts: tuple[str, ...]) -> None:
        super().__init__(config, image_hosts)
        if not config.queries:
            raise ConfigError(
                'is required for image_library (e.g. ["Perseverance"])',
                key=f"{config.name}.queries",
            )

    def first_request(self, state: PollState) -> PageRequest:
        moment = parse_timestamp(state.cursor)
        year = f"{moment.year - YEAR_MARGIN:04d}" if moment else None
        return self._request(0, 1, year)

    def backfill_request(self, from_sol: int | None, to_sol: int | None) -> PageRequest:
        if from_sol is not None or to_sol is not None:
            raise UsageError("image_library has no sols: backfill it without a sol range")
        return self._request(0, 1, None)

    def page_budget(self) -> int:
        """Pages one poll may read: ``max_pages`` for each query."""
        return self.config.max_pages * len(self.config.queries)

    def _request(self, query: int, page: int, year_start: str | None) -> PageRequest:
        params: tuple[tuple[str, str], ...] = (
            ("q", self.config.queries[query]),
            ("media_type", "image"),
            ("page", str(page)),
            ("page_size", str(self.config.page_size)),
        )
        if year_start:
            params = (*params, ("year_start", year_start))
        return PageRequest(self.config.url, params, False, {"query": query, "page": page})

    def parse_page(self, body: bytes, request: PageRequest) -> Page:
        data = json_body(body, "image library")
        collection = data.get("collection") if isinstance(data, dict) else None
        if not isinstance(collection, dict):
            raise ParseError("image library: the response has no 'collection' object")
        items = collection.get("items", [])
        if not isinstance(items, list):
            raise ParseError("image library: 'collection.items' is not a list")
        metadata = collection.get("metadata")
        total = to_int(metadata.get("total_hits")) if isinstance(metadata, dict) else None

        problems = Problems()
        candidates = self.collect(items, "item", problems, self._wanted)

        query, page = self._position(request)
        more = _has_next_link(collection.get("links")) and bool(items)
        page_size = to_int(param(request.params, "page_size")) or self.config.page_size
        if more and page < self.config.max_pages and page * page_size < MAX_RESULTS:
            following: PageRequest | None = next_page(request, page, query=query)
        else:
            following = self._next_query(request, query)
        return Page(
            candidates=tuple(candidates),
            skipped=problems.skipped,
            next=following,
            high_water=high_water(c.taken_at for c in candidates),
            total=total,
            problems=tuple(problems.messages),
        )

    def _position(self, request: PageRequest) -> tuple[int, int]:
        """(query index, page): the index from the context (else found by ``q``), the page
        from the params, which are what was actually requested."""
        queries = self.config.queries
        query = to_int(request.context.get("query"))
        if query is None or not 0 <= query < len(queries):
            q = param(request.params, "q") or ""
            query = queries.index(q) if q in queries else len(queries) - 1
        page = to_int(param(request.params, "page")) or to_int(request.context.get("page")) or 1
        return query, page

    def _next_query(self, request: PageRequest, query: int) -> PageRequest | None:
        if not 0 <= query + 1 < len(self.config.queries):
            return None
        return self._request(query + 1, 1, param(request.params, "year_start"))

    def _wanted(self, item: Any) -> CandidateData | str | None:
        """An item as a candidate when it is on the source's topic; None when it is not."""
        result = self.normalise(item)
        if isinstance(result, CandidateData):
            keywords = result.raw.get("data", [{}])[0].get("keywords")
            texts = [result.title, result.caption, *list_of(keywords, str)]
            if not self.topic.wanted(texts):
                return None
        return result

    def _normalise(self, item: Any) -> CandidateData | str:
        """One search result as a candidate, or why it was skipped. ``raw`` is the item.

        Until its manifest is read (``with_details``) the preview is its only rendition.
        """
        if not isinstance(item, dict):
            return f"not an object ({type(item).__name__})"
        data = item.get("data")
        meta = data[0] if isinstance(data, list) and data else None
        if not isinstance(meta, dict):
            return "no 'data' object"
        nasa_id = optional_text(meta.get("nasa_id"))
        if nasa_id is None:
            return "no nasa_id"
        media_type = optional_text(meta.get("media_type"))
        if media_type is not None and media_type.lower() != "image":
            return f"{nasa_id}: media_type {media_type[:20]!r}, not an image"

        thumb = self.clean(_preview_href(item.get("links")))
        if not thumb:
            return f"{nasa_id}: no usable image URL"

        title = plain(meta.get("title"))
        description = text(meta.get("description")) or text(meta.get("description_508"))
        caption = plain(description)
        credit = (
            optional_text(meta.get("secondary_creator"))
            or optional_text(meta.get("photographer"))
            or credit_in_text(_lines(description))
            or center_credit(meta.get("center"))
            or fallback_credit(self.kind)
        )
        mission = self.config.mission or infer_mission(title, caption, meta.get("keywords"))
        return CandidateData(
            source=self.config.name,
            external_id=nasa_id,
            mission=mission,
            title=title,
            caption=caption,
            credit=credit,
            taken_at=parse_timestamp(meta.get("date_created")),
            page_url=self.clean(DETAILS_URL + quote(nasa_id, safe="")),
            thumbnail_url=thumb,
            width=positive(meta.get("width")),
            height=positive(meta.get("height")),
            raw=item,
        )

    def detail_request(self, candidate: CandidateData) -> PageRequest | None:
        """The item's asset manifest (its ``href``), on an allowed image host only."""
        href = self.clean(candidate.raw.get("href"))
        if not href:
            return None
        return PageRequest(href, (), False, {DETAIL: candidate.external_id})

    def with_details(self, candidate: CandidateData, body: bytes) -> CandidateData:
        """The candidate with the renditions its manifest lists; unchanged when the body
        is not a manifest (the preview then stays its only picture)."""
        try:
            files = orjson.loads(body)
        except orjson.JSONDecodeError:
            return candidate
        found = manifest_renditions(files, self.clean)
        return safe_candidate(replace(candidate, **found)) if found else candidate


def manifest_renditions(files: object, clean: Any) -> dict[str, Any]:
    """Candidate URL fields from an asset manifest: ``~orig`` the full file (when a web
    format), ``~large``, ``~medium``, and ``~small`` (else ``~thumb``) the thumbnail.
    ``clean`` allowlists each URL; a rendition missing from the manifest stays unset."""
    if not isinstance(files, list):
        return {}
    found: dict[str, Any] = {}
    for value in files:
        if not isinstance(value, str):
            continue
        marker = _MARKER.search(urlsplit(value.strip()).path)
        url = clean(value) if marker else None
        if marker is None or url is None:
            continue
        name, extension = marker.group(1), marker.group(2).lower()
        if f".{extension}" not in WEB_FORMATS:
            continue
        field = _FIELDS[name]
        if field not in found or name == "small":
            found[field] = url
    return found


def _preview_href(links: object) -> str | None:
    if isinstance(links, list):
        for link in links:
            if isinstance(link, dict) and link.get("rel") == "preview":
                href = link.get("href")
                if isinstance(href, str) and href.strip():
                    return href.strip()
    return None


def _has_next_link(links: object) -> bool:
    return isinstance(links, list) and any(
        isinstance(link, dict) and link.get("rel") == "next" for link in links
    )


def _lines(description: str) -> str:
    """The description with its paragraph and line breaks as newlines (a credit line ends
    there), whether they are written as HTML or as text."""
    if "<" not in description:
        return description
    broken = re.sub(r"(?i)<\s*(br|/p|p|/div|div|/li)\b[^>]*>", "\n", description)
    return re.sub(r"<[^>]*>", "", broken)
