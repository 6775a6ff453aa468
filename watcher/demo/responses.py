"""The emulator's answers, built as plain values: a request's path and query in, a ``Reply`` out.

Kept apart from ``server`` (sockets, threads, faults) so the wire formats are easy to read:
the raw-images envelope, the images-api Collection+JSON, RSS, the demo's pictures, and the
validator logic (ETag / Last-Modified -> 304). Where the answers point at the emulator's
own pictures, ``local_pictures`` rewrites them.
"""

from __future__ import annotations

import functools
import hashlib
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlencode

import orjson

from watcher.demo import placeholder
from watcher.demo.datasets import LatestSummary, RawImagesDataset, RawImagesResult
from watcher.demo.image_library import ImageLibraryDataset, first_data
from watcher.demo.local_pictures import (
    LIBRARY_NAME,
    RENDITION_EXTENSIONS,
    RENDITION_SIZES,
    rewrite_feed,
    rewrite_item,
    rewrite_manifest,
    rewrite_records,
)
from watcher.demo.pictures import EXTENSIONS, NAME, Pictures, content_type
from watcher.demo.queries import (
    Condition,
    QueryError,
    RawImagesQuery,
    parse_image_library,
    parse_raw_images,
    repeated_keys,
    without_repeats,
)
from watcher.demo.records import iso_utc

RAW_IMAGES_TYPE = "mars2020-images-list-1.1"
RAW_IMAGES_CACHE = "max-age=60"
Pairs = Sequence[tuple[str, str]]


@dataclass(slots=True)
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)
    cacheable: bool = False  # gets validators; may become a 304
    last_modified: str | None = None


def not_found() -> Reply:
    return Reply(404, b"<html><body><h1>404 Not Found</h1></body></html>", "text/html")


def index() -> Reply:
    return Reply(200, _INDEX, "text/html; charset=utf-8")


def redirect_loop(path: str) -> Reply:
    """``/__loop/n`` redirects to ``/__loop/n+1``: a loop no client should follow forever."""
    step = path.rsplit("/", 1)[-1]
    following = int(step) + 1 if step.isdigit() else 1
    return Reply(302, b"", "text/plain", [("Location", f"/__loop/{following}")])


def raw_images(
    datasets: Mapping[str, RawImagesDataset],
    pairs: Pairs,
    image_base: str | None,
    *,
    latest_images: bool = False,
) -> Reply:
    """``/rss/api/``: NASA's answers as recorded and reported (see ``behaviours.py``).

    ``latest_images`` answers ``latest=true`` with the newest sol's images instead of the
    reported summary: the other shape watcher must accept too.
    """
    try:
        query = parse_raw_images(without_repeats(pairs))
    except QueryError as exc:
        return _error(400, str(exc))
    dataset = datasets.get(query.category)
    if dataset is None:
        return _error(404, f"unknown category {query.category!r}")
    if query.imageid is not None:
        record = dataset.by_id(query.imageid)
        found = [record] if record is not None else []
        return _raw_reply({"image": rewrite_records(found, image_base)})
    if query.latest and not latest_images:
        return _raw_reply(_summary(dataset.summary(), query.category))
    if query.mission is not None and query.mission != query.category:
        result = RawImagesResult([], 0, len(dataset))
    elif query.latest:
        top = dataset.summary().latest_sol
        result = _of_sol(dataset, query, top if top is not None else -1)
    elif query.sol is not None:
        result = _of_sol(dataset, query, query.sol)
        if not result.total_results:  # NASA answers other sols' images for an empty sol
            result = dataset.query(query)
    else:
        result = dataset.query(query)
    envelope: dict[str, Any] = {
        "images": rewrite_records(result.images, image_base),
        "per_page": str(query.num),
        "total_results": result.total_results,
        "type": RAW_IMAGES_TYPE,
        "page": query.page,
        "mission": query.category,
        "total_images": result.total_images,
    }
    if not result.images:
        envelope["error_message"] = "No more images."
    return _raw_reply(envelope)


def _of_sol(dataset: RawImagesDataset, query: RawImagesQuery, sol: int) -> RawImagesResult:
    """The query's answer narrowed to one sol: what ``latest=true`` (as images) and
    ``sol=`` both ask for."""
    wanted = Condition("sol", "eq", float(sol))
    return dataset.query(replace(query, conditions=(*query.conditions, wanted)))


