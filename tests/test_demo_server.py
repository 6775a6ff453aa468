"""The NASA emulator behaves like the real feeds where watcher's polling logic depends on it."""

from __future__ import annotations

import json
import random
import re
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree

import httpx
import pytest

from watcher.demo import (
    PACKAGED_FEEDS,
    Fault,
    ImageLibraryDataset,
    ImageLibraryQuery,
    NasaEmulator,
    RawImagesQuery,
    RecordedRawImages,
    SyntheticRawImages,
    demo_emulator,
    feed_bytes,
    nasa_rss,
    recorded_image_library,
    recorded_perseverance,
)
from watcher.demo.placeholder import placeholder_svg
from watcher.demo.queries import Condition, parse_timestamp

BASE = "feed=raw_images&category=mars2020&feedtype=json"


@pytest.fixture
def data() -> SyntheticRawImages:
    return SyntheticRawImages(250, start_sol=10, per_sol=100, seed=1)


@pytest.fixture
def nasa(data: SyntheticRawImages) -> Iterator[NasaEmulator]:
    with NasaEmulator(raw_images={"mars2020": data}) as emulator:
        yield emulator


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as c:
        yield c


def raw(client: httpx.Client, nasa: NasaEmulator, query: str) -> dict[str, Any]:
    response = client.get(f"{nasa.raw_images_url}?{BASE}&{query}")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def ids(body: dict[str, Any]) -> list[str]:
    return [image["imageid"] for image in body["images"]]


# -- raw images: envelope, paging, order ----------------------------------------------------


def test_envelope_matches_the_real_capture(nasa: NasaEmulator, client: httpx.Client) -> None:
    body = raw(client, nasa, "num=3&page=0&order=sol+desc")
    capture = json.loads(feed_bytes(PACKAGED_FEEDS[0]))
    assert list(body) == list(capture)
    assert body["per_page"] == "3" and body["page"] == 0 and body["mission"] == "mars2020"
    assert body["type"] == "mars2020-images-list-1.1"
    assert body["total_results"] == 250 and body["total_images"] == 250
    record, real = body["images"][0], capture["images"][0]
    assert list(record) == list(real)
    for key in ("extended", "image_files", "camera"):
        assert list(record[key]) == list(real[key])
    assert isinstance(record["drive"], str) and isinstance(record["site"], int)
    assert record["date_received"].endswith("Z") and "Z" not in record["date_taken_utc"]
    assert record["image_files"]["full_res"].startswith("https://mars.nasa.gov/")
    assert 1500 < len(json.dumps(record)) < 3000  # ~2 KB like the real record


def test_paging_asc_and_past_the_end(nasa: NasaEmulator, client: httpx.Client) -> None:
    data = nasa.raw_images["mars2020"]
    assert isinstance(data, SyntheticRawImages)
    pages = [raw(client, nasa, f"num=100&page={p}&order=sol+asc") for p in range(4)]
    assert [len(p["images"]) for p in pages] == [100, 100, 50, 0]
    assert ids(pages[0])[0] == data.record(0)["imageid"]
    assert ids(pages[2])[-1] == data.record(249)["imageid"]
    assert len({i for p in pages for i in ids(p)}) == 250  # imageids unique
    assert pages[3]["error_message"] == "No more images."
    assert "error_message" not in pages[2]
    assert all(p["total_results"] == 250 for p in pages)


def test_sol_desc_keeps_arrival_order_within_a_sol(
    nasa: NasaEmulator, client: httpx.Client
) -> None:
    data = nasa.raw_images["mars2020"]
    assert isinstance(data, SyntheticRawImages)
    desc = ids(raw(client, nasa, "num=100&page=0&order=sol+desc"))
    # sol 12 holds indexes 200..249, then sol 11 starts at index 100.
    expected = [data.record(i)["imageid"] for i in [*range(200, 250), *range(100, 150)]]
    assert desc == expected


@pytest.mark.parametrize("order", ["sol+desc", "sol%20desc", "SOL%20DESC"])
def test_order_accepts_both_space_encodings(
    nasa: NasaEmulator, client: httpx.Client, order: str
) -> None:
    assert ids(raw(client, nasa, f"num=5&order={order}")) == ids(raw(client, nasa, "num=5"))


def test_num_is_capped_at_100(nasa: NasaEmulator, client: httpx.Client) -> None:
    body = raw(client, nasa, "num=500&page=0")
    assert len(body["images"]) == 100 and body["per_page"] == "100"


