"""The emulator's own pictures in NASA's answers: their names and the URL rewriting.

With ``rewrite_images`` the emulator serves every picture itself, so the editor and the
published pages work offline: raw images at ``/img/<imageid>_<size>.<ext>``, image-library
renditions at ``/img/<name>~<rendition>.<ext>`` (the library's own naming). Here are those
names and the rewriting of records, items, asset manifests and feeds that points at them;
``responses.image`` answers the requests they lead to.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from watcher.demo.image_library import first_data
from watcher.demo.pictures import EXTENSIONS

__all__ = [
    "LIBRARY_NAME",
    "RENDITION_EXTENSIONS",
    "RENDITION_SIZES",
    "library_picture_url",
    "picture_url",
    "rewrite_feed",
    "rewrite_item",
    "rewrite_manifest",
    "rewrite_record",
    "rewrite_records",
]

# The image library's rendition names, the picture size each stands for, its extension.
RENDITION = re.compile(r"~(orig|large|medium|small|thumb)\.[A-Za-z0-9]+$")
RENDITION_SIZES = {
    "orig": "full_res",
    "large": "large",
    "medium": "medium",
    "small": "small",
    "thumb": "small",
}
RENDITION_EXTENSIONS = {name: EXTENSIONS[size] for name, size in RENDITION_SIZES.items()}
LIBRARY_NAME = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9_.-]{0,159})~(?P<rendition>orig|large|medium|small|thumb)"
    r"\.(?P<ext>jpg|png)$"
)
_ASSET_FILE = re.compile(
    rb"https://images-assets\.nasa\.gov/image/[^/\s\"'<>]+/([A-Za-z0-9_.-]+)~"
    rb"(orig|large|medium|small|thumb)\.[A-Za-z0-9]+"
)


def picture_url(image_base: str, imageid: str, size: str) -> str:
    """Where the emulator serves ``imageid`` at ``size`` (the id percent-encoded: one that
    ``NAME`` refuses then gets a 404, never a path)."""
    return f"{image_base}/{quote(imageid, safe='')}_{size}.{EXTENSIONS.get(size, 'jpg')}"


def library_picture_url(image_base: str, name: str, rendition: str) -> str:
    """Where the emulator serves an image-library rendition: the library's own naming
    (``<name>~<rendition>``) with the extension of the picture size it stands for."""
    return f"{image_base}/{name}~{rendition}.{RENDITION_EXTENSIONS[rendition]}"


def rewrite_record(record: dict[str, Any], image_base: str) -> dict[str, Any]:
    """A copy of ``record`` whose ``image_files`` point at the emulator's pictures
    (``{image_base}/<imageid>_<size>.jpg``, ``.png`` for ``full_res``)."""
    files, imageid = record.get("image_files"), record.get("imageid")
    if not isinstance(files, dict) or not isinstance(imageid, str):
        return record
    name = imageid.strip()
    return {**record, "image_files": {size: picture_url(image_base, name, size) for size in files}}


def rewrite_records(records: list[dict[str, Any]], image_base: str | None) -> list[dict[str, Any]]:
    """Raw-image records as served: rewritten when the emulator serves the pictures."""
    if image_base is None:
        return records
    return [rewrite_record(record, image_base) for record in records]


def rewrite_item(item: dict[str, Any], image_base: str) -> dict[str, Any]:
    """A copy of an images-api item whose ``preview`` link is a picture of the emulator's
    (a generic Mars scene seeded by the ``nasa_id``)."""
    links, data = item.get("links"), item.get("data")
    if not isinstance(links, list) or not isinstance(data, list) or not data:
        return item
    first = first_data(item)
    nasa_id = str(first.get("nasa_id", "")) if first is not None else ""
    href = library_picture_url(image_base, _safe_name(nasa_id), "thumb")
    new_links = [
        {**link, "href": href} if isinstance(link, dict) and link.get("rel") == "preview" else link
        for link in links
    ]
    return {**item, "links": new_links}


def rewrite_manifest(files: Sequence[str], nasa_id: str, image_base: str) -> list[str]:
    """An item's asset manifest with its renditions the emulator's pictures
    (``<name>~orig.png``, ``~large.jpg``, ...); other files kept."""
    name = _safe_name(nasa_id)
    return [
        library_picture_url(image_base, name, marker.group(1))
        if (marker := RENDITION.search(url))
        else url
        for url in files
    ]


def rewrite_feed(body: bytes, image_base: str) -> bytes:
    """An RSS feed whose image-library pictures are the emulator's."""

    def local(match: re.Match[bytes]) -> bytes:
        name, rendition = match.group(1).decode(), match.group(2).decode()
        return library_picture_url(image_base, name, rendition).encode()

    return _ASSET_FILE.sub(local, body)


def _safe_name(nasa_id: str) -> str:
    """A picture name for an images-api id (which may hold spaces and anything else)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", nasa_id.strip()).strip("-.") or "image"
