"""Parsing helpers shared by the adapters: tolerant, total and cheap.

Feeds are written by many hands over many years, so every helper here accepts any value and
answers None (or "") instead of raising: a strange field must cost one record at most, never
a page. The raw-image adapter runs these per record on the hot path, so they avoid per-call
regex compilation, copies and exceptions in the common case.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, TypeVar

import orjson

from watcher.config import SourceConfig
from watcher.exceptions import ParseError
from watcher.limits import fit_limits
from watcher.text import clean_json, safe_candidate
from watcher.types import (
    INGENUITY,
    PERSEVERANCE,
    CandidateData,
    Page,
    PageRequest,
    PollState,
    cursor_time,
)
from watcher.urls import clean_url, host_allowed

T = TypeVar("T")

MAX_PROBLEMS = 5
_INT64 = 2**63

_INGENUITY = re.compile(r"ingenuity", re.IGNORECASE)
_PERSEVERANCE = re.compile(r"perseverance|mars[\s_-]?2020|jezero", re.IGNORECASE)
_FAST_HOST = re.compile(r"[a-z0-9.-]+")
_FAST_NAME = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._~%-"
_FAST_PATH = _FAST_NAME + b"/"


class AdapterBase(ABC):
    """What every adapter shares: its config, the image-host allowlist, a URL cleaner.

    Subclasses satisfy the ``SourceAdapter`` protocol; the registry builds them all with the
    same ``(config, image_hosts)`` signature.
    """

    kind: ClassVar[str]

    def __init__(self, config: SourceConfig, image_hosts: tuple[str, ...]) -> None:
        self.config = config
        self.image_hosts = tuple(image_hosts)
        self.clean = UrlCleaner(self.image_hosts).clean
        self.topic = Topic(config.keywords, config.exclude)

    def normalise(self, record: Any) -> CandidateData | str:
        """One record as a candidate, or a short reason why it was skipped.

        The one place every feed's text passes: the record is cleaned first
        (``clean_json``: what it holds is what is stored as ``raw``) and the candidate made
        safe (``safe_candidate``: line ends LF, no control character), so nothing the feeds'
        XML or PostgreSQL cannot hold is stored, and normalising a stored ``raw`` again
        gives the stored candidate."""
        result = self._normalise(clean_json(record))
        return safe_candidate(result) if isinstance(result, CandidateData) else result

    @abstractmethod
    def _normalise(self, record: Any) -> CandidateData | str:
        """The adapter's own reading of one (cleaned) record, for ``normalise``."""

    def collect(
        self,
        records: Iterable[Any],
        label: str,
        problems: Problems,
        normalise: Callable[[Any], CandidateData | str | None] | None = None,
    ) -> list[CandidateData]:
        """Normalise every record; one that is bad, or trips a bug, is skipped and counted.

        ``normalise`` (default: ``self.normalise``) may answer None for a record that is
        fine but not wanted (e.g. filtered out by keywords): that is not a problem.
        """
        convert = normalise or self.normalise
        candidates: list[CandidateData] = []
        for index, record in enumerate(records):
            try:
                result = convert(record)
                if isinstance(result, CandidateData):
                    fitted = fit_limits(result)  # what the database cannot keep, up front
                    if isinstance(fitted, str):
                        fitted = f"{result.external_id[:64]}: {fitted}"
                    result = fitted
            except Exception as exc:  # a bug must cost one record, never the poller
                result = f"unexpected {type(exc).__name__}: {exc}"
            if isinstance(result, str):
                problems.skip(f"{label} {index}: {result}")
            elif result is not None:
                candidates.append(result)
        return candidates

    def page_budget(self) -> int:
        return self.config.max_pages

    def detail_request(self, candidate: CandidateData) -> PageRequest | None:
        """Most feeds say all there is to say on their pages: no second request."""
        return None

    def with_details(self, candidate: CandidateData, body: bytes) -> CandidateData:
        return candidate

    @abstractmethod
    def first_request(self, state: PollState) -> PageRequest: ...

    @abstractmethod
    def parse_page(self, body: bytes, request: PageRequest) -> Page: ...

    @abstractmethod
    def backfill_request(self, from_sol: int | None, to_sol: int | None) -> PageRequest: ...