def test_recorded_capture_is_served_in_nasas_order(client: httpx.Client) -> None:
    capture = json.loads(feed_bytes(PACKAGED_FEEDS[0]))
    with NasaEmulator(raw_images={"mars2020": recorded_perseverance()}) as nasa:
        body = raw(client, nasa, "num=3&page=0&order=sol+desc")
    assert body["images"] == capture["images"]


# -- raw images: filters --------------------------------------------------------------------


def test_latest_answers_a_summary_of_the_newest_downlink(
    data: SyntheticRawImages, nasa: NasaEmulator, client: httpx.Client
) -> None:
    body = raw(client, nasa, "latest=true")
    # Sol 12 (indexes 200..249) arrived last, one record a minute: 50 within the hour.
    assert body == {
        "latest": data.record(249)["date_received"],
        "new_count": 50,
        "sol_count": 50,
        "latest_sols": [12],
        "total": 250,
        "type": "mars2020-latest-images-1.1",
        "latest_sol": 12,
    }


def test_latest_can_answer_images_instead_the_other_shape_watcher_accepts(
    data: SyntheticRawImages, client: httpx.Client
) -> None:
    with NasaEmulator(raw_images={"mars2020": data}, latest_images=True) as nasa:
        body = raw(client, nasa, "num=100&latest=true")
    assert {image["sol"] for image in body["images"]} == {12}
    assert body["total_results"] == 50


def test_a_summary_counts_a_late_downlink_and_its_old_sol(
    data: SyntheticRawImages, nasa: NasaEmulator, client: httpx.Client
) -> None:
    late = data.add_late(10)
    body = raw(client, nasa, "latest=true")
    assert body["latest"] == late["date_received"]
    assert body["latest_sols"] == [12, 10] and body["new_count"] == 51
    assert body["latest_sol"] == 12 and body["total"] == 251


def test_an_empty_category_has_nothing_to_summarise(client: httpx.Client) -> None:
    with NasaEmulator(raw_images={"mars2020": RecordedRawImages()}) as nasa:
        body = raw(client, nasa, "latest=true")
    assert "latest" not in body and body["error_message"]


def test_id_answers_one_record_under_image(
    data: SyntheticRawImages, nasa: NasaEmulator, client: httpx.Client
) -> None:
    wanted = data.record(123)["imageid"]
    assert raw(client, nasa, f"id={wanted}") == {"image": [data.record(123)]}
    assert raw(client, nasa, "id=NLF_0011_nothing") == {"image": []}


def test_whole_sol_mode_answers_other_sols_for_an_empty_sol(
    nasa: NasaEmulator, client: httpx.Client
) -> None:
    assert {i["sol"] for i in raw(client, nasa, "sol=11&num=100")["images"]} == {11}
    assert {i["sol"] for i in raw(client, nasa, "sol=99&num=100")["images"]} == {11, 12}


def test_sol_conditions(nasa: NasaEmulator, client: httpx.Client) -> None:
    body = raw(client, nasa, "num=100&condition_2=11:sol:gte&condition_3=11:sol:lte")
    assert body["total_results"] == 100 and {i["sol"] for i in body["images"]} == {11}
    pages = [raw(client, nasa, f"num=100&page={p}&condition_2=10,12:sol:in") for p in (0, 1)]
    assert pages[0]["total_results"] == 150
    assert [i["sol"] for p in pages for i in p["images"]] == [12] * 50 + [10] * 100


def test_a_range_in_condition_1_is_ignored(nasa: NasaEmulator, client: httpx.Client) -> None:
    body = raw(client, nasa, "num=100&condition_1=11:sol:gte&condition_2=11:sol:lte")
    assert body["total_results"] == 200  # sols 10 and 11, not 11 alone


def test_a_mission_condition_must_name_the_category(
    nasa: NasaEmulator, client: httpx.Client
) -> None:
    assert raw(client, nasa, "num=5&condition_1=mars2020:mission")["total_results"] == 250
    other = raw(client, nasa, "num=5&condition_1=ingenuity:mission")
    assert other["images"] == [] and other["error_message"]


