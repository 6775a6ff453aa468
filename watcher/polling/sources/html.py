"""Reading the HTML that feeds carry: its text (one line per block element), its images
and the elements that credit them.

Feeds put HTML in captions and posts (nasa.gov's WordPress items are whole pages of it).
Like the rest of the adapters' helpers these never raise on any input: html.parser can
trip over odd markup, and whatever was read by then is kept.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import NamedTuple

from watcher.polling.sources.common import positive, text, to_int

# fmt: off
_BLOCK_TAGS = frozenset((
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
    "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "img", "li", "main",
    "nav", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
))
# fmt: on
_SKIP_TAGS = frozenset(("script", "style", "template", "noscript"))
_VOID_TAGS = frozenset(("area", "br", "embed", "hr", "img", "input", "source", "track", "wbr"))
# A class naming an element as the credit of a picture ("hds-credits", "media-credit"), but
# not nasa.gov's "wp-block-nasa-blocks-credits-and-details" (share links, dates, tags).
_CREDITS_CLASS = re.compile(r"(?:^|[-_])credits?$", re.IGNORECASE)


def plain(value: object) -> str:
    """Plain text from a field that may hold HTML; markup-free text only stripped."""
    result = text(value)
    if "<" in result or "&" in result:
        return html_to_text(result)
    return result


def html_to_text(markup: str) -> str:
    """Text of an HTML fragment: tags dropped, entities decoded, whitespace collapsed."""
    if "<" not in markup and "&" not in markup:
        return " ".join(markup.split())
    parser = _TextParser()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # noqa: S110 - html.parser can assert on odd markup; keep what we have
        pass
    return " ".join("".join(parser.parts).split())


class Img(NamedTuple):
    """One ``<img>``: its ``src``, its ``srcset`` as (url, width or None) and size attributes,
    and what tells a post's own picture from a logo or a teaser card: its class names, whether
    it carries ``fetchpriority="high"`` (WordPress's mark for the picture a page leads with),
    whether it sits in a ``<figure>``, the ``href`` of a link around it, and ``line``, the
    index in ``Html.lines`` of the text that follows it (its caption, usually)."""

    src: str | None
    srcset: tuple[tuple[str, int | None], ...]
    width: int | None
    height: int | None
    classes: tuple[str, ...] = ()
    priority: bool = False
    in_figure: bool = False
    link: str | None = None
    line: int = 0


class Html(NamedTuple):
    """An HTML fragment read once: its text as lines (one per block element, so a
    "Credit: ..." line is never glued to the next paragraph), its first images, and the
    text of its credits elements (``class="hds-credits"``, ``media-credit``...) by the
    index of the line they start on."""

    lines: tuple[str, ...]
    images: tuple[Img, ...]
    credits: tuple[tuple[int, str], ...]


def read_html(markup: str, limit: int = 8) -> Html:
    """Lines, the first ``limit`` images and the credits elements of an HTML fragment."""
    reader = _HtmlReader(limit)
    try:
        reader.feed(markup)
        reader.close()
    except Exception:  # noqa: S110 - as in html_to_text: keep what was found
        pass
    reader.end_credit()
    return Html(tuple(reader.lines), tuple(reader.images), tuple(reader.credits))


def find_images(markup: str, limit: int = 8) -> list[Img]:
    """The first ``limit`` ``<img>`` elements of an HTML fragment, in document order."""
    return list(read_html(markup, limit).images)


def parse_srcset(value: str) -> tuple[tuple[str, int | None], ...]:
    """Candidates of a ``srcset``, following the HTML tokenizer so commas inside URLs survive.

    WordPress writes ``...jpg?resize=300,200 300w``: splitting on commas would break it.
    """
    candidates: list[tuple[str, int | None]] = []
    pos, end = 0, len(value)
    while pos < end:
        while pos < end and (value[pos].isspace() or value[pos] == ","):
            pos += 1
        start = pos
        while pos < end and not value[pos].isspace():
            pos += 1
        url = value[start:pos]
        descriptor = ""
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            comma = value.find(",", pos)
            comma = end if comma < 0 else comma
            descriptor = value[pos:comma].strip()
            pos = comma + 1
        if url:
            width = None
            if descriptor.endswith("w"):
                width = to_int(descriptor[:-1])
            candidates.append((url, width if width and width > 0 else None))
    return tuple(candidates)


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skipping += 1
        elif tag in _BLOCK_TAGS:
            self.block()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.block()

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)

    def block(self) -> None:
        self.parts.append(" ")


class _HtmlReader(_TextParser):
    """``_TextParser`` that ends a line at every block element and also notes images,
    the links and figures around them, and credits elements."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.images: list[Img] = []
        self.credits: list[tuple[int, str]] = []
        self._limit = limit
        self._links: list[str | None] = []
        self._figures = 0
        self._credit: tuple[str, int] | None = None  # (tag, first line) of an open element
        self._credit_depth = 0

    def block(self) -> None:
        line = " ".join("".join(self.parts).split())
        self.parts.clear()
        if line:
            self.lines.append(line)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        super().handle_starttag(tag, attrs)
        values = {name: value for name, value in attrs if value is not None}
        if tag == "img" and len(self.images) < self._limit:
            self.images.append(self._img(values))
        elif tag == "a" and len(self._links) < 64:
            self._links.append((values.get("href") or "").strip() or None)
        elif tag == "figure":
            self._figures += 1
        if self._credit is None:
            classes = values.get("class", "").split()
            if tag not in _VOID_TAGS and any(_CREDITS_CLASS.search(name) for name in classes):
                self.block()
                self._credit, self._credit_depth = (tag, len(self.lines)), 1
        elif tag == self._credit[0]:
            self._credit_depth += 1

    def handle_endtag(self, tag: str) -> None:
        super().handle_endtag(tag)
        if tag == "a" and self._links:
            self._links.pop()
        elif tag == "figure":
            self._figures = max(0, self._figures - 1)
        if self._credit is not None and tag == self._credit[0]:
            self._credit_depth -= 1
            if self._credit_depth <= 0:
                self.end_credit()

    def end_credit(self) -> None:
        """Ends the current line, and the open credits element if any (at its end tag, or
        at the end of the fragment when it is never closed)."""
        self.block()
        if self._credit is not None:
            first = self._credit[1]
            words = " ".join(self.lines[first:])
            if words:
                self.credits.append((first, words))
            self._credit = None

    def _img(self, values: dict[str, str]) -> Img:
        src = values.get("src") or values.get("data-src")
        srcset = values.get("srcset") or values.get("data-srcset") or ""
        return Img(
            src=src.strip() if src else None,
            srcset=parse_srcset(srcset),
            width=positive(values.get("width")),
            height=positive(values.get("height")),
            classes=tuple(values.get("class", "").lower().split()),
            priority=values.get("fetchpriority", "").strip().lower() == "high",
            in_figure=self._figures > 0,
            link=next((href for href in reversed(self._links) if href), None),
            line=len(self.lines),
        )
