"""The store, on a real SQLite file and on the local PostgreSQL (same tests, both)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from watcher.db import Store
from watcher.db.schema import metadata
from watcher.exceptions import NotFound, StorageError
from watcher.plans import Lease
from watcher.types import Backfill, CandidateData, CandidateStatus, PageRequest, PollState

NOW = datetime(2026, 11, 25, 12, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    store.upgrade()
    yield store
    store.close()


def candidate(external_id: str, **fields: object) -> CandidateData:
    values: dict[str, object] = {
        "source": "perseverance",
        "external_id": external_id,
        "mission": "perseverance",
        "title": f"Mars Perseverance Sol 1965: {external_id}",
        "caption": "A caption with ünïcödé and <b>markup</b> kept as text",
        "credit": "NASA/JPL-Caltech",
        "camera": "NAVCAM_RIGHT",
        "sol": 1965,
        "taken_at": datetime(2026, 8, 30, 20, 47, 41, 638000, tzinfo=UTC),
        "mars_local_time": "15:28:38",
        "received_at": datetime(2026, 8, 31, 2, 2, 58, tzinfo=UTC),
        "page_url": f"https://mars.nasa.gov/mars2020/multimedia/raw-images/{external_id}",
        "thumbnail_url": f"https://mars.nasa.gov/{external_id}_320.jpg",
        "medium_url": f"https://mars.nasa.gov/{external_id}_800.jpg",
        "large_url": f"https://mars.nasa.gov/{external_id}_1200.jpg",
        "full_url": f"https://mars.nasa.gov/{external_id}.png",
        "width": 1288,
        "height": 968,
        "raw": {
            "imageid": external_id,
            "nested": {"list": [1, "two", None]},
            "unknown_key": "kept",
        },
    }
    values.update(fields)
    return CandidateData(**values)  # type: ignore[arg-type]


def test_upgrade_creates_the_schema_once(database_url: str) -> None:
    store = Store(database_url)
    with pytest.raises(StorageError, match="run `watcher db upgrade`"):
        store.check_schema()
    assert store.upgrade() == (None, "0010")
    assert store.upgrade() == ("0010", "0010")
    store.check_schema()
    store.close()


def test_migrations_match_the_table_definitions(store: Store) -> None:
    def ours(name: str | None, kind: str, parent: Any) -> bool:
        # Text search lives outside the metadata: the FTS5 table (and its shadow tables) on
        # SQLite, an expression index on PostgreSQL.
        if kind == "table" and name and name.startswith("candidates_fts"):
            return False
        return not (kind == "index" and name == "ix_candidates_search")

    with store.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": False, "include_name": ours}
        )
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_candidate_round_trips_every_field(store: Store) -> None:
    original = candidate("NRF_1965_A")
    assert store.add_candidates([original], NOW) == 1
    [stored] = store.list_candidates()
    for name in CandidateData.__dataclass_fields__:
        assert getattr(stored, name) == getattr(original, name), name
    assert stored.status is CandidateStatus.NEW
    assert stored.first_seen_at == NOW
    assert stored.taken_at is not None and stored.taken_at.tzinfo is not None
    assert store.get_candidate(stored.id) == stored


def test_naive_and_offset_datetimes_are_stored_as_utc(store: Store) -> None:
    from datetime import timezone

    est = timezone(timedelta(hours=-5))
    store.add_candidates(
        [
            candidate("naive", taken_at=datetime(2026, 1, 1, 10, 0)),
            candidate("offset", taken_at=datetime(2026, 1, 1, 5, 0, tzinfo=est)),
        ],
        NOW,
    )
    by_id = {c.external_id: c for c in store.list_candidates()}
    assert by_id["naive"].taken_at == datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    assert by_id["offset"].taken_at == datetime(2026, 1, 1, 10, 0, tzinfo=UTC)


def test_the_same_image_twice_is_one_candidate(store: Store) -> None:
    assert store.add_candidates([candidate("a"), candidate("b"), candidate("a")], NOW) == 2
    assert store.add_candidates([candidate("b"), candidate("c")], NOW) == 1
    assert store.count_candidates() == 3
    assert store.external_ids("perseverance") == {"a", "b", "c"}


def test_same_external_id_from_two_sources_is_two_candidates(store: Store) -> None:
    store.add_candidates([candidate("x"), candidate("x", source="ingenuity")], NOW)
    assert store.candidate_counts_by_source() == {"perseverance": 1, "ingenuity": 1}


def test_listing_is_newest_first_with_keyset_pages_and_filters(store: Store) -> None:
    store.add_candidates([candidate(f"img{i}") for i in range(5)], NOW)
    store.add_candidates([candidate("heli", source="ingenuity")], NOW)
    everything = store.list_candidates(limit=None)
    ids = [c.id for c in everything]
    assert ids == sorted(ids, reverse=True)
    first = store.list_candidates(limit=2)
    second = store.list_candidates(limit=2, before_id=first[-1].id)
    assert [c.id for c in first + second] == ids[:4]
    assert [c.external_id for c in store.list_candidates(source="ingenuity")] == ["heli"]
    assert store.list_candidates(status=CandidateStatus.APPROVED) == []
    assert store.count_candidates(status=CandidateStatus.NEW) == 6


def test_missing_candidate_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match="no candidate with id 999"):
        store.get_candidate(999)


def test_poll_state_defaults_and_round_trips(store: Store) -> None:
    fresh = store.get_poll_state("perseverance")
    assert fresh == PollState(source="perseverance")
    state = PollState(
        source="perseverance",
        cursor="2026-08-31T02:02:58Z",
        sweep={"next": PageRequest("https://x/", (("page", "1"),)).to_json(), "high": "z"},
        etag='"abc"',
        last_modified="Mon, 31 Aug 2026 02:03:00 GMT",
        last_attempt_at=NOW,
        last_success_at=NOW,
        last_error="HTTPStatusError: 503",
        last_error_at=NOW - timedelta(hours=1),
        consecutive_failures=0,
        next_poll_at=NOW + timedelta(minutes=10),
    )
    store.save_poll_state(state)
    assert store.get_poll_state("perseverance") == state
    store.save_poll_state(replace(state, consecutive_failures=3, sweep=None))
    again = store.get_poll_state("perseverance")
    assert again.consecutive_failures == 3 and again.sweep is None
    with store.engine.connect() as connection:
        raw = connection.exec_driver_sql("SELECT count(*) FROM poll_state WHERE sweep IS NULL")
        assert raw.scalar_one() == 1  # SQL NULL, not the JSON text 'null'
    assert store.poll_states() == {"perseverance": again}


def test_page_and_cursor_commit_together_or_not_at_all(store: Store) -> None:
    unwritable = PollState(source="perseverance", cursor="x", sweep={"next": object()})
    with pytest.raises(Exception, match="serializ"):  # the state fails after the inserts
        store.save_poll_page([candidate("a"), candidate("b")], NOW, unwritable)
    assert store.count_candidates() == 0
    assert store.get_poll_state("perseverance").cursor is None

    state = PollState(source="perseverance", cursor="2026-08-31T02:02:58Z")
    assert store.save_poll_page([candidate("a"), candidate("b")], NOW, state).inserted == 2
    assert store.count_candidates() == 2
    assert store.get_poll_state("perseverance").cursor == "2026-08-31T02:02:58Z"
    assert store.save_poll_page([candidate("b"), candidate("c")], NOW, state).inserted == 1


def test_poll_lease_admits_one_owner_until_it_expires(store: Store) -> None:
    until = NOW + timedelta(minutes=15)
    assert store.take_lease("poll:perseverance", "a", NOW, until)
    assert not store.take_lease("poll:perseverance", "b", NOW, until)
    assert store.take_lease("poll:perseverance", "a", NOW, until)  # renewing is fine
    assert store.take_lease(
        "poll:perseverance", "b", until + timedelta(seconds=1), until + timedelta(minutes=15)
    )
    store.drop_lease("poll:perseverance", "a")  # not the owner any more: no effect
    assert not store.take_lease("poll:perseverance", "a", until + timedelta(seconds=2), until)
    store.drop_lease("poll:perseverance", "b")
    assert store.take_lease("poll:perseverance", "a", NOW, until)


def test_lease_does_not_disturb_the_poll_state(store: Store) -> None:
    state = PollState(source="perseverance", cursor="c", consecutive_failures=2)
    store.save_poll_state(state)
    store.take_lease("poll:perseverance", "a", NOW, NOW + timedelta(minutes=1))
    assert store.get_poll_state("perseverance") == state


def test_backfill_progress_round_trips_per_range(store: Store) -> None:
    request = PageRequest("https://mars.nasa.gov/rss/api/", (("page", "3"),), context={"page": 3})
    backfill = Backfill(
        source="ingenuity",
        from_sol=None,
        to_sol=100,
        next_request=request,
        done=False,
        fetched=300,
        inserted=280,
        total=14500,
        started_at=NOW,
        updated_at=NOW,
    )
    store.save_backfill(backfill)
    assert store.get_backfill("ingenuity", None, 100) == backfill
    assert store.get_backfill("ingenuity", 0, 100) is None
    assert store.get_backfill("ingenuity", None, None) is None

    finish = replace(backfill, next_request=None, done=True)
    saved = store.save_backfill_page([candidate("h1", source="ingenuity")], finish)
    assert saved.inserted == 281
    done = store.get_backfill("ingenuity", None, 100)
    assert done == saved
    assert done is not None and done.done and done.next_request is None and done.inserted == 281
    assert store.backfills("ingenuity") == [done]


def test_unreachable_database_is_a_storage_error(tmp_path: Path) -> None:
    store = Store("postgresql://postgres@127.0.0.1:1/none?connect_timeout=1")
    with pytest.raises(StorageError, match="database unavailable"):
        store.ping()
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    with pytest.raises(StorageError):
        Store(f"sqlite:///{blocked}/watcher.db").ping()


def test_a_dead_holders_lease_is_taken_over_only_when_named(store: Store) -> None:
    until = NOW + timedelta(minutes=2)
    assert store.take_lease("poll:perseverance", "a", NOW, until)
    holder = store.lease_holder("poll:perseverance", NOW)
    assert holder is not None and holder.owner == "a"
    assert not store.take_lease("poll:perseverance", "b", NOW, until, take_from="c")
    assert store.take_lease("poll:perseverance", "b", NOW, until, take_from="a")
    holder = store.lease_holder("poll:perseverance", NOW)
    assert holder is not None and holder.owner == "b"


def test_saving_a_page_renews_the_pollers_lease(store: Store) -> None:
    assert store.take_lease("poll:perseverance", "a", NOW, NOW + timedelta(minutes=1))
    state = PollState(source="perseverance")
    store.save_poll_page(
        [candidate("x")], NOW, state, Lease("poll:perseverance", "a", NOW + timedelta(minutes=10))
    )
    later = NOW + timedelta(minutes=5)
    assert not store.take_lease("poll:perseverance", "b", later, later + timedelta(minutes=2))
    much_later = NOW + timedelta(minutes=11)
    assert store.take_lease("poll:perseverance", "b", much_later, much_later + timedelta(minutes=2))


def test_text_search_finds_words_and_id_parts_newest_first(store: Store) -> None:
    from watcher.types import CandidateFilter

    store.add_candidates(
        [
            candidate("NRF_1965_0841393386_816ECM", title="Dust devil crossing Jezero"),
            candidate("NRF_1966_0000000001_816ECM", title="Rock abrasion patch"),
            candidate("HELI_0001", title="Ingenuity's shadow", caption="A dust cloud"),
        ],
        NOW,
    )

    def found(text: str) -> list[str]:
        return [c.external_id for c in store.search_candidates(CandidateFilter(text=text))]

    assert found("dust") == ["HELI_0001", "NRF_1965_0841393386_816ECM"]
    assert found("dust devil") == ["NRF_1965_0841393386_816ECM"]
    assert found("DEVI") == ["NRF_1965_0841393386_816ECM"]  # a prefix of the last word
    assert found("dus devil") == []  # earlier words match whole
    assert found("08413") == ["NRF_1965_0841393386_816ECM"]
    assert found("0841393386") == ["NRF_1965_0841393386_816ECM"]
    assert found("NRF_1966") == ["NRF_1966_0000000001_816ECM"]
    assert found("mars-rover-abrasion-nothing") == []
    assert found('"; DROP TABLE candidates; --') == []
    assert len(found("")) == 3
    page = store.search_candidates(CandidateFilter(text="816ECM"), limit=1)
    older = store.search_candidates(CandidateFilter(text="816ECM"), limit=1, before_id=page[0].id)
    assert [c.external_id for c in page + older] == [
        "NRF_1966_0000000001_816ECM",
        "NRF_1965_0841393386_816ECM",
    ]


def test_upgrading_a_populated_database_fills_facets_and_search(database_url: str) -> None:
    from watcher.db import migrate
    from watcher.types import CandidateFilter

    store = Store(database_url)
    migrate.upgrade(store.engine, "0001")
    with store.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO candidates (source, external_id, mission, title, caption, camera, "
            "status, first_seen_at, raw) VALUES ('perseverance', 'NRF_1', 'perseverance', "
            "'Dust devil', 'seen from the rim', 'NAVCAM_LEFT', 'new', '2026-01-01 00:00:00', "
            "'{}')"
        )
    assert store.upgrade() == ("0001", "0010")
    assert store.facets() == {
        "camera": ["NAVCAM_LEFT"],
        "mission": ["perseverance"],
        "source": ["perseverance"],
    }
    found = store.search_candidates(CandidateFilter(text="rim"))
    assert [c.external_id for c in found] == ["NRF_1"]
    migrate.downgrade(store.engine, "0001")
    assert store.schema_revision() == "0001"
    assert store.upgrade() == ("0001", "0010")
    store.close()


def test_overlong_values_never_fail_the_page(store: Store) -> None:
    """PostgreSQL refuses values longer than their column; one odd record must not cost
    the page: descriptive fields are cut, an impossible id is dropped."""
    long = candidate("ok", camera="C" * 100, mission="M" * 50, mars_local_time="T" * 40)
    impossible = candidate("X" * 300)
    assert store.add_candidates([long, impossible, candidate("fine")], NOW) == 2
    stored = {c.external_id: c for c in store.list_candidates()}
    assert set(stored) == {"ok", "fine"}
    assert stored["ok"].camera == "C" * 64 and stored["ok"].mission == "M" * 32
    assert stored["ok"].mars_local_time == "T" * 16


def test_tiles_seen_later_join_the_stored_frame(store: Store) -> None:
    from watcher.types import Tile

    def tile(n: int) -> Tile:
        return Tile(imageid=f"NRF_X_0{n}_1J", left=1 + 1272 * (n - 1), top=1, width=1296,
                    height=968, full_url=f"https://mars.nasa.gov/NRF_X_0{n}.png")  # fmt: skip

    first = candidate("NRF_X_01_1J", tiles=(tile(1), tile(2)))
    assert store.save_poll_page([first], NOW, PollState(source="perseverance")).inserted == 1
    later = candidate("NRF_X_01_1J", tiles=(tile(3),), full_url="https://mars.nasa.gov/o.png")
    assert store.save_poll_page([later], NOW, PollState(source="perseverance")).inserted == 0
    [stored] = store.list_candidates(limit=None)
    assert [t.imageid for t in stored.tiles] == ["NRF_X_01_1J", "NRF_X_02_1J", "NRF_X_03_1J"]
    assert stored.tiles[2] == tile(3) and stored.full_url == first.full_url  # the rest stays
    assert store.save_poll_page([later], NOW, PollState(source="perseverance")).inserted == 0
    assert len(store.get_candidate(stored.id).tiles) == 3
    plain = candidate("NLF_whole")
    store.save_poll_page([plain], NOW, PollState(source="perseverance"))
    assert store.list_candidates(limit=1)[0].tiles == ()