def test_date_taken_order_and_conditions(
    data: SyntheticRawImages, nasa: NasaEmulator, client: httpx.Client
) -> None:
    late = data.add_late(10)
    cut = data.record(240)["date_taken_utc"]
    body = raw(client, nasa, f"num=100&order=date_taken+desc&condition_2={cut}:date_taken:gte")
    assert ids(body) == [data.record(i)["imageid"] for i in range(249, 239, -1)]
    everything = raw(client, nasa, "num=100&page=2&order=date_taken+asc")
    assert ids(everything)[-1] == data.record(249)["imageid"]
    assert late["imageid"] in ids(raw(client, nasa, "num=100&page=1&order=date_taken+asc"))


def test_date_received_conditions(nasa: NasaEmulator, client: httpx.Client) -> None:
    data = nasa.raw_images["mars2020"]
    assert isinstance(data, SyntheticRawImages)
    cut = data.record(120)["date_received"]
    gte = raw(client, nasa, f"num=100&order=sol+asc&condition_2={cut}:date_received:gte")
    gt = raw(client, nasa, f"num=100&order=sol+asc&condition_2={cut}:date_received:gt")
    lte = raw(client, nasa, f"num=100&order=sol+asc&condition_2={cut}:date_received:lte")
    assert gte["total_results"] == 130 and ids(gte)[0] == data.record(120)["imageid"]
    assert gt["total_results"] == 129
    assert lte["total_results"] == 121


def test_sample_type_filter(client: httpx.Client) -> None:
    data = SyntheticRawImages(30, per_sol=10, thumbnails_every=3)
    with NasaEmulator(raw_images={"mars2020": data}) as nasa:
        everything = raw(client, nasa, "num=100")
        full = raw(client, nasa, "num=100&extended=sample_type::full,")
    kinds = [i["sample_type"] for i in everything["images"]]
    assert kinds.count("Thumbnail") == 10 and everything["total_results"] == 30
    assert full["total_results"] == 20 and {i["sample_type"] for i in full["images"]} == {"Full"}
    assert full["total_images"] == 30


@pytest.mark.parametrize(
    "query",
    [
        "num=abc",
        "page=-1",
        "order=date+desc",
        "condition_2=11:sol:between",
        "condition_1=abc:sol:gte",
        "condition_1=11:sol:between",
        "condition_2=yesterday:date_received:gte",
    ],
)
def test_client_errors_are_400(nasa: NasaEmulator, client: httpx.Client, query: str) -> None:
    response = client.get(f"{nasa.raw_images_url}?{BASE}&{query}")
    assert response.status_code == 400
    assert response.json()["error"]


def test_unknown_category_is_404_with_json(nasa: NasaEmulator, client: httpx.Client) -> None:
    response = client.get(f"{nasa.raw_images_url}?feed=raw_images&category=curiosity&feedtype=json")
    assert response.status_code == 404 and response.json()["error"]


def test_a_repeated_key_is_dropped_and_the_default_used(
    nasa: NasaEmulator, client: httpx.Client
) -> None:
    assert len(raw(client, nasa, "num=10&num=20")["images"]) == 100
    with NasaEmulator(raw_images={"mars2020": SyntheticRawImages(5)}) as other:
        url = f"{other.raw_images_url}?feed=raw_images&category=ingenuity&category=ingenuity"
        body = client.get(url).json()  # no ingenuity dataset: Perseverance's answers
    assert body["mission"] == "mars2020" and len(body["images"]) == 5


def test_repeated_keys_are_recorded_as_sent(nasa: NasaEmulator, client: httpx.Client) -> None:
    client.get(f"{nasa.raw_images_url}?{BASE}&page=1&page=2", headers={"X-Test": "yes"})
    request = nasa.requests[-1]
    assert [v for k, v in request.query if k == "page"] == ["1", "2"]
    assert request.header("x-test") == "yes" and request.path == "/rss/api/"


def all_records(data: SyntheticRawImages) -> list[dict[str, Any]]:
    generated = [data.record(i) for i in range(data.visible_count)]
    with data._lock:
        extras = [e[3] for e in data._extras]
    return generated + extras


