"""The team channel: Apprise URLs (Slack, Matrix, ntfy, mail...) told of new editions and
of new candidates waiting for review.

Apprise is synchronous, so ``notify`` runs in a thread, bounded by ``timeout`` (the thread
itself ends with Apprise's own network timeouts). Apprise reports failure as False, not as
an exception; either becomes a retryable ``DeliveryError``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import apprise

from watcher.exceptions import DeliveryError


@dataclass(frozen=True, slots=True)
class TeamNotice:
    title: str
    body: str


def edition_notice(title: str, number: int, added: int, changed: int, site: str) -> TeamNotice:
    parts = [f"{added} new" if added else "", f"{changed} changed" if changed else ""]
    what = ", ".join(p for p in parts if p) or "the list updated"
    return TeamNotice(f"{title}: edition {number}", f"Edition {number}: {what}. {site}")


def candidates_notice(title: str, review_url: str) -> TeamNotice:
    return TeamNotice(
        f"{title}: new candidates", f"New images are waiting for review: {review_url}"
    )


class TeamChannel:
    def __init__(self, urls: Sequence[str], *, timeout: float = 30.0):
        self.urls = tuple(urls)
        self.timeout = timeout
        self._apprise: apprise.Apprise | None = None

    def _client(self) -> apprise.Apprise:
        if self._apprise is None:
            client = apprise.Apprise()
            for url in self.urls:
                if not client.add(url):
                    raise DeliveryError("an apprise URL is not understood", permanent=True)
            self._apprise = client
        return self._apprise

    async def send(self, key: str, payload: TeamNotice) -> None:
        client = self._client()
        try:
            async with asyncio.timeout(self.timeout):
                ok = await asyncio.to_thread(client.notify, body=payload.body, title=payload.title)
        except TimeoutError as exc:
            raise DeliveryError(f"apprise gave no answer within {self.timeout:g}s") from exc
        except Exception as exc:  # a plugin's own error: the receiver failed, not us
            raise DeliveryError(f"apprise failed: {type(exc).__name__}: {exc}") from exc
        if not ok:
            raise DeliveryError("apprise could not notify every team channel")

    async def aclose(self) -> None:
        self._apprise = None
