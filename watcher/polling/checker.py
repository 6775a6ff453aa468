"""Checking: the Watcher's part behind ``watcher check``, which asks NASA what a first poll
would and checks each answer's shape strictly.

The adapters are tolerant on purpose, so a changed API shows first as a queue gone quiet.
A check makes the same requests as a source's first poll (``latest=true`` and the listing
it leads to; a search and its first item's asset manifest; a feed) through the one HTTP
client, and holds each answer to ``sources.shapes``. It reads and writes no database row:
it can run next to the service, or before there is a database at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from watcher.config import Settings, SourceConfig
from watcher.exceptions import (
    ConfigError,
    FetchError,
    HTTPStatusError,
    ParseError,
    ResponseTooLarge,
    TooManyRedirects,
    UsageError,
)
from watcher.fetch import Fetcher, build_url
from watcher.polling.poller import describe_error
from watcher.polling.sources import make_adapter, shapes
from watcher.polling.sources.adapter import SourceAdapter
from watcher.polling.sources.raw_images import LATEST
from watcher.types import CheckedRequest, Page, PageRequest, PollState, SourceCheck

# The server answered, but not with a body watcher could read: the answer changed.
ANSWERED_BADLY = (ResponseTooLarge, TooManyRedirects)


@dataclass(eq=False, repr=False)
class Checker:
    """Check that NASA's answers still have the shapes watcher expects (``watcher check``)."""

    settings: Settings
    fetcher: Fetcher

    async def check_sources(self, names: Sequence[str] | None = None) -> list[SourceCheck]:
        """Check the named sources (default: every enabled one), one after another, as
        polls go (NASA is one host family). Raises UsageError for an unknown name, before
        any request."""
        if names is not None:
            sources = [self._source_to_check(name) for name in names]
        else:
            sources = [source for source in self.settings.sources if source.enabled]
        return [await self._check(source) for source in sources]

    async def check_source(self, name: str) -> SourceCheck:
        """Check one source, enabled or not. Raises UsageError for an unknown name."""
        return await self._check(self._source_to_check(name))

    def _source_to_check(self, name: str) -> SourceConfig:
        try:
            return self.settings.source(name)
        except ConfigError as exc:
            raise UsageError(str(exc)) from None

    async def _check(self, source: SourceConfig) -> SourceCheck:
        """The first request of a never-polled source, then the one its answer leads to:
        the listing a ``latest=true`` summary leads to, else the detail request (an asset
        manifest) of the page's first candidate.

        The adapter is built without the source's keywords: a check is about shape, not
        topic, so a day without Perseverance news still checks the feed's pictures and an
        item's manifest. Keywords filter locally: the requests stay a poll's (only whose
        manifest is asked for may differ).
        """
        adapter = make_adapter(replace(source, keywords=(), exclude=()), self.settings.image_hosts)
        first = adapter.first_request(PollState(source=source.name))
        checked, page = await self._ask(adapter, source.kind, first)
        requests = [checked]
        if page is not None and first.context.get("step") == LATEST:
            if page.next is not None:
                requests.append((await self._ask(adapter, source.kind, page.next))[0])
        elif page is not None and page.candidates:
            detail = adapter.detail_request(page.candidates[0])
            if detail is not None:
                requests.append((await self._ask(adapter, source.kind, detail, page=False))[0])
        return SourceCheck(
            source=source.name,
            kind=source.kind,
            host=urlsplit(source.url).netloc,
            requests=tuple(requests),
        )

    async def _ask(
        self, adapter: SourceAdapter, kind: str, request: PageRequest, *, page: bool = True
    ) -> tuple[CheckedRequest, Page | None]:
        """One request, its answer checked; and, for a ``page`` request (not a detail one,
        which polls never parse as a page), what the adapter made of it."""
        expected = shapes.expected_answer(kind, request)
        url = build_url(request.url, request.params)
        asked = CheckedRequest(what=expected.name, url=url, host=urlsplit(url).netloc)
        try:
            response = await self.fetcher.get(request)
        except HTTPStatusError as exc:
            return replace(asked, status=exc.status, problems=(str(exc),)), None
        except ANSWERED_BADLY as exc:
            return replace(asked, problems=(describe_error(exc),)), None
        except FetchError as exc:
            return replace(asked, error=describe_error(exc)), None
        parsed: Page | None = None
        refused: tuple[str, ...] = ()
        if page:
            try:
                parsed = adapter.parse_page(response.body, request)
            except ParseError as exc:
                refused = (f"polls fail on it: {exc}",)
        found = expected.check(response.body, parsed)
        checked = replace(
            asked, status=response.status, problems=found.problems + refused, notes=found.notes
        )
        return checked, parsed
