"""How NASA's feeds answer, one row per behaviour, each tied to its evidence.

The emulator is a claim about the world: an emulator that answers the way we *think* NASA
answers lets every test pass while the real poll fails. So each behaviour the emulator
copies is a row here with its source: a recorded capture in ``../shared/fixtures/nasa/``
("capture"), a behaviour reported by public clients of the API and listed in that folder's
README ("reported"), the README's facts about the image library and the RSS feeds
("facts"), the request shapes NASA's own gallery sends, as the fixtures' notes record
them ("gallery"), or our own assumption where nothing is known ("assumed").

``tests/test_nasa_behaviours.py`` runs every row against the emulator, and the rows that
have a recorded fixture against the fixture too, so emulator and evidence cannot drift
apart. A row's ``check`` gets the answers to its ``requests`` and lists what differs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from watcher.polling.sources import shapes

RAW = "/rss/api/"
SEARCH = "/search"
CAPTURED_IMAGEID = "NRF_1965_0841393386_816ECM_N0910806NCAM03965_01_095J"
Query = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Answer:
    """One HTTP answer: status, headers (lower-case names) and body."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            return None


@dataclass(frozen=True, slots=True)
class Behaviour:
    """One thing NASA does. ``fixture``: a recorded answer showing it (checked alone)."""

    key: str
    claim: str
    source: str
    path: str
    requests: tuple[Query, ...]
    check: Callable[[Sequence[Answer]], list[str]]
    fixture: str | None = None


def raw(category: str = "mars2020", *extra: tuple[str, str]) -> Query:
    return (("feed", "raw_images"), ("category", category), ("feedtype", "json"), *extra)


def _json(answer: Answer) -> dict[str, Any]:
    data = answer.json()
    return data if isinstance(data, dict) else {}


def _images(answer: Answer) -> list[dict[str, Any]]:
    images = _json(answer).get("images")
    return [i for i in images if isinstance(i, dict)] if isinstance(images, list) else []


def _ok(answer: Answer) -> list[str]:
    return [] if answer.status == 200 else [f"status {answer.status}, expected 200"]


def _latest_summary(answers: Sequence[Answer]) -> list[str]:
    data = answers[0].json()
    problems = _ok(answers[0]) + shapes.raw_images_summary(data)
    if isinstance(data, dict) and "images" in data:
        problems.append("the summary lists images")
    return problems


def _listing_envelope(answers: Sequence[Answer]) -> list[str]:
    data = _json(answers[0])
    problems = _ok(answers[0]) + shapes.raw_images_listing(data, asked=3)
    if data.get("type") != "mars2020-images-list-1.1":
        problems.append(f"type is {data.get('type')!r}")
    if data.get("page") != 0:
        problems.append(f"page is {data.get('page')!r}, expected 0")
    return problems


def _numbers_as_strings(answers: Sequence[Answer]) -> list[str]:
    data = _json(answers[0])
    problems = [] if isinstance(data.get("per_page"), str) else ["per_page is not a string"]
    if any(not isinstance(image.get("drive"), str) for image in _images(answers[0])):
        problems.append("a record's drive is not a string")
    return problems + ([] if _images(answers[0]) else ["no images"])


def _image_by_id(answers: Sequence[Answer]) -> list[str]:
    data = _json(answers[0])
    found = data.get("image")
    if "images" in data or not isinstance(found, list):
        return ["the record is not under 'image'"]
    ids = [i.get("imageid") for i in found if isinstance(i, dict)]
    return [] if ids == [CAPTURED_IMAGEID] else [f"answered {ids}"]


def _num_capped(answers: Sequence[Answer]) -> list[str]:
    count = len(_images(answers[0]))
    return _ok(answers[0]) + ([] if 0 < count <= 100 else [f"{count} images for num=500"])


def _pages_from_zero(answers: Sequence[Answer]) -> list[str]:
    first, following, both = (
        [i.get("imageid") for i in _images(a)] for a in answers
    )  # page=0&num=2, page=1&num=2, num=4
    if not first or first + following != both:
        return [f"pages 0 and 1 of 2 are {first} and {following}, the first 4 are {both}"]
    return []