class Topic:
    """Which items a source keeps: any of ``keywords`` (none: everything) and none of
    ``exclude``, matched case-insensitively at the start of a word ("rover" matches
    "rovers", "Mars" does not match "Marshall").

    Feeds such as the image library or nasa.gov's news mix every mission; the shipped
    config narrows them to Perseverance and Ingenuity this way. Not matching is a filter
    decision, never a broken record: the caller does not count it as skipped.
    """

    __slots__ = ("_exclude", "_keywords")

    def __init__(self, keywords: Iterable[str], exclude: Iterable[str] = ()) -> None:
        self._keywords = _word_starts(keywords)
        self._exclude = _word_starts(exclude)

    def wanted(self, texts: Iterable[str]) -> bool:
        haystack = "\n".join(texts)
        if self._exclude is not None and self._exclude.search(haystack):
            return False
        return self._keywords is None or self._keywords.search(haystack) is not None


def _word_starts(words: Iterable[str]) -> re.Pattern[str] | None:
    cleaned = sorted({" ".join(w.split()) for w in words if w.strip()}, key=len, reverse=True)
    if not cleaned:
        return None
    alternatives = "|".join(re.escape(w).replace("\\ ", r"\s+") for w in cleaned)
    return re.compile(rf"(?<!\w)(?:{alternatives})", re.IGNORECASE)


class UrlCleaner:
    """``clean_url(url, hosts)`` with a fast path for the URLs feeds send nearly always.

    ``clean_url`` parses and serialises every URL (microseconds each), and a raw-image
    record carries five. A URL that is already plain ``http(s)://host/path`` (a host the
    parser leaves as it is, a path of characters it leaves alone and no dot segment, no
    query) comes back from ``clean_url`` unchanged, so once its host is known to be allowed
    and canonical it is returned as is; its directory is remembered too, and a sibling file
    there (the four renditions of a raw image) needs only its last segment checked.
    Everything else goes through ``clean_url``; a property test checks that both paths give
    the same answer.
    """

    __slots__ = ("_heads", "_hosts", "hosts")

    def __init__(self, hosts: tuple[str, ...]) -> None:
        self.hosts = hosts
        self._hosts: dict[str, bool] = {}
        self._heads: set[str] = set()

    def clean(self, value: object) -> str | None:
        if type(value) is not str:
            return None
        head, _, name = value.rpartition("/")
        if (
            head in self._heads
            and not name.encode("ascii", "replace").translate(None, _FAST_NAME)
            and _plain_segments("/" + name)
        ):
            return value
        if value.startswith("https://"):
            start = 8
        elif value.startswith("http://"):
            start = 7
        else:
            return clean_url(value, self.hosts)
        slash = value.find("/", start)
        if slash > start and value.isascii():
            host = value[start:slash]
            allowed = self._hosts.get(host)
            if allowed is None:
                # Allowed, and left as it is by the parser (no IPv4 in odd notation, no
                # punycode to check): the fast path may then skip parsing it.
                origin = value[:slash] + "/"
                allowed = (
                    _FAST_HOST.fullmatch(host) is not None
                    and host_allowed(host, self.hosts)
                    and clean_url(origin, self.hosts) == origin
                )
                if len(self._hosts) < 1024:
                    self._hosts[host] = allowed
            path = value[slash:]
            if allowed and not path.encode().translate(None, _FAST_PATH) and _plain_segments(path):
                if len(self._heads) >= 1024:
                    self._heads.clear()
                self._heads.add(head)
                return value
        return clean_url(value, self.hosts)


def _plain_segments(path: str) -> bool:
    """No segment the parser would resolve (``.``, ``..``, or either spelt ``%2e``)."""
    return "/." not in path and "%2e" not in path and "%2E" not in path


class Problems:
    """Counts skipped records and keeps the first few reasons for the log."""

    __slots__ = ("messages", "skipped")

    def __init__(self) -> None:
        self.skipped = 0
        self.messages: list[str] = []

    def skip(self, message: str) -> None:
        self.skipped += 1
        self.note(message)

    def note(self, message: str) -> None:
        if len(self.messages) < MAX_PROBLEMS:
            self.messages.append(message[:200])


def infer_mission(*texts: object) -> str | None:
    """The mission the texts name ("ingenuity" or "perseverance"), or None.

    Ingenuity wins because helicopter items nearly always mention the rover too. Lists and
    tuples (e.g. keywords) are searched item by item; non-strings are ignored.
    """
    strings = list(_strings(texts))
    if any(_INGENUITY.search(s) for s in strings):
        return INGENUITY
    if any(_PERSEVERANCE.search(s) for s in strings):
        return PERSEVERANCE
    return None


