"""The plug-in point for feeds: one ``SourceAdapter`` per feed kind.

An adapter is pure: it builds requests and turns response bodies into candidates, with no
I/O and no clock. The core does the fetching and the storing, so every adapter gets
conditional GET, backoff, size caps, crash-safe resumption and transactions for free.
"""

from __future__ import annotations

from typing import Protocol

from watcher.config import SourceConfig
from watcher.types import CandidateData, Page, PageRequest, PollState


class SourceAdapter(Protocol):
    """Contract for a feed kind.

    - ``first_request(state)``: the first request of an incremental sweep, given the stored
      state (``state.cursor`` is the high water of the last complete sweep, or None on the
      very first poll). Mark it ``conditional`` when an ETag/Last-Modified makes sense.
    - ``parse_page(body, request)``: candidates on one page, the next request of the sweep
      (None when the sweep is complete), and the page's high water. Raises ``ParseError``
      when the body as a whole is unusable (not JSON/XML, an HTML error page, wrong shape).
      A single bad record is never an error: it is skipped and counted in ``Page.skipped``.
    - ``backfill_request(from_sol, to_sol)``: the first request of a historical sweep.
      Raises ``UsageError`` when the feed kind cannot backfill (or not by sol).
    - ``page_budget()``: how many pages one poll may read (a longer sweep continues at
      the next poll).
    - ``detail_request(candidate)``: a second request a *new* candidate needs (the image
      library's asset manifest), or None; the core makes it only for candidates it has not
      stored, before storing them. ``with_details(candidate, body)`` gives the candidate
      completed from that answer, or unchanged when the answer is unusable.

    Adapters never raise anything else on any input: a hostile or broken feed cannot crash
    the poller.
    """

    config: SourceConfig

    def first_request(self, state: PollState) -> PageRequest: ...

    def parse_page(self, body: bytes, request: PageRequest) -> Page: ...

    def backfill_request(self, from_sol: int | None, to_sol: int | None) -> PageRequest: ...

    def page_budget(self) -> int: ...

    def detail_request(self, candidate: CandidateData) -> PageRequest | None: ...

    def with_details(self, candidate: CandidateData, body: bytes) -> CandidateData: ...
