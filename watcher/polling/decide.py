"""Pure rules of polling: when a source is due, how long to back off, how a page moves the
sweep and the cursor, and how healthy a source is. ``now`` and randomness are passed in.

A *sweep* is one walk through a feed's pages, started from the committed cursor. Its
progress (next request, high water) is saved with every page, so a crash or a failure
resumes the sweep where it stopped; the cursor itself moves only when the sweep completes,
because on a newest-first feed the pages not yet read may still hold images older than
anything on the pages already read.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from watcher.config import FetchConfig, SourceConfig
from watcher.text import clean_text
from watcher.types import (
    Backfill,
    Health,
    Page,
    PageRequest,
    PollState,
    SourceHealth,
    cursor_time,
)

# After this many failures in a row a stored sweep is dropped and restarted from the
# cursor, in case the stored request itself is what fails.
SWEEP_GIVE_UP_AFTER = 5


def backoff_delay(failures: int, config: FetchConfig, rand: float) -> float:
    """Seconds to wait after ``failures`` consecutive failures (>= 1).

    Exponential (base, 2x base, 4x base, ... up to the cap) with jitter: ``rand`` in [0, 1)
    scales the delay into [50%, 100%], so many watchers (or sources) that failed together
    do not come back together.
    """
    exponent = min(max(failures, 1) - 1, 32)
    delay = min(config.backoff_base * float(2**exponent), config.backoff_max)
    return delay * (0.5 + rand / 2)


def failure_delay(
    failures: int,
    config: FetchConfig,
    rand: float,
    retry_after: float | None = None,
    *,
    cap: float | None = None,
) -> float:
    """Seconds before trying again after ``failures`` consecutive failures: the backoff, or
    the server's Retry-After when that is longer (the one rule for polls and backfills).
    ``cap`` bounds a wait spent in-process (a backfill sleeps; a poll is rescheduled)."""
    delay = backoff_delay(failures, config, rand)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return min(delay, cap) if cap is not None else delay


def is_due(state: PollState, now: datetime) -> bool:
    """A healthy source is polled whenever the scheduler fires; a failing one only after its
    backoff (which may be longer than the interval, e.g. after a long Retry-After)."""
    if state.consecutive_failures == 0 or state.next_poll_at is None:
        return True
    return now >= state.next_poll_at


def resume_request(state: PollState) -> PageRequest | None:
    """The stored next request of an unfinished sweep, if any."""
    if not state.sweep or not state.sweep.get("next"):
        return None
    try:
        return PageRequest.from_json(state.sweep["next"])
    except (KeyError, TypeError, ValueError):
        return None


def after_page(
    state: PollState,
    page: Page,
    now: datetime,
    interval: float,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
) -> PollState:
    """The state after a page was fetched and parsed: success recorded, sweep advanced, and
    the cursor (with the feed's change marker) committed when this page completes the
    sweep. An ``unchanged`` page completes nothing: the previous sweep stands."""
    if page.unchanged:
        return after_not_modified(state, now, interval)
    sweep_so_far = state.sweep or {}
    high = max_cursor(sweep_so_far.get("high"), page.high_water)
    if high is not None:
        # A record dated in the future (a clock error upstream) must not become the cursor:
        # every later query would ask for images received after it, and find none.
        high = min(high, cursor_time(now))
    marker = page.marker or sweep_so_far.get("marker")
    following = page.next
    if following is None:
        cursor, sweep = max_cursor(state.cursor, high), None
        marker = marker or state.marker
    else:
        cursor, sweep = state.cursor, {"next": following.to_json(), "high": high}
        if marker:
            sweep["marker"] = marker
        marker = state.marker
    return replace(
        _succeeded(state, now, interval),
        cursor=cursor,
        marker=marker,
        sweep=sweep,
        etag=etag if etag is not None else state.etag,
        last_modified=last_modified if last_modified is not None else state.last_modified,
    )


def after_not_modified(state: PollState, now: datetime, interval: float) -> PollState:
    """A 304 (or an unchanged change marker) on the first request: nothing new, the sweep
    is complete as it stands."""
    return replace(_succeeded(state, now, interval), sweep=None)


def after_failure(
    state: PollState,
    now: datetime,
    error: str,
    config: FetchConfig,
    rand: float,
    retry_after: float | None = None,
) -> PollState:
    """Record the failure and the time before which the source must not be polled again.
    The error is cleaned like NASA's text (``clean_text``): it may quote what NASA sent,
    and a control character in it must not stop the failure from being recorded."""
    failures = state.consecutive_failures + 1
    delay = failure_delay(failures, config, rand, retry_after)
    return replace(
        state,
        sweep=None if failures >= SWEEP_GIVE_UP_AFTER else state.sweep,
        last_attempt_at=now,
        last_error=clean_text(error)[:1000],
        last_error_at=now,
        consecutive_failures=failures,
        next_poll_at=now + timedelta(seconds=delay),
    )


def _succeeded(state: PollState, now: datetime, interval: float) -> PollState:
    return replace(
        state,
        last_attempt_at=now,
        last_success_at=now,
        consecutive_failures=0,
        next_poll_at=now + timedelta(seconds=interval),
    )


def max_cursor(a: str | None, b: str | None) -> str | None:
    """Cursors are canonical ISO-8601 strings, so the later one is the greater string."""
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def new_backfill(
    source: str, from_sol: int | None, to_sol: int | None, first: PageRequest, now: datetime
) -> Backfill:
    """A backfill of ``source`` over a sol range, not started yet."""
    return Backfill(
        source=source,
        from_sol=from_sol,
        to_sol=to_sol,
        next_request=first,
        done=False,
        fetched=0,
        inserted=0,
        total=None,
        started_at=now,
        updated_at=now,
    )


def backfill_after_page(backfill: Backfill, page: Page, now: datetime) -> Backfill:
    """The backfill's progress once ``page`` is stored; the store adds the number of its
    candidates that were new to ``inserted`` in the same transaction."""
    return replace(
        backfill,
        next_request=page.next,
        done=page.next is None,
        fetched=backfill.fetched + len(page.candidates) + page.skipped,
        total=page.total if page.total is not None else backfill.total,
        updated_at=now,
    )


def health(source: SourceConfig, state: PollState) -> Health:
    if not source.enabled:
        return Health.DISABLED
    if state.consecutive_failures > 0:
        return Health.FAILING
    if state.last_success_at is None:
        return Health.PENDING
    return Health.OK


def source_health(source: SourceConfig, state: PollState, candidates: int) -> SourceHealth:
    """What ``watcher sources``, ``/healthz`` and the status page say about a source."""
    return SourceHealth(
        name=source.name,
        kind=source.kind,
        url=source.url,
        enabled=source.enabled,
        interval_seconds=source.interval,
        health=health(source, state),
        last_attempt_at=state.last_attempt_at,
        last_success_at=state.last_success_at,
        last_error=state.last_error,
        last_error_at=state.last_error_at,
        consecutive_failures=state.consecutive_failures,
        next_poll_at=state.next_poll_at,
        cursor=state.cursor,
        candidates=candidates,
    )
