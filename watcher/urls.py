"""URL hygiene for everything that came from NASA or a user.

Only http(s) URLs on allowlisted hosts survive: a record cannot make watcher (or an
editor's browser) load ``javascript:`` or an image from an arbitrary host.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit, urlunsplit

SAFE_SCHEMES = ("http", "https")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    """``allowed`` holds exact hosts (``mars.nasa.gov``, ``127.0.0.1:8123``) or ``*.suffix``."""
    host = host.lower().rstrip(".")
    for pattern in allowed:
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]):
                return True
        elif host == pattern:
            return True
    return False


def clean_url(value: object, allowed_hosts: tuple[str, ...] | None = None) -> str | None:
    """A normalised absolute http(s) URL, or None when unusable or not allowed.

    Stray whitespace is trimmed and inner spaces are percent-encoded (the images API
    serves hrefs with raw spaces). ``allowed_hosts`` None means any host.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or _CONTROL.search(text):
        return None
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in SAFE_SCHEMES or not parts.hostname:
        return None
    if allowed_hosts is not None:
        netloc_host = parts.hostname if port is None else f"{parts.hostname}:{port}"
        if not (
            host_allowed(parts.hostname, allowed_hosts) or host_allowed(netloc_host, allowed_hosts)
        ):
            return None
    path = quote(parts.path, safe="/%:@!$&'()*+,;=~-._")
    query = quote(parts.query, safe="=&%:/?@!$'()*+,;~-._")
    return urlunsplit((parts.scheme.lower(), parts.netloc, path, query, parts.fragment))


def entry_path(entry_id: int) -> str:
    """An entry's permalink page, relative to the site's root: the page, the feeds, the
    mails and the webhooks all link here, so it is stable for the entry's life."""
    return f"entries/{entry_id}.html"
