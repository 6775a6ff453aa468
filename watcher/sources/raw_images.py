"""mars.nasa.gov raw-image JSON: Perseverance (``mars2020``) and Ingenuity (``ingenuity``).

Requests follow the shapes real clients of the API send, and never repeat a query key (the
API rejects repeats). An incremental sweep starts with ``latest=true`` (the newest sol) and,
once a cursor exists, asks for everything received since it
(``condition_2=<cursor>:date_received:gte``), newest sol first. A backfill walks sols
upwards. Pages are numbered from 0; the page number lives in the ``page`` parameter (the
request context mirrors it), so a stored request resumes exactly.

``high_water`` is the latest ``date_received`` of the page's candidates as
``YYYY-MM-DDTHH:MM:SSZ`` (see ``types.cursor_time``).
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from watcher.config import SourceConfig
from watcher.exceptions import ConfigError, ParseError
from watcher.sources.common import (
    AdapterBase,
    Problems,
    high_water,
    optional_text,
    param,
    parse_timestamp,
    plain,
    replace_param,
    snippet,
    to_int,
)
from watcher.types import INGENUITY, PERSEVERANCE, CandidateData, Page, PageRequest, PollState

CATEGORY_MISSIONS = {"mars2020": PERSEVERANCE, "ingenuity": INGENUITY}
FULL_FRAMES = "sample_type::full,"

_MARS_TIME = re.compile(r"M(\d\d:\d\d:\d\d)")
_MAX_SIDE = 1_000_000


class RawImagesAdapter(AdapterBase):
    """Builds raw-image API requests and turns their pages into candidates."""

    kind = "raw_images"

    def __init__(self, config: SourceConfig, image_hosts: tuple[str, ...]) -> None:
        super().__init__(config, image_hosts)
        if not config.category:
            raise ConfigError(
                "is required for raw_images (mars2020 or ingenuity)", key=f"{config.name}.category"
            )
        self.category = config.category
        self.mission = config.mission or CATEGORY_MISSIONS.get(config.category)

    def first_request(self, state: PollState) -> PageRequest:
        if state.cursor is None:
            condition = (("latest", "true"),)
        else:
            condition = (("condition_2", f"{state.cursor}:date_received:gte"),)
        return self._request("sol desc", condition, conditional=True)

    def backfill_request(self, from_sol: int | None, to_sol: int | None) -> PageRequest:
        conditions: list[tuple[str, str]] = []
        if from_sol is not None:
            conditions.append(("condition_2", f"{int(from_sol)}:sol:gte"))
        if to_sol is not None:
            conditions.append(("condition_3", f"{int(to_sol)}:sol:lte"))
        return self._request("sol asc", tuple(conditions), conditional=False)

    def _request(
        self, order: str, conditions: tuple[tuple[str, str], ...], *, conditional: bool
    ) -> PageRequest:
        params = (
            ("feed", "raw_images"),
            ("category", self.category),
            ("feedtype", "json"),
            ("num", str(self.config.page_size)),
            ("page", "0"),
            ("order", order),
            *conditions,
            ("extended", FULL_FRAMES),
        )
        return PageRequest(self.config.url, params, conditional, {"page": 0})

    def parse_page(self, body: bytes, request: PageRequest) -> Page:
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise ParseError(f"raw images: expected JSON, got {snippet(body)}") from None
        if not isinstance(data, dict):
            raise ParseError(f"raw images: expected a JSON object, got {type(data).__name__}")
        images = data.get("images")
        total = to_int(data.get("total_results"))
        if not isinstance(images, list):
            if "error_message" in data:
                return Page(candidates=(), total=total)
            raise ParseError("raw images: the response has no 'images' list")

        problems = Problems()
        candidates = self.collect(images, "record", problems)

        return Page(
            candidates=tuple(candidates),
            skipped=problems.skipped,
            next=self._next(request, len(images), bool(data.get("error_message"))),
            high_water=high_water(c.received_at for c in candidates),
            total=total,
            problems=tuple(problems.messages),
        )

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
            credit=optional_text(get("credit")),
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
