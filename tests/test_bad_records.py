"""One bad record costs that record, never its page or the other sources (issue 13's second
break), on SQLite and on PostgreSQL alike.

The sources refuse up front what the database could not keep (a sol past an INTEGER
column, an id too long), and cut what may be cut (a caption too long for PostgreSQL's
search index). Whatever the database still refuses for a record's content is skipped and
counted, the page's good records stored; a failure of the database itself fails that
source's poll, recorded as its error with a backoff, the page rolled back, cursor and all.
The database is made to refuse by triggers: a real database saying no, as a constraint
nobody foresaw or a failing disk would.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
import pytest
from typer.testing import CliRunner

from watcher.cli import app
from watcher.core import make_watcher
from watcher.db import Store
from watcher.demo import Fault, NasaEmulator, SyntheticRawImages
from watcher.demo.datasets import RecordedRawImages
from watcher.limits import MAX_CAPTION, MAX_INTEGER, MAX_TITLE, fit_limits
from watcher.types import Backfill, CandidateData, Health, PageRequest, PageStored, PollState

from .conftest import (
    Clock,
    ServiceThread,
    build_settings,
    eventually,
    free_port,
    raw_source,
    raw_toml,
    run,
    write_config,
)

pytestmark = pytest.mark.timeout(90)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
JSON = "application/json"


# -- a database that says no ----------------------------------------------------------


def database_refuses(
    url: str, table: str, when: str, *, content: bool, events: tuple[str, ...] = ("INSERT",)
) -> None:
    """Make the database refuse writes to ``table`` where ``when`` (SQL on ``NEW``) holds:
    for the row's content (``content``: a constraint, as a column's type would), or as a
    failing disk would (a failure that may pass, never the row's fault)."""
    name = f"refuse_{table}"
    if url.startswith("sqlite"):
        effect = "SELECT RAISE(ABORT, 'refused')" if content else "SELECT json('disk failing')"
        with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as connection:
            for event in events:
                connection.execute(
                    f"CREATE TRIGGER {name}_{event.lower()} BEFORE {event} ON {table} "
                    f"WHEN {when} BEGIN {effect}; END"
                )
            connection.commit()
        return
    code = "check_violation" if content else "disk_full"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF {when} THEN RAISE EXCEPTION 'refused' USING ERRCODE = '{code}'; END IF; "
            "RETURN NEW; END $$"
        )
        connection.execute(
            f"CREATE TRIGGER {name} BEFORE {' OR '.join(events)} ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {name}()"
        )


def database_heals(url: str, table: str, events: tuple[str, ...] = ("INSERT",)) -> None:
    name = f"refuse_{table}"
    if url.startswith("sqlite"):
        with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as connection:
            for event in events:
                connection.execute(f"DROP TRIGGER {name}_{event.lower()}")
            connection.commit()
        return
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"DROP TRIGGER {name} ON {table}")


# -- NASA's side ----------------------------------------------------------------------


def record(imageid: str, received: str, **fields: Any) -> dict[str, Any]:
    """A raw-image record as NASA sends one, with this id and ``date_received``."""
    base = SyntheticRawImages(1).record(0)
    return {**base, "imageid": imageid, "date_received": received, **fields}


def answer(nasa: NasaEmulator, records: list[Any]) -> None:
    """NASA's next raw-images answer: these records (then the emulator's own, empty)."""
    body = orjson.dumps({"images": records, "per_page": "100", "page": 0, "total_results": 1})
    nasa.inject(Fault.respond(200, body, content_type=JSON), path_prefix="/rss/api/")


# Distinct words: PostgreSQL's tsvector of these is past its 1 MB limit.
HUGE_TEXT = " ".join(f"w{i}" for i in range(160_000))


