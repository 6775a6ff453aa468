"""A host that drips its answers: one request is cut off at ``[fetch] request_deadline``
(connect, headers and body together) and recorded as a failure to retry, and the host's
slot goes round the parties asking, so one slow source never starves another on it."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from watcher.config import FetchConfig, settings_from_dict
from watcher.core import Watcher
from watcher.demo import Fault, NasaEmulator, SyntheticRawImages, nasa_rss
from watcher.exceptions import ConfigError, FetchTimeout
from watcher.fetch import Fetcher
from watcher.types import PageRequest

from .conftest import Clock, raw_source, run

DEADLINE = 1.0
SLACK = 2.0  # a loaded machine's scheduling, on top of the deadline


def test_a_dripping_source_fails_at_the_deadline_and_the_other_source_on_its_host_completes(
    watcher_for: Any, clock: Clock
) -> None:
    with NasaEmulator(
        raw_images={"mars2020": SyntheticRawImages(20)}, rss={"": nasa_rss()}
    ) as nasa:
        news = {"name": "news", "kind": "rss", "url": nasa.rss_url(), "interval": "1h"}
        watcher: Watcher = watcher_for(
            [news, raw_source(nasa.raw_images_url)],
            fetch={"connect_timeout": "1s", "read_timeout": "2s", "request_deadline": "1s"},
        )
        # A byte every 50 ms: never quiet for the 2 s read timeout, never done in 1 s.
        nasa.inject(Fault.drip(0.05), path_prefix="/feed", times=None)

        async def both() -> tuple[Any, Any, float, float]:
            started = time.monotonic()
            slow = asyncio.create_task(watcher.poll_source("news"))
            while not nasa.request_count("/feed"):  # the drip has the host's only slot
                assert time.monotonic() - started < 10, "the feed was never asked for"
                await asyncio.sleep(0.01)
            other = await watcher.poll_source("perseverance")
            other_done = time.monotonic() - started
            dripped = await slow
            return dripped, other, time.monotonic() - started, other_done

        dripped, other, slow_done, other_done = run(both())

        assert dripped.error is not None and "within 1s" in dripped.error
        assert slow_done < DEADLINE + SLACK
        assert other.ok and other.inserted == 20
        assert other_done < DEADLINE + SLACK  # waited for one cut-off request, no more
        state = watcher.store.get_poll_state("news")
        assert state.consecutive_failures == 1 and "within 1s" in (state.last_error or "")
        assert state.next_poll_at is not None and state.next_poll_at > clock.now

        # The failure is one to retry: once the host answers again, so does the source.
        nasa.clear_faults()
        assert run(watcher.poll_source("news")).deferred_until == state.next_poll_at
        clock.now = state.next_poll_at
        again = run(watcher.poll_source("news"))
        assert again.ok and again.inserted > 0
        assert watcher.store.get_poll_state("news").consecutive_failures == 0


def test_a_dripping_answer_is_cut_off_at_the_deadline_across_headers_and_body() -> None:
    with NasaEmulator(rss={"": nasa_rss()}) as nasa:
        nasa.inject(Fault.drip(0.05), path_prefix="/feed", times=None)
        config = FetchConfig(
            contact="https://example.org/t",
            connect_timeout=1.0,
            read_timeout=2.0,
            request_deadline=DEADLINE,
        )

        async def fetch() -> None:
            async with Fetcher(config) as fetcher:
                await fetcher.get(PageRequest(nasa.rss_url()))

        started = time.monotonic()
        with pytest.raises(FetchTimeout, match="no complete response within 1s"):
            run(fetch())
        assert DEADLINE - 0.1 < time.monotonic() - started < DEADLINE + SLACK


def test_the_hosts_slot_goes_round_the_parties_asking() -> None:
    with NasaEmulator() as nasa:
        nasa.latency = 0.1
        config = FetchConfig(contact="https://example.org/t", connect_timeout=1.0, per_host=1)

        async def ask() -> None:
            async with Fetcher(config) as fetcher:
                frames = [
                    asyncio.create_task(
                        fetcher.get(PageRequest(f"{nasa.base_url}/?frame={n}"), party="publish")
                    )
                    for n in range(6)
                ]
                started = time.monotonic()
                while not nasa.request_count():  # a frame has the host's only slot
                    assert time.monotonic() - started < 10, "no frame was asked for"
                    await asyncio.sleep(0.01)
                poll = fetcher.get(PageRequest(f"{nasa.base_url}/?poll=1"), party="poll:news")
                await asyncio.gather(poll, *frames)

        run(ask())
        order = [r.raw_query for r in sorted(nasa.requests, key=lambda r: r.at)]
        assert len(order) == 7 and order[0].startswith("frame=")
        # Behind the frame in flight only, not behind the five frames queued before it.
        assert order[1] == "poll=1", order
        assert nasa.max_in_flight == 1


def test_request_deadline_is_read_checked_and_thirty_seconds_by_default(tmp_path: Path) -> None:
    def fetch(values: dict[str, Any]) -> FetchConfig:
        data = {"database": {"url": "sqlite:///x.db"}, "fetch": values, "sources": []}
        return settings_from_dict(data, path=tmp_path / "watcher.toml").fetch

    assert fetch({}).request_deadline == 30.0
    assert fetch({"request_deadline": "2m"}).request_deadline == 120.0
    with pytest.raises(ConfigError, match=r"fetch\.request_deadline.*connect_timeout"):
        fetch({"connect_timeout": "10s", "request_deadline": "5s"})
    with pytest.raises(ConfigError, match=r"fetch\.request_deadline"):
        fetch({"request_deadline": "soon"})
