"""Text every part of watcher can hold: the feeds' XML, PostgreSQL, the pages, the mail.

XML 1.0 allows tab, newline and carriage return and everything from U+0020 on except the
surrogates and U+FFFE/U+FFFF; lxml (under feedgen) raises on anything else, and PostgreSQL
refuses NUL in text and in JSONB. One character there used to stop every later publish, so
one rule here covers both, with a margin: DEL and the C1 controls (U+007F to U+009F) are
allowed by XML but invisible, never meant in a title or a caption (they are what
mis-decoded text leaves behind), so they go too.

Line ends are made one first: CRLF (what browsers send from a textarea) and a lone CR
become LF, so a stored paragraph reads the same whichever way it came in.

The rule is used two ways:

- NASA's text is cleaned (``clean_text``, ``safe_candidate``): a stray control character
  in a title costs that character, never the record and never a publish.
- An editor's text is refused (``text_problem``, ``text_errors``): what an editor types is
  what readers see, so a character we would drop silently is pointed at instead.

And once more at rendering (``safe_entry``): rows stored before the rule existed must not
stop a publish either.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import orjson

from watcher.types import CandidateData, Frame, PublishedEntry, Tile

# What no text may hold: C0 controls but tab, newline and carriage return (which
# ``unify_newlines`` turns into a newline first), DEL, the C1 controls, lone surrogates,
# U+FFFE and U+FFFF.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

# The same characters as orjson writes them: C0 escaped (``\u00XX``, ``\b``, ``\f``; CR's
# ``\r`` is left alone: a record's line ends are its own), DEL (searched as a byte), the C1
# controls and U+FFFE/U+FFFF as UTF-8; a lone surrogate orjson refuses to write.
_ESCAPED = re.compile(rb"\\(?:u00|[bf])")
_C1 = re.compile(rb"\xc2[\x80-\x9f]")
_NONCHARACTER = re.compile(rb"\xef\xbf[\xbe\xbf]")

_CANDIDATE_TEXT = (
    "external_id", "mission", "title", "caption", "credit", "camera", "mars_local_time",
)  # fmt: skip
_URLS = ("thumbnail_url", "medium_url", "large_url", "full_url")  # a frame's, a tile's
_CANDIDATE_URLS = ("page_url", *_URLS)
_CANDIDATE_FIELDS = _CANDIDATE_TEXT + _CANDIDATE_URLS
_ENTRY_TEXT = (
    "heading", "body", "alt_text", "credit", "rendition", "mission", "camera", "mars_local_time",
)  # fmt: skip


def unify_newlines(value: str) -> str:
    """CRLF and a lone CR as LF; anything else unchanged."""
    if "\r" not in value:
        return value
    return value.replace("\r\n", "\n").replace("\r", "\n")


def is_safe(value: str) -> bool:
    """Whether ``clean_text`` would leave ``value`` as it is (a CR counts: it becomes LF).

    Every such character is unprintable, and ``isprintable`` runs in C, so most values are
    answered without the pattern (a character class costs ~3 ns a character in ``re``):
    a title at once, a paragraph once its line breaks and tabs are set aside."""
    if value.isprintable():
        return True
    if "\r" in value:
        return False
    plain = value.replace("\n", " ").replace("\t", " ")
    return plain.isprintable() or _UNSAFE.search(plain) is None


def clean_text(value: str) -> str:
    """``value`` with LF line ends and without the characters XML or PostgreSQL cannot
    hold. Cheap when there is nothing to do (the common case): the value itself."""
    if is_safe(value):
        return value
    return _UNSAFE.sub("", unify_newlines(value))


def clean_optional(value: str | None) -> str | None:
    return None if value is None else clean_text(value)


def _strip(value: str) -> str:
    return value if _UNSAFE.search(value) is None else _UNSAFE.sub("", value)


def clean_json(value: Any) -> Any:
    """A JSON value (NASA's record as received) without the unsafe characters in any
    string, keys included; its line ends are left as they came. The same object when
    nothing needed cleaning (nearly always), found at the cost of one ``orjson.dumps``."""
    return value if _json_is_safe(value) else _clean_json(value)


def _clean_json(value: Any) -> Any:
    if isinstance(value, str):
        return _strip(value)
    if isinstance(value, dict):
        changed = False
        cleaned = {}
        for key, item in value.items():
            new_key = _strip(key) if isinstance(key, str) else key
            new_item = _clean_json(item)
            changed = changed or new_key is not key or new_item is not item
            cleaned[new_key] = new_item
        return cleaned if changed else value
    if isinstance(value, list):
        items = [_clean_json(item) for item in value]
        return items if any(a is not b for a, b in zip(value, items, strict=True)) else value
    return value


def _json_is_safe(value: Any) -> bool:
    """Whether ``_clean_json`` would leave ``value`` as it is, answered from its JSON text:
    one C call instead of a walk over every string of the record. A false alarm (an escaped
    backslash before a ``b``) only costs that walk; orjson refuses a lone surrogate, and
    anything it cannot write (not JSON) is walked too."""
    try:
        encoded = orjson.dumps(value)
    except TypeError:
        return False
    # Patterns that start with a literal are searched fast; a class is not (see is_safe).
    if _ESCAPED.search(encoded) is not None or b"\x7f" in encoded:
        return False
    if b"\xc2" in encoded and _C1.search(encoded) is not None:
        return False
    return b"\xef" not in encoded or _NONCHARACTER.search(encoded) is None


def safe_candidate(item: CandidateData) -> CandidateData:
    """``item`` as a source may store it: its text cleaned, its raw record cleaned, and any
    URL (its tiles' too) holding an unsafe character dropped: such a URL is no address a
    page can link to, so it is not mended. The candidate itself when all is clean."""
    shown = " ".join(value for name in _CANDIDATE_FIELDS if (value := getattr(item, name)))
    if is_safe(shown) and not item.tiles and _json_is_safe(item.raw):
        return item  # nearly every record: one regex over its text, one over its JSON
    changes: dict[str, Any] = {}
    for name in _CANDIDATE_TEXT:
        value = getattr(item, name)
        if value is not None and not is_safe(value):
            changes[name] = clean_text(value)
    for name in _CANDIDATE_URLS:
        value = getattr(item, name)
        if value is not None and not is_safe(value):
            changes[name] = None
    raw = clean_json(item.raw)
    if raw is not item.raw:
        changes["raw"] = raw
    tiles = tuple(_safe_tile(tile) for tile in item.tiles)
    if any(a is not b for a, b in zip(item.tiles, tiles, strict=True)):
        changes["tiles"] = tiles
    return replace(item, **changes) if changes else item


def _safe_tile(tile: Tile) -> Tile:
    changes: dict[str, Any] = {}
    if not is_safe(tile.imageid):
        changes["imageid"] = clean_text(tile.imageid)
    for name in _URLS:
        value = getattr(tile, name)
        if value is not None and not is_safe(value):
            changes[name] = None
    return replace(tile, **changes) if changes else tile


def safe_entry(entry: PublishedEntry) -> PublishedEntry:
    """``entry`` as a page or a feed can show it, whatever an older version stored: text
    cleaned, unsafe URLs dropped. The entry itself when it is clean (nearly always)."""
    shown = [getattr(entry, name) or "" for name in _ENTRY_TEXT]
    shown += [entry.nasa_page_url or ""]
    shown += [getattr(frame, name) or "" for frame in entry.frames for name in _URLS]
    if is_safe(" ".join(shown)):
        return entry  # a publish checks 10,000 entries: one check each
    changes: dict[str, Any] = {}
    for name in _ENTRY_TEXT:
        value = getattr(entry, name)
        if value is not None and not is_safe(value):
            changes[name] = clean_text(value)
    if entry.nasa_page_url is not None and not is_safe(entry.nasa_page_url):
        changes["nasa_page_url"] = None
    frames = tuple(_safe_frame(frame) for frame in entry.frames)
    if any(a is not b for a, b in zip(entry.frames, frames, strict=True)):
        changes["frames"] = frames
    return replace(entry, **changes) if changes else entry


def _safe_frame(frame: Frame) -> Frame:
    changes: dict[str, Any] = {
        name: None
        for name in _URLS
        if (value := getattr(frame, name)) is not None and not is_safe(value)
    }
    return replace(frame, **changes) if changes else frame


def _describe(character: str) -> str:
    code = ord(character)
    if 0xD800 <= code <= 0xDFFF:
        kind = "a lone surrogate"
    elif code in (0xFFFE, 0xFFFF):
        kind = "a noncharacter"
    else:
        kind = "an invisible control character"
    return f"{kind} (U+{code:04X})"


def text_problem(value: str) -> str | None:
    """Why an editor's ``value`` cannot be kept as typed, naming the first offending
    character and where it is; None when it can (line ends are LF'd, not refused)."""
    found = _UNSAFE.search(unify_newlines(value))
    if found is None:
        return None
    return f"contains {_describe(found.group())} at position {found.start() + 1}; remove it"


def text_errors(fields: Mapping[str, str | None]) -> dict[str, str]:
    """``text_problem`` of each field that has one, keyed by the field's name (the key a
    form shows the message beside and the API names in its 422)."""
    return {
        name: problem
        for name, value in fields.items()
        if value is not None and (problem := text_problem(value)) is not None
    }
