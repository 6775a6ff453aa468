"""Frames NASA's raw-image API sends in tiles, joined back into one candidate each.

NASA sends some frames in tiles: records whose ids differ only in a two-digit field
(``…NCAM03965_01_095J``, ``_02_``, ``_03_``), each with its ``subframeRect``. Tiles of one
frame become one candidate holding them all, identified by the ``_01`` id: the first
tile's own id, so a frame keeps its id whether its tiles came together or not. A tile
found without its siblings (on another page or in a later poll) joins the stored
candidate (``Store`` merges the tiles).
"""

from __future__ import annotations

import re
from dataclasses import replace

from watcher.types import CandidateData, Tile

_TILE_ID = re.compile(r"^(?P<head>.+_)(?P<tile>\d\d)(?P<tail>_[A-Za-z0-9]+)$")
_RECT = re.compile(r"^\(\s*(\d{1,6})\s*,\s*(\d{1,6})\s*,\s*(\d{1,6})\s*,\s*(\d{1,6})\s*\)$")


def join_tiles(candidates: list[CandidateData]) -> list[CandidateData]:
    """Tiles of one frame as one candidate (see the module docstring), in page order.

    Records are tiles when two or more of a page share a frame id with different
    ``subframeRect``s, or when one alone sits away from the frame's top-left corner.
    """
    frames: dict[str, list[tuple[CandidateData, Tile]]] = {}
    for candidate in candidates:
        found = _tile(candidate)
        if found is not None:
            frames.setdefault(found[0], []).append((candidate, found[1]))
    joined: dict[str, CandidateData] = {}
    for frame, pieces in frames.items():
        corners = {(tile.left, tile.top) for _, tile in pieces}
        if len(corners) > 1 or corners != {(1, 1)}:
            first = min(pieces, key=lambda piece: piece[0].external_id)[0]
            tiles = tuple(sorted((t for _, t in pieces), key=lambda t: (t.top, t.left)))
            joined[frame] = replace(first, external_id=frame, tiles=tiles)
    if not joined:
        return candidates
    result: list[CandidateData] = []
    placed: set[str] = set()
    for candidate in candidates:
        found = _tile(candidate)
        if found is None or found[0] not in joined:
            result.append(candidate)
        elif found[0] not in placed:  # the whole frame where its first tile was
            placed.add(found[0])
            result.append(joined[found[0]])
    return result


def _tile(candidate: CandidateData) -> tuple[str, Tile] | None:
    """(the frame's id, the tile) for a record whose id has a tile number and whose
    ``extended.subframeRect`` says where it sits; None for anything else."""
    parts = _TILE_ID.match(candidate.external_id)
    extended = candidate.raw.get("extended")
    rect = _RECT.match(str(extended.get("subframeRect", ""))) if type(extended) is dict else None
    if parts is None or rect is None:
        return None
    left, top, width, height = (int(n) for n in rect.groups())
    tile = Tile(
        imageid=candidate.external_id,
        left=left,
        top=top,
        width=width,
        height=height,
        thumbnail_url=candidate.thumbnail_url,
        medium_url=candidate.medium_url,
        large_url=candidate.large_url,
        full_url=candidate.full_url,
    )
    return f"{parts.group('head')}01{parts.group('tail')}", tile
