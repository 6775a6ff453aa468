"""The admins' Status page: polls leave their record in the same transaction as their
state (bounded per source), the figures are each mission's latest sols, and the page
draws them as inline SVG for admins only, with NASA's words escaped."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from watcher.core import Watcher, make_watcher
from watcher.db.polling import POLL_LOG_KEEP
from watcher.demo import Fault, NasaEmulator, SyntheticRawImages
from watcher.plans import NewDelivery
from watcher.types import (
    Actor,
    CandidateData,
    DeliveryChannel,
    DeliveryStatus,
    PollOutcome,
    PollRecord,
    PollState,
    Role,
)

from .conftest import PASSWORD, Clock, WebApp, build_settings, raw_source, run

pytestmark = pytest.mark.timeout(90)

ROOT = Actor("root", Role.ADMIN)
T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
HOSTILE = "<script>alert(1)</script>"


def figures(watcher: Watcher, polls: int = 50) -> Any:
    return watcher.status_figures(sols=30, polls=polls, editions=30)


def polls_of(watcher: Watcher, source: str = "perseverance", limit: int = 50) -> list[PollRecord]:
    return list(dict(figures(watcher, limit).polls)[source])


def image(n: int, sol: int, camera: str | None, mission: str = "perseverance") -> CandidateData:
    return CandidateData(
        source=mission,
        external_id=f"IMG_{mission}_{n:05d}",
        mission=mission,
        title=f"Sol {sol}",
        camera=camera,
        sol=sol,
        taken_at=T0 + timedelta(minutes=n),
        large_url=f"https://mars.nasa.gov/raw/IMG_{n:05d}.jpg",
    )


# -- the poll log ----------------------------------------------------------------------


def test_each_poll_leaves_one_record_of_how_it_ended(watcher_for: Any, clock: Clock) -> None:
    data = SyntheticRawImages(40, per_sol=100)
    with NasaEmulator(raw_images={"mars2020": data}) as nasa:
        watcher = watcher_for([raw_source(nasa.raw_images_url)])
        assert polls_of(watcher) == []
        first = run(watcher.poll_source("perseverance"))
        clock.advance(600)
        run(watcher.poll_source("perseverance"))  # NASA's latest unchanged: one request
        clock.advance(600)
        nasa.inject(Fault.unavailable(), path_prefix="/rss/api/")
        failed = run(watcher.poll_source("perseverance"))
        deferred = run(watcher.poll_source("perseverance"))  # backing off: not a poll
        assert deferred.requests == 0
    records = polls_of(watcher)
    assert [r.outcome for r in records] == [
        PollOutcome.OK,
        PollOutcome.NOT_MODIFIED,
        PollOutcome.FAILED,
    ]
    assert (records[0].inserted, records[0].requests) == (first.inserted, first.requests)
    assert first.inserted == 40
    assert records[1].inserted == 0 and records[1].requests == 1
    assert records[2].error == failed.error and "503" in (failed.error or "")
    assert [r.finished_at for r in records] == [T0, T0 + timedelta(minutes=10), clock.now]
    state = watcher.store.get_poll_state("perseverance")
    assert state.last_error == records[2].error  # the record and the state agree


def test_a_sweep_of_several_pages_is_one_record_and_one_cut_short_by_its_budget_too(
    watcher_for: Any,
) -> None:
    data = SyntheticRawImages(10, per_sol=1000)
    with NasaEmulator(raw_images={"mars2020": data}) as nasa:
        watcher = watcher_for([raw_source(nasa.raw_images_url, max_pages=3)])
        run(watcher.poll_source("perseverance"))
        data.release(450)  # five pages of 100 and more: the budget of 3 stops the sweep
        cut = run(watcher.poll_source("perseverance"))
        rest = run(watcher.poll_source("perseverance", force=True))
    assert cut.pages == 3 and rest.pages >= 2
    records = polls_of(watcher)
    assert [r.outcome for r in records] == [PollOutcome.OK] * 3
    assert [r.inserted for r in records[1:]] == [cut.inserted, rest.inserted]
    assert [r.requests for r in records[1:]] == [cut.requests, rest.requests]


def test_the_log_keeps_the_newest_polls_of_each_source_and_no_more(
    watcher_for: Any, database_url: str
) -> None:
    sources = [raw_source("http://127.0.0.1:9/"), raw_source("http://x", "other")]
    watcher = watcher_for(sources, database_url)
    store = watcher.store
    for i in range(POLL_LOG_KEEP + 5):
        at = T0 + timedelta(minutes=i)
        record = PollRecord(
            source="perseverance", started_at=at, finished_at=at, outcome=PollOutcome.OK
        )
        store.save_poll_state(PollState(source="perseverance", last_attempt_at=at), record)
    other = PollRecord(source="other", started_at=T0, finished_at=T0, outcome=PollOutcome.FAILED)
    store.save_poll_state(PollState(source="other"), other)
    kept = polls_of(watcher, limit=10 * POLL_LOG_KEEP)
    assert len(kept) == POLL_LOG_KEEP
    assert kept[0].finished_at == T0 + timedelta(minutes=5)  # the oldest five are gone
    assert kept[-1].finished_at == T0 + timedelta(minutes=POLL_LOG_KEEP + 4)
    assert polls_of(watcher, "other") == [other]
    assert len(polls_of(watcher, limit=7)) == 7


def test_images_per_sol_are_each_missions_own_latest_sols(
    watcher_for: Any, database_url: str
) -> None:
    watcher = watcher_for([], database_url)
    items = [image(i, 1860 + i % 45, "NAVCAM_LEFT") for i in range(90)]
    items += [image(100 + i, 40 + i, "HELI_NAV", "ingenuity") for i in range(3)]
    watcher.store.add_candidates(items, T0)
    by_mission = {m.mission: m for m in figures(watcher).missions}
    mars = by_mission["perseverance"]
    assert (mars.first, mars.last) == (1875, 1904)  # 30 sols, the newest stored last
    assert {c.sol for c in mars.counts} == set(range(1875, 1905))
    assert sum(c.count for c in mars.counts) == 60  # two images on each of those sols
    heli = by_mission["ingenuity"]
    assert (heli.first, heli.last) == (13, 42)
    assert [(c.sol, c.camera, c.count) for c in heli.counts] == [
        (40, "HELI_NAV", 1),
        (41, "HELI_NAV", 1),
        (42, "HELI_NAV", 1),
    ]


# -- the page --------------------------------------------------------------------------


@pytest.fixture
def status_app(tmp_path: Path, clock: Clock, database_url: str) -> Iterator[WebApp]:
    """The app with one source configured (never polled here: its records are written
    the way a poll writes them), an admin and an editor."""
    settings = build_settings(tmp_path, database_url, [raw_source("http://127.0.0.1:9/")])
    watcher = make_watcher(settings, clock=clock, rand=lambda: 0.0)
    watcher.prepare_database()
    watcher.add_editor("root", PASSWORD, Role.ADMIN)
    watcher.add_editor("alice", PASSWORD, Role.EDITOR)
    yield WebApp(watcher)
    run(watcher.aclose())


def svg(page: str, ident: str) -> str:
    found = re.search(
        rf'<svg [^>]*aria-labelledby="{ident}-title {ident}-desc".*?</svg>', page, re.S
    )
    assert found, f"no chart {ident}"
    return found.group(0)


def bars(chart: str) -> list[str]:
    """Each bar's class suffix, in drawing order."""
    return re.findall(r'<rect class="chart-bar k-([\w-]+)"', chart)


