"""The pure rules: backoff, due-ness, how pages move the sweep and the cursor, health."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from watcher.config import FetchConfig, SourceConfig
from watcher.polling import decide
from watcher.types import Health, Page, PageRequest, PollState

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
FETCH = FetchConfig(contact="https://example.org", backoff_base=60.0, backoff_max=3600.0)
PAGE1 = PageRequest("https://mars.nasa.gov/rss/api/", (("page", "1"),))
PAGE2 = PageRequest("https://mars.nasa.gov/rss/api/", (("page", "2"),))


def test_backoff_doubles_until_the_cap() -> None:
    delays = [decide.backoff_delay(n, FETCH, rand=0.999999) for n in range(1, 10)]
    assert delays[:4] == pytest.approx([60, 120, 240, 480], rel=1e-5)
    assert max(delays) == pytest.approx(3600, rel=1e-5)
    assert delays == sorted(delays)


def test_backoff_jitter_keeps_between_half_and_all_of_the_delay() -> None:
    assert decide.backoff_delay(3, FETCH, rand=0.0) == 120
    assert decide.backoff_delay(3, FETCH, rand=0.5) == 180
    assert decide.backoff_delay(10_000, FETCH, rand=0.0) == 1800


def test_failure_sets_backoff_and_honours_a_longer_retry_after() -> None:
    state = decide.after_failure(PollState(source="s"), NOW, "HTTPStatusError: 503", FETCH, 0.0)
    assert state.consecutive_failures == 1
    assert state.next_poll_at == NOW + timedelta(seconds=30)
    assert state.last_error == "HTTPStatusError: 503" and state.last_error_at == NOW
    slow = decide.after_failure(state, NOW, "429", FETCH, 0.0, retry_after=7200)
    assert slow.consecutive_failures == 2
    assert slow.next_poll_at == NOW + timedelta(seconds=7200)
    quick = decide.after_failure(state, NOW, "429", FETCH, 0.0, retry_after=1)
    assert quick.next_poll_at == NOW + timedelta(seconds=60)


def test_failing_source_is_not_due_until_its_backoff_ends() -> None:
    failing = decide.after_failure(PollState(source="s"), NOW, "x", FETCH, 0.0)
    assert not decide.is_due(failing, NOW + timedelta(seconds=29))
    assert decide.is_due(failing, NOW + timedelta(seconds=30))


def test_healthy_source_is_always_due_when_the_scheduler_fires() -> None:
    ok = decide.after_page(PollState(source="s"), Page(candidates=()), NOW, interval=600)
    assert ok.next_poll_at == NOW + timedelta(seconds=600)
    assert decide.is_due(ok, NOW + timedelta(seconds=1))


def test_cursor_moves_only_when_the_sweep_completes() -> None:
    start = PollState(source="s", cursor="2026-08-30T00:00:00Z")
    middle = decide.after_page(
        start, Page((), next=PAGE1, high_water="2026-08-31T02:02:58Z"), NOW, 600
    )
    assert middle.cursor == "2026-08-30T00:00:00Z"
    assert decide.resume_request(middle) == PAGE1
    later = decide.after_page(
        middle, Page((), next=PAGE2, high_water="2026-08-30T12:00:00Z"), NOW, 600
    )
    assert later.sweep is not None and later.sweep["high"] == "2026-08-31T02:02:58Z"
    done = decide.after_page(later, Page((), next=None, high_water=None), NOW, 600)
    assert done.cursor == "2026-08-31T02:02:58Z"
    assert done.sweep is None and decide.resume_request(done) is None


def test_the_change_marker_is_stored_with_the_cursor_when_the_sweep_completes() -> None:
    start = PollState(source="s", cursor="2026-08-30T00:00:00Z", marker="2026-08-30T00:00:00Z")
    summary = Page((), next=PAGE1, marker="2026-08-31T02:02:58Z")
    middle = decide.after_page(start, summary, NOW, 600)
    assert middle.marker == "2026-08-30T00:00:00Z"  # not before the sweep is complete
    assert middle.sweep is not None and middle.sweep["marker"] == "2026-08-31T02:02:58Z"
    later = decide.after_page(middle, Page((), next=PAGE2), NOW, 600)
    assert later.sweep is not None and later.sweep["marker"] == "2026-08-31T02:02:58Z"
    done = decide.after_page(later, Page((), high_water="2026-08-31T02:02:58Z"), NOW, 600)
    assert (done.cursor, done.marker, done.sweep) == (
        "2026-08-31T02:02:58Z",
        "2026-08-31T02:02:58Z",
        None,
    )


def test_an_unchanged_marker_completes_nothing_and_moves_nothing() -> None:
    start = PollState(source="s", cursor="2026-08-30T00:00:00Z", marker="2026-08-31T00:00:00Z")
    after = decide.after_page(start, Page((), unchanged=True, marker=start.marker), NOW, 600)
    assert (after.cursor, after.marker, after.sweep) == (start.cursor, start.marker, None)
    assert after.last_success_at == NOW and after.consecutive_failures == 0


def test_a_sweep_that_fails_for_good_keeps_the_old_marker() -> None:
    start = PollState(source="s", marker="2026-08-30T00:00:00Z")
    middle = decide.after_page(start, Page((), next=PAGE1, marker="2026-08-31T00:00:00Z"),
                               NOW, 600)  # fmt: skip
    for _ in range(decide.SWEEP_GIVE_UP_AFTER):
        middle = decide.after_failure(middle, NOW, "x", FETCH, 0.0)
    assert middle.sweep is None and middle.marker == "2026-08-30T00:00:00Z"  # asked again


def test_cursor_never_moves_backwards() -> None:
    start = PollState(source="s", cursor="2026-09-01T00:00:00Z")
    done = decide.after_page(start, Page((), high_water="2026-08-01T00:00:00Z"), NOW, 600)
    assert done.cursor == "2026-09-01T00:00:00Z"


def test_success_clears_failures_but_keeps_the_last_error_for_history() -> None:
    failing = decide.after_failure(PollState(source="s"), NOW, "boom", FETCH, 0.0)
    ok = decide.after_page(failing, Page(()), NOW + timedelta(minutes=5), 600)
    assert ok.consecutive_failures == 0
    assert ok.last_error == "boom"
    assert ok.last_success_at == NOW + timedelta(minutes=5)


def test_etag_is_kept_unless_a_new_one_arrives() -> None:
    state = PollState(source="s", etag='"old"')
    assert decide.after_page(state, Page(()), NOW, 60).etag == '"old"'
    assert decide.after_page(state, Page(()), NOW, 60, etag='"new"').etag == '"new"'


def test_sweep_is_abandoned_after_repeated_failures() -> None:
    state = PollState(source="s", sweep={"next": PAGE1.to_json(), "high": None})
    for _ in range(decide.SWEEP_GIVE_UP_AFTER - 1):
        state = decide.after_failure(state, NOW, "x", FETCH, 0.0)
    assert decide.resume_request(state) == PAGE1
    state = decide.after_failure(state, NOW, "x", FETCH, 0.0)
    assert decide.resume_request(state) is None


def test_corrupt_stored_sweep_is_ignored() -> None:
    assert decide.resume_request(PollState(source="s", sweep={"next": {"nope": 1}})) is None


def test_not_modified_completes_the_sweep_as_a_success() -> None:
    state = PollState(source="s", sweep={"next": PAGE1.to_json()}, consecutive_failures=2)
    after = decide.after_not_modified(state, NOW, 600)
    assert after.sweep is None and after.consecutive_failures == 0 and after.last_success_at == NOW


def test_backfill_counts_records_and_finishes_with_the_last_page() -> None:
    backfill = decide.new_backfill("s", 1, 2, PAGE1, NOW)
    assert (backfill.fetched, backfill.inserted, backfill.done) == (0, 0, False)
    step = decide.backfill_after_page(backfill, Page((), skipped=4, next=PAGE2, total=250), NOW)
    assert (step.fetched, step.total, step.done, step.next_request) == (4, 250, False, PAGE2)
    last = decide.backfill_after_page(step, Page((), skipped=1, next=None), NOW)
    assert last.done and last.next_request is None and last.total == 250


@pytest.mark.parametrize(
    ("enabled", "state", "expected"),
    [
        (False, PollState(source="s"), Health.DISABLED),
        (True, PollState(source="s"), Health.PENDING),
        (True, PollState(source="s", last_success_at=NOW), Health.OK),
        (True, PollState(source="s", last_success_at=NOW, consecutive_failures=1), Health.FAILING),
    ],
)
def test_health(enabled: bool, state: PollState, expected: Health) -> None:
    source = SourceConfig(
        name="s", kind="rss", url="https://x.org/", interval=60, jitter=0, enabled=enabled
    )
    assert decide.health(source, state) is expected


def test_a_future_date_never_becomes_the_cursor() -> None:
    page = Page((), high_water="2099-01-01T00:00:00Z")
    state = decide.after_page(PollState(source="s"), page, NOW, 600)
    assert state.cursor == "2026-11-25T12:00:00Z"


def test_a_failure_waits_the_backoff_or_a_longer_retry_after_within_the_cap() -> None:
    assert decide.failure_delay(1, FETCH, 0.999) == pytest.approx(60.0, rel=0.01)
    assert decide.failure_delay(1, FETCH, 0.0, 600.0) == 600.0
    assert decide.failure_delay(1, FETCH, 0.0, 5.0) == 30.0
    assert decide.failure_delay(3, FETCH, 0.999, 900.0, cap=300.0) == 300.0