def test_synthetic_index_arithmetic_matches_brute_force() -> None:
    """Every query over the synthetic dataset equals the same query over its records listed."""
    rng = random.Random(7)
    data = SyntheticRawImages(600, start_sol=5, per_sol=37, thumbnails_every=3, seed=3)
    for sol in (6, 9, 9, 20, 21):
        data.add_late(sol)
    data.add({"imageid": "no-sol", "sample_type": "Full"})  # an old record missing fields
    recorded = RecordedRawImages(all_records(data))
    records = all_records(data)
    stamps = {
        field: sorted(parse_timestamp(r.get(key)) or 0.0 for r in records)
        for field, key in (("date_received", "date_received"), ("date_taken", "date_taken_utc"))
    }
    for _ in range(400):
        conditions = []
        if rng.random() < 0.5:
            conditions.append(
                Condition("sol", rng.choice(["gte", "gt", "lte", "lt"]), rng.randint(3, 24))
            )
        if rng.random() < 0.15:
            sols = tuple(float(rng.randint(4, 22)) for _ in range(rng.randint(1, 3)))
            conditions.append(Condition("sol", "in", sols[0], sols))
        for field, values in stamps.items():
            if rng.random() < 0.3:
                stamp = rng.choice(values) + rng.choice([-1, 0, 0, 1])
                conditions.append(Condition(field, rng.choice(["gte", "gt", "lte", "lt"]), stamp))
        query = RawImagesQuery(
            category="mars2020",
            num=rng.choice([1, 7, 50, 100]),
            page=rng.randint(0, 12),
            descending=rng.random() < 0.5,
            full_only=rng.random() < 0.5,
            conditions=tuple(conditions),
            order=rng.choice(["sol", "sol", "date_taken"]),
        )
        expected, actual = recorded.query(query), data.query(query)
        assert [i.get("imageid") for i in actual.images] == [
            i.get("imageid") for i in expected.images
        ], query
        assert actual.total_results == expected.total_results, query
        assert actual.total_images == expected.total_images


def test_million_records_deep_page_is_fast_and_not_materialised(client: httpx.Client) -> None:
    tracemalloc.start()
    try:
        data = SyntheticRawImages(1_000_000, per_sol=300, thumbnails_every=4)
        started = time.perf_counter()
        result = data.query(RawImagesQuery("mars2020", num=100, page=7_400, full_only=True))
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(result.images) == 100 and result.total_results == 750_000
    assert elapsed < 0.5
    assert peak < 3_000_000  # a page of 100 records, not a million of them
    assert not any(isinstance(v, list) and v for v in vars(data).values())
    with NasaEmulator(raw_images={"mars2020": data}) as nasa:
        started = time.perf_counter()
        body = raw(client, nasa, "num=100&page=9999&order=sol+desc")
        assert time.perf_counter() - started < 1.0
    # The last page of "sol desc" is the end of sol 0 (indexes 200..299), in arrival order.
    assert ids(body) == [data.record(i)["imageid"] for i in range(200, 300)]


# -- synthetic dataset over time --------------------------------------------------------------


def test_release_makes_new_records_appear(nasa: NasaEmulator, client: httpx.Client) -> None:
    data = nasa.raw_images["mars2020"]
    assert isinstance(data, SyntheticRawImages)
    cursor = raw(client, nasa, "latest=true")["latest"]
    assert data.release(60) == 310
    after = raw(client, nasa, "latest=true")
    assert after["latest_sols"] == [13] and after["latest"] == data.record(309)["date_received"]
    new = raw(client, nasa, f"num=100&order=sol+asc&condition_2={cursor}:date_received:gt")
    assert new["total_results"] == 60
    assert all(i["date_received"] > cursor for i in new["images"])


def test_late_downlink_is_found_by_date_received_only(
    nasa: NasaEmulator, client: httpx.Client
) -> None:
    data = nasa.raw_images["mars2020"]
    assert isinstance(data, SyntheticRawImages)
    cursor = raw(client, nasa, "latest=true")["latest"]
    late = data.add_late(10)
    assert late["sol"] == 10 and late["date_received"] > cursor
    found = raw(client, nasa, f"num=100&condition_2={cursor}:date_received:gt")
    assert ids(found) == [late["imageid"]]
    assert late["imageid"] not in ids(raw(client, nasa, "num=100&condition_2=12:sol:gte"))
    # In sol order it sits at the end of sol 10, i.e. at the very end of "sol desc".
    assert ids(raw(client, nasa, "num=1&page=250&order=sol+desc")) == [late["imageid"]]


# -- ETag / 304 ------------------------------------------------------------------------------


def test_raw_images_carry_max_age_and_never_a_validator(
    nasa: NasaEmulator, client: httpx.Client
) -> None:
    for query in ("latest=true", "num=5", "id=x"):
        response = client.get(
            f"{nasa.raw_images_url}?{BASE}&{query}", headers={"If-None-Match": "*"}
        )
        assert response.status_code == 200 and response.headers["Cache-Control"] == "max-age=60"
        assert "ETag" not in response.headers and "Last-Modified" not in response.headers


