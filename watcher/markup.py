"""The editors' paragraph: a small Markdown subset, rendered and then sanitised.

Markdown-it renders with raw HTML switched off (a ``<script>`` typed by an editor stays
text), and nh3 then keeps only an allowlist of tags, attributes and URL schemes, so even a
renderer bug cannot let markup through. Supported: paragraphs, emphasis, strong, links,
inline code, lists, block quotes, line breaks.
"""

from __future__ import annotations

from functools import lru_cache
from html import unescape
from typing import TYPE_CHECKING

import nh3

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

MAX_BODY = 5000

ALLOWED_TAGS = frozenset({"p", "em", "strong", "a", "code", "ul", "ol", "li", "blockquote", "br"})
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})


@lru_cache(maxsize=1)
def _renderer() -> MarkdownIt:
    # Imported at the first paragraph rendered, not with the module: ``watcher queue``
    # loads the JSON shapes (``watcher.views``) but renders no paragraph.
    from markdown_it import MarkdownIt

    md = MarkdownIt("zero", {"html": False, "linkify": False, "typographer": False, "breaks": True})
    md.enable(
        ["emphasis", "link", "backticks", "list", "blockquote", "newline", "escape", "entity"]
    )
    return md


@lru_cache(maxsize=1)
def _cleaner() -> nh3.Cleaner:
    """The allowlist, built once (``nh3.clean`` would rebuild it at every call)."""
    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_SCHEMES),
        link_rel="nofollow noopener noreferrer",
    )


@lru_cache(maxsize=4096)
def render_markdown(text: str) -> str:
    """Safe HTML for ``text``; never raises. Cached by text: a publish renders the same
    paragraphs for the page, the permalinks and both feeds."""
    html = _renderer().render(text or "")
    return _cleaner().clean(html).strip()


@lru_cache(maxsize=4096)
def plain_text(text: str) -> str:
    """The paragraph without markup (for feeds' summaries and alt fallbacks)."""
    return " ".join(unescape(nh3.clean(render_markdown(text), tags=set())).split())