def _past_the_end(answers: Sequence[Answer]) -> list[str]:
    data = _json(answers[0])
    problems = _ok(answers[0])
    if data.get("images") != [] or not data.get("error_message"):
        problems.append("expected an empty 'images' list and an 'error_message'")
    return problems


def _repeated_key_dropped(answers: Sequence[Answer]) -> list[str]:
    data = _json(answers[0])
    if data.get("mission") != "mars2020" or not _images(answers[0]):
        return [f"expected Perseverance images, got mission {data.get('mission')!r}"]
    return []


def _condition_1_range_ignored(answers: Sequence[Answer]) -> list[str]:
    return [] if _images(answers[0]) else ["a range in condition_1 filtered the answer"]


def _unknown_category(answers: Sequence[Answer]) -> list[str]:
    answer = answers[0]
    problems = [] if answer.status == 404 else [f"status {answer.status}, expected 404"]
    if answer.json() is None or "json" not in answer.headers.get("content-type", ""):
        problems.append("the body is not JSON")
    return problems


def _other_sols(answers: Sequence[Answer]) -> list[str]:
    sols = {image.get("sol") for image in _images(answers[0])}
    return [] if sols and 1 not in sols else [f"sol=1 answered sols {sorted(map(str, sols))}"]


def _cache_headers(answers: Sequence[Answer]) -> list[str]:
    headers = answers[0].headers
    problems = [] if headers.get("cache-control") == "max-age=60" else ["no max-age=60"]
    return problems + [f"sends {name}" for name in ("etag", "last-modified") if name in headers]


def _sol_set(answers: Sequence[Answer]) -> list[str]:
    sols = {image.get("sol") for image in _images(answers[0])}
    return [] if sols and sols <= {1964, 1965} else [f"sols {sorted(map(str, sols))}"]


def _date_taken(answers: Sequence[Answer]) -> list[str]:
    taken = [str(image.get("date_taken_utc")) for image in _images(answers[0])]
    problems = [] if taken else ["no images"]
    if taken != sorted(taken, reverse=True):
        problems.append("not newest first by date_taken")
    if any(moment < "2026-08-30" for moment in taken):
        problems.append("an image taken before the condition")
    return problems


def _mission_condition(answers: Sequence[Answer]) -> list[str]:
    return _ok(answers[0]) + ([] if _images(answers[0]) else ["no images"])


def _search(answers: Sequence[Answer]) -> list[str]:
    return _ok(answers[0]) + shapes.image_library_search(answers[0].json())


def _manifest(answers: Sequence[Answer]) -> list[str]:
    return _ok(answers[0]) + shapes.image_library_manifest(answers[0].json())