def test_rss_etag_and_if_none_match(client: httpx.Client) -> None:
    with NasaEmulator(rss={"": nasa_rss()}) as nasa:
        url = nasa.rss_url()
        etag = client.get(url).headers["ETag"]
        assert etag.startswith('"') and etag.endswith('"')
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["ETag"] == etag
        assert client.get(url, headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304
        nasa.set_rss("", nasa_rss() + b"\n")
        changed = client.get(url, headers={"If-None-Match": etag})
        assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_etag_can_be_turned_off(client: httpx.Client) -> None:
    with NasaEmulator(rss={"": nasa_rss()}, etag=False) as nasa:
        response = client.get(nasa.rss_url(), headers={"If-None-Match": "*"})
    assert response.status_code == 200 and "ETag" not in response.headers


# -- images API, RSS, placeholder images -----------------------------------------------------


def test_image_library_paging_and_links(client: httpx.Client) -> None:
    with NasaEmulator(image_library=recorded_image_library()) as nasa:
        first = client.get(nasa.image_library_url, params={"q": "MARS", "page_size": "40"}).json()
        collection = first["collection"]
        assert collection["version"] == "1.0" and collection["metadata"]["total_hits"] == 100
        assert len(collection["items"]) == 40
        assert [link["rel"] for link in collection["links"]] == ["next"]
        second = client.get(collection["links"][0]["href"]).json()["collection"]
        assert [link["rel"] for link in second["links"]] == ["prev", "next"]
        expected = recorded_image_library().search(
            ImageLibraryQuery(q="mars", page=2, page_size=40)
        )
        assert [item["data"] for item in second["items"]] == [item["data"] for item in expected[0]]
        assert all(
            item["href"]
            == f"{nasa.base_url}/assets/{quote(nasa_id.strip(), safe='')}/collection.json"
            for item in second["items"]
            if (nasa_id := item["data"][0]["nasa_id"])
        )
        third = client.get(second["links"][1]["href"]).json()["collection"]
        assert len(third["items"]) == 20 and [lk["rel"] for lk in third["links"]] == ["prev"]
        videos = client.get(nasa.image_library_url, params={"q": "mars", "media_type": "video"})
        assert videos.json()["collection"]["metadata"]["total_hits"] == 3
        nothing = client.get(nasa.image_library_url, params={"q": "no such words here"}).json()
        assert nothing["collection"]["items"] == [] and "links" not in nothing["collection"]
        too_deep = client.get(nasa.image_library_url, params={"q": "mars", "page": "101"})
        assert too_deep.status_code == 400 and "reason" in too_deep.json()


def test_image_library_filters_year_and_adds_items() -> None:
    dataset = ImageLibraryDataset()
    dataset.add(
        {"data": [{"nasa_id": "A", "title": "Jezero", "date_created": "2021-02-18T00:00:00Z"}]}
    )
    dataset.add(
        {"data": [{"nasa_id": "B", "title": "Jezero", "keywords": ["Perseverance"]}]}, first=True
    )
    assert [i["data"][0]["nasa_id"] for i in dataset.search(ImageLibraryQuery(q="jezero"))[0]] == [
        "B",
        "A",
    ]
    assert dataset.search(ImageLibraryQuery(q="perseverance"))[1] == 1
    assert dataset.search(ImageLibraryQuery(year_start=2021))[1] == 1


def test_rss_is_served_with_last_modified(client: httpx.Client) -> None:
    with NasaEmulator(rss={"": nasa_rss(), "jpl": b"<rss version='2.0'/>"}) as nasa:
        main = client.get(nasa.rss_url())
        assert main.status_code == 200 and main.content == nasa_rss()
        assert main.headers["Content-Type"].startswith("application/rss+xml")
        since = client.get(
            nasa.rss_url(), headers={"If-Modified-Since": main.headers["Last-Modified"]}
        )
        assert since.status_code == 304
        old = format_datetime(datetime(2020, 1, 1, tzinfo=UTC), usegmt=True)
        assert client.get(nasa.rss_url(), headers={"If-Modified-Since": old}).status_code == 200
        assert client.get(nasa.rss_url("jpl")).content == b"<rss version='2.0'/>"
        assert client.get(nasa.rss_url("nope")).status_code == 404


def test_rewritten_image_urls_serve_raster_pictures(client: httpx.Client) -> None:
    data = SyntheticRawImages(5, per_sol=5)
    with NasaEmulator(raw_images={"mars2020": data}, rewrite_images=True) as nasa:
        record = raw(client, nasa, "num=1")["images"][0]
        files = record["image_files"]
        assert all(url.startswith(f"{nasa.base_url}/img/") for url in files.values())
        assert files["medium"].endswith("_medium.jpg")
        assert files["full_res"].endswith("_full_res.png")
        image = client.get(files["medium"])
        assert image.status_code == 200 and image.headers["Content-Type"] == "image/jpeg"
        assert image.content.startswith(b"\xff\xd8\xff")  # a JPEG, not an SVG
        assert client.get(f"{nasa.base_url}/img/%3Cscript%3E_small.jpg").status_code == 404


def test_svg_urls_saved_earlier_still_get_the_placeholder(client: httpx.Client) -> None:
    with NasaEmulator(rewrite_images=True) as nasa:
        image = client.get(f"{nasa.base_url}/img/NLF_0000_0001_small.svg")
        assert image.status_code == 200 and image.headers["Content-Type"] == "image/svg+xml"
        assert image.content.startswith(b"<svg") and b"sol 0" in image.content
        assert client.get(f"{nasa.base_url}/img/%3Cscript%3E_small.svg").status_code == 404


def test_placeholder_escapes_text() -> None:
    svg = placeholder_svg('NLF_0001_<script>&"x', "small").decode()
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    root = ElementTree.fromstring(svg)  # well-formed, whatever the text
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("width") == "320"


# -- faults ----------------------------------------------------------------------------------


def test_faults_apply_to_matching_paths_the_given_number_of_times(
    nasa: NasaEmulator, client: httpx.Client
) -> None:
    url = f"{nasa.raw_images_url}?{BASE}"
    nasa.inject(Fault.rate_limited(30), path_prefix="/rss/api/", times=2)
    nasa.inject(Fault.error_page(500), path_prefix="/search")
    first, second, third = (client.get(url) for _ in range(3))
    assert (first.status_code, first.headers["Retry-After"]) == (429, "30")
    assert second.status_code == 429 and third.status_code == 200
    assert client.get(f"{nasa.base_url}/search").status_code == 500
    nasa.inject(Fault.unavailable(retry_after="Wed, 21 Oct 2037 07:28:00 GMT"), times=None)
    assert [client.get(url).status_code for _ in range(3)] == [503, 503, 503]
    nasa.clear_faults()
    assert client.get(url).status_code == 200


def test_a_fault_can_wait_for_some_requests_and_date_its_retry_after_when_sent(
    nasa: NasaEmulator, client: httpx.Client
) -> None:
    url = f"{nasa.raw_images_url}?{BASE}"
    nasa.inject(Fault.error_page(500), path_prefix="/rss/api/", times=1, after=2)
    nasa.inject(Fault.rate_limited(30), path_prefix="/rss/api/", times=1)
    # The waiting 500 lets its first two through to the 429 behind it: the sweep's pages.
    assert [client.get(url).status_code for _ in range(4)] == [429, 200, 500, 200]
    with pytest.raises(ValueError, match="after"):
        nasa.inject(Fault.drop(), after=-1)

    nasa.inject(Fault.rate_limited(timedelta(seconds=90)))
    answer = client.get(url)
    sent = parsedate_to_datetime(answer.headers["Date"])
    until = parsedate_to_datetime(answer.headers["Retry-After"])
    assert answer.status_code == 429 and 89 <= (until - sent).total_seconds() <= 91


def test_body_faults(nasa: NasaEmulator, client: httpx.Client) -> None:
    url = f"{nasa.raw_images_url}?{BASE}&num=10"
    nasa.inject(Fault.html_page())
    page = client.get(url)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    nasa.inject(Fault.truncated(0.5))
    cut = client.get(url)
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut.content)
    nasa.inject(Fault.disconnect(0.5))
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(url)
    nasa.inject(Fault.drop())
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(url)
    nasa.inject(Fault.redirect_loop())
    hop = client.get(url)
    assert hop.status_code == 302 and hop.headers["Location"] == "/__loop/1"
    assert client.get(f"{nasa.base_url}/__loop/1").headers["Location"] == "/__loop/2"