def seed_everything(app: WebApp, clock: Clock) -> None:
    watcher = app.watcher
    # Two cameras on sol 1900, one on 1901, none on 1902, and on 1903 a camera with a
    # hostile name.
    watcher.store.add_candidates(
        [
            image(1, 1900, "NAVCAM_LEFT"),
            image(2, 1900, "NAVCAM_LEFT"),
            image(3, 1900, "MCZ_RIGHT"),
            image(4, 1901, "MCZ_RIGHT"),
            image(5, 1903, HOSTILE),
        ],
        T0,
    )
    outcomes = [PollOutcome.OK, PollOutcome.FAILED, PollOutcome.NOT_MODIFIED, PollOutcome.OK]
    for i, outcome in enumerate(outcomes):
        at = T0 + timedelta(minutes=10 * i)
        error = f"ParseError: {HOSTILE}" if outcome is PollOutcome.FAILED else None
        record = PollRecord(
            source="perseverance",
            started_at=at,
            finished_at=at + timedelta(milliseconds=300),
            outcome=outcome,
            requests=1,
            error=error,
        )
        watcher.store.save_poll_state(PollState(source="perseverance"), record)
    # Edition 1 owes three messages: one sent, one given up, one still pending; edition 2
    # owes none.
    [first] = [c.id for c in watcher.list_candidates() if c.sol == 1901]
    watcher.approve([first], None, ROOT)
    assert run(watcher.publish()).edition is not None
    watcher.store.enqueue(
        [
            NewDelivery(1, DeliveryChannel.WEBHOOK, str(n), f"status-test-{n}", clock.now)
            for n in range(3)
        ],
        clock.now,
    )
    claimed = watcher.store.claim_deliveries("t", clock.now, clock.now + timedelta(minutes=1), 2)
    watcher.store.finish_deliveries(
        "t",
        clock.now,
        sent=[claimed[0].id],
        outcomes=[(claimed[1].id, DeliveryStatus.DEAD, clock.now, "gone")],
    )
    [second] = [c.id for c in watcher.list_candidates() if c.sol == 1903]
    watcher.approve([second], None, ROOT)
    assert run(watcher.publish()).edition is not None