RAW_IMAGES: tuple[Behaviour, ...] = (
    Behaviour(
        "latest-is-a-summary",
        "latest=true answers a summary of the newest downlink (latest, latest_sols, "
        "new_count, ...), not images",
        "reported",
        RAW,
        (raw("mars2020", ("latest", "true")),),
        _latest_summary,
        fixture="m2020_latest_true_reported.json",
    ),
    Behaviour(
        "listing-envelope",
        "a listing page: images, per_page, total_results, type, page, mission, total_images",
        "capture",
        RAW,
        (raw("mars2020", ("num", "3"), ("page", "0"), ("order", "sol desc")),),
        _listing_envelope,
        fixture="m2020_raw_images_sol1965_navcam_right_p0.json",
    ),
    Behaviour(
        "numbers-as-strings",
        "per_page and each record's drive are strings",
        "capture",
        RAW,
        (raw("mars2020", ("num", "3")),),
        _numbers_as_strings,
        fixture="m2020_raw_images_sol1965_navcam_right_p0.json",
    ),
    Behaviour(
        "id-answers-image",
        "id=<imageid> answers {'image': [record]} (key 'image', not 'images')",
        "reported",
        RAW,
        (raw("mars2020", ("id", CAPTURED_IMAGEID)),),
        _image_by_id,
    ),
    Behaviour(
        "num-capped-at-100",
        "num is capped at 100 without a word",
        "reported",
        RAW,
        (raw("mars2020", ("num", "500"), ("page", "0")),),
        _num_capped,
    ),
    Behaviour(
        "pages-from-0",
        "pages are numbered from 0",
        "reported",
        RAW,
        (
            raw("mars2020", ("num", "2"), ("page", "0")),
            raw("mars2020", ("num", "2"), ("page", "1")),
            raw("mars2020", ("num", "4")),
        ),
        _pages_from_zero,
    ),
    Behaviour(
        "past-the-last-page",
        "past the last page: 200 with an empty images list and error_message",
        "reported",
        RAW,
        (raw("mars2020", ("num", "100"), ("page", "100000")),),
        _past_the_end,
    ),
    Behaviour(
        "repeated-key-dropped",
        "a key sent twice is dropped altogether: category=ingenuity twice answers Perseverance",
        "reported",
        RAW,
        ((*raw("ingenuity"), ("category", "ingenuity"), ("num", "5")),),
        _repeated_key_dropped,
    ),
    Behaviour(
        "condition-1-range-ignored",
        "a range in condition_1 is ignored silently; filters go in condition_2 and up",
        "reported",
        RAW,
        (raw("mars2020", ("num", "5"), ("condition_1", "99999:sol:gte")),),
        _condition_1_range_ignored,
    ),
    Behaviour(
        "unknown-category-404",
        "an unknown category answers 404 with a JSON body",
        "reported",
        RAW,
        (raw("msl", ("num", "5")),),
        _unknown_category,
    ),
    Behaviour(
        "empty-sol-answers-other-sols",
        "sol=<n> for a sol without images answers other sols' images",
        "reported",
        RAW,
        (raw("mars2020", ("sol", "1"), ("num", "5")),),
        _other_sols,
    ),
    Behaviour(
        "max-age-60-no-validators",
        "answers carry Cache-Control: max-age=60 and no ETag or Last-Modified",
        "reported",
        RAW,
        (raw("mars2020", ("latest", "true")),),
        _cache_headers,
    ),
    Behaviour(
        "sol-set-condition",
        "condition_N=<a>,<b>:sol:in keeps those sols (the gallery's latest_sols filter)",
        "gallery",
        RAW,
        (raw("mars2020", ("num", "50"), ("condition_2", "1965,1964:sol:in")),),
        _sol_set,
    ),
    Behaviour(
        "mission-condition",
        "condition_1=<category>:mission is accepted",
        "gallery",
        RAW,
        (raw("mars2020", ("num", "5"), ("condition_1", "mars2020:mission")),),
        _mission_condition,
    ),
    Behaviour(
        "date-taken-order-and-condition",
        "order=date_taken desc and condition_N=<time>:date_taken:gte",
        "gallery",
        RAW,
        (
            raw(
                "mars2020",
                ("num", "20"),
                ("order", "date_taken desc"),
                ("condition_2", "2026-08-30T00:00:00Z:date_taken:gte"),
            ),
        ),
        _date_taken,
    ),
)

IMAGE_LIBRARY: tuple[Behaviour, ...] = (
    Behaviour(
        "search-collection",
        "/search answers Collection+JSON: items with data[0].nasa_id, an href to the asset "
        "manifest, a preview link; metadata.total_hits; a next link",
        "capture",
        SEARCH,
        ((("q", "mars"), ("media_type", "image")),),
        _search,
        fixture="images_api_search_q_mars_2019-01.json",
    ),
    Behaviour(
        "asset-manifest",
        "an item's href answers its asset manifest: a JSON list of the real files "
        "(~orig, ~large, ~medium, ~small, ~thumb, with their own extensions)",
        "facts",
        "/assets/PIA07081/collection.json",
        ((),),
        _manifest,
    ),
)

BEHAVIOURS: tuple[Behaviour, ...] = RAW_IMAGES + IMAGE_LIBRARY