def test_oversized_and_gzip_bomb_faults_stream(nasa: NasaEmulator, client: httpx.Client) -> None:
    url = f"{nasa.raw_images_url}?{BASE}"
    nasa.inject(Fault.oversized(5_000_000, content_length=False))
    with client.stream("GET", url) as response:
        assert "Content-Length" not in response.headers
        assert sum(len(chunk) for chunk in response.iter_raw()) == 5_000_000
    nasa.inject(Fault.gzip_bomb(10_000_000))
    with client.stream("GET", url) as response:
        assert response.headers["Content-Encoding"] == "gzip"
        assert int(response.headers["Content-Length"]) < 100_000


def test_delay_and_latency(data: SyntheticRawImages, client: httpx.Client) -> None:
    with NasaEmulator(raw_images={"mars2020": data}, latency=0.2) as nasa:
        started = time.perf_counter()
        client.get(f"{nasa.raw_images_url}?{BASE}")
        assert time.perf_counter() - started >= 0.2
        nasa.latency = 0
        nasa.inject(Fault.delay(2))
        with pytest.raises(httpx.ReadTimeout):
            client.get(f"{nasa.raw_images_url}?{BASE}", timeout=0.3)


def test_binds_to_loopback_only() -> None:
    with pytest.raises(ValueError, match="loopback"):
        NasaEmulator(host="192.0.2.10")
    with NasaEmulator(host="localhost") as nasa:
        assert nasa.base_url.startswith("http://127.0.0.1:")


