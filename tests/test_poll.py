"""Polling end to end: the Watcher against the NASA emulator on 127.0.0.1, real SQLite."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest

from watcher.demo import Fault, NasaEmulator, SyntheticRawImages, demo_emulator
from watcher.demo.datasets import RecordedRawImages
from watcher.types import Health

from .conftest import QUEUE_FIELDS, Clock, raw_source, run


def full_ids(data: SyntheticRawImages, indexes: range) -> set[str]:
    return {str(data.record(i)["imageid"]) for i in indexes if not data.is_thumbnail(i)}


def received_in_the_day_before_latest(data: SyntheticRawImages) -> range:
    """Indexes of the records NASA received in the 24 h up to its newest one."""
    latest = data.received_s(data.visible_count - 1)
    first = next(i for i in range(data.visible_count) if data.received_s(i) >= latest - 86_400)
    return range(first, data.visible_count)


def test_first_poll_takes_the_day_before_latest_then_only_what_arrived(
    watcher_for: Any,
) -> None:
    data = SyntheticRawImages(250, per_sol=100, start_sol=0, thumbnails_every=7)
    with NasaEmulator(raw_images={"mars2020": data}) as nasa:
        watcher = watcher_for([raw_source(nasa.raw_images_url)])
        first = run(watcher.poll_source("perseverance"))
        day = received_in_the_day_before_latest(data)
        assert 100 < day.start < 200  # the end of sol 1 and all of sol 2
        assert (first.inserted, first.requests, first.error) == (len(full_ids(data, day)), 2, None)
        assert nasa.requests[0].param("latest") == "true"
        assert watcher.store.external_ids("perseverance") == full_ids(data, day)
        state = watcher.store.get_poll_state("perseverance")
        assert state.marker == data.record(249)["date_received"] == state.cursor

        data.release(130)  # the rest of sol 2 and 30 of sol 3... all received later
        second = run(watcher.poll_source("perseverance"))
        assert second.inserted == len(full_ids(data, range(250, 380)))
        assert second.requests == 3  # latest, then 131 records >= cursor: a full page, a short one
        condition = nasa.requests[-1].param("condition_2")
        assert condition == f"{data.record(249)['date_received']}:date_received:gte"
        assert nasa.requests[-1].param("condition_1") == "mars2020:mission"
        assert watcher.store.external_ids("perseverance") == full_ids(data, range(day.start, 380))


def test_an_unchanged_latest_is_one_request_and_writes_no_candidate_or_cursor(
    watcher_for: Any, clock: Clock
) -> None:
    data = SyntheticRawImages(120, per_sol=50)
    with NasaEmulator(raw_images={"mars2020": data}) as nasa:
        watcher = watcher_for([raw_source(nasa.raw_images_url)])
        run(watcher.poll_source("perseverance"))
        before = watcher.store.get_poll_state("perseverance")
        count = watcher.store.count_candidates()
        nasa.clear_requests()
        clock.advance(600)
        report = run(watcher.poll_source("perseverance"))
        assert (report.requests, report.inserted, report.not_modified) == (1, 0, True)
        assert [r.param("latest") for r in nasa.requests] == ["true"]
        after = watcher.store.get_poll_state("perseverance")
        assert (after.cursor, after.marker, after.sweep) == (before.cursor, before.marker, None)
        assert after.last_success_at == clock.now and watcher.store.count_candidates() == count


def test_images_released_later_are_all_queued_once(watcher_for: Any) -> None:
    """Across pages, with an old image served again and a late image of an older sol."""
    data = SyntheticRawImages(300, per_sol=100)
    with NasaEmulator(raw_images={"mars2020": data}) as nasa:
        watcher = watcher_for([raw_source(nasa.raw_images_url)])
        run(watcher.poll_source("perseverance"))
        known = watcher.store.external_ids("perseverance")
        data.release(150)
        again = {**data.record(250), "date_received": data.record(449)["date_received"]}
        data.add(again)  # an image NASA already served, received again with the new batch
        late = data.add_late(sol=0)
        report = run(watcher.poll_source("perseverance"))
        assert report.ok and report.pages == 3  # the summary, then two pages of 100
        stored = watcher.store.external_ids("perseverance")
        assert stored == known | full_ids(data, range(300, 450)) | {late["imageid"]}
        assert report.inserted == len(stored) - len(known)
        assert watcher.store.count_candidates() == len(stored)  # none twice
        assert run(watcher.poll_source("perseverance")).requests == 1


def test_latest_answering_images_is_accepted_too(watcher_for: Any) -> None:
    data = SyntheticRawImages(250, per_sol=100)
    with NasaEmulator(raw_images={"mars2020": data}, latest_images=True) as nasa:
        watcher = watcher_for([raw_source(nasa.raw_images_url)])
        first = run(watcher.poll_source("perseverance"))
        day = received_in_the_day_before_latest(data)
        assert first.ok and watcher.store.external_ids("perseverance") == full_ids(data, day)
        assert run(watcher.poll_source("perseverance")).requests == 1
        data.release(10)
        assert run(watcher.poll_source("perseverance")).inserted == 10


def test_cursor_is_the_newest_date_received_after_a_complete_sweep(watcher_for: Any) -> None:
    data = SyntheticRawImages(120, per_sol=50)
    with NasaEmulator(raw_images={"mars2020": data}) as nasa:
        watcher = watcher_for([raw_source(nasa.raw_images_url)])
        run(watcher.poll_source("perseverance"))
        state = watcher.store.get_poll_state("perseverance")
        newest = max(str(data.record(i)["date_received"]) for i in range(100, 120))
        assert state.cursor == newest
        assert state.sweep is None and state.last_success_at is not None


def test_late_downlink_of_an_old_sol_is_found(watcher_for: Any) -> None:
    data = SyntheticRawImages(300, per_sol=100)
    with NasaEmulator(raw_images={"mars2020": data}) as nasa:
        watcher = watcher_for([raw_source(nasa.raw_images_url)])
        run(watcher.poll_source("perseverance"))
        late = data.add_late(sol=0)
        report = run(watcher.poll_source("perseverance"))
        assert report.inserted == 1
        assert str(late["imageid"]) in watcher.store.external_ids("perseverance")


def test_unchanged_feeds_second_poll_inserts_nothing_with_one_request_each(
    watcher_for: Any,
) -> None:
    with demo_emulator(release_every=0) as nasa:
        hosts = ["nasa.gov", "*.nasa.gov", nasa.base_url.split("//")[1]]
        watcher = watcher_for(
            [
                raw_source(nasa.raw_images_url),
                raw_source(nasa.raw_images_url, name="ingenuity", category="ingenuity"),
                {
                    "name": "image_library",
                    "kind": "image_library",
                    "url": nasa.image_library_url,
                    "queries": ["Mars"],
                    "interval": "1h",
                },
                {
                    "name": "nasa_rss",
                    "kind": "rss",
                    "url": nasa.rss_url(""),
                    "interval": "1h",
                    "keywords": ["Mars", "Perseverance"],
                },
            ],
            security={"image_hosts": hosts},
        )
        first = {r.source: r for r in run(watcher.poll_all())}
        assert all(r.ok and r.inserted > 0 for r in first.values()), first
        total = watcher.store.count_candidates()
        nasa.clear_requests()
        second = {r.source: r for r in run(watcher.poll_all())}
        assert {name: r.inserted for name, r in second.items()} == dict.fromkeys(first, 0)
        assert {name: r.requests for name, r in second.items()} == dict.fromkeys(first, 1)
        assert all(r.ok for r in second.values())
        assert len(nasa.requests) == 4
        assert watcher.store.count_candidates() == total


def test_conditional_get_sends_the_stored_etag_and_takes_304(watcher_for: Any) -> None:
    from watcher.demo import nasa_rss

    with NasaEmulator(rss={"": nasa_rss()}) as nasa:
        source = {"name": "news", "kind": "rss", "url": nasa.rss_url(), "interval": "1h"}
        watcher = watcher_for([source])
        assert run(watcher.poll_source("news")).inserted > 0
        etag = watcher.store.get_poll_state("news").etag
        assert etag
        report = run(watcher.poll_source("news"))
        assert report.not_modified and report.requests == 1
        assert nasa.requests[-1].header("If-None-Match") == etag


def test_raw_images_never_send_validators(watcher_for: Any) -> None:
    with NasaEmulator(raw_images={"mars2020": SyntheticRawImages(40)}) as nasa:
        watcher = watcher_for([raw_source(nasa.raw_images_url)])
        run(watcher.poll_source("perseverance"))
        run(watcher.poll_source("perseverance"))
        assert all(r.header("If-None-Match") is None for r in nasa.requests)
        assert all(r.header("If-Modified-Since") is None for r in nasa.requests)


def test_long_sweep_continues_next_poll_and_resumes_after_a_failure(watcher_for: Any) -> None:
    data = SyntheticRawImages(10, per_sol=1000)
    with NasaEmulator(raw_images={"mars2020": data}) as nasa:
        watcher = watcher_for([raw_source(nasa.raw_images_url, max_pages=3)])
        run(watcher.poll_source("perseverance"))
        cursor = watcher.store.get_poll_state("perseverance").cursor
        data.release(450)  # 451 records >= cursor: five pages
        first = run(watcher.poll_source("perseverance"))
        # The summary, then pages 0 and 1; within a sol NASA lists in arrival order, so
        # page 0 starts with the record at the cursor.
        assert (first.pages, first.inserted) == (3, 199)
        state = watcher.store.get_poll_state("perseverance")
        assert state.cursor == cursor  # unchanged until the sweep completes
        assert state.sweep is not None and state.sweep["marker"] > cursor
        assert state.marker == cursor  # NASA's latest of the last complete sweep

        nasa.inject(Fault.error_page(500), path_prefix="/rss/api/")
        failed = run(watcher.poll_source("perseverance", force=True))
        assert failed.error is not None and "500" in failed.error
        assert nasa.requests[-1].param("page") == "2"

        nasa.clear_requests()
        resumed = run(watcher.poll_source("perseverance", force=True))
        assert [r.param("page") for r in nasa.requests] == ["2", "3", "4"]
        assert resumed.inserted == 251
        final = watcher.store.get_poll_state("perseverance")
        assert final.sweep is None and final.cursor is not None and final.cursor > cursor
        assert final.marker == final.cursor == data.record(459)["date_received"]
        assert watcher.store.external_ids("perseverance") == full_ids(data, range(460))
        nasa.clear_requests()
        assert run(watcher.poll_source("perseverance")).requests == 1


FAULTS = [
    (Fault.error_page(500), "HTTPStatusError"),
    (Fault.unavailable(), "HTTPStatusError"),
    (Fault.html_page(), "ParseError"),
    (Fault.truncated(), "ParseError"),
    (Fault.respond(200, b""), "ParseError"),
    (Fault.delay(1.5), "FetchTimeout"),
    (Fault.oversized(2_000_000), "ResponseTooLarge"),
    (Fault.oversized(2_000_000, content_length=False), "ResponseTooLarge"),
    (Fault.gzip_bomb(5_000_000), "ResponseTooLarge"),
    (Fault.redirect_loop(), "TooManyRedirects"),
    (Fault.drop(), "FetchConnectError"),
    (Fault.disconnect(), "Fetch"),
]


@pytest.mark.parametrize(
    ("fault", "error"), FAULTS, ids=[f[0].kind.value + str(i) for i, f in enumerate(FAULTS)]
)
def test_upstream_fault_is_recorded_backed_off_and_recovered(
    watcher_for: Any, clock: Clock, fault: Fault, error: str
) -> None:
    data = SyntheticRawImages(30, per_sol=100)
    with NasaEmulator(raw_images={"mars2020": data}) as nasa:
        watcher = watcher_for(
            [raw_source(nasa.raw_images_url)],
            fetch={"read_timeout": "500ms", "max_body_bytes": 1_000_000},
        )
        nasa.inject(fault, path_prefix="/rss/api/")
        report = run(watcher.poll_source("perseverance"))
        assert report.error is not None and report.error.startswith(error), report.error
        assert watcher.store.count_candidates() == 0
        state = watcher.store.get_poll_state("perseverance")
        assert state.consecutive_failures == 1 and state.last_error == report.error
        assert [h.health for h in watcher.sources_health()] == [Health.FAILING]

        before = len(nasa.requests)
        deferred = run(watcher.poll_source("perseverance"))
        assert deferred.requests == 0 and deferred.deferred_until == state.next_poll_at
        assert len(nasa.requests) == before

        clock.advance(3600)
        recovered = run(watcher.poll_source("perseverance"))
        assert recovered.ok and recovered.inserted == 30
        assert watcher.store.get_poll_state("perseverance").consecutive_failures == 0


def test_retry_after_longer_than_the_backoff_is_honoured(watcher_for: Any, clock: Clock) -> None:
    with NasaEmulator(raw_images={"mars2020": SyntheticRawImages(5)}) as nasa:
        watcher = watcher_for([raw_source(nasa.raw_images_url)])
        nasa.inject(Fault.rate_limited(7200), path_prefix="/rss/api/")
        report = run(watcher.poll_source("perseverance"))
        assert report.error is not None and "429" in report.error
        state = watcher.store.get_poll_state("perseverance")
        assert state.next_poll_at is not None
        assert (state.next_poll_at - clock.now).total_seconds() == 7200
        clock.advance(7199)
        assert run(watcher.poll_source("perseverance")).requests == 0
        clock.advance(1)
        assert run(watcher.poll_source("perseverance")).inserted == 5


def test_backoff_survives_a_restart(watcher_for: Any, tmp_path: Any) -> None:
    with NasaEmulator(raw_images={"mars2020": SyntheticRawImages(5)}) as nasa:
        source = [raw_source(nasa.raw_images_url)]
        nasa.inject(Fault.unavailable(retry_after=600), path_prefix="/rss/api/")
        run(watcher_for(source).poll_source("perseverance"))
        restarted = watcher_for(source)  # a new process on the same database
        report = run(restarted.poll_source("perseverance"))
        assert report.requests == 0 and report.deferred_until is not None


def page_body(records: list[Any], *, per_page: str = "100", error: str | None = None) -> bytes:
    envelope: dict[str, Any] = {
        "images": records,
        "per_page": per_page,
        "page": 0,
        "total_results": len(records),
        "type": "mars2020-images-list-1.1",
    }
    if error:
        envelope["error_message"] = error
    return orjson.dumps(envelope)


def test_bad_records_and_thumbnails_are_skipped_never_the_page(watcher_for: Any) -> None:
    good = SyntheticRawImages(3).record(0)
    thumb = {**SyntheticRawImages(3).record(1), "sample_type": "Thumbnail"}
    broken: list[Any] = [None, [1, 2], {"imageid": None}, {"imageid": "X", "image_files": "nope"}]
    with NasaEmulator(raw_images={"mars2020": RecordedRawImages([])}) as nasa:
        watcher = watcher_for([raw_source(nasa.raw_images_url)])
        nasa.inject(
            Fault.respond(200, page_body([good, thumb, *broken]), content_type="application/json"),
            path_prefix="/rss/api/",
        )
        report = run(watcher.poll_source("perseverance"))
        assert report.ok and report.inserted == 1
        assert report.skipped == 5
        assert watcher.store.external_ids("perseverance") == {good["imageid"]}


def test_same_image_on_two_pages_is_one_candidate(watcher_for: Any) -> None:
    records = [SyntheticRawImages(200).record(i) for i in range(100)]
    with NasaEmulator(raw_images={"mars2020": RecordedRawImages([])}) as nasa:
        watcher = watcher_for([raw_source(nasa.raw_images_url)])
        json_type = "application/json"
        nasa.inject(
            Fault.respond(200, page_body(records), content_type=json_type), path_prefix="/rss/api/"
        )
        nasa.inject(
            Fault.respond(200, page_body([records[-1], records[0]]), content_type=json_type),
            path_prefix="/rss/api/",
        )
        report = run(watcher.poll_source("perseverance"))
        assert report.ok and report.pages == 2 and report.seen == 102
        assert report.inserted == 100
        assert watcher.store.count_candidates() == 100


def test_empty_page_with_error_message_ends_the_sweep(watcher_for: Any) -> None:
    with NasaEmulator(raw_images={"mars2020": RecordedRawImages([])}) as nasa:
        watcher = watcher_for([raw_source(nasa.raw_images_url)])
        report = run(watcher.poll_source("perseverance"))
        assert report.ok and report.requests == 1 and report.inserted == 0
        last = nasa.requests[-1]
        assert last.path == "/rss/api/"
        state = watcher.store.get_poll_state("perseverance")
        assert state.sweep is None and state.consecutive_failures == 0


def test_every_request_identifies_watcher_and_never_repeats_a_key(watcher_for: Any) -> None:
    data = SyntheticRawImages(250, per_sol=100)
    with NasaEmulator(raw_images={"mars2020": data}) as nasa:
        watcher = watcher_for([raw_source(nasa.raw_images_url)])
        run(watcher.poll_source("perseverance"))
        data.release(200)
        run(watcher.poll_source("perseverance"))
        assert len(nasa.requests) >= 3
        for request in nasa.requests:
            agent = request.header("User-Agent") or ""
            assert agent.startswith("watcher/") and "https://" in agent
            keys = [key for key, _ in request.query]
            assert len(keys) == len(set(keys))
            if request.param("latest") is None:
                assert request.param("extended") == "sample_type::full"


def test_second_replica_skips_a_source_another_is_polling(watcher_for: Any, clock: Clock) -> None:
    with NasaEmulator(raw_images={"mars2020": SyntheticRawImages(5)}) as nasa:
        source = [raw_source(nasa.raw_images_url)]
        first, second = watcher_for(source), watcher_for(source)
        assert first.store.take_lease(
            "poll:perseverance", first.owner, clock.now, clock.now.replace(hour=13)
        )
        busy = run(second.poll_source("perseverance"))
        assert busy.busy and busy.requests == 0
        assert run(first.poll_source("perseverance")).inserted == 5
        assert run(second.poll_source("perseverance")).busy is False


def test_watcher_queue_json_shape(watcher_for: Any) -> None:
    from watcher.views import CandidateOut

    with NasaEmulator(raw_images={"mars2020": SyntheticRawImages(3)}) as nasa:
        watcher = watcher_for([raw_source(nasa.raw_images_url)])
        run(watcher.poll_source("perseverance"))
        rows = [CandidateOut.of(c).model_dump(mode="json") for c in watcher.list_candidates()]
        assert len(rows) == 3
        assert set(rows[0]) >= QUEUE_FIELDS
        assert rows[0]["status"] == "new" and rows[0]["mission"] == "perseverance"
        assert rows[0]["taken_at"].endswith("Z")
        json.dumps(rows)


def test_polling_end_to_end_on_sqlite_and_postgresql(watcher_for: Any, database_url: str) -> None:
    data = SyntheticRawImages(250, per_sol=100, thumbnails_every=6)
    with NasaEmulator(raw_images={"mars2020": data}) as nasa:
        watcher = watcher_for([raw_source(nasa.raw_images_url)], database_url=database_url)
        run(watcher.poll_source("perseverance"))
        day = received_in_the_day_before_latest(data)
        data.release(150)
        data.add_late(sol=0)
        report = run(watcher.poll_source("perseverance"))
        assert report.ok
        expected = full_ids(data, range(day.start, 400)) | {
            c.external_id for c in watcher.list_candidates(limit=None) if c.sol == 0
        }
        assert watcher.store.external_ids("perseverance") == expected
        assert len([c for c in watcher.list_candidates(limit=None) if c.sol == 0]) == 1
        again = run(watcher.poll_source("perseverance"))
        assert again.inserted == 0 and again.requests == 1


def items_of_the_capture() -> list[dict[str, Any]]:
    from watcher.demo import PACKAGED_FEEDS, feed_bytes

    items: list[dict[str, Any]] = json.loads(feed_bytes(PACKAGED_FEEDS[1]))["collection"]["items"]
    return items


def library_source(url: str, *queries: str, **extra: Any) -> dict[str, Any]:
    return {"name": "images", "kind": "image_library", "url": url, "queries": list(queries),
            "interval": "1h", **extra}  # fmt: skip


def test_image_library_walks_every_query_and_reads_each_new_items_manifest_once(
    watcher_for: Any,
) -> None:
    from watcher.demo import recorded_image_library

    with NasaEmulator(image_library=recorded_image_library()) as nasa:
        watcher = watcher_for([library_source(nasa.image_library_url, "Mars", "MarCO")])
        first = run(watcher.poll_source("images"))
        searches = [r for r in nasa.requests if r.path == "/search"]
        manifests = [r for r in nasa.requests if r.path.startswith("/assets/")]
        assert [r.param("q") for r in searches] == ["Mars", "MarCO"]
        assert first.ok and first.inserted == 97 == len(manifests)  # MarCO's are Mars's too
        assert first.requests == 2 + 97
        c = watcher.get_candidate(watcher.list_candidates(limit=1)[0].id)
        assert c.full_url and c.full_url.endswith("~orig.jpg") and c.large_url
        nasa.clear_requests()
        for _ in range(2):  # nothing new: every query again, no manifest
            report = run(watcher.poll_source("images"))
            assert (report.requests, report.inserted) == (2, 0)
        assert [r.param("q") for r in nasa.requests] == ["Mars", "MarCO"] * 2


def test_a_new_item_deep_in_a_query_is_found_whatever_the_first_pages_held(
    watcher_for: Any,
) -> None:
    from watcher.demo import recorded_image_library

    library = recorded_image_library()
    with NasaEmulator(image_library=library) as nasa:
        source = library_source(nasa.image_library_url, "Mars", "Rover", page_size=1)
        watcher = watcher_for([source])
        run(watcher.poll_source("images"))
        cursor = watcher.store.get_poll_state("images").cursor
        assert cursor is not None
        made = f"{int(cursor[:4]) - 1}-06-01T00:00:00Z"  # a year before the newest seen
        old = items_of_the_capture()[5]
        new = {**old, "data": [{**old["data"][0], "nasa_id": "PIA99999", "date_created": made}]}
        library.add(new)  # last in relevance order, made a while ago, published today
        nasa.clear_requests()
        report = run(watcher.poll_source("images"))
        assert report.inserted == 1 and "PIA99999" in watcher.store.external_ids("images")
        pages = [(r.param("q"), r.param("page")) for r in nasa.requests if r.path == "/search"]
        assert pages[0] == ("Mars", "1") and pages[-1][0] == "Rover"
        assert ("Mars", "3") in pages  # the pages before it held nothing new


def test_a_manifest_that_is_gone_keeps_the_preview_and_one_that_fails_fails_the_poll(
    watcher_for: Any, clock: Clock
) -> None:
    from watcher.demo import ImageLibraryDataset

    items = [i for i in items_of_the_capture() if i["data"][0]["media_type"] == "image"]
    with NasaEmulator(image_library=ImageLibraryDataset(items[:2])) as nasa:
        watcher = watcher_for([library_source(nasa.image_library_url, "Mars")])
        nasa.inject(Fault.unavailable(), path_prefix="/assets/")
        failed = run(watcher.poll_source("images"))
        assert failed.error is not None and "503" in failed.error
        assert watcher.store.count_candidates() == 0  # nothing stored without its files
        clock.advance(3600)
        nasa.inject(Fault.respond(404, b"NoSuchKey"), path_prefix="/assets/")
        report = run(watcher.poll_source("images"))
        assert report.ok and report.inserted == 2
        gone, found = sorted(watcher.list_candidates(), key=lambda c: c.full_url or "")
        assert gone.full_url is None and gone.thumbnail_url  # the preview stays
        assert found.full_url and found.full_url.endswith("~orig.jpg")


def test_tiles_of_a_frame_split_across_pages_are_one_candidate(watcher_for: Any) -> None:
    from watcher.demo import recorded_perseverance

    with NasaEmulator(raw_images={"mars2020": recorded_perseverance()}) as nasa:
        watcher = watcher_for([raw_source(nasa.raw_images_url, page_size=2)])
        report = run(watcher.poll_source("perseverance"))
        assert report.ok and report.pages == 3  # the summary, then tiles 1-2 and tile 3
        [frame] = watcher.list_candidates()
        assert frame.external_id == "NRF_1965_0841393386_816ECM_N0910806NCAM03965_01_095J"
        assert [t.imageid[-7:] for t in frame.tiles] == ["01_095J", "02_095J", "03_095J"]
        assert [t.left for t in frame.tiles] == [1, 1273, 2553]
