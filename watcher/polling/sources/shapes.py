"""What watcher expects of each feed's answers, as checks that say what differs.

The adapters are tolerant on purpose: a strange record costs one record, and a missing key
is treated as absent. That tolerance would also hide NASA changing its API until the queue
went quiet. These checks are strict instead, and used where strictness helps: ``watcher
check`` runs them on live answers (an operator notices drift early), and the emulator's
conformance tests run them on the emulator's answers and on the recorded fixtures (the
emulator cannot drift from what was recorded). Each returns a list of problems, empty when
the answer has the expected shape; the first few record problems are listed, not all.

``expected_answer`` is the one place that says which check applies to which request.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import feedparser
import orjson

from watcher.polling.sources.common import param, parse_timestamp, snippet, to_int
from watcher.polling.sources.common import text as text_of
from watcher.polling.sources.image_library import DETAIL, ImageLibraryAdapter
from watcher.polling.sources.raw_images import LATEST, RawImagesAdapter
from watcher.polling.sources.rss import RssAdapter
from watcher.types import Page, PageRequest

MAX_RECORD_PROBLEMS = 5
IMAGE_FILES = ("small", "medium", "large", "full_res")


def raw_images_summary(data: Any) -> list[str]:
    """The answer to ``latest=true``: a summary of the newest downlink (or, the shape
    watcher accepts as well, an ``images`` list)."""
    if not isinstance(data, dict):
        return [f"expected a JSON object, got {type(data).__name__}"]
    if isinstance(data.get("images"), list) and "latest" not in data:
        return raw_images_listing(data)
    problems = []
    latest = data.get("latest")
    if not isinstance(latest, str) or parse_timestamp(latest) is None:
        problems.append(f"'latest' is not a timestamp: {_show(latest)}")
    sols = data.get("latest_sols")
    if not isinstance(sols, list) or not all(_is_int(s) for s in sols):
        problems.append(f"'latest_sols' is not a list of sols: {_show(sols)}")
    for key in ("new_count", "latest_sol", "total"):
        if not _is_int(data.get(key)):
            problems.append(f"{key!r} is not a number: {_show(data.get(key))}")
    return problems


def raw_images_listing(data: Any, *, asked: int | None = None) -> list[str]:
    """A page of images: the envelope of the recorded capture and records whose fields
    watcher reads, all of them full frames (``extended=sample_type::full`` was sent)."""
    if not isinstance(data, dict):
        return [f"expected a JSON object, got {type(data).__name__}"]
    images = data.get("images")
    if not isinstance(images, list):
        return [f"'images' is not a list: {_show(images)}"]
    problems = []
    if not _is_int(data.get("page")):
        problems.append(f"'page' is not a number: {_show(data.get('page'))}")
    if not _is_int(data.get("total_results")):
        problems.append(f"'total_results' is not a number: {_show(data.get('total_results'))}")
    if asked is not None and len(images) > asked:
        problems.append(f"{len(images)} images on a page of {asked}")
    if not images and "error_message" not in data:
        problems.append("an empty page without 'error_message'")
    problems += _records(images, _raw_record)
    return problems


def _raw_record(record: Any) -> list[str]:
    if not isinstance(record, dict):
        return [f"not an object: {_show(record)}"]
    problems = []
    if not isinstance(record.get("imageid"), str):
        problems.append(f"'imageid' is not a string: {_show(record.get('imageid'))}")
    if not _is_int(record.get("sol")):
        problems.append(f"'sol' is not a number: {_show(record.get('sol'))}")
    for key in ("date_received", "date_taken_utc"):
        value = record.get(key)
        if not isinstance(value, str) or parse_timestamp(value) is None:
            problems.append(f"{key!r} is not a timestamp: {_show(value)}")
    files = record.get("image_files")
    if not isinstance(files, dict) or not any(isinstance(files.get(k), str) for k in IMAGE_FILES):
        problems.append(f"'image_files' has none of {', '.join(IMAGE_FILES)}")
    camera = record.get("camera")
    if not isinstance(camera, dict) or not isinstance(camera.get("instrument"), str):
        problems.append("'camera.instrument' is missing")
    if record.get("sample_type") != "Full":
        problems.append(f"'sample_type' is {_show(record.get('sample_type'))}, not 'Full'")
    return [f"{_show(record.get('imageid'))}: {problem}" for problem in problems]


def image_library_search(data: Any) -> list[str]:
    """A ``/search`` answer: Collection+JSON whose items have an id and a manifest link."""
    collection = data.get("collection") if isinstance(data, dict) else None
    if not isinstance(collection, dict):
        return ["no 'collection' object"]
    items = collection.get("items")
    if not isinstance(items, list):
        return [f"'collection.items' is not a list: {_show(items)}"]
    problems = []
    metadata = collection.get("metadata")
    if not isinstance(metadata, dict) or not _is_int(metadata.get("total_hits")):
        problems.append("'collection.metadata.total_hits' is not a number")
    links = collection.get("links", [])
    if not isinstance(links, list) or not all(isinstance(link, dict) for link in links):
        problems.append(f"'collection.links' is not a list of links: {_show(links)}")
    return problems + _records(items, _library_item)


def _library_item(item: Any) -> list[str]:
    if not isinstance(item, dict):
        return [f"not an object: {_show(item)}"]
    data = item.get("data")
    meta = data[0] if isinstance(data, list) and data else None
    if not isinstance(meta, dict):
        return ["no 'data' object"]
    problems = []
    if not isinstance(meta.get("nasa_id"), str):
        problems.append(f"'nasa_id' is not a string: {_show(meta.get('nasa_id'))}")
    if not isinstance(item.get("href"), str):
        problems.append("no asset manifest link ('href')")
    if meta.get("media_type") == "image" and not any(
        isinstance(link, dict) and link.get("rel") == "preview" for link in item.get("links", ())
    ):
        problems.append("an image without a 'preview' link")
    return [f"{_show(meta.get('nasa_id'))}: {problem}" for problem in problems]


def image_library_manifest(data: Any) -> list[str]:
    """An item's asset manifest: a list of file URLs (``…~orig.jpg``, ``…~thumb.jpg``)."""
    if not isinstance(data, list) or not data:
        return [f"expected a non-empty list of file URLs, got {_show(data)}"]
    if not all(isinstance(href, str) for href in data):
        return ["not every entry is a URL string"]
    if not any("~" in href for href in data):
        return ["no rendition (~orig, ~large, ~thumb, ...) among the files"]
    return []