def test_max_in_flight_is_measured(data: SyntheticRawImages) -> None:
    import threading

    with NasaEmulator(raw_images={"mars2020": data}, latency=0.3) as nasa:
        threads = [
            threading.Thread(target=httpx.get, args=(f"{nasa.raw_images_url}?{BASE}",))
            for _ in range(3)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert nasa.max_in_flight == 3 and nasa.request_count("/rss/api/") == 3
        nasa.clear_requests()
        assert nasa.requests == [] and nasa.max_in_flight == 0


# -- packaged data and the demo --------------------------------------------------------------


def test_packaged_feeds_are_the_shared_captures(nasa_fixtures: Path) -> None:
    for name in PACKAGED_FEEDS:
        assert feed_bytes(name) == (nasa_fixtures / name).read_bytes()
        assert feed_bytes(f"{name}.source.txt")


def test_demo_emulator_serves_everything_and_releases_records(client: httpx.Client) -> None:
    emulator = demo_emulator(release_every=0.05, release_batch=2)
    data = emulator.raw_images["mars2020"]
    assert isinstance(data, SyntheticRawImages)
    with emulator as nasa:
        summary = raw(client, nasa, "latest=true")
        assert summary["latest_sol"] == 1965 and summary["latest"] == "2026-08-31T02:02:58Z"
        latest = raw(client, nasa, "num=100&condition_2=1965:sol:gte&extended=sample_type::full")
        assert {i["sol"] for i in latest["images"]} == {1965}
        assert "NRF_1965_0841393386_816ECM_N0910806NCAM03965_01_095J" in ids(latest)
        assert all(i["image_files"]["small"].startswith(nasa.base_url) for i in latest["images"])
        start = len(data)
        deadline = time.monotonic() + 2
        while len(data) == start and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(data) >= start + 2  # a view: shot at least twice
        released = raw(client, nasa, "latest=true")
        heli = client.get(
            f"{nasa.raw_images_url}?feed=raw_images&category=ingenuity&feedtype=json&num=1"
        )
        assert heli.json()["total_results"] == 14_500
        assert heli.json()["images"][0]["title"].startswith("Mars Helicopter Sol ")
        search = client.get(nasa.image_library_url, params={"q": "mars"}).json()["collection"]
        previews = [
            lk["href"] for i in search["items"] for lk in i["links"] if lk.get("rel") == "preview"
        ]
        assert previews and all(client.get(p).status_code == 200 for p in previews[:3])
        served = client.get(nasa.rss_url()).content
        titles = re.findall(rb"<title>([^<]*)</title>", served)
        assert titles[2:] == re.findall(rb"<title>([^<]*)</title>", nasa_rss())[1:]
        assert b"Perseverance" in titles[1]  # the demo's item, then the capture's
        assert b"images-assets.nasa.gov" not in served  # its pictures are the emulator's
        assert client.get(f"{nasa.base_url}/").status_code == 200
    # New sols arrive after the real records of sol 1965, so a date_received cursor sees them.
    assert released["latest_sol"] == 1966 and released["latest"] > "2026-08-31T02:02:58Z"