def _raw_reply(data: dict[str, Any]) -> Reply:
    """NASA's raw-image answers carry ``Cache-Control: max-age=60`` and no validators."""
    return Reply(200, orjson.dumps(data), headers=[("Cache-Control", RAW_IMAGES_CACHE)])


def _summary(summary: LatestSummary, category: str) -> dict[str, Any]:
    """The reported ``latest=true`` body, keys in the reported order."""
    if summary.latest is None:
        return {"error_message": "No images found.", "total": summary.total}
    return {
        "latest": iso_utc(int(summary.latest)),
        "new_count": summary.new_count,
        "sol_count": summary.sol_count,
        "latest_sols": summary.latest_sols,
        "total": summary.total,
        "type": f"{category}-latest-images-1.1",
        "latest_sol": summary.latest_sol,
    }


def image_library(
    dataset: ImageLibraryDataset | None, pairs: Pairs, base_url: str, image_base: str | None
) -> Reply:
    """``/search``: Collection+JSON with ``total_hits`` and ``prev``/``next`` links."""
    if dataset is None:
        return Reply(404, b'{"reason": "Not found"}')
    try:
        repeated = repeated_keys(pairs)
        if repeated:
            raise QueryError(f"query key(s) repeated: {', '.join(repeated)}")
        query = parse_image_library(dict(pairs))
    except QueryError as exc:
        return Reply(400, orjson.dumps({"reason": str(exc)}))
    items, total = dataset.search(query)
    # The manifests live on NASA's asset host, which this emulator stands in for too.
    items = [_local_manifest(item, base_url) for item in items]
    if image_base is not None:
        items = [rewrite_item(item, image_base) for item in items]
    href = f"{base_url}/search"
    others = [(k, v) for k, v in pairs if k != "page"]

    def link(rel: str, prompt: str, page: int) -> dict[str, str]:
        """A link to another page of the same search (its other parameters kept)."""
        paged = urlencode([("page", str(page)), *others])
        return {"rel": rel, "prompt": prompt, "href": f"{href}?{paged}"}

    links = []
    if query.page > 1:
        links.append(link("prev", "Previous", query.page - 1))
    if query.page * query.page_size < total:
        links.append(link("next", "Next", query.page + 1))
    collection: dict[str, Any] = {
        "version": "1.0",
        "href": f"{href}?{urlencode(pairs)}" if pairs else href,
        "items": items,
        "metadata": {"total_hits": total},
    }
    if links:
        collection["links"] = links
    # No validators: images-api.nasa.gov has not been seen to send ETag or Last-Modified.
    return Reply(200, orjson.dumps({"collection": collection}))


def asset_manifest(
    dataset: ImageLibraryDataset | None, nasa_id: str, image_base: str | None
) -> Reply:
    """``/assets/<nasa_id>/collection.json``: the item's files as a JSON list of URLs, as
    images-assets.nasa.gov answers; 404 for an unknown item. With ``image_base`` the files
    are the emulator's own pictures (``<name>~orig.png``, ``~large.jpg``, ...)."""
    files = dataset.manifest(nasa_id) if dataset is not None else None
    if files is None:
        return Reply(404, b"<Error><Code>NoSuchKey</Code></Error>", "application/xml")
    if image_base is not None:
        files = rewrite_manifest(files, nasa_id, image_base)
    return Reply(200, orjson.dumps(files), headers=[("Cache-Control", "max-age=86400")])


def _local_manifest(item: dict[str, Any], base_url: str) -> dict[str, Any]:
    data = first_data(item)
    if data is None:
        return item
    nasa_id = str(data.get("nasa_id", "")).strip()
    return {**item, "href": f"{base_url}/assets/{quote(nasa_id, safe='')}/collection.json"}


def rss(entry: tuple[bytes, str] | None, image_base: str | None = None) -> Reply:
    """A feed; with ``image_base``, its image-library pictures become the emulator's."""
    if entry is None:
        return not_found()
    body, modified = entry
    if image_base is not None:
        body = rewrite_feed(body, image_base)
    return Reply(
        200, body, "application/rss+xml; charset=UTF-8", cacheable=True, last_modified=modified
    )


