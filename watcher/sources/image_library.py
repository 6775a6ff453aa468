"""images-api.nasa.gov ``/search``: NASA's Image and Video Library (Collection+JSON).

One search per configured query, page by page (pages start at 1). Results are ordered by
relevance, not by date, so a sweep cannot stop at a cursor; instead it narrows by
``year_start`` (the year of the cursor, the latest ``date_created`` seen) and tells the core
to skip to the next query once a page holds nothing new (``stop_when_all_known``).

The search result only links a ``~thumb`` preview. The other renditions follow NASA's asset
naming (``~medium``, ``~large``, ``~orig``) and are derived from it rather than fetched from
each item's ``collection.json`` manifest, which would cost one request per image.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import orjson

from watcher.config import SourceConfig
from watcher.exceptions import ConfigError, ParseError, UsageError
from watcher.sources.common import (
    AdapterBase,
    Problems,
    high_water,
    infer_mission,
    optional_text,
    param,
    parse_timestamp,
    plain,
    replace_param,
    snippet,
    to_int,
)
from watcher.types import CandidateData, Page, PageRequest, PollState

DETAILS_URL = "https://images.nasa.gov/details/"
MAX_RESULTS = 10_000  # the API answers 400 past 10,000 hits ("refine your search")


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
        year = f"{moment.year:04d}" if moment else None
        return self._request(0, 1, year, conditional=True)

    def backfill_request(self, from_sol: int | None, to_sol: int | None) -> PageRequest:
        if from_sol is not None or to_sol is not None:
            raise UsageError("image_library has no sols: backfill it without a sol range")
        return self._request(0, 1, None, conditional=False)

    def _request(
        self, query: int, page: int, year_start: str | None, *, conditional: bool = False
    ) -> PageRequest:
        params: tuple[tuple[str, str], ...] = (
            ("q", self.config.queries[query]),
            ("media_type", "image"),
            ("page", str(page)),
            ("page_size", str(self.config.page_size)),
        )
        if year_start:
            params = (*params, ("year_start", year_start))
        return PageRequest(self.config.url, params, conditional, {"query": query, "page": page})

    def parse_page(self, body: bytes, request: PageRequest) -> Page:
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise ParseError(f"image library: expected JSON, got {snippet(body)}") from None
        collection = data.get("collection") if isinstance(data, dict) else None
        if not isinstance(collection, dict):
            raise ParseError("image library: the response has no 'collection' object")
        items = collection.get("items", [])
        if not isinstance(items, list):
            raise ParseError("image library: 'collection.items' is not a list")
        metadata = collection.get("metadata")
        total = to_int(metadata.get("total_hits")) if isinstance(metadata, dict) else None

        problems = Problems()
        candidates = self.collect(items, "item", problems)

        query, page = self._position(request)
        next_query = self._next_query(request, query)
        more = _has_next_link(collection.get("links")) and bool(items)
        page_size = to_int(param(request.params, "page_size")) or self.config.page_size
        if more and page < self.config.max_pages and page * page_size < MAX_RESULTS:
            following: PageRequest | None = PageRequest(
                request.url,
                replace_param(request.params, "page", str(page + 1)),
                False,
                {**request.context, "query": query, "page": page + 1},
            )
        else:
            following = next_query
        return Page(
            candidates=tuple(candidates),
            skipped=problems.skipped,
            next=following,
            high_water=high_water(c.taken_at for c in candidates),
            total=total,
            stop_when_all_known=True,
            next_when_all_known=next_query,
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

    def normalise(self, item: Any) -> CandidateData | str:
        """One search result as a candidate, or why it was skipped. ``raw`` is the item."""
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

        preview = _preview_href(item.get("links"))
        thumb = self.clean(preview)
        medium = large = full = None
        if preview and thumb:
            stem, marker, rest = preview.rpartition("~thumb")
            if marker:
                medium = self.clean(f"{stem}~medium{rest}")
                large = self.clean(f"{stem}~large{rest}")
                full = self.clean(f"{stem}~orig{rest}")
        if not (thumb or medium or large or full):
            return f"{nasa_id}: no usable image URL"

        title = plain(meta.get("title"))
        caption = plain(meta.get("description")) or plain(meta.get("description_508"))
        credit = optional_text(meta.get("secondary_creator")) or optional_text(
            meta.get("photographer")
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
            medium_url=medium,
            large_url=large,
            full_url=full,
            raw=item,
        )


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
