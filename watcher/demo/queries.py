"""What a request to the emulated APIs asks for, parsed and validated.

Parsing lives apart from the HTTP handler so its rules (which NASA parameters exist, how a
``condition_N`` reads, what NASA ignores) are easy to read and to test. Where NASA is
reported to be lenient the emulator is too (a repeated key is dropped, a range in
``condition_1`` is ignored, ``num`` is capped: see ``behaviours.py``); what NASA has not
been seen to do with a malformed parameter is a ``QueryError``, which the server answers
with 400, because every such case is a bug in watcher's request building that tests
should see loudly.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 100
DEFAULT_CATEGORY = "mars2020"  # what NASA answers when ``category`` is missing or repeated
IMAGES_API_MAX_HITS = 10_000  # images-api.nasa.gov refuses to page past 10,000 hits

OPS: dict[str, Callable[[Any, Any], bool]] = {
    "gte": operator.ge,
    "gt": operator.gt,
    "lte": operator.le,
    "lt": operator.lt,
    "eq": operator.eq,
}
SET_OP = "in"
FIELDS = ("sol", "date_received", "date_taken")
MISSION = "mission"
ORDERS = ("sol", "date_taken")


class QueryError(ValueError):
    """A request the emulated API answers with 400."""


@dataclass(frozen=True, slots=True)
class Condition:
    """``condition_N=<value>:<field>:<op>``; a sol is an int, a date epoch seconds.
    ``op`` ``in`` tests membership of ``values`` (``<a>,<b>:sol:in``)."""

    field: str
    op: str
    value: float
    values: tuple[float, ...] = ()

    def test(self, actual: float) -> bool:
        if self.op == SET_OP:
            return actual in self.values
        return OPS[self.op](actual, self.value)


@dataclass(frozen=True, slots=True)
class RawImagesQuery:
    """One ``/rss/api/?feed=raw_images`` request. ``page`` is 0-based.

    ``latest``: the summary of the newest downlink is wanted, not images. ``imageid``: one
    image (``id=``). ``sol``: whole-sol mode (``sol=``). ``order`` is ``sol`` or
    ``date_taken``. ``mission``: the mission a ``<m>:mission`` condition names.
    """

    category: str
    num: int = DEFAULT_PER_PAGE
    page: int = 0
    descending: bool = True
    latest: bool = False
    full_only: bool = False
    conditions: tuple[Condition, ...] = ()
    imageid: str | None = None
    sol: int | None = None
    order: str = "sol"
    mission: str | None = None


@dataclass(frozen=True, slots=True)
class ImageLibraryQuery:
    """One ``/search`` request of images-api.nasa.gov. ``page`` is 1-based."""

    q: str = ""
    media_types: tuple[str, ...] = ()
    year_start: int | None = None
    year_end: int | None = None
    page: int = 1
    page_size: int = 100


def repeated_keys(pairs: Sequence[tuple[str, str]]) -> list[str]:
    seen: set[str] = set()
    repeated: list[str] = []
    for key, _ in pairs:
        if key in seen and key not in repeated:
            repeated.append(key)
        seen.add(key)
    return repeated


def without_repeats(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    """The parameters NASA acts on: a key sent twice is dropped altogether."""
    repeated = set(repeated_keys(pairs))
    return {key: value for key, value in pairs if key not in repeated}


def parse_timestamp(text: object) -> float | None:
    """Epoch seconds of an ISO timestamp (``Z`` or offset; naive means UTC), else None."""
    if not isinstance(text, str) or not text:
        return None
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def parse_raw_images(params: Mapping[str, str]) -> RawImagesQuery:
    """Validate the parameters of a raw-images request (repeated keys already dropped)."""
    if params.get("feed") != "raw_images":
        raise QueryError("feed must be raw_images")
    if params.get("feedtype", "json") != "json":
        raise QueryError("only feedtype=json is emulated")
    category = params.get("category", "").strip() or DEFAULT_CATEGORY
    num = _int(params, "num", DEFAULT_PER_PAGE, low=1)
    page = _int(params, "page", 0, low=0)
    order_text = " ".join(params.get("order", "sol desc").lower().split())
    order, _, direction = order_text.partition(" ")
    if order not in ORDERS or direction not in ("", "asc", "desc"):
        raise QueryError(f"unsupported order {params['order']!r}")
    latest = params.get("latest", "").lower()
    if latest not in ("", "true", "false"):
        raise QueryError("latest must be true or false")
    conditions: list[Condition] = []
    mission = None
    for key, value in params.items():
        if not key.startswith("condition_") or value == "":
            continue
        condition = _condition(key, value)
        if condition is None:
            mission = value.rsplit(":", 1)[0].strip()
        elif key != "condition_1" or condition.op in ("eq", SET_OP):
            conditions.append(condition)  # a range in condition_1 is ignored, as by NASA
    extended = {
        part.split("::", 1)[0].strip().lower(): part.split("::", 1)[1].strip().lower()
        for part in params.get("extended", "").split(",")
        if "::" in part
    }
    return RawImagesQuery(
        category=category,
        num=min(num, MAX_PER_PAGE),
        page=page,
        descending=direction != "asc",
        latest=latest == "true",
        full_only=extended.get("sample_type") == "full",
        conditions=tuple(conditions),
        imageid=params.get("id", "").strip() or None,
        sol=_optional_int(params, "sol", low=0),
        order=order,
        mission=mission,
    )


def _condition(key: str, value: str) -> Condition | None:
    """A filter, or None for ``<mission>:mission`` (which names the mission)."""
    if not key[len("condition_") :].isdigit():
        raise QueryError(f"bad parameter name {key!r}")
    if value.endswith(f":{MISSION}") and value.count(":") == 1:
        return None
    parts = value.rsplit(":", 2)
    if len(parts) != 3 or parts[1] not in FIELDS or parts[2] not in (*OPS, SET_OP):
        raise QueryError(
            f"{key}={value!r}: expected <value>:sol|date_received|date_taken:gte|gt|lte|lt|eq|in"
        )
    raw, field, op = parts
    numbers = [_number(key, field, part) for part in (raw.split(",") if op == SET_OP else [raw])]
    return Condition(field, op, numbers[0], tuple(numbers) if op == SET_OP else ())


def _number(key: str, field: str, raw: str) -> float:
    if field == "sol":
        try:
            return int(raw)
        except ValueError:
            raise QueryError(f"{key}: {raw!r} is not a sol") from None
    stamp = parse_timestamp(raw)
    if stamp is None:
        raise QueryError(f"{key}: {raw!r} is not a timestamp")
    return stamp


@dataclass(frozen=True, slots=True)
class RecordTimes:
    """A stored record's sol and times, parsed once when it is added."""

    sol: int | None
    received: float | None
    taken: float | None

    def of(self, field: str) -> float | None:
        if field == "sol":
            return self.sol
        return self.received if field == "date_received" else self.taken


