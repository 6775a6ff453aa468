"""Credits: the source's own words first, then one fallback table (DESIGN.md "Credits").

NASA attributes every picture ("NASA/JPL-Caltech/ASU"), and the public page must never show
an empty credit. Each adapter takes the credit from the record's own fields first
(``credit``; ``secondary_creator`` or ``photographer``; a "Credit:" line in the text); only
when the record says nothing does it fall back to this table. An editor's credit, written
when approving, always wins over both.
"""

from __future__ import annotations

import re

from watcher.polling.sources.html import Html, Img

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
        who = _tidy(_SENTENCE_END.split(match.group("who"), maxsplit=1)[0])
        if who:
            found = who[:MAX_CREDIT]
    return found


def credit_in_element(text: object) -> str | None:
    """The credit a credits element states (WordPress ``<div class="hds-credits">``).

    Its "Credit:" line when it has one ("Credits: NASA"), else all its words ("NASA/Steve
    Freeman"): the element names no one else. An element longer than a credit can be holds
    something other than a credit, and says nothing.
    """
    if not isinstance(text, str):
        return None
    stated = credit_in_text(text)
    if stated:
        return stated
    who = _tidy(text)
    return who if who and len(who) <= MAX_CREDIT else None


def _tidy(who: str) -> str:
    """Whitespace collapsed, trailing punctuation dropped, and a closing bracket dropped
    when the credit did not open it ("(Credit: NASA/JPL)" gives "NASA/JPL")."""
    who = " ".join(who.split()).strip(" .;,")
    while who[-1:] in (")", "]") and who.count(who[-1]) > who.count("(" if who[-1] == ")" else "["):
        who = who[:-1].rstrip(" .;,")
    return who


def credit_after(page: Html, img: Img | None = None) -> str | None:
    """The first credit stated between ``img`` and the next image of an HTML ``page`` (or
    anywhere in it when no ``img`` is given): a credits element's words or a "Credit:" line.
    A picture's caption follows it, so this is that picture's credit, not a later one's."""
    start, end = 0, len(page.lines)
    if img is not None:
        start = img.line
        later = page.images[page.images.index(img) + 1 :] if img in page.images else ()
        end = later[0].line if later else end
    elements = {line: words for line, words in page.credits if start <= line < end}
    for number in range(start, end):
        if number in elements:
            found = credit_in_element(elements[number])
        else:
            found = credit_in_text(page.lines[number])
        if found:
            return found
    return None
