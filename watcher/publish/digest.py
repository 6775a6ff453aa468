"""What changed since the last edition, decided from content digests alone.

An entry's digest is the sha256 of a canonical JSON of everything readers see of it (the
page, the permalink page, the feeds), *except* its position: a reorder is reported once,
as ``reordered``, not as every moved entry "changed". ``updated_at`` is left out too, so an
edit that changes nothing visible makes no edition.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from watcher.publish.model import ListDiff, StoredEntry
from watcher.types import Frame, PublishedEntry

# Bump when the meaning of a digest changes, so every entry counts as changed once.
DIGEST_VERSION = 1


def _frame(frame: Frame) -> dict[str, Any]:
    return {
        "candidate_id": frame.candidate_id,
        "taken_at": frame.taken_at,
        "thumbnail_url": frame.thumbnail_url,
        "medium_url": frame.medium_url,
        "large_url": frame.large_url,
        "full_url": frame.full_url,
        "width": frame.width,
        "height": frame.height,
    }


def _canonical(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z)


def digest(entry: PublishedEntry) -> str:
    """sha256 (hex) of what readers see of ``entry``, position and updated_at excluded."""
    shown = {
        "v": DIGEST_VERSION,
        "id": entry.id,
        "heading": entry.heading,
        "body": entry.body,
        "alt_text": entry.alt_text,
        "credit": entry.credit,
        "rendition": entry.rendition,
        "frames": [_frame(frame) for frame in entry.frames],
        "mission": entry.mission,
        "camera": entry.camera,
        "sol": entry.sol,
        "mars_local_time": entry.mars_local_time,
        "taken_at": entry.taken_at,
        "nasa_page_url": entry.nasa_page_url,
        "created_at": entry.created_at,
    }
    return hashlib.sha256(_canonical(shown)).hexdigest()


def site_digest(title: str, intro: str) -> str:
    """The digest of the site-wide text: a change of title or intro is a site change."""
    return hashlib.sha256(_canonical({"title": title, "intro": intro})).hexdigest()


def diff(current: Sequence[tuple[int, str]], stored: Mapping[int, StoredEntry]) -> ListDiff:
    """Compare the list now (``(entry id, digest)`` in list order) with the stored state.

    ``reordered`` is True when the entries present in both are in a different relative
    order: adding at the end or removing one is not a reorder.
    """
    current_ids = {entry_id for entry_id, _ in current}
    added = tuple(entry_id for entry_id, _ in current if entry_id not in stored)
    changed = tuple(
        entry_id
        for entry_id, entry_digest in current
        if entry_id in stored and stored[entry_id].digest != entry_digest
    )
    removed = tuple(sorted(entry_id for entry_id in stored if entry_id not in current_ids))
    before = [
        entry_id
        for entry_id, _ in sorted(stored.items(), key=lambda item: (item[1].position, item[0]))
        if entry_id in current_ids
    ]
    after = [entry_id for entry_id, _ in current if entry_id in stored]
    return ListDiff(added=added, changed=changed, removed=removed, reordered=before != after)


def compare(
    entries: Sequence[PublishedEntry], rows: Mapping[int, tuple[str, int, int]]
) -> tuple[list[tuple[int, str]], dict[int, StoredEntry], ListDiff]:
    """The list's (id, digest) pairs, the stored state, and how they differ."""
    current = [(entry.id, digest(entry)) for entry in entries]
    stored = {k: StoredEntry(*row) for k, row in rows.items()}
    return current, stored, diff(current, stored)