def hostile_page() -> list[Any]:
    return [
        record("GOOD-A", "2026-11-25T10:00:00Z"),
        record("SOL-HUGE", "2026-11-25T10:01:00Z", sol=2**40),
        record("SOL-TEXT", "2026-11-25T10:02:00Z", sol="4294967296"),
        record("X" * 300, "2026-11-25T10:03:00Z"),
        record("TEXT-HUGE", "2026-11-25T10:04:00Z", caption=HUGE_TEXT, title=HUGE_TEXT[:5000]),
        record("DATES-BAD", "2026-02-30T99:00:00Z", date_taken_utc="yesterday-ish"),
        record("NUL", "2026-11-25T10:05:00Z", title="Mars\x00 rover", caption="a\x00b"),
        record("GOOD-B", "2026-11-25T11:00:00Z"),
    ]


# -- the pure rule ---------------------------------------------------------------------


def plain(**fields: Any) -> CandidateData:
    return CandidateData(**{"source": "s", "external_id": "x", "raw": {}, **fields})


def test_integers_past_an_integer_column_refuse_the_record_or_drop_the_size() -> None:
    assert fit_limits(plain(sol=MAX_INTEGER)) == plain(sol=MAX_INTEGER)
    assert fit_limits(plain(sol=MAX_INTEGER + 1)) == "sol 2147483648 out of range"
    assert isinstance(fit_limits(plain(sol=-(2**63))), str)
    assert fit_limits(plain(width=2**31, height=968)) == plain(width=None, height=968)
    assert fit_limits(plain(width=1288, height=-(2**40))) == plain(width=1288, height=None)


def test_words_are_cut_to_what_the_search_index_holds_and_ids_are_never_cut() -> None:
    fitted = fit_limits(plain(title="t" * 5000, caption="c" * 200_000, credit="n" * 2000))
    assert isinstance(fitted, CandidateData)
    assert (len(fitted.title), len(fitted.caption), len(fitted.credit or "")) == (
        MAX_TITLE,
        MAX_CAPTION,
        1000,
    )
    assert fit_limits(plain(external_id="i" * 256)) == "external_id longer than 255 characters"


# -- a page of hostile records ---------------------------------------------------------