def rss_feed(body: bytes) -> list[str]:
    """An RSS or Atom feed with items, each with a link or a guid (watcher's key for it).

    Parsed from a stream, never a string: feedparser fetches or opens a string that looks
    like a URL or a path (see ``rss.py``)."""
    try:
        parsed = feedparser.parse(
            io.BytesIO(body), resolve_relative_uris=False, sanitize_html=False
        )
        version = parsed.get("version") or ""
        entries = list(parsed.get("entries") or ())
    except Exception as exc:
        return [f"the feed could not be parsed ({type(exc).__name__})"]
    if not version:
        return [f"not an RSS or Atom feed: {snippet(body)}"]
    if not entries:
        return [f"an {version} feed without items"]
    unnamed = sum(
        1 for entry in entries if not (text_of(entry.get("id")) or text_of(entry.get("link")))
    )
    if unnamed:
        return [f"{unnamed} of {len(entries)} items have neither a link nor a guid"]
    return []


def rss_pictures(page: Page) -> list[str]:
    """The adapter found a picture in at least one item (it skips an item without one)."""
    if page.candidates or not page.skipped:
        return []
    example = f" ({page.problems[-1]})" if page.problems else ""
    return [f"none of its {page.skipped} items has a picture watcher can use{example}"]


# -- which check applies to which answer ---------------------------------------------

SUMMARY_AS_IMAGES = "latest=true answered an 'images' list, not the summary (watcher reads both)"
NO_MANIFEST = "no image on the first page, so no asset manifest to check"


class Findings(NamedTuple):
    """What a check found in one answer: ``problems`` (its shape changed) and ``notes``
    (worth knowing, not a failure)."""

    problems: tuple[str, ...]
    notes: tuple[str, ...] = ()


# A check gets the answer (the body, or the JSON it holds) and what the adapter made of it
# (None when ``parse_page`` refused it).
BodyCheck = Callable[[bytes, Page | None], Findings]
JsonCheck = Callable[[Any, Page | None], Findings]


@dataclass(frozen=True, slots=True)
class Expected:
    """The shape an answer should have: its name, for messages, and its check."""

    name: str
    check: BodyCheck


def expected_answer(kind: str, request: PageRequest) -> Expected:
    """Which check applies to the answer to ``request`` of a ``kind`` source, told by the
    context the adapter gave the request (``raw_images.LATEST``, ``image_library.DETAIL``)."""
    raw, library = RawImagesAdapter.kind, ImageLibraryAdapter.kind
    if kind == raw and request.context.get("step") == LATEST:
        return Expected("latest=true summary", _json(_summary))
    if kind == raw:
        return Expected("listing", _json(_listing(to_int(param(request.params, "num")))))
    if kind == library and DETAIL in request.context:
        return Expected("asset manifest", _json(_manifest))
    if kind == library:
        return Expected("search", _json(_search))
    if kind == RssAdapter.kind:
        return Expected("feed", _feed)
    return Expected("answer", lambda body, page: Findings((), (f"no shape check for {kind!r}",)))


def _json(check: JsonCheck) -> BodyCheck:
    def decoded(body: bytes, page: Page | None) -> Findings:
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            return Findings((f"expected JSON, got {snippet(body)}",))
        return check(data, page)

    return decoded


def _summary(data: Any, page: Page | None) -> Findings:
    listed = isinstance(data, dict) and isinstance(data.get("images"), list)
    notes = (SUMMARY_AS_IMAGES,) if listed and "latest" not in data else ()
    return Findings(tuple(raw_images_summary(data)), notes)


def _listing(asked: int | None) -> JsonCheck:
    return lambda data, page: Findings(tuple(raw_images_listing(data, asked=asked)))


def _search(data: Any, page: Page | None) -> Findings:
    notes = (NO_MANIFEST,) if page is not None and not page.candidates else ()
    return Findings(tuple(image_library_search(data)), notes)


def _manifest(data: Any, page: Page | None) -> Findings:
    return Findings(tuple(image_library_manifest(data)))


def _feed(body: bytes, page: Page | None) -> Findings:
    return Findings(tuple(rss_feed(body) + (rss_pictures(page) if page is not None else [])))


def _records(records: list[Any], check: Callable[[Any], list[str]]) -> list[str]:
    problems: list[str] = []
    for record in records:
        problems += check(record)
        if len(problems) >= MAX_RECORD_PROBLEMS:
            return problems[:MAX_RECORD_PROBLEMS]
    return problems


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
