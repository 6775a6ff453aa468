"""WebSub: tell each configured hub that the Atom feed has a new edition.

The ping is the WebSub 1.0 publish notification most hubs accept (``hub.mode=publish``,
``hub.url=<feed.atom>``, form-encoded); the hub then fetches the feed and pushes it to
its subscribers. Hubs come from the config file, not from users, so no SSRF guard applies.
Answers are judged like a webhook's (``webhook.http_failure``).
"""

from __future__ import annotations

from urllib.parse import urlencode

from watcher.deliver.channels.webhook import http_failure
from watcher.exceptions import FetchError
from watcher.fetch import Fetcher


class WebSubChannel:
    """Pings hubs (the payload is the hub's URL) about ``feed``."""

    def __init__(self, fetcher: Fetcher, feed: str, *, timeout: float):
        self.fetcher = fetcher
        self.feed = feed
        self.timeout = timeout

    async def send(self, key: str, payload: str) -> None:
        body = urlencode({"hub.mode": "publish", "hub.url": self.feed}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        try:
            await self.fetcher.post(payload, body, headers, time_limit=self.timeout)
        except FetchError as exc:
            raise http_failure(exc) from exc

    async def aclose(self) -> None:
        """Nothing of its own: connections belong to the shared Fetcher."""
