"""ImageLibraryAdapter against the real images-api capture and edge cases built from it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from watcher.config import SourceConfig
from watcher.exceptions import ConfigError, ParseError, UsageError
from watcher.polling.sources import infer_mission
from watcher.polling.sources.image_library import ImageLibraryAdapter
from watcher.types import Page, PageRequest, PollState

NASA_HOSTS = ("nasa.gov", "*.nasa.gov")
CAPTURE = "images_api_search_q_mars_2019-01.json"
ASSETS = "https://images-assets.nasa.gov/image/"


def adapter(hosts: tuple[str, ...] = NASA_HOSTS, **changes: Any) -> ImageLibraryAdapter:
    values: dict[str, Any] = {
        "name": "image_library",
        "kind": "image_library",
        "url": "https://images-api.nasa.gov/search",
        "interval": 3600.0,
        "jitter": 0.0,
        "queries": ("Perseverance", "Ingenuity"),
        "page_size": 100,
    }
    values.update(changes)
    return ImageLibraryAdapter(SourceConfig(**values), hosts)


def first(a: ImageLibraryAdapter | None = None, cursor: str | None = None) -> PageRequest:
    return (a or adapter()).first_request(PollState(source="image_library", cursor=cursor))


def item(nasa_id: str = "PIA24264", **data: Any) -> dict[str, Any]:
    """One search result in the real shape, with ``data`` fields replaced."""
    fields: dict[str, Any] = {
        "nasa_id": nasa_id,
        "date_created": "2021-02-22T00:00:00Z",
        "title": "Perseverance's First Full-Color Look at Mars",
        "keywords": ["Mars", "Perseverance"],
        "media_type": "image",
        "description": "The first full-color image from Perseverance.",
        "center": "JPL",
        "secondary_creator": "NASA/JPL-Caltech",
    }
    fields.update(data)
    return {
        "href": f"{ASSETS}{nasa_id}/collection.json",
        "data": [fields],
        "links": [
            {"rel": "preview", "render": "image", "href": f"{ASSETS}{nasa_id}/{nasa_id}~thumb.jpg"}
        ],
    }


def body(items: Any, next_link: bool = False, total: Any = 2) -> bytes:
    links = [{"rel": "next", "prompt": "Next", "href": "https://images-api.nasa.gov/search?page=2"}]
    collection: dict[str, Any] = {
        "version": "1.0",
        "href": "https://images-api.nasa.gov/search?q=x",
        "items": items,
        "metadata": {"total_hits": total},
    }
    if next_link:
        collection["links"] = links
    return orjson.dumps({"collection": collection})


@pytest.fixture
def capture_page(nasa_fixtures: Path) -> Page:
    a = adapter(queries=("mars",))
    return a.parse_page((nasa_fixtures / CAPTURE).read_bytes(), first(a))


# --- the real capture ---------------------------------------------------------------


def test_real_capture_yields_its_97_images_and_skips_the_3_videos(capture_page: Page) -> None:
    assert len(capture_page.candidates) == 97
    assert capture_page.skipped == 3
    assert all("not an image" in problem for problem in capture_page.problems)
    assert "50 Years of Mars Exploration" not in {c.external_id for c in capture_page.candidates}


def test_real_capture_first_image(capture_page: Page) -> None:
    c = capture_page.candidates[0]
    assert c.external_id == "PIA07081"
    assert c.title == "Mars Rover Studies Soil on Mars"
    assert c.caption == "Mars Rover Studies Soil on Mars"
    assert c.credit == "NASA/JPL"
    assert c.camera is None and c.sol is None
    assert c.taken_at == datetime(2004, 11, 30, 21, 29, 24, tzinfo=UTC)
    assert c.received_at is None
    assert c.thumbnail_url == ASSETS + "PIA07081/PIA07081~thumb.jpg"
    # Nothing is guessed from the preview: the other files come from the asset manifest.
    assert (c.medium_url, c.large_url, c.full_url) == (None, None, None)
    assert c.page_url == "https://images.nasa.gov/details/PIA07081"
    assert c.raw["href"] == ASSETS + "PIA07081/collection.json"
    assert c.raw["data"][0]["center"] == "JPL"


def test_real_capture_spaces_in_ids_and_hrefs_are_handled(capture_page: Page) -> None:
    by_id = {c.external_id: c for c in capture_page.candidates}
    c = by_id["PIA22832_MarCO Image_Away from Mars, With Sunburst"]
    assert c.thumbnail_url == (
        ASSETS + "PIA22832_MarCO%20Image_Away%20from%20Mars,%20With%20Sunburst/"
        "PIA22832_MarCO%20Image_Away%20from%20Mars,%20With%20Sunburst~thumb.jpg"
    )
    assert c.page_url == (
        "https://images.nasa.gov/details/PIA22832_MarCO%20Image_Away%20from%20Mars%2C%20With%20Sunburst"
    )
    a = adapter(queries=("mars",))
    for candidate in capture_page.candidates:
        manifest = a.detail_request(candidate)
        assert manifest is not None
        for url in (candidate.thumbnail_url, candidate.page_url, manifest.url):
            assert url is not None and " " not in url
        assert candidate.external_id == candidate.external_id.strip()


def test_real_capture_credit_is_nasas_own_field(capture_page: Page) -> None:
    credits = {c.credit for c in capture_page.candidates}
    assert "NASA/JPL/Malin Space Science Systems" in credits
    without = [c for c in capture_page.candidates if "secondary_creator" not in c.raw["data"][0]]
    assert without and {c.credit for c in without} == {"NASA/JPL-Caltech"}


def test_real_capture_marco_items_take_the_credit_line_of_their_description(
    capture_page: Page,
) -> None:
    marco = [c for c in capture_page.candidates if "MarCO" in c.external_id]
    assert marco and all("secondary_creator" not in c.raw["data"][0] for c in marco)
    assert all(c.raw["data"][0]["description"].rstrip().endswith("Caltech") for c in marco)
    assert {c.credit for c in marco} == {"NASA/JPL-Caltech"}


def test_real_capture_paging_totals_and_high_water(capture_page: Page) -> None:
    assert capture_page.total == 18600
    assert capture_page.high_water == max(
        c.taken_at.strftime("%Y-%m-%dT%H:%M:%SZ") for c in capture_page.candidates if c.taken_at
    )
    assert capture_page.next is not None
    assert dict(capture_page.next.params)["page"] == "2"
    assert dict(capture_page.next.params)["q"] == "mars"


# --- requests -----------------------------------------------------------------------


def test_first_request_searches_the_first_query_for_images() -> None:
    request = first()
    assert request.url == "https://images-api.nasa.gov/search"
    assert request.params == (
        ("q", "Perseverance"),
        ("media_type", "image"),
        ("page", "1"),
        ("page_size", "100"),
    )
    assert request.conditional is False  # images-api sends no validators
    assert request.context == {"query": 0, "page": 1}


def test_a_cursor_narrows_the_search_by_year_with_a_wide_margin() -> None:
    request = first(cursor="2024-03-14T14:27:52Z")
    assert request.params[-1] == ("year_start", "2022")
    assert first(cursor="garbage").params == first().params


def test_next_link_leads_to_the_next_page_of_the_same_query() -> None:
    a = adapter()
    request = first(a, "2026-01-01T00:00:00Z")
    page = a.parse_page(body([item()], next_link=True), request)
    assert page.next == PageRequest(
        "https://images-api.nasa.gov/search",
        (
            ("q", "Perseverance"),
            ("media_type", "image"),
            ("page", "2"),
            ("page_size", "100"),
            ("year_start", "2024"),
        ),
        False,
        {"query": 0, "page": 2},
    )


def test_each_query_is_walked_to_its_end_whatever_a_page_held() -> None:
    a = adapter()
    known = a.parse_page(body([item()], next_link=True), first(a, "2026-01-01T00:00:00Z"))
    assert known.next is not None and dict(known.next.params)["page"] == "2"
    last = a.parse_page(body([item()]), known.next)
    assert last.next is not None and dict(last.next.params)["q"] == "Ingenuity"
    assert dict(last.next.params)["year_start"] == "2024"


def test_without_a_next_link_the_sweep_moves_to_the_next_query_then_ends() -> None:
    a = adapter()
    page = a.parse_page(body([item()]), first(a))
    assert page.next is not None
    assert dict(page.next.params)["q"] == "Ingenuity"
    assert dict(page.next.params)["page"] == "1"
    last = a.parse_page(body([item()], next_link=False), page.next)
    assert last.next is None


def test_max_pages_caps_each_query() -> None:
    a = adapter(max_pages=2)
    page1 = a.parse_page(body([item()], next_link=True), first(a))
    assert page1.next is not None and dict(page1.next.params)["page"] == "2"
    page2 = a.parse_page(body([item()], next_link=True), page1.next)
    assert page2.next is not None and dict(page2.next.params)["q"] == "Ingenuity"


def test_the_api_ceiling_of_ten_thousand_results_is_respected() -> None:
    a = adapter(max_pages=1000)
    request = PageRequest.from_json(
        {
            "url": "https://images-api.nasa.gov/search",
            "params": [
                ["q", "Perseverance"],
                ["media_type", "image"],
                ["page", "100"],
                ["page_size", "100"],
            ],
            "context": {"query": 0, "page": 100},
        }
    )
    page = a.parse_page(body([item()], next_link=True), request)
    assert page.next is not None and dict(page.next.params)["q"] == "Ingenuity"


def test_requests_never_repeat_a_query_key() -> None:
    a = adapter()
    request: PageRequest | None = first(a, "2021-01-01T00:00:00Z")
    seen = 0
    while request is not None and seen < 10:
        keys = [key for key, _ in request.params]
        assert len(keys) == len(set(keys))
        request = a.parse_page(body([item()], next_link=seen % 2 == 0), request).next
        seen += 1
    assert request is None


def test_backfill_is_a_full_sweep_and_refuses_sols() -> None:
    request = adapter().backfill_request(None, None)
    assert dict(request.params) == {
        "q": "Perseverance",
        "media_type": "image",
        "page": "1",
        "page_size": "100",
    }
    with pytest.raises(UsageError, match="no sols"):
        adapter().backfill_request(1, None)
    with pytest.raises(UsageError):
        adapter().backfill_request(None, 5)


def test_image_library_without_queries_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="queries"):
        adapter(queries=())


# --- items --------------------------------------------------------------------------


def parse(items: Any, **kwargs: Any) -> Page:
    return adapter().parse_page(body(items, **kwargs), first())


def test_nasa_id_with_stray_spaces_is_trimmed() -> None:
    page = parse([item(nasa_id="PIA24264 ")])
    assert page.candidates[0].external_id == "PIA24264"


def test_videos_and_audio_are_skipped_and_counted() -> None:
    video = item("vid", media_type="video")
    video["links"] = [{"rel": "captions", "href": "https://images-assets.nasa.gov/video/x.srt"}]
    page = parse([video, item("aud", media_type="audio"), item("img")])
    assert [c.external_id for c in page.candidates] == ["img"]
    assert page.skipped == 2


def test_mission_is_inferred_from_title_description_and_keywords() -> None:
    page = parse(
        [
            item("a", title="Ingenuity's flight", keywords=[]),
            item("b", title="Crater", description="Jezero delta", keywords=[]),
            item("c", title="Dunes", description="Gale", keywords=["Mars 2020"]),
            item("d", title="Dunes", description="Gale", keywords=["Curiosity"]),
        ]
    )
    assert [c.mission for c in page.candidates] == [
        "ingenuity",
        "perseverance",
        "perseverance",
        None,
    ]


def test_configured_mission_wins_over_inference() -> None:
    a = adapter(mission="perseverance")
    page = a.parse_page(body([item(title="Ingenuity", keywords=["Ingenuity"])]), first(a))
    assert page.candidates[0].mission == "perseverance"


def test_credit_is_the_creator_then_a_credit_line_then_the_center_then_nasa() -> None:
    page = parse(
        [
            item("a", secondary_creator=None, photographer="NASA/Bill Ingalls"),
            item("b", secondary_creator=" ", description="Dunes.\nImage Credit: NASA/JPL/ASU"),
            item("c", secondary_creator=None, description="<p>Dunes.</p><p>Credit: ESA</p>"),
            item("d", secondary_creator=None, center="JPL"),
            item("e", secondary_creator=None, center="GSFC"),
            item("f", secondary_creator=None, center=None),
        ]
    )
    assert [c.credit for c in page.candidates] == [
        "NASA/Bill Ingalls",
        "NASA/JPL/ASU",
        "ESA",
        "NASA/JPL",
        "NASA/GSFC",
        "NASA",
    ]


def test_items_without_preview_or_data_are_skipped() -> None:
    no_preview = item("a")
    no_preview["links"] = []
    foreign = item("b")
    foreign["links"][0]["href"] = "https://evil.example/b~thumb.jpg"
    no_data = {"href": "x", "data": []}
    page = parse([no_preview, foreign, no_data, None, ["x"], item("ok")])
    assert [c.external_id for c in page.candidates] == ["ok"]
    assert page.skipped == 5


def test_the_manifest_names_the_real_renditions() -> None:
    a = adapter()
    c = parse([item("PIA24264")]).candidates[0]
    request = a.detail_request(c)
    assert request is not None and request.url == ASSETS + "PIA24264/collection.json"
    manifest = [ASSETS + f"PIA24264/PIA24264~{name}" for name in
                ("orig.JPG", "large.jpg", "medium.jpg", "small.jpg", "thumb.jpg")]  # fmt: skip
    full = a.with_details(c, orjson.dumps([*manifest, ASSETS + "PIA24264/metadata.json"]))
    assert full.full_url == manifest[0] and full.large_url == manifest[1]
    assert full.medium_url == manifest[2] and full.thumbnail_url == manifest[3]


def test_a_tiff_original_is_never_the_full_size_file_and_a_missing_large_stays_missing() -> None:
    a = adapter()
    c = parse([item("x")]).candidates[0]
    files = [ASSETS + f"x/x~{name}" for name in ("orig.tif", "medium.jpg", "thumb.jpg")]
    done = a.with_details(c, orjson.dumps(files))
    assert (done.full_url, done.large_url, done.medium_url) == (None, None, files[1])
    assert done.thumbnail_url == files[2]


@pytest.mark.parametrize(
    "answer", [b"<html>404</html>", b'{"files": []}', b"[]", b'["https://evil.example/x~orig.jpg"]']
)
def test_an_unusable_manifest_leaves_the_preview_alone(answer: bytes) -> None:
    a = adapter()
    c = parse([item("x")]).candidates[0]
    assert a.with_details(c, answer) == c


def test_a_manifest_on_a_foreign_host_is_never_asked_for() -> None:
    odd = item("x")
    odd["href"] = "https://evil.example/x/collection.json"
    assert adapter().detail_request(parse([odd]).candidates[0]) is None


def test_items_off_the_topic_are_filtered_not_skipped() -> None:
    a = adapter(keywords=("Perseverance", "Ingenuity"), exclude=("Pathfinder",))
    off = item("off", title="Sojourner", description="x", keywords=["Mars"])
    old = item("old", description="Pathfinder and Perseverance")
    page = a.parse_page(body([item("on"), off, old]), first(a))
    assert [c.external_id for c in page.candidates] == ["on"] and page.skipped == 0


def test_html_in_descriptions_is_reduced_to_text() -> None:
    c = parse([item(description='<p>See <a href="x">PIA1</a>&nbsp;now</p>')]).candidates[0]
    assert c.caption == "See PIA1 now"


def test_unknown_keys_are_kept_in_raw() -> None:
    it = item(new_field=[1, {"a": None}])
    it["extra"] = True
    c = parse([it]).candidates[0]
    assert c.raw == it


def test_total_hits_may_be_a_numeric_string_or_garbage() -> None:
    assert parse([item()], total="42").total == 42
    assert parse([item()], total="lots").total is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<html><body>502 Bad Gateway</body></html>", "expected JSON"),
        (b'{"collection": {"items": [', "expected JSON"),
        (b"", "expected JSON"),
        (b"[]", "no 'collection'"),
        (b'{"reason": "Invalid page"}', "no 'collection'"),
        (b'{"collection": []}', "no 'collection'"),
        (b'{"collection": {"items": {}}}', "not a list"),
    ],
)
def test_unusable_bodies_raise_parse_error(data: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        adapter().parse_page(data, first())


def test_an_empty_result_moves_on_to_the_next_query() -> None:
    page = adapter().parse_page(
        b'{"collection": {"items": [], "metadata": {"total_hits": 0}}}', first()
    )
    assert page.candidates == ()
    assert page.total == 0
    assert page.next is not None and dict(page.next.params)["q"] == "Ingenuity"


# --- infer_mission ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (("Ingenuity Mars Helicopter",), "ingenuity"),
        (("Perseverance rover", "Ingenuity"), "ingenuity"),
        (("PERSEVERANCE",), "perseverance"),
        (("the Mars 2020 mission",), "perseverance"),
        (("", ["Jezero Crater"]), "perseverance"),
        (("Curiosity at Gale crater", None, 5), None),
        ((), None),
    ],
)
def test_infer_mission(texts: tuple[Any, ...], expected: str | None) -> None:
    assert infer_mission(*texts) == expected
