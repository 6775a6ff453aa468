"""RawImagesAdapter against the real Perseverance capture and edge cases built from it."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from watcher.config import SourceConfig
from watcher.exceptions import ConfigError, ParseError
from watcher.polling.sources import ADAPTERS, make_adapter
from watcher.polling.sources.common import parse_timestamp, to_int
from watcher.polling.sources.image_library import ImageLibraryAdapter
from watcher.polling.sources.raw_images import RawImagesAdapter
from watcher.polling.sources.rss import RssAdapter
from watcher.types import PageRequest, PollState, cursor_time

NASA_HOSTS = ("nasa.gov", "*.nasa.gov")
CAPTURE = "m2020_raw_images_sol1965_navcam_right_p0.json"
IMAGE_IDS = [
    "NRF_1965_0841393386_816ECM_N0910806NCAM03965_01_095J",
    "NRF_1965_0841393386_816ECM_N0910806NCAM03965_02_095J",
    "NRF_1965_0841393386_816ECM_N0910806NCAM03965_03_095J",
]
BASE = "https://mars.nasa.gov/mars2020-raw-images/pub/ods/surface/sol/01965/ids/edr/browse/ncam/"


def config(**changes: Any) -> SourceConfig:
    values: dict[str, Any] = {
        "name": "perseverance",
        "kind": "raw_images",
        "url": "https://mars.nasa.gov/rss/api/",
        "interval": 600.0,
        "jitter": 0.0,
        "category": "mars2020",
    }
    values.update(changes)
    return SourceConfig(**values)


def adapter(hosts: tuple[str, ...] = NASA_HOSTS, **changes: Any) -> RawImagesAdapter:
    return RawImagesAdapter(config(**changes), hosts)


def first(
    a: RawImagesAdapter | None = None, cursor: str | None = None, marker: str | None = None
) -> PageRequest:
    """The request every poll starts with (``latest=true``)."""
    state = PollState(source="perseverance", cursor=cursor, marker=marker)
    return (a or adapter()).first_request(state)


def listing(a: RawImagesAdapter | None = None, since: str = "2026-08-30T00:00:00Z") -> PageRequest:
    """Page 0 of a listing of what arrived since ``since``."""
    return (a or adapter()).listing_request(since)


def record(**changes: Any) -> dict[str, Any]:
    """A full-frame record in the real schema (trimmed), with ``changes`` applied."""
    base: dict[str, Any] = {
        "imageid": "NRF_1965_X",
        "sol": 1965,
        "sample_type": "Full",
        "camera": {"instrument": "NAVCAM_RIGHT", "filter_name": "UNK"},
        "title": "Mars Perseverance Sol 1965: Right Navigation Camera (Navcam)",
        "caption": "NASA's Mars Perseverance rover acquired this image.",
        "credit": "NASA/JPL-Caltech",
        "date_taken_utc": "2026-08-30T20:47:41.638",
        "date_taken_mars": "Sol-01965M15:28:38.766",
        "date_received": "2026-08-31T02:02:58Z",
        "link": "https://mars.nasa.gov/mars2020/multimedia/raw-images/NRF_1965_X",
        "extended": {"dimension": "(1288,968)"},
        "image_files": {
            "small": BASE + "X_320.jpg",
            "medium": BASE + "X_800.jpg",
            "large": BASE + "X_1200.jpg",
            "full_res": BASE + "X.png",
        },
    }
    base.update(changes)
    return base


def body(images: Any, **envelope: Any) -> bytes:
    return orjson.dumps({"images": images, **envelope})


# --- the real capture ---------------------------------------------------------------


@pytest.fixture
def capture(nasa_fixtures: Path) -> bytes:
    return (nasa_fixtures / CAPTURE).read_bytes()


def test_real_capture_three_tiles_of_one_frame_are_one_candidate(capture: bytes) -> None:
    page = adapter().parse_page(capture, listing())
    assert [c.external_id for c in page.candidates] == IMAGE_IDS[:1]
    assert page.skipped == 0
    assert page.problems == ()
    tiles = page.candidates[0].tiles
    assert [t.imageid for t in tiles] == IMAGE_IDS
    assert [(t.left, t.top, t.width, t.height) for t in tiles] == [
        (1, 1, 1288, 968),
        (1273, 1, 1296, 968),
        (2553, 1, 1296, 968),
    ]
    assert tiles[1].full_url == BASE + "NRF_1965_0841393386_816ECM_N0910806NCAM03965_02_095J01.png"


def test_real_capture_first_record_is_fully_normalised(capture: bytes) -> None:
    c = adapter().parse_page(capture, listing()).candidates[0]
    assert c.source == "perseverance"
    assert c.mission == "perseverance"
    assert c.credit == "NASA/JPL-Caltech"
    assert c.camera == "NAVCAM_RIGHT"
    assert c.sol == 1965
    assert c.taken_at == datetime(2026, 8, 30, 20, 47, 41, 638000, tzinfo=UTC)
    assert c.taken_at is not None and c.taken_at.utcoffset() is not None
    assert c.received_at == datetime(2026, 8, 31, 2, 2, 58, tzinfo=UTC)
    assert c.mars_local_time == "15:28:38"
    assert (c.width, c.height) == (1288, 968)
    assert c.title == "Mars Perseverance Sol 1965: Right Navigation Camera (Navcam)"
    assert c.caption.startswith("NASA's Mars Perseverance rover acquired this image")
    assert c.caption.endswith("15:28:38.")
    assert (
        c.thumbnail_url == BASE + "NRF_1965_0841393386_816ECM_N0910806NCAM03965_01_095J01_320.jpg"
    )
    assert c.medium_url is not None and c.medium_url.endswith("_01_095J01_800.jpg")
    assert c.large_url is not None and c.large_url.endswith("_01_095J01_1200.jpg")
    assert c.full_url == BASE + "NRF_1965_0841393386_816ECM_N0910806NCAM03965_01_095J01.png"
    assert c.image_url == c.full_url
    assert c.page_url == (
        "https://mars.nasa.gov/mars2020/multimedia/raw-images/"
        "NRF_1965_0841393386_816ECM_N0910806NCAM03965_01_095J"
    )


def test_a_tiled_frame_shows_its_first_tile_at_that_tiles_size(capture: bytes) -> None:
    c = adapter().parse_page(capture, listing()).candidates[0]
    assert (c.width, c.height) == (1288, 968)  # what its own files show
    assert c.raw["imageid"] == IMAGE_IDS[0]


def test_a_tile_found_alone_is_named_after_its_frame(capture: bytes) -> None:
    records = orjson.loads(capture)["images"]
    alone = adapter().parse_page(body(records[1:2]), listing()).candidates
    assert [(c.external_id, [t.imageid for t in c.tiles]) for c in alone] == [
        (IMAGE_IDS[0], [IMAGE_IDS[1]])
    ]
    first_alone = adapter().parse_page(body(records[:1]), listing()).candidates
    assert [(c.external_id, c.tiles) for c in first_alone] == [(IMAGE_IDS[0], ())]


def test_records_with_tile_numbers_but_whole_frames_stay_apart() -> None:
    whole = {"subframeRect": "(1,1,1288,968)", "dimension": "(1288,968)"}
    odd = {"subframeRect": "garbage"}
    page = parse([record(imageid="NLF_1_X_01_1J", extended=whole),
                  record(imageid="NLF_1_X_02_1J", extended=whole),
                  record(imageid="NLF_1_Y_01_1J", extended=odd)])  # fmt: skip
    assert [c.external_id for c in page.candidates] == [
        "NLF_1_X_01_1J", "NLF_1_X_02_1J", "NLF_1_Y_01_1J"]  # fmt: skip
    assert all(c.tiles == () for c in page.candidates)


def test_raw_is_the_record_as_received_with_every_key(capture: bytes) -> None:
    received = orjson.loads(capture)["images"][0]
    c = adapter().parse_page(capture, listing()).candidates[0]
    assert c.raw == received
    assert c.raw["attitude"] == "(0.616904,-0.0945242,0.0479905,-0.779867)"
    assert c.raw["drive"] == "806"
    assert orjson.loads(orjson.dumps(c.raw)) == received


def test_real_capture_high_water_and_total(capture: bytes) -> None:
    page = adapter().parse_page(capture, listing())
    assert page.high_water == "2026-08-31T02:02:58Z"
    assert page.total == 563603


def test_full_page_of_the_requested_size_asks_for_the_next_page(capture: bytes) -> None:
    request = listing(adapter(page_size=3))
    page = adapter(page_size=3).parse_page(capture, request)
    assert page.next is not None
    assert dict(page.next.params)["page"] == "1"
    assert page.next.conditional is False
    assert [k for k, _ in page.next.params] == [k for k, _ in request.params]
    assert {k: v for k, v in page.next.params if k != "page"} == {
        k: v for k, v in request.params if k != "page"
    }


def test_fewer_records_than_requested_ends_the_sweep(capture: bytes) -> None:
    page = adapter(page_size=100).parse_page(capture, listing(adapter(page_size=100)))
    assert len(page.candidates[0].tiles) == 3
    assert page.next is None


def test_ingenuity_mock_parses_when_its_host_is_allowed(nasa_fixtures: Path) -> None:
    data = (nasa_fixtures / "mock_ingenuity_raw_images_fragment.json").read_bytes()
    ingenuity = adapter((*NASA_HOSTS, "example.test"), name="ingenuity", category="ingenuity")
    page = ingenuity.parse_page(data, listing(ingenuity))
    assert len(page.candidates) == 1
    c = page.candidates[0]
    assert c.mission == "ingenuity"
    assert c.camera == "HELI_NAV"
    assert c.sol == 852
    assert c.taken_at == datetime(2023, 5, 1, tzinfo=UTC)
    assert c.full_url == "https://example.test/852.png"
    assert c.credit == "NASA/JPL-Caltech"  # the mock has no credit: the table's
    assert c.received_at is None and page.high_water is None


def test_ingenuity_mock_is_skipped_when_its_host_is_not_allowed(nasa_fixtures: Path) -> None:
    data = (nasa_fixtures / "mock_ingenuity_raw_images_fragment.json").read_bytes()
    ingenuity = adapter(category="ingenuity")
    page = ingenuity.parse_page(data, listing(ingenuity))
    assert page.candidates == ()
    assert page.skipped == 1
    assert "no usable image URL" in page.problems[0]


# --- requests -----------------------------------------------------------------------

COMMON = (
    ("feed", "raw_images"),
    ("category", "mars2020"),
    ("feedtype", "json"),
    ("num", "100"),
    ("page", "0"),
)


SUMMARY = b'{"latest":"2025-10-07T14:26:56Z","new_count":1032,"sol_count":164,"latest_sols":[1646,1645],"total":887260,"type":"mars2020-latest-images-1.1","latest_sol":1646}'  # noqa: E501


def listing_params(since: str) -> tuple[tuple[str, str], ...]:
    return (
        *COMMON,
        ("order", "sol desc"),
        ("condition_1", "mars2020:mission"),
        ("condition_2", f"{since}:date_received:gte"),
        ("extended", "sample_type::full"),
    )


def test_every_poll_starts_with_latest_true_and_no_listing_keys() -> None:
    request = first(cursor="2025-10-06T00:00:00Z", marker="2025-10-06T01:00:00Z")
    assert request.url == "https://mars.nasa.gov/rss/api/"
    assert request.params == (
        ("feed", "raw_images"),
        ("category", "mars2020"),
        ("feedtype", "json"),
        ("latest", "true"),
    )
    assert request.conditional is False  # NASA sends no validators
    assert request.context["cursor"] == "2025-10-06T00:00:00Z"
    assert request.context["marker"] == "2025-10-06T01:00:00Z"


def test_the_reported_summary_parses(nasa_fixtures: Path) -> None:
    data = (nasa_fixtures / "m2020_latest_true_reported.json").read_bytes()
    page = adapter().parse_page(data, first())
    assert page.marker == "2025-10-07T14:26:56Z" and page.total == 887260
    assert page.candidates == () and not page.unchanged


def test_an_unchanged_latest_ends_the_poll_with_nothing_to_store() -> None:
    page = adapter().parse_page(SUMMARY, first(cursor="2025-10-07T14:20:00Z",
                                               marker="2025-10-07T14:26:56Z"))  # fmt: skip
    assert page.unchanged and page.next is None and page.candidates == ()


def test_a_changed_latest_lists_everything_received_since_the_cursor() -> None:
    page = adapter().parse_page(SUMMARY, first(cursor="2025-10-06T22:00:00Z",
                                               marker="2025-10-06T22:00:00Z"))  # fmt: skip
    assert not page.unchanged and page.marker == "2025-10-07T14:26:56Z"
    assert page.next is not None
    assert page.next.params == listing_params("2025-10-06T22:00:00Z")
    assert page.next.conditional is False and page.next.context == {"page": 0}


def test_a_source_never_polled_lists_the_24_hours_before_latest() -> None:
    page = adapter().parse_page(SUMMARY, first())
    assert page.next is not None
    assert page.next.params == listing_params("2025-10-06T14:26:56Z")
    assert page.high_water == "2025-10-06T14:26:56Z"  # the cursor starts where the sweep does


def test_an_images_list_for_latest_true_is_used_too() -> None:
    answer = body([record(imageid="a", date_received="2026-08-31T02:00:00Z"),
                   record(imageid="b", date_received="2026-08-31T02:02:58Z")])  # fmt: skip
    page = adapter().parse_page(answer, first(cursor="2026-08-30T00:00:00Z"))
    assert [c.external_id for c in page.candidates] == ["a", "b"]
    assert page.marker == "2026-08-31T02:02:58Z"  # the newest date_received stands in
    assert page.next is not None
    assert page.next.params == listing_params("2026-08-30T00:00:00Z")
    again = adapter().parse_page(answer, first(marker="2026-08-31T02:02:58Z"))
    assert again.unchanged and again.candidates == ()


@pytest.mark.parametrize("answer", [b'{"error_message": "No images."}', b'{"images": []}'])
def test_a_category_without_images_has_nothing_to_list(answer: bytes) -> None:
    page = adapter().parse_page(answer, first())
    assert page.candidates == () and page.next is None and not page.unchanged


@pytest.mark.parametrize(
    "answer", [b'{"total": 5}', b'{"latest": "soon", "latest_sols": [1]}', b'{"latest": 5}']
)
def test_a_latest_answer_without_latest_or_images_is_a_parse_error(answer: bytes) -> None:
    with pytest.raises(ParseError, match="neither 'latest' nor 'images'"):
        adapter().parse_page(answer, first())


@pytest.mark.parametrize(
    ("from_sol", "to_sol", "conditions"),
    [
        (None, None, ()),
        (100, None, (("condition_2", "100:sol:gte"),)),
        (None, 200, (("condition_3", "200:sol:lte"),)),
        (100, 200, (("condition_2", "100:sol:gte"), ("condition_3", "200:sol:lte"))),
    ],
)
def test_backfill_walks_sols_upwards(
    from_sol: int | None, to_sol: int | None, conditions: tuple[tuple[str, str], ...]
) -> None:
    request = adapter().backfill_request(from_sol, to_sol)
    assert request.params == (
        *COMMON,
        ("order", "sol asc"),
        ("condition_1", "mars2020:mission"),
        *conditions,
        ("extended", "sample_type::full"),
    )
    assert request.conditional is False


def test_no_request_ever_repeats_a_query_key() -> None:
    a = adapter(page_size=2)
    full_page = body([record(imageid="a"), record(imageid="b")])
    summary = a.parse_page(SUMMARY, first(a)).next
    assert summary is not None
    requests = [first(a), summary, listing(a), a.backfill_request(1965, 1966)]
    for request in list(requests[1:]):
        for _ in range(3):
            following = a.parse_page(full_page, request).next
            assert following is not None
            requests.append(following)
            request = following
    for request in requests:
        keys = [key for key, _ in request.params]
        assert len(keys) == len(set(keys)), keys


def test_a_stored_request_resumes_on_the_following_page() -> None:
    a = adapter(page_size=2)
    stored = PageRequest.from_json(
        orjson.loads(orjson.dumps(a.backfill_request(5, None).to_json()))
    )
    page = a.parse_page(body([record(imageid="a"), record(imageid="b")]), stored)
    assert page.next is not None
    assert dict(page.next.params)["page"] == "1"
    again = a.parse_page(body([record(imageid="c"), record(imageid="d")]), page.next)
    assert again.next is not None and dict(again.next.params)["page"] == "2"
    assert dict(again.next.params)["condition_2"] == "5:sol:gte"


def test_mission_follows_the_category_unless_configured() -> None:
    assert adapter(category="ingenuity").mission == "ingenuity"
    assert adapter(category="mars2020").mission == "perseverance"
    assert adapter(mission="m2020-test").mission == "m2020-test"


def test_raw_images_without_a_category_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="category"):
        adapter(category=None)


def test_registry_builds_each_kind_and_refuses_unknown_ones() -> None:
    expected = {
        "raw_images": RawImagesAdapter,
        "image_library": ImageLibraryAdapter,
        "rss": RssAdapter,
    }
    assert expected == ADAPTERS
    assert isinstance(make_adapter(config(), NASA_HOSTS), RawImagesAdapter)
    with pytest.raises(ConfigError, match="unknown source kind 'atom'"):
        make_adapter(config(kind="atom"), NASA_HOSTS)


# --- records ------------------------------------------------------------------------


def parse(images: Any, request: PageRequest | None = None, **envelope: Any) -> Any:
    return adapter().parse_page(body(images, **envelope), request or listing())


def test_thumbnail_records_are_skipped() -> None:
    page = parse(
        [
            record(imageid="full"),
            record(imageid="thumb", sample_type="Thumbnail"),
            record(imageid="lower", sample_type="thumbnail"),
            record(imageid="upper", sample_type="FULL"),
            record(imageid="old", sample_type=None),
        ]
    )
    assert [c.external_id for c in page.candidates] == ["full", "upper", "old"]
    assert page.skipped == 2
    assert "Thumbnail" in page.problems[0]


def test_records_without_sample_type_are_kept() -> None:
    old = record(imageid="old")
    del old["sample_type"]
    assert [c.external_id for c in parse([old]).candidates] == ["old"]


def test_numbers_sent_as_strings_are_tolerated() -> None:
    page = parse(
        [record(sol="1965", drive="806", imageid=12345)], per_page="100", total_results="563603"
    )
    c = page.candidates[0]
    assert c.sol == 1965
    assert c.external_id == "12345"
    assert page.total == 563603


def test_records_that_are_not_objects_are_skipped_and_counted() -> None:
    page = parse([None, ["imageid", "x"], "NRF_1", 7, record(imageid="ok")])
    assert [c.external_id for c in page.candidates] == ["ok"]
    assert page.skipped == 4
    assert page.problems[0] == "record 0: not an object (NoneType)"
    assert page.problems[1] == "record 1: not an object (list)"


@pytest.mark.parametrize("imageid", [None, "", "   ", {"id": 1}, True, ["a"]])
def test_records_without_a_usable_imageid_are_skipped(imageid: Any) -> None:
    page = parse([record(imageid=imageid)])
    assert page.candidates == ()
    assert page.skipped == 1


def test_imageid_is_trimmed() -> None:
    assert parse([record(imageid="  NRF_1 \n")]).candidates[0].external_id == "NRF_1"


def test_missing_fields_give_empty_values_not_guesses() -> None:
    minimal = {"imageid": "X", "image_files": {"full_res": BASE + "X.png"}}
    c = parse([minimal]).candidates[0]
    assert (c.title, c.caption) == ("", "")
    assert c.credit == "NASA/JPL-Caltech"
    assert c.camera is None
    assert c.sol is None
    assert c.taken_at is None and c.received_at is None
    assert c.mars_local_time is None and c.page_url is None
    assert (c.width, c.height) == (None, None)
    assert c.full_url == BASE + "X.png"
    assert c.thumbnail_url is None


def test_a_record_without_a_credit_gets_the_tables_credit() -> None:
    assert parse([record(credit="  ")]).candidates[0].credit == "NASA/JPL-Caltech"
    assert parse([record(credit=None)]).candidates[0].credit == "NASA/JPL-Caltech"
    assert parse([record(credit="NASA/JPL-Caltech/ASU")]).candidates[0].credit == (
        "NASA/JPL-Caltech/ASU"
    )


def test_records_of_sols_not_asked_for_are_skipped_and_counted() -> None:
    backfill = adapter().backfill_request(1965, 1966)
    page = parse([record(imageid="in"), record(imageid="before", sol=1900),
                  record(imageid="nosol", sol=None)], backfill)  # fmt: skip
    assert [c.external_id for c in page.candidates] == ["in"]
    assert page.skipped == 2 and "not a sol asked for" in page.problems[0]


def test_a_page_of_other_sols_only_ends_the_sweep() -> None:
    a = adapter(page_size=2)
    whole_sol = PageRequest(a.config.url, (*COMMON[:3], ("sol", "12"), ("num", "2")), False, {})
    page = a.parse_page(body([record(imageid="x", sol=1965), record(imageid="y", sol=1964)]),
                        whole_sol)  # fmt: skip
    assert page.candidates == () and page.skipped == 2 and page.next is None


def test_a_sol_set_condition_is_respected() -> None:
    request = PageRequest(
        "https://mars.nasa.gov/rss/api/", (("condition_3", "1965,1964:sol:in"),), False, {}
    )
    page = parse([record(imageid="a"), record(imageid="b", sol=1964),
                  record(imageid="c", sol=1963)], request)  # fmt: skip
    assert [c.external_id for c in page.candidates] == ["a", "b"]


def test_id_answers_are_read_from_the_image_key() -> None:
    page = adapter().parse_page(orjson.dumps({"image": [record(imageid="one")]}), listing())
    assert [c.external_id for c in page.candidates] == ["one"]


def test_camera_may_be_a_plain_string() -> None:
    assert parse([record(camera=" MCZ_LEFT ")]).candidates[0].camera == "MCZ_LEFT"
    assert parse([record(camera={"filter_name": "UNK"})]).candidates[0].camera is None


def test_unknown_keys_are_kept_in_raw() -> None:
    rec = record(new_field={"nested": [1, 2]}, attitude="(1,0,0,0)")
    c = parse([rec]).candidates[0]
    assert c.raw["new_field"] == {"nested": [1, 2]}
    assert c.raw == rec


@pytest.mark.parametrize(
    ("dimension", "expected"),
    [("(1288,968)", (1288, 968)), (" ( 5120 , 3840 ) ", (5120, 3840)), ("(0,968)", (None, None))]
    + [(bad, (None, None)) for bad in ("1288x968", "(1288)", "(a,b)", "", None, [1, 2])],
)
def test_dimension_is_read_when_parseable(dimension: Any, expected: tuple[Any, Any]) -> None:
    c = parse([record(extended={"dimension": dimension})]).candidates[0]
    assert (c.width, c.height) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [("Sol-01965M15:28:38.766", "15:28:38"), ("garbage", None), (5, None)]
)
def test_mars_local_time_is_hours_minutes_seconds(value: Any, expected: str | None) -> None:
    assert parse([record(date_taken_mars=value)]).candidates[0].mars_local_time == expected


def test_timestamps_with_offsets_are_converted_and_garbage_is_dropped() -> None:
    page = parse(
        [
            record(imageid="a", date_taken_utc="2026-08-30T22:47:41+02:00"),
            record(imageid="b", date_taken_utc="yesterday", date_received=12),
        ]
    )
    a, b = page.candidates
    assert a.taken_at == datetime(2026, 8, 30, 20, 47, 41, tzinfo=UTC)
    assert b.taken_at is None and b.received_at is None


def test_high_water_is_the_latest_received_second_in_canonical_form() -> None:
    page = parse(
        [
            record(imageid="a", date_received="2026-08-31T02:02:58.999Z"),
            record(imageid="b", date_received="2026-09-01T00:00:01+00:00"),
            record(imageid="c", date_received="2026-08-30T23:59:59"),
        ]
    )
    assert page.high_water == "2026-09-01T00:00:01Z"


def test_markup_in_a_caption_is_reduced_to_text() -> None:
    c = parse([record(caption="<p>Rover &amp; <b>rock</b></p>", title="A&#039;s")]).candidates[0]
    assert c.caption == "Rover & rock"
    assert c.title == "A's"


def test_unsafe_and_foreign_image_urls_are_dropped() -> None:
    files = {
        "small": "javascript:alert(1)",
        "medium": "https://evil.example/x_800.jpg",
        "large": "ftp://mars.nasa.gov/x.jpg",
        "full_res": BASE + "ok.png",
    }
    c = parse([record(image_files=files, link="javascript:alert(1)")]).candidates[0]
    assert (c.thumbnail_url, c.medium_url, c.large_url) == (None, None, None)
    assert c.full_url == BASE + "ok.png"
    assert c.page_url is None


def test_a_record_with_no_allowed_image_is_skipped() -> None:
    files = {"small": "javascript:alert(1)", "full_res": "https://evil.example/x.png"}
    page = parse([record(image_files=files), record(image_files="not a dict")])
    assert page.candidates == ()
    assert page.skipped == 2


def test_image_urls_with_spaces_are_encoded() -> None:
    files = {"full_res": " https://mars.nasa.gov/a b/c.png "}
    assert parse([record(image_files=files)]).candidates[0].full_url == (
        "https://mars.nasa.gov/a%20b/c.png"
    )


def test_problems_are_capped_at_five_but_all_skips_counted() -> None:
    page = parse([None] * 12)
    assert page.skipped == 12
    assert len(page.problems) == 5


# --- pages and bodies ---------------------------------------------------------------


def test_past_the_last_page_nasa_sends_an_empty_list_and_an_error_message() -> None:
    page = parse([], error_message="No more images.")
    assert page.candidates == ()
    assert page.next is None
    assert page.skipped == 0


def test_error_message_without_an_images_list_is_an_empty_final_page() -> None:
    page = adapter().parse_page(b'{"error_message": "No more images."}', listing())
    assert page.candidates == () and page.next is None


def test_error_message_ends_the_sweep_even_on_a_full_page() -> None:
    a = adapter(page_size=1)
    page = a.parse_page(body([record()], error_message="No more images."), listing(a))
    assert len(page.candidates) == 1
    assert page.next is None


def test_an_empty_images_list_ends_the_sweep() -> None:
    assert parse([]).next is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<!DOCTYPE html><html><body>Service Unavailable</body></html>", "<!DOCTYPE html>"),
        (
            b'{"images": [{"imageid": "NRF_1", "sol": 19',
            "expected JSON, got JSON cut short after 42 bytes",
        ),
        (b"", "an empty body"),
        (b"\xff\xfe\x00garbage", "expected JSON"),
        (b"[1, 2, 3]", "expected a JSON object, got list"),
        (b'"images"', "expected a JSON object, got str"),
        (b'{"images": {"0": {}}}', "no 'images' list"),
        (b'{"total_results": 5}', "no 'images' list"),
    ],
)
def test_unusable_bodies_raise_parse_error_with_a_hint(data: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message.replace("(", r"\(")):
        adapter().parse_page(data, listing())


def test_parse_error_message_shows_a_sanitised_start_of_the_body() -> None:
    with pytest.raises(ParseError) as info:
        adapter().parse_page(b"<html>\n\x00\x07 Error 503 " + b"x" * 500, listing())
    message = str(info.value)
    assert "\x00" not in message and "\n" not in message
    assert len(message) < 120


def test_parsing_does_not_change_the_record() -> None:
    rec = record()
    before = copy.deepcopy(rec)
    adapter().normalise(rec)
    assert rec == before


# --- shared helpers -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (5, 5),
        ("17", 17),
        (" 1965 ", 1965),
        ("12.0", 12),
        (3.0, 3),
        ("12.5", None),
        (True, None),
        ("1_000", None),
        ("", None),
        (None, None),
        ("nan", None),
        (2**63, None),
        ([1], None),
    ],
)
def test_to_int_accepts_numbers_and_numeric_strings_only(value: Any, expected: int | None) -> None:
    assert to_int(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-08-30T20:47:41.638", datetime(2026, 8, 30, 20, 47, 41, 638000, tzinfo=UTC)),
        ("2026-08-31T02:02:58Z", datetime(2026, 8, 31, 2, 2, 58, tzinfo=UTC)),
        ("2026-08-31T04:02:58+02:00", datetime(2026, 8, 31, 2, 2, 58, tzinfo=UTC)),
        ("Sun, 09 Feb 2020 09:46 EST", datetime(2020, 2, 9, 14, 46, tzinfo=UTC)),
        ("2026-08-31", datetime(2026, 8, 31, tzinfo=UTC)),
        ("0001-01-01T00:00:00+01:00", None),
        ("not a date", None),
        ("", None),
        (1700000000, None),
    ],
)
def test_parse_timestamp_gives_aware_utc_or_none(value: Any, expected: datetime | None) -> None:
    parsed = parse_timestamp(value)
    assert parsed == expected
    if parsed is not None:
        assert parsed.utcoffset() is not None and parsed.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


def test_canonical_form_is_fixed_width_utc_without_fractions() -> None:
    assert (
        cursor_time(datetime(2026, 8, 31, 2, 2, 58, 999999, tzinfo=UTC)) == "2026-08-31T02:02:58Z"
    )
    assert cursor_time(datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC)) == "0999-01-02T03:04:05Z"
    local = datetime.fromisoformat("2026-08-31T04:02:58+02:00")
    assert cursor_time(local) == "2026-08-31T02:02:58Z"


@pytest.mark.parametrize("kind", ["raw_images", "image_library", "rss"])
@pytest.mark.parametrize("wrong", [None, 42, "{}", ["a"]])
def test_a_body_of_the_wrong_type_is_a_parse_error(kind: str, wrong: Any) -> None:
    a = make_adapter(config(kind=kind, queries=("Perseverance",)), NASA_HOSTS)
    with pytest.raises(ParseError):
        a.parse_page(wrong, a.first_request(PollState(source="perseverance")))


def test_a_record_with_an_impossible_id_is_skipped_and_long_fields_cut() -> None:
    records = [
        {
            "imageid": "X" * 300,
            "sample_type": "Full",
            "image_files": {"full_res": "https://mars.nasa.gov/a.png"},
        },
        {
            "imageid": "OK_1",
            "sample_type": "Full",
            "camera": {"instrument": "C" * 100},
            "image_files": {"full_res": "https://mars.nasa.gov/b.png"},
        },
    ]
    page = adapter().parse_page(
        orjson.dumps({"images": records}), adapter().first_request(PollState(source="perseverance"))
    )
    assert page.skipped == 1 and "external_id longer than 255" in page.problems[0]
    [kept] = page.candidates
    assert kept.external_id == "OK_1" and kept.camera == "C" * 64