def record_times(record: Mapping[str, Any]) -> RecordTimes:
    return RecordTimes(
        record_sol(record),
        parse_timestamp(record.get("date_received")),
        parse_timestamp(record.get("date_taken_utc")),
    )


def record_matches(
    record: Mapping[str, Any],
    conditions: Sequence[Condition],
    *,
    full_only: bool,
    times: RecordTimes,
) -> bool:
    """The server-side filter for one stored record (``times`` pre-parsed by the caller).

    A record missing the field a condition tests never matches it, as on a SQL server.
    """
    if full_only and str(record.get("sample_type", "")).lower() != "full":
        return False
    for cond in conditions:
        actual = times.of(cond.field)
        if actual is None or not cond.test(actual):
            return False
    return True


def record_sol(record: Mapping[str, Any]) -> int | None:
    value = record.get("sol")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except ValueError:
        return None


def parse_image_library(params: Mapping[str, str]) -> ImageLibraryQuery:
    media = tuple(m.strip().lower() for m in params.get("media_type", "").split(",") if m.strip())
    query = ImageLibraryQuery(
        q=params.get("q", "").strip(),
        media_types=media,
        year_start=_optional_int(params, "year_start", low=0),
        year_end=_optional_int(params, "year_end", low=0),
        page=_int(params, "page", 1, low=1),
        page_size=_int(params, "page_size", 100, low=1),
    )
    if (query.page - 1) * query.page_size >= IMAGES_API_MAX_HITS:
        raise QueryError(
            "Maximum number of search results have been displayed. Please refine your search."
        )
    return query


def _int(params: Mapping[str, str], key: str, default: int, *, low: int) -> int:
    value = _optional_int(params, key, low=low)
    return default if value is None else value


def _optional_int(params: Mapping[str, str], key: str, *, low: int) -> int | None:
    text = params.get(key, "").strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        raise QueryError(f"{key} must be an integer, not {text!r}") from None
    if value < low:
        raise QueryError(f"{key} must be >= {low}")
    return value
