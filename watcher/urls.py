"""URL hygiene for everything that came from NASA or a user.

Only http(s) URLs on allowlisted hosts survive: a record cannot make watcher (or an
editor's browser) load ``javascript:`` or an image from an arbitrary host.

A URL is judged the way the browser that follows it will read it: parsed by the WHATWG URL
standard (``ada_url``, the parser Node.js uses), so backslashes count as slashes, tabs and
newlines vanish, hosts are percent-decoded, IDNA-mapped to punycode and read as IPv4 in
odd notations (``0x7f.1``) before the host is compared with the allowlist. Python's
``urlsplit`` reads ``https://evil.example\\@mars.nasa.gov/`` as a NASA host where a browser
goes to evil.example; checking one parser's reading and handing the text to another is the
hole this closes. What is kept is the parser's own serialisation, so the string stored and
rendered is the very one that was checked.
"""

from __future__ import annotations

import re

import ada_url

SAFE_SCHEMES = ("http", "https")
# C0 controls and DEL other than tab, LF and CR (which the standard drops): nothing a real
# URL carries, so their presence marks a broken or hostile value rather than one to mend.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# What a page's URL must not contain at all (see ``shown_url``).
_NOT_SHOWN = re.compile(r"[\x00-\x20\x7f\\]")


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    """``allowed`` holds exact hosts (``mars.nasa.gov``, ``127.0.0.1:8123``) or ``*.suffix``.

    ``host`` is a parsed host (lower case, punycode): one trailing dot names the same DNS
    host and is ignored; more than one names none.
    """
    host = host.lower().removesuffix(".")
    for pattern in allowed:
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]):
                return True
        elif host == pattern:
            return True
    return False


def clean_url(value: object, allowed_hosts: tuple[str, ...] | None = None) -> str | None:
    """The browser's serialisation of an absolute http(s) URL, or None when it is unusable,
    carries credentials, or is not on ``allowed_hosts`` (None means any host).

    Stray whitespace is trimmed and inner spaces are percent-encoded (the images API serves
    hrefs with raw spaces). Credentials (``user@``) are refused: no image or page of NASA's
    needs them, and they are the classic way to make a URL read as one host and go to
    another. So is a backslash the serialisation keeps: what is kept, a page shows.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or _CONTROL.search(text):
        return None
    try:
        href = ada_url.normalize_url(text)
    except (ValueError, UnicodeError):
        return None
    if "\\" in href:
        # Left in a query or a fragment (the parser keeps them there): no page shows a URL
        # with a backslash (``shown_url``), so it would be a picture nobody sees.
        return None
    # The serialisation of a special URL is ``scheme://[userinfo@]host[:port]/path...``: its
    # authority ends at the first "/", and holds "@" only after credentials (an "@" in them
    # is percent-encoded, and no host contains one). Reading it from the string costs a
    # fraction of asking the parser for each part.
    scheme, separator, rest = href.partition("://")
    if scheme not in SAFE_SCHEMES or not separator:
        return None
    authority = rest.partition("/")[0]
    if "@" in authority:
        return None
    if authority.startswith("["):
        host = authority[: authority.find("]") + 1]
    else:
        host = authority.partition(":")[0]
    if not host:
        return None
    if allowed_hosts is not None and not (
        host_allowed(host, allowed_hosts) or host_allowed(authority, allowed_hosts)
    ):
        return None
    return href


def shown_url(value: object) -> str | None:
    """A stored URL as a page may show it (``href``, ``src``, ``srcset``), or None.

    URLs were checked against the image hosts when they were stored, but rows stored before
    that check parsed URLs as browsers do may hold one that Python read as a NASA host and a
    browser reads as another: every such URL has a backslash in it. So a URL with a
    backslash, whitespace or a control character is not shown at all, and any other is
    shown as the browser's serialisation of it (http(s) only, no credentials).
    """
    if not isinstance(value, str) or _NOT_SHOWN.search(value):
        return None
    return clean_url(value)


def resolve_url(base: str, value: str) -> str | None:
    """``value`` (a link as a page has it, relative or not) resolved against ``base`` the
    way a browser resolves it, or None when that gives no URL. Still to be cleaned."""
    try:
        return ada_url.join_url(base, value)
    except (ValueError, UnicodeError):
        return None


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL (what a Content-Security-Policy source
    names), or None for anything else."""
    href = clean_url(url)
    if href is None:
        return None
    scheme, _, rest = href.partition("://")
    return f"{scheme}://{rest.partition('/')[0]}"


def entry_path(entry_id: int) -> str:
    """An entry's permalink page, relative to the site's root: the page, the feeds, the
    mails and the webhooks all link here, so it is stable for the entry's life."""
    return f"entries/{entry_id}.html"