IMAGE_CACHING = ("Cache-Control", "public, max-age=86400")


def image(name: str, pictures: Pictures) -> Reply:
    """``/img/<imageid>_<size>.<ext>`` (raw images) or ``/img/<name>~<rendition>.<ext>``
    (the image library's naming): the raster picture, or 404 for any other name.

    Only names ``NAME`` or ``LIBRARY_NAME`` accept (``[A-Za-z0-9_.-]``, the extension used
    for that size) reach the renderer or a file path. ``.svg`` names, which older URLs
    carry, get the placeholder drawing.
    """
    match = NAME.match(name)
    library = LIBRARY_NAME.match(name)
    if match is not None or library is not None:
        if match is not None:
            imageid, size, extension = match.group("imageid", "size", "ext")
        else:
            assert library is not None
            imageid, rendition, extension = library.group("name", "rendition", "ext")
            if extension != RENDITION_EXTENSIONS[rendition]:
                return _no_picture()
            size = RENDITION_SIZES[rendition]
        if extension != EXTENSIONS[size]:
            return _no_picture()
        body = pictures.get(imageid, size)
        return Reply(200, body, content_type(size), [IMAGE_CACHING])
    legacy = placeholder.NAME.match(name)
    if legacy is None:
        return _no_picture()
    svg = placeholder.placeholder_svg(legacy.group("imageid"), legacy.group("size"))
    return Reply(200, svg, "image/svg+xml", [IMAGE_CACHING])


def _no_picture() -> Reply:
    """Any ``/img/`` name the emulator does not draw."""
    return Reply(404, b"not found", "text/plain")


def conditional(
    reply: Reply, *, if_none_match: str | None, if_modified_since: str | None, etag: bool
) -> Reply:
    """Add validators to a cacheable 200 and answer 304 when the client's copy is current.

    The ETag is strong (a hash of the body). ``If-None-Match`` wins over
    ``If-Modified-Since``, as RFC 9110 says.
    """
    if reply.status != 200 or not reply.cacheable:
        return reply
    headers = list(reply.headers)
    if reply.last_modified:
        headers.append(("Last-Modified", reply.last_modified))
    tag = None
    if etag:
        tag = '"' + hashlib.blake2b(reply.body, digest_size=16).hexdigest() + '"'
        headers.append(("ETag", tag))
    reply.headers = headers
    if if_none_match is not None:
        if tag is not None and _etag_matches(if_none_match, tag):
            return Reply(304, b"", reply.content_type, headers)
        return reply
    since = if_modified_since
    if since and reply.last_modified and _not_modified_since(reply.last_modified, since):
        return Reply(304, b"", reply.content_type, headers)
    return reply


@functools.lru_cache(maxsize=4)
def gzip_zeros(size: int) -> bytes:
    """gzip of ``size`` zero bytes, compressed in chunks (never holding ``size`` bytes)."""
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1 << 20)
    parts = []
    left = size
    while left > 0:
        parts.append(z.compress(zeros[: min(left, len(zeros))]))
        left -= len(zeros)
    parts.append(z.flush())
    return b"".join(parts)


def _error(status: int, message: str) -> Reply:
    return Reply(status, orjson.dumps({"success": False, "error": message}))


def _etag_matches(header: str, etag: str) -> bool:
    """Weak comparison, as RFC 9110 prescribes for If-None-Match."""
    wanted = etag.removeprefix("W/")
    for candidate in header.split(","):
        tag = candidate.strip()
        if tag == "*" or tag.removeprefix("W/") == wanted:
            return True
    return False


def _not_modified_since(last_modified: str, since: str) -> bool:
    try:
        return parsedate_to_datetime(last_modified) <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False


_INDEX = (
    b"<!DOCTYPE html><html><head><meta charset='utf-8'><title>NASA feed emulator</title></head>"
    b"<body><h1>NASA feed emulator (watcher)</h1><ul>"
    b"<li><a href='/rss/api/?feed=raw_images&amp;category=mars2020&amp;feedtype=json&amp;num=10"
    b"&amp;page=0&amp;order=sol+desc'>raw images (mars2020)</a></li>"
    b"<li><a href='/search?q=mars'>image library search</a></li>"
    b"<li><a href='/feed/'>RSS</a></li></ul></body></html>"
)
