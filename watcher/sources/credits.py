"""Credits: the source's own words first, then one fallback table (DESIGN.md "Credits").

NASA attributes every picture ("NASA/JPL-Caltech/ASU"), and the public page must never show
an empty credit. Each adapter takes the credit from the record's own fields first
(``credit``; ``secondary_creator`` or ``photographer``; a "Credit:" line in the text); only
when the record says nothing does it fall back to this table. An editor's credit, written
when approving, always wins over both.
"""

from __future__ import annotations

import re

# What a source kind's pictures are credited to when the record itself names no one.
FALLBACK_CREDIT = {
    "raw_images": "NASA/JPL-Caltech",
    "image_library": "NASA",
    "rss": "NASA",
}
DEFAULT_CREDIT = "NASA"
MAX_CREDIT = 200

# images-api ``center`` codes that NASA does not write as "NASA/<code>".
_CENTERS = {"HQ": "NASA"}
_CENTER = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,15}")
# "Credit: NASA/JPL-Caltech", "Image credit: NASA/JPL-Caltech/ASU/MSSS", "Credits: ..."
_CREDIT_LINE = re.compile(
    r"(?:^|(?<=[\s(\[|,;.:]))(?:image\s+|photo\s+|video\s+)?credits?\s*:\s*(?P<who>[^\n]+)",
    re.IGNORECASE,
)
# Where a credit found inside running text ends: a sentence break followed by a capital
# ("... NASA/JPL-Caltech. The rover ..."), but not an abbreviation such as "Univ. of".
_SENTENCE_END = re.compile(r"\.\s+(?=[A-Z][a-z]+\s+[a-z])")


def fallback_credit(kind: str) -> str:
    """The table's credit for a source kind ("NASA" for kinds it does not know)."""
    return FALLBACK_CREDIT.get(kind, DEFAULT_CREDIT)


def center_credit(center: object) -> str | None:
    """An images-api ``center`` as NASA writes it in credits: "JPL" -> "NASA/JPL"."""
    if not isinstance(center, str):
        return None
    code = center.strip()
    if not _CENTER.fullmatch(code):
        return None
    if code.upper() in _CENTERS:
        return _CENTERS[code.upper()]
    if code.upper().startswith("NASA"):
        return code
    return f"NASA/{code}"


def credit_in_text(text: object) -> str | None:
    """The credit a text states in a line such as "Credit: NASA/JPL-Caltech", or None.

    The last such line wins (captions end with it). Lines are kept apart by newlines: pass
    text that still has them (for HTML, one line per block element).
    """
    if not isinstance(text, str) or "redit" not in text:
        return None
    found: str | None = None
    for match in _CREDIT_LINE.finditer(text):
        who = _SENTENCE_END.split(match.group("who"), maxsplit=1)[0]
        who = " ".join(who.split()).strip(" .;,")
        if who:
            found = who[:MAX_CREDIT]
    return found
