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
images for an empty sol; ``sols``); one that does not fit is skipped and counted, never
the page. Frames NASA sends in tiles become one candidate each (``tiles``).

``high_water`` is the latest ``date_received`` of the page's candidates as
``YYYY-MM-DDTHH:MM:SSZ`` (see ``types.cursor_time``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from watcher.config import SourceConfig
from watcher.exceptions import ConfigError, ParseError
from watcher.polling.sources.common import (
    AdapterBase,
    Problems,
    high_water,
    json_body,
    next_page,
    optional_text,
    param,
    parse_timestamp,
    to_int,
)
from watcher.polling.sources.credits import fallback_credit
from watcher.polling.sources.html import plain
from watcher.polling.sources.sols import sols_asked
from watcher.polling.sources.tiles import join_tiles
from watcher.types import (
    INGENUITY,
    PERSEVERANCE,
    CandidateData,
    Page,
    PageRequest,
    PollState,
    cursor_time,
)

CATEGORY_MISSIONS = {"mars2020": PERSEVERANCE, "ingenuity": INGENUITY}
FULL_FRAMES = "sample_type::full"
# A first poll lists what arrived this long before NASA's ``latest``.
FIRST_POLL_WINDOW = timedelta(hours=24)
LATEST = "latest"  # the context ``step`` of a sweep's first request

_MARS_TIME = re.compile(r"M(\d\d:\d\d:\d\d)")
_MAX_SIDE = 1_000_000


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
        data = json_body(body, "raw images")
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
        since = since or cursor_time(_before(latest, FIRST_POLL_WINDOW))
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
        return next_page(request, to_int(param(request.params, "page")) or 0)

    def _normalise(self, record: Any) -> CandidateData | str:
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
        partial = _partial_frame(get("sample_type"))
        if partial:
            return f"{external_id}: sample_type {partial[:20]!r}, not a full frame"
        thumb, medium, large, full = self._renditions(get("image_files"))
        if not (full or large or medium or thumb):
            return f"{external_id}: no usable image URL"
        width, height = _frame_size(get("extended"))
        return CandidateData(
            source=self.config.name,
            external_id=external_id,
            mission=self.mission,
            title=plain(get("title")),
            caption=plain(get("caption")),
            credit=optional_text(get("credit")) or self.default_credit,
            camera=optional_text(_instrument(get("camera"))),
            sol=to_int(get("sol")),
            taken_at=parse_timestamp(get("date_taken_utc")),
            mars_local_time=_mars_local_time(get("date_taken_mars")),
            received_at=parse_timestamp(get("date_received")),
            page_url=self.clean(get("link")),
            thumbnail_url=thumb,
            medium_url=medium,
            large_url=large,
            full_url=full,
            width=width,
            height=height,
            raw=record,
        )

    def _renditions(self, files: object) -> tuple[str | None, str | None, str | None, str | None]:
        """The record's (small, medium, large, full_res) image URLs, each on an allowed host
        or None; all None when it has no ``image_files`` object."""
        if type(files) is not dict:
            return None, None, None, None
        clean = self.clean
        return (
            clean(files.get("small")),
            clean(files.get("medium")),
            clean(files.get("large")),
            clean(files.get("full_res")),
        )


def _before(moment: datetime, span: timedelta) -> datetime:
    """``span`` before ``moment``, or the first moment there is when that is earlier: a
    ``latest`` of 0001-01-01 (no real one, but NASA's to send) must not end the poll in
    an OverflowError at every attempt."""
    floor = datetime.min.replace(tzinfo=UTC)
    return moment - span if moment - floor > span else floor


def _partial_frame(sample_type: object) -> str | None:
    """The ``sample_type`` of a record that is not a full frame (a thumbnail, a subframe),
    which the site does not show; None for a full frame, or when the record does not say."""
    if sample_type is None or sample_type == "Full":
        return None
    kind = str(sample_type).strip()
    return kind if kind and kind.lower() != "full" else None


def _instrument(camera: object) -> object:
    """The camera's name: ``camera.instrument`` when ``camera`` is an object (as NASA's
    API sends it), else ``camera`` as it is."""
    return camera.get("instrument") if type(camera) is dict else camera


def _mars_local_time(value: object) -> str | None:
    """``"HH:MM:SS"`` from ``date_taken_mars`` (``"Sol-01965M15:28:38.766"``), else None."""
    found = _MARS_TIME.search(value) if type(value) is str else None
    return found.group(1) if found else None


def _frame_size(extended: object) -> tuple[int | None, int | None]:
    """(width, height) from ``extended.dimension``; (None, None) when it is not there."""
    return _dimension(extended.get("dimension")) if type(extended) is dict else (None, None)


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