def test_a_page_of_hostile_records_stores_the_good_ones_and_counts_the_bad_ones(
    watcher_for: Any, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with NasaEmulator(raw_images={"mars2020": RecordedRawImages([])}) as nasa:
        watcher = watcher_for([raw_source(nasa.raw_images_url)], database_url)
        answer(nasa, hostile_page())
        with caplog.at_level(logging.INFO, logger="watcher"):
            report = run(watcher.poll_source("perseverance"))
    assert report.ok, report.error
    assert (report.inserted, report.skipped) == (5, 3)  # two sols past 32 bits, a 300-char id
    [line] = [r.getMessage() for r in caplog.records if "on a page" in r.getMessage()]
    assert "skipped 3 record(s) on a page: record 1: SOL-HUGE: sol 1099511627776 out of " in line
    stored = {c.external_id: c for c in watcher.list_candidates(status=None, limit=None)}
    assert set(stored) == {"GOOD-A", "GOOD-B", "TEXT-HUGE", "DATES-BAD", "NUL"}
    assert len(stored["TEXT-HUGE"].caption) == MAX_CAPTION
    assert stored["TEXT-HUGE"].title == HUGE_TEXT[:MAX_TITLE]
    assert (stored["DATES-BAD"].taken_at, stored["DATES-BAD"].received_at) == (None, None)
    assert (stored["NUL"].title, stored["NUL"].caption) == ("Mars rover", "ab")
    state = watcher.store.get_poll_state("perseverance")
    assert (state.cursor, state.consecutive_failures, state.last_error) == (
        "2026-11-25T11:00:00Z",
        0,
        None,
    )
    [health] = watcher.sources_health()
    assert health.health is Health.OK


def test_a_record_the_database_refuses_is_skipped_and_the_rest_of_its_page_stored(
    watcher_for: Any, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with NasaEmulator(raw_images={"mars2020": RecordedRawImages([])}) as nasa:
        watcher = watcher_for([raw_source(nasa.raw_images_url)], database_url)
        database_refuses(database_url, "candidates", "NEW.external_id = 'POISON'", content=True)
        answer(
            nasa,
            [
                record("GOOD-A", "2026-11-25T10:00:00Z"),
                record("POISON", "2026-11-25T10:30:00Z"),
                record("GOOD-B", "2026-11-25T11:00:00Z"),
            ],
        )
        with caplog.at_level(logging.INFO, logger="watcher"):
            report = run(watcher.poll_source("perseverance"))
    assert report.ok, report.error
    assert (report.inserted, report.skipped) == (2, 1)
    [line] = [r.getMessage() for r in caplog.records if "POISON" in r.getMessage()]
    assert line.startswith("not storing 1 of 3 record(s) the database cannot keep; the first: ")
    assert watcher.store.external_ids("perseverance") == {"GOOD-A", "GOOD-B"}
    # Refused for what it holds: asking again gets the same answer, so the cursor moves on.
    state = watcher.store.get_poll_state("perseverance")
    assert (state.cursor, state.consecutive_failures) == ("2026-11-25T11:00:00Z", 0)


def test_the_store_skips_what_the_database_refuses_in_poll_and_backfill_pages(
    database_url: str,
) -> None:
    """Below the sources: a candidate no source would make (a sol past 32 bits) and one a
    constraint refuses are each skipped and counted; the page's state is written."""
    store = Store(database_url)
    store.upgrade()
    try:
        database_refuses(database_url, "candidates", "NEW.external_id = 'POISON'", content=True)

        def item(external_id: str, **fields: Any) -> CandidateData:
            return CandidateData(source="perseverance", external_id=external_id, raw={}, **fields)

        state = PollState(source="perseverance", cursor="2026-11-25T11:00:00Z")
        stored = store.save_poll_page([item("a"), item("POISON"), item("b")], NOW, state)
        assert (stored.inserted, stored.refused) == (2, 1)
        assert stored.reason is not None and stored.reason.startswith("perseverance/POISON: ")
        assert store.get_poll_state("perseverance").cursor == "2026-11-25T11:00:00Z"
        stored = store.save_poll_page([item("huge", sol=2**40), item("c", sol=1965)], NOW, state)
        assert stored == PageStored(1, 1, "perseverance/huge: sol 1099511627776 out of range")
        first = PageRequest("https://example.org/", (("page", "0"),))
        backfill = Backfill(
            source="perseverance", from_sol=1, to_sol=2, next_request=first, done=False,
            fetched=4, inserted=0, total=None, started_at=NOW, updated_at=NOW,
        )  # fmt: skip
        saved = store.save_backfill_page([item("POISON"), item("d")], backfill)
        assert saved.inserted == 1
        assert store.external_ids("perseverance") == {"a", "b", "c", "d"}
        assert store.get_backfill("perseverance", 1, 2) == saved
    finally:
        store.close()


def test_a_database_failure_fails_the_poll_keeps_the_cursor_and_the_next_poll_stores_all(
    watcher_for: Any, database_url: str, clock: Clock
) -> None:
    page = [record("GOOD-A", "2026-11-25T10:00:00Z"), record("BROKEN", "2026-11-25T11:00:00Z")]
    with NasaEmulator(raw_images={"mars2020": RecordedRawImages([])}) as nasa:
        watcher = watcher_for([raw_source(nasa.raw_images_url)], database_url)
        database_refuses(database_url, "candidates", "NEW.external_id = 'BROKEN'", content=False)
        answer(nasa, page)
        failed = run(watcher.poll_source("perseverance"))
        assert failed.internal and failed.error is not None and "StorageError" in failed.error
        assert failed.deferred_until is not None and failed.deferred_until > clock.now
        assert watcher.store.count_candidates() == 0  # the page is rolled back whole
        state = watcher.store.get_poll_state("perseverance")
        assert (state.cursor, state.sweep, state.consecutive_failures) == (None, None, 1)
        [health] = watcher.sources_health()
        assert health.health is Health.FAILING and health.last_error == failed.error

        database_heals(database_url, "candidates")
        clock.advance(60)
        answer(nasa, page)
        again = run(watcher.poll_source("perseverance"))
    assert again.ok and again.inserted == 2
    state = watcher.store.get_poll_state("perseverance")
    assert (state.cursor, state.consecutive_failures) == ("2026-11-25T11:00:00Z", 0)


# -- one failing source never stops the others ------------------------------------------


def two_sources(nasa: NasaEmulator) -> list[dict[str, Any]]:
    return [
        raw_source(nasa.raw_images_url, name="first"),
        raw_source(nasa.raw_images_url, name="second", category="ingenuity"),
    ]


def two_feeds() -> dict[str, SyntheticRawImages]:
    return {
        "mars2020": SyntheticRawImages(30, per_sol=30),
        "ingenuity": SyntheticRawImages(20, per_sol=20),
    }


def test_poll_once_goes_on_after_a_source_fails_and_exits_1_at_the_end(
    tmp_path: Path, database_url: str
) -> None:
    runner = CliRunner()
    with NasaEmulator(raw_images=two_feeds()) as nasa:
        toml = raw_toml(nasa.raw_images_url, "first") + raw_toml(
            nasa.raw_images_url, "second", "ingenuity"
        )
        config = write_config(tmp_path, toml, database_url)
        assert runner.invoke(app, ["--config", str(config), "db", "upgrade"]).exit_code == 0
        database_refuses(database_url, "candidates", "NEW.source = 'first'", content=False)
        result = runner.invoke(app, ["--config", str(config), "poll", "--once"])
        assert result.exit_code == 1, result.output
        assert "first: FAILED" in result.stdout and "StorageError" in result.stdout
        assert "second: 20 new" in result.stdout
        assert "could not poll first" in result.stderr
        sources = runner.invoke(app, ["--config", str(config), "sources", "--json"])
    health = {row["name"]: row for row in json.loads(sources.stdout)}
    assert health["first"]["health"] == "failing"
    assert "StorageError" in health["first"]["last_error"]
    assert health["second"]["health"] == "ok" and health["second"]["candidates"] == 20


def test_a_source_whose_failure_cannot_even_be_recorded_does_not_stop_the_others(
    watcher_for: Any, database_url: str
) -> None:
    with NasaEmulator(raw_images=two_feeds()) as nasa:
        watcher = watcher_for(two_sources(nasa), database_url)
        database_refuses(
            database_url, "poll_state", "NEW.source = 'first'", content=False,
            events=("INSERT", "UPDATE"),
        )  # fmt: skip
        first, second = run(watcher.poll_all())
    assert first.internal and first.error is not None and not first.ok
    assert second.ok and second.inserted == 20
    assert watcher.store.candidate_counts_by_source() == {"second": 20}


def test_the_service_shows_a_source_the_database_fails_as_failing_with_its_error(
    tmp_path: Path, database_url: str
) -> None:
    with NasaEmulator(raw_images=two_feeds()) as nasa:
        settings = build_settings(
            tmp_path,
            database_url,
            two_sources(nasa),
            server={"host": "127.0.0.1", "port": free_port()},
            fetch={"backoff_base": "1s", "backoff_max": "2s"},
        )
        watcher = make_watcher(settings)
        watcher.prepare_database()
        database_refuses(database_url, "candidates", "NEW.source = 'first'", content=False)
        running = ServiceThread(watcher)
        try:

            def failing_twice() -> dict[str, Any] | None:
                body: dict[str, Any] = httpx.get(f"{running.service.url}/healthz").json()
                found = {s["name"]: s for s in body.get("sources", [])}
                failures = found.get("first", {}).get("consecutive_failures", 0)
                second = found.get("second", {}).get("health")
                return body if failures >= 2 and second == "ok" else None

            # Failing, then failing again at the end of its backoff: retried, the loop alive.
            body = eventually(failing_twice, "first failing twice, second ok", timeout=30)
        finally:
            running.stop()
    first = next(s for s in body["sources"] if s["name"] == "first")
    assert body["status"] == "degraded"
    assert first["health"] == "failing" and "StorageError" in first["last_error"]
    assert first["next_poll_at"] is not None