def test_admins_see_the_three_charts_with_a_bar_per_figure(
    status_app: WebApp, clock: Clock
) -> None:
    seed_everything(status_app, clock)
    page = status_app.browser("root").get("/editor/status")
    assert page.status_code == 200
    assert 'href="/editor/status" aria-current="page"' in page.text  # the admins' nav

    images = svg(page.text, "images-0")
    # Sol 1900: NAVCAM_LEFT (2) and MCZ_RIGHT (1); 1901: MCZ_RIGHT; 1903: the third camera.
    # The legend orders cameras by images: MCZ_RIGHT (2), NAVCAM_LEFT (2), then the last.
    assert bars(images) == ["s0", "s1", "s0", "s2"]
    assert "Images per sol and camera: perseverance" in images
    assert "5 images of perseverance from 3 cameras on sols 1874 to 1903" in images

    polls = svg(page.text, "polls-0")
    assert bars(polls) == ["ok", "failed", "unchanged", "ok"]
    assert "2 ok, 1 not modified, 1 failed; the slowest took 300 ms" in polls

    deliveries = svg(page.text, "deliveries")
    assert bars(deliveries) == ["sent", "pending", "failed"]
    assert "Editions 1 to 2: 1 messages sent, 1 pending, 1 failed." in deliveries

    # Each chart is named for screen readers and followed by its figures as a table.
    for ident in ("images-0", "polls-0", "deliveries"):
        assert f'<title id="{ident}-title">' in page.text
        assert f'<desc id="{ident}-desc">' in page.text
    assert page.text.count('<details class="chart-data">') == 3
    assert "<script>" not in page.text.split("</head>", 1)[1]  # no script in the body


def test_nasa_words_and_errors_are_escaped_everywhere_on_the_page(
    status_app: WebApp, clock: Clock
) -> None:
    seed_everything(status_app, clock)
    status_app.watcher.store.add_candidates([image(9, 5, "NAVCAM_LEFT", HOSTILE)], T0)
    page = status_app.browser("root").get("/editor/status").text
    assert HOSTILE not in page
    assert "alert(1)" in page  # the words are there, as text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    for chart in re.findall(r"<svg .*?</svg>", page, re.S):
        assert "<script" not in chart
        assert unescape(chart).count(HOSTILE) == chart.count("&lt;script&gt;alert(1)")


def test_editors_are_refused_and_strangers_sent_to_sign_in(status_app: WebApp) -> None:
    alice = status_app.browser("alice").get("/editor/status")
    assert alice.status_code == 403 and "only an admin" in alice.text
    assert 'href="/editor/status"' not in status_app.browser("alice").get("/editor").text
    anonymous = status_app.browser().get("/editor/status")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/editor/login?next=")


def test_an_empty_service_says_there_is_nothing_yet(status_app: WebApp) -> None:
    page = status_app.browser("root").get("/editor/status")
    assert page.status_code == 200
    assert "No image with a sol stored yet." in page.text
    assert "No poll of perseverance recorded yet." in page.text
    assert "No edition yet." in page.text
    assert "<svg" not in page.text
