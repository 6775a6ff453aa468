"""The public URLs a delivery points at, built from ``Settings.base_url``; pure.

The web app serves ``/confirm`` and ``/unsubscribe`` (GET shows a button, POST acts, as
RFC 8058 one-click unsubscribe expects); the publisher writes ``feed.atom`` and one permalink page
per entry (``watcher.urls.entry_path``).
"""

from __future__ import annotations

from urllib.parse import quote

from watcher.urls import entry_path


def confirm_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/confirm?token={quote(token, safe='.')}"


def unsubscribe_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/unsubscribe?token={quote(token, safe='.')}"


def feed_url(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/feed.atom"


def site_url(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/"


def entry_url(base_url: str, entry_id: int) -> str:
    return f"{base_url.rstrip('/')}/{entry_path(entry_id)}"
