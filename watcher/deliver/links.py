"""The public URLs a delivery points at, built from ``Settings.base_url``; pure. The one
place a subscriber's signed link is made, for mails and for the CLI alike.

The web app serves ``/confirm`` and ``/unsubscribe`` (GET shows a button, POST acts, as
RFC 8058 one-click unsubscribe expects); the publisher writes ``feed.atom`` and one permalink page
per entry (``watcher.urls.entry_path``).
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from watcher.deliver import signing
from watcher.types import Subscriber
from watcher.urls import entry_path


def confirm_url(base_url: str, secret: str, subscriber: Subscriber, issued: datetime) -> str:
    """The signed link of a confirmation mail (it expires: ``issued`` is in the token)."""
    token = signing.confirm_token(secret, subscriber.id, subscriber.email, issued)
    return f"{base_url.rstrip('/')}/confirm?token={quote(token, safe='.')}"


def unsubscribe_url(base_url: str, secret: str, subscriber: Subscriber) -> str:
    """The signed one-click unsubscribe link every mail carries (it never expires)."""
    token = signing.unsubscribe_token(secret, subscriber.id, subscriber.email)
    return f"{base_url.rstrip('/')}/unsubscribe?token={quote(token, safe='.')}"


def feed_url(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/feed.atom"


def site_url(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/"


def entry_url(base_url: str, entry_id: int) -> str:
    return f"{base_url.rstrip('/')}/{entry_path(entry_id)}"
