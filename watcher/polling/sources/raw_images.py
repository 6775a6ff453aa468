"""mars.nasa.gov raw-image JSON: Perseverance (``mars2020``) and Ingenuity (``ingenuity``).

How NASA answers (``../shared/fixtures/nasa/README.md``, "Reported behaviours"):
``latest=true`` gives a *summary* of the newest downlink (``latest``: when it was received,
``latest_sols``, ``new_count``, ...), not images. So a poll asks for it first, alone: when
its ``latest`` equals the marker stored after the last complete sweep, nothing arrived and
the poll is over after one request. Otherwise it lists everything received since the
cursor (``condition_2=<cursor>:date_received:gte``), newest sol first, 100 a page, pages
numbered from 0, until a short page or an ``error_message``; a source never polled
starts 24 hours before ``latest`` (the batch NASA calls latest and what arrived just
before it; the archive is ``watcher backfill``'s job). The cursor is NASA's
``date_received``, so an image received late for an older sol is still found. If an
``images`` list does come back for ``latest=true`` it is used too. Listings carry
``condition_1=<category>:mission`` as NASA's own gallery sends them, and never repeat a
query key (NASA drops a repeated key and answers with its default instead).

Every record's sol is checked against the sols asked for (the API answers other sols'
images for an empty sol); one that does not fit is skipped and counted, never the page.

NASA sends some frames in tiles: records whose ids differ only in a two-digit field
(``…NCAM03965_01_095J``, ``_02_``, ``_03_``), each with its ``subframeRect``. Tiles of one
frame become one candidate holding them all, identified by the ``_01`` id: the first
tile's own id, so a frame keeps its id whether its tiles came together or not. A tile
found without its siblings (on another page or in a later poll) joins the stored
candidate (``Store`` merges the tiles).

``high_water`` is the latest ``date_received`` of the page's candidates as
``YYYY-MM-DDTHH:MM:SSZ`` (see ``types.cursor_time``).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import orjson

from watcher.config import SourceConfig
from watcher.exceptions import ConfigError, ParseError
from watcher.polling.sources.common import (
    AdapterBase,
    Problems,
    high_water,
    optional_text,
    param,
    parse_timestamp,
    replace_param,
    snippet,
    to_int,
)
from watcher.polling.sources.credits import fallback_credit
from watcher.polling.sources.html import plain
from watcher.types import (
    INGENUITY,
    PERSEVERANCE,
    CandidateData,
    Page,
    PageRequest,
    PollState,
    Tile,
    cursor_time,
)

CATEGORY_MISSIONS = {"mars2020": PERSEVERANCE, "ingenuity": INGENUITY}
FULL_FRAMES = "sample_type::full"
# A first poll lists what arrived this long before NASA's ``latest``.
FIRST_POLL_WINDOW = timedelta(hours=24)
LATEST = "latest"  # the context ``step`` of a sweep's first request

_MARS_TIME = re.compile(r"M(\d\d:\d\d:\d\d)")
_TILE_ID = re.compile(r"^(?P<head>.+_)(?P<tile>\d\d)(?P<tail>_[A-Za-z0-9]+)$")
_RECT = re.compile(r"^\(\s*(\d{1,6})\s*,\s*(\d{1,6})\s*,\s*(\d{1,6})\s*,\s*(\d{1,6})\s*\)$")
_MAX_SIDE = 1_000_000
_SOL_TESTS: dict[str, Callable[[int, int], bool]] = {
    "gte": operator.ge,
    "gt": operator.gt,
    "lte": operator.le,
    "lt": operator.lt,
    "eq": operator.eq,
}


class RawImagesAdapter(AdapterBase):
    """Builds raw-image API requests and turns their answers into candidates."""

    kind = "raw_images"

    def __init__(self, config: SourceConfig, image_hosts: tuple[str, ...]) -> None:
        super().__init__(config, image_hosts)
        if not config.category:
            raise ConfigError(
                "is required for raw_images (mars2020 or ingenuity)", key=f"{config.name}.category"
            )
        self.category = config.category
        self.mission = config.mission or CATEGORY_MISSIONS.get(config.category)
        self.default_credit = fallback_credit(self.kind)

    def first_request(self, state: PollState) -> PageRequest:
        """``latest=true`` and nothing else that lists: NASA's cheap change detector. The
        stored marker and cursor ride in the context, for ``parse_page`` to decide."""
        params = (
            ("feed", "raw_images"),
            ("category", self.category),
            ("feedtype", "json"),
            ("latest", "true"),
        )
        context = {"step": LATEST, "marker": state.marker, "cursor": state.cursor}
        return PageRequest(self.config.url, params, False, context)

    def listing_request(self, since: str) -> PageRequest:
        """Page 0 of everything received at or after ``since``, newest sol first."""
        return self._request("sol desc", (("condition_2", f"{since}:date_received:gte"),))

    def backfill_request(self, from_sol: int | None, to_sol: int | None) -> PageRequest:
        conditions: list[tuple[str, str]] = []
        if from_sol is not None:
            conditions.append(("condition_2", f"{int(from_sol)}:sol:gte"))
        if to_sol is not None:
            conditions.append(("condition_3", f"{int(to_sol)}:sol:lte"))
        return self._request("sol asc", tuple(conditions))

    def _request(self, order: str, conditions: tuple[tuple[str, str], ...]) -> PageRequest:
        params = (
            ("feed", "raw_images"),
            ("category", self.category),
            ("feedtype", "json"),
            ("num", str(self.config.page_size)),
            ("page", "0"),
            ("order", order),
            ("condition_1", f"{self.category}:mission"),
            *conditions,
            ("extended", FULL_FRAMES),
        )
        return PageRequest(self.config.url, params, False, {"page": 0})

    def parse_page(self, body: bytes, request: PageRequest) -> Page:
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise ParseError(f"raw images: expected JSON, got {snippet(body)}") from None
        if not isinstance(data, dict):
            raise ParseError(f"raw images: expected a JSON object, got {type(data).__name__}")
        if request.context.get("step") == LATEST:
            return self._after_latest(data, request)
        images = data.get("images")
        if not isinstance(images, list):
            images = data.get("image")  # what ``id=<imageid>`` answers
        total = to_int(data.get("total_results"))
        if not isinstance(images, list):
            if "error_message" in data:
                return Page(candidates=(), total=total)
            raise ParseError("raw images: the response has no 'images' list")

        problems = Problems()
        candidates = self._records(images, request, problems)
        finished = bool(data.get("error_message")) or (bool(images) and not candidates)
        return Page(
            candidates=tuple(candidates),
            skipped=problems.skipped,
            next=self._next(request, len(images), finished),
            high_water=high_water(c.received_at for c in candidates),
            total=total,
            problems=tuple(problems.messages),
        )

    def _after_latest(self, data: dict[str, Any], request: PageRequest) -> Page:
        """The answer to ``latest=true``: done when NASA's ``latest`` is the stored marker,
        else the listing of what arrived since the cursor (or since ``latest`` - 24 h).

        An ``images`` list in the answer is used as well, and without a ``latest`` its
        newest ``date_received`` serves as the marker."""
        problems = Problems()
        images = data.get("images")
        candidates = self._records(images, request, problems) if isinstance(images, list) else []
        total = to_int(data.get("total"))
        latest = parse_timestamp(data.get("latest"))
        received = [c.received_at for c in candidates if c.received_at is not None]
        if latest is None and received:
            latest = max(received)
        if latest is None:
            if isinstance(images, list) or "error_message" in data:
                return Page(
                    candidates=tuple(candidates),
                    skipped=problems.skipped,
                    total=total,
                    problems=tuple(problems.messages),
                )
            raise ParseError("raw images: the latest=true answer has neither 'latest' nor 'images'")
        marker = cursor_time(latest)
        if marker == request.context.get("marker"):
            return Page(candidates=(), marker=marker, unchanged=True, total=total)
        cursor = request.context.get("cursor")
        since = cursor if isinstance(cursor, str) and cursor else None
        since = since or cursor_time(latest - FIRST_POLL_WINDOW)
        found = high_water(received)
        return Page(
            candidates=tuple(candidates),
            skipped=problems.skipped,
            next=self.listing_request(since),
            # The sweep covers everything received since ``since``: the cursor starts there.
            high_water=max(since, found) if found else since,
            total=total,
            problems=tuple(problems.messages),
            marker=marker,
        )

    def _records(
        self, images: list[Any], request: PageRequest, problems: Problems
    ) -> list[CandidateData]:
        """The page's records as candidates, tiles of a frame joined; records of sols not
        asked for are skipped."""
        asked = sols_asked(request.params)
        if asked is None:
            return join_tiles(self.collect(images, "record", problems))

        def normalise(record: Any) -> CandidateData | str:
            result = self.normalise(record)
            if isinstance(result, CandidateData) and not asked(result.sol):
                return f"{result.external_id}: sol {result.sol}, not a sol asked for"
            return result

        return join_tiles(self.collect(images, "record", problems, normalise))

    def _next(self, request: PageRequest, count: int, finished: bool) -> PageRequest | None:
        requested = to_int(param(request.params, "num")) or self.config.page_size
        if finished or count == 0 or count < requested:
            return None
        page = to_int(param(request.params, "page")) or 0
        context = {**request.context, "page": page + 1}
        params = replace_param(request.params, "page", str(page + 1))
        return PageRequest(request.url, params, False, context)

    def normalise(self, record: Any) -> CandidateData | str:
        """One raw-image record as a candidate, or why it was skipped.

        The record itself becomes ``raw`` (no copy): it is never changed afterwards.
        """
        if type(record) is not dict:
            return f"not an object ({type(record).__name__})"
        get = record.get
        imageid = get("imageid")
        if type(imageid) is not str and type(imageid) is not int:
            return "no imageid"
        external_id = str(imageid).strip()
        if not external_id:
            return "blank imageid"
        sample_type = get("sample_type")
        if sample_type is not None and sample_type != "Full":
            kind = str(sample_type).strip()
            if kind and kind.lower() != "full":
                return f"{external_id}: sample_type {kind[:20]!r}, not a full frame"

        clean = self.clean
        files = get("image_files")
        thumb = medium = large = full = None
        if type(files) is dict:
            thumb = clean(files.get("small"))
            medium = clean(files.get("medium"))
            large = clean(files.get("large"))
            full = clean(files.get("full_res"))
        if not (full or large or medium or thumb):
            return f"{external_id}: no usable image URL"

        camera = get("camera")
        if type(camera) is dict:
            camera = camera.get("instrument")
        width = height = None
        extended = get("extended")
        if type(extended) is dict:
            width, height = _dimension(extended.get("dimension"))
        mars_time = get("date_taken_mars")
        found = _MARS_TIME.search(mars_time) if type(mars_time) is str else None
        return CandidateData(
            source=self.config.name,
            external_id=external_id,
            mission=self.mission,
            title=plain(get("title")),
            caption=plain(get("caption")),
            credit=optional_text(get("credit")) or self.default_credit,
            camera=optional_text(camera),
            sol=to_int(get("sol")),
            taken_at=parse_timestamp(get("date_taken_utc")),
            mars_local_time=found.group(1) if found else None,
            received_at=parse_timestamp(get("date_received")),
            page_url=clean(get("link")),
            thumbnail_url=thumb,
            medium_url=medium,
            large_url=large,
            full_url=full,
            width=width,
            height=height,
            raw=record,
        )


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


def _dimension(value: object) -> tuple[int | None, int | None]:
    """``"(1288,968)"`` -> (1288, 968); anything else -> (None, None)."""
    if type(value) is not str:
        return None, None
    left, _, right = value.partition(",")
    try:
        width, height = int(left.strip(" ()")), int(right.strip(" ()"))
    except ValueError:
        return None, None
    if 0 < width < _MAX_SIDE and 0 < height < _MAX_SIDE:
        return width, height
    return None, None


@dataclass(frozen=True, slots=True)
class SolsAsked:
    """What a request asks of a record's sol: bounds (``op``, ``sol``) and sets of sols."""

    bounds: tuple[tuple[str, int], ...] = ()
    sets: tuple[frozenset[int], ...] = ()

    def __call__(self, sol: int | None) -> bool:
        """A record without a sol never passes a sol test."""
        if sol is None:
            return False
        return all(_SOL_TESTS[op](sol, bound) for op, bound in self.bounds) and all(
            sol in allowed for allowed in self.sets
        )


def sols_asked(params: tuple[tuple[str, str], ...]) -> SolsAsked | None:
    """What a request asks of a record's sol (``sol=N`` or ``condition_N=<v>:sol:<op>``),
    or None when it asks nothing of it. ``condition_1`` is left out: NASA ignores ranges
    there."""
    bounds: list[tuple[str, int]] = []
    sets: list[frozenset[int]] = []
    for key, value in params:
        if key == "sol":
            if (wanted := to_int(value)) is not None:
                bounds.append(("eq", wanted))
        elif key.startswith("condition_") and key != "condition_1":
            raw, _, rest = value.partition(":")
            field, _, op = rest.partition(":")
            if field != "sol":
                continue
            if op == "in":
                sets.append(
                    frozenset(n for part in raw.split(",") if (n := to_int(part)) is not None)
                )
            elif op in _SOL_TESTS and (bound := to_int(raw)) is not None:
                bounds.append((op, bound))
    if not bounds and not sets:
        return None
    return SolsAsked(tuple(bounds), tuple(sets))