def _strings(values: Iterable[object]) -> Iterable[str]:
    for value in values:
        if isinstance(value, str):
            yield value
        elif isinstance(value, list | tuple):
            yield from (v for v in value if isinstance(v, str))


def list_of(value: object, kind: type[T]) -> list[T]:
    """The items of ``value`` that are a ``kind`` when it is a list; [] for anything else
    (a feed's "list" may be missing, a single object, or hold nulls)."""
    return [v for v in value if isinstance(v, kind)] if isinstance(value, list) else []


def to_int(value: object) -> int | None:
    """An int from a number or a numeric string (NASA sends both); None otherwise.

    Values outside 64 bits are refused: they cannot be stored and are never real.
    """
    if type(value) is int:
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if not text or len(text) > 24 or "_" in text:
            return None
        try:
            number = int(text)
        except ValueError:
            try:
                real = float(text)
            except ValueError:
                return None
            if not real.is_integer():
                return None
            number = int(real)
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        return None
    return number if -_INT64 < number < _INT64 else None


def text(value: object) -> str:
    """A stripped string from a string or a number; "" for anything else (bools included)."""
    if type(value) is str:
        return value.strip()
    if type(value) is int or type(value) is float:
        return str(value)
    return ""


def optional_text(value: object) -> str | None:
    """Like ``text`` but None when blank: "missing" and "empty" mean the same to us."""
    return text(value) or None


def parse_timestamp(value: object) -> datetime | None:
    """An aware UTC datetime from ISO 8601 (no zone means UTC) or RFC 2822; else None."""
    if not isinstance(value, str):
        return None
    raw = value.strip()
    if not raw or len(raw) > 64:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        try:
            moment = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    zone = moment.tzinfo
    if zone is UTC:
        return moment
    if zone is None:
        try:  # parsing again beats datetime.replace(tzinfo=...) severalfold
            again = datetime.fromisoformat(raw + "+00:00")
        except ValueError:
            again = moment
        return again if again.tzinfo is UTC else moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def high_water(moments: Iterable[datetime | None]) -> str | None:
    """The canonical form of the latest of ``moments``, or None when there is none."""
    known = [m for m in moments if m is not None]
    return cursor_time(max(known)) if known else None


def snippet(body: object, limit: int = 60) -> str:
    """The start of a body, printable, for an error message that says what came back."""
    if isinstance(body, str):
        head = body[: limit * 4]
    elif isinstance(body, bytes | bytearray | memoryview):
        head = bytes(body[: limit * 4]).decode("utf-8", "replace")
    else:
        return f"a {type(body).__name__} instead of a body"
    cleaned = "".join(ch if ch.isprintable() else " " for ch in head)
    short = " ".join(cleaned.split())[:limit]
    return repr(short) if short else "an empty body"


def json_body(body: bytes, feed: str) -> Any:
    """The body decoded as JSON; ``ParseError`` naming the feed, and quoting what came back
    (an HTML error page, usually), when it is not JSON. A body that ends in the middle of
    its JSON is said to be cut short: its start alone looks like a good answer."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        got = snippet(body)
        whole = isinstance(body, bytes | bytearray) and body and exc.pos >= len(body)
        if whole and body.lstrip()[:1] in (b"{", b"["):
            got = f"JSON cut short after {len(body):,} bytes: {got}"
        raise ParseError(f"{feed}: expected JSON, got {got}") from None


def next_page(request: PageRequest, page: int, **context: Any) -> PageRequest:
    """``request`` one page on: ``page + 1`` in its params and its context, which keeps
    what else it held, updated with ``context``."""
    following = page + 1
    return PageRequest(
        request.url,
        replace_param(request.params, "page", str(following)),
        False,
        {**request.context, **context, "page": following},
    )


def replace_param(
    params: tuple[tuple[str, str], ...], key: str, value: str
) -> tuple[tuple[str, str], ...]:
    """``params`` with ``key`` set to ``value`` once, in place; appended when absent."""
    result: list[tuple[str, str]] = []
    done = False
    for name, old in params:
        if name != key:
            result.append((name, old))
        elif not done:
            result.append((name, value))
            done = True
    if not done:
        result.append((key, value))
    return tuple(result)


def param(params: tuple[tuple[str, str], ...], key: str) -> str | None:
    """The first value of ``key`` in ``params``."""
    for name, value in params:
        if name == key:
            return value
    return None


def positive(value: object) -> int | None:
    """A positive int (a pixel size) from a number or numeric string; else None."""
    number = to_int(value)
    return number if number is not None and number > 0 else None
