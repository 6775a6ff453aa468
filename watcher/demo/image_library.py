"""``ImageLibraryDataset``: what the emulator serves as images-api.nasa.gov's ``/search``.

Items are Collection+JSON ``items`` as the real API returns them; what an item says about
itself (``nasa_id``, title, dates, keywords) is in its first ``data`` block, which
``first_data`` finds for the search here and for the answers in ``responses``.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from watcher.demo.queries import ImageLibraryQuery

__all__ = ["ImageLibraryDataset", "first_data"]

# The renditions an item's asset manifest lists, after the preview's name.
_RENDITIONS = ("~orig.jpg", "~large.jpg", "~medium.jpg", "~small.jpg", "~thumb.jpg")


def first_data(item: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """An item's first ``data`` block, or None when the item has no usable one."""
    data = item.get("data")
    if isinstance(data, list) and data and isinstance(data[0], Mapping):
        return data[0]
    return None


class ImageLibraryDataset:
    """images-api.nasa.gov items (Collection+JSON ``items``), served in list order.

    ``q`` matches case-insensitively as a substring of title, description or a keyword;
    ``media_type`` is a comma list; ``year_start``/``year_end`` test ``date_created``.
    ``manifests`` gives an item's asset manifest (its file URLs) by ``nasa_id``; without
    one, the manifest follows the preview's name: ``~orig.jpg``, ``~large.jpg``,
    ``~medium.jpg``, ``~small.jpg``, ``~thumb.jpg`` and ``metadata.json``.
    """

    def __init__(
        self,
        items: Iterable[Mapping[str, Any]] = (),
        manifests: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._items: list[dict[str, Any]] = [copy.deepcopy(dict(i)) for i in items]
        self.manifests: dict[str, list[str]] = {k: list(v) for k, v in (manifests or {}).items()}

    def manifest(self, nasa_id: str) -> list[str] | None:
        """The files of an item (None for an unknown item, or one without a preview)."""
        if nasa_id in self.manifests:
            return list(self.manifests[nasa_id])
        with self._lock:
            items = list(self._items)
        for item in items:
            if str((first_data(item) or {}).get("nasa_id", "")).strip() != nasa_id:
                continue
            previews = [
                link.get("href")
                for link in item.get("links") or ()
                if isinstance(link, dict) and link.get("rel") == "preview"
            ]
            preview = previews[0] if previews and isinstance(previews[0], str) else ""
            stem, marker, _ = preview.rpartition("~thumb")
            if not marker:
                return None
            folder = stem.rpartition("/")[0]
            return [f"{stem}{name}" for name in _RENDITIONS] + [f"{folder}/metadata.json"]
        return None

    @classmethod
    def from_capture(cls, body: bytes | str) -> ImageLibraryDataset:
        import json

        return cls(json.loads(body)["collection"]["items"])

    def add(self, item: Mapping[str, Any], *, first: bool = False) -> None:
        with self._lock:
            self._items.insert(0 if first else len(self._items), copy.deepcopy(dict(item)))

    def __len__(self) -> int:
        return len(self._items)

    def search(self, query: ImageLibraryQuery) -> tuple[list[dict[str, Any]], int]:
        """The page's items and the total number of hits."""
        with self._lock:
            items = list(self._items)
        hits = [item for item in items if _matches(first_data(item) or {}, query)]
        start = (query.page - 1) * query.page_size
        return hits[start : start + query.page_size], len(hits)


def _matches(data: Mapping[str, Any], query: ImageLibraryQuery) -> bool:
    """Whether an item (its first ``data`` block) is a hit, as the real search decides."""
    if query.media_types and str(data.get("media_type", "")).lower() not in query.media_types:
        return False
    year = str(data.get("date_created", ""))[:4]
    if query.year_start is not None and not (year.isdigit() and int(year) >= query.year_start):
        return False
    if query.year_end is not None and not (year.isdigit() and int(year) <= query.year_end):
        return False
    needle = query.q.lower()
    if needle:
        keywords = data.get("keywords")
        texts = [str(data.get("title", "")), str(data.get("description", ""))]
        texts += [str(k) for k in keywords] if isinstance(keywords, list) else []
        return any(needle in text.lower() for text in texts)
    return True
