"""Property tests: whatever a feed sends, adapters answer with a Page or a ParseError, the
same way every time, and a stored ``raw`` record normalises to the same candidate."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watcher.config import SourceConfig
from watcher.exceptions import ParseError
from watcher.polling.sources.common import UrlCleaner, parse_timestamp, to_int
from watcher.polling.sources.html import find_images, html_to_text, read_html
from watcher.polling.sources.image_library import ImageLibraryAdapter
from watcher.polling.sources.raw_images import RawImagesAdapter
from watcher.polling.sources.rss import RssAdapter
from watcher.types import Page, PageRequest, PollState, cursor_time
from watcher.urls import clean_url

HOSTS = ("nasa.gov", "*.nasa.gov", "127.0.0.1:8123")
PROPERTIES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

RAW = RawImagesAdapter(
    SourceConfig(
        name="perseverance",
        kind="raw_images",
        url="https://mars.nasa.gov/rss/api/",
        interval=600.0,
        jitter=0.0,
        category="mars2020",
        page_size=3,
    ),
    HOSTS,
)
LIBRARY = ImageLibraryAdapter(
    SourceConfig(
        name="library",
        kind="image_library",
        url="https://images-api.nasa.gov/search",
        interval=3600.0,
        jitter=0.0,
        queries=("Perseverance", "Ingenuity"),
    ),
    HOSTS,
)
RSS = RssAdapter(
    SourceConfig(
        name="rss", kind="rss", url="https://www.nasa.gov/feed/", interval=3600.0, jitter=0.0
    ),
    HOSTS,
)
RAW_REQUEST = RAW.first_request(PollState(source="perseverance"))
LIBRARY_REQUEST = LIBRARY.first_request(PollState(source="library"))
RSS_REQUEST = RSS.first_request(PollState(source="rss"))

int64 = st.integers(min_value=-(2**63), max_value=2**64 - 1)
scalars = (
    st.none()
    | st.booleans()
    | int64
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
small_json = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=2) | st.dictionaries(st.text(max_size=4), children, max_size=2)
    ),
    max_leaves=4,
)

URL_TEXT = st.sampled_from(
    [
        "https://mars.nasa.gov/mars2020-raw-images/pub/a/NRF_1_320.jpg",
        "https://images-assets.nasa.gov/image/PIA 1/PIA 1~thumb.jpg",
        "http://www.nasa.gov/sites/default/files/styles/1x1_cardfeed/public/x.jpg?itok=a",
        "javascript:alert(1)",
        "https://evil.example/x.jpg",
        "//mars.nasa.gov/x.jpg",
        "",
    ]
) | st.text(max_size=40)

RAW_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "imageid": st.text(max_size=12) | int64 | small_json,
    "sol": int64 | st.text(string.digits + " .-", max_size=6) | small_json,
    "sample_type": st.sampled_from(["Full", "Thumbnail", "full", "", "Subframe"]) | small_json,
    "camera": st.fixed_dictionaries({"instrument": st.text(max_size=10) | small_json}) | small_json,
    "title": st.text(max_size=30) | small_json,
    "caption": st.text(max_size=60) | small_json,
    "credit": st.text(max_size=20) | small_json,
    "date_taken_utc": st.datetimes().map(datetime.isoformat) | st.text(max_size=25) | small_json,
    "date_taken_mars": st.just("Sol-01965M15:28:38.766") | st.text(max_size=25),
    "date_received": st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat)
    | st.text(max_size=25)
    | small_json,
    "link": URL_TEXT | small_json,
    "extended": st.fixed_dictionaries({"dimension": st.text("(),0123456789 x", max_size=12)})
    | small_json,
    "image_files": st.dictionaries(
        st.sampled_from(["small", "medium", "large", "full_res"]), URL_TEXT | small_json
    )
    | small_json,
}
raw_records = st.builds(
    lambda extra, record: {**extra, **record},
    st.dictionaries(st.text(max_size=8), small_json, max_size=2),
    st.fixed_dictionaries({}, optional=RAW_FIELDS),
)

GOOD_URLS = st.sampled_from(["https://mars.nasa.gov/a/", "http://www.nasa.gov/x/"]).flatmap(
    lambda base: st.text(
        string.ascii_letters + string.digits + "_.- ", min_size=1, max_size=20
    ).map(lambda name: base + name)
)
good_raw_records = st.builds(
    lambda fixed, record: {**record, **fixed},
    st.fixed_dictionaries(
        {
            "imageid": st.text(
                string.ascii_letters + string.digits + "_ ", min_size=1, max_size=12
            ).map(lambda t: t + "X"),
            "image_files": st.dictionaries(
                st.sampled_from(["small", "medium", "large", "full_res"]),
                GOOD_URLS | URL_TEXT,
                min_size=1,
            ).filter(
                lambda files: any(
                    v.startswith(("https://mars", "http://www")) for v in files.values()
                )
            ),
        }
    ),
    st.fixed_dictionaries({}, optional=RAW_FIELDS),
)

LIBRARY_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "nasa_id": st.text(max_size=15) | small_json,
    "media_type": st.sampled_from(["image", "video", "audio", "IMAGE"]) | small_json,
    "title": st.text(max_size=30) | small_json,
    "description": st.text(max_size=60) | small_json,
    "date_created": st.datetimes().map(datetime.isoformat) | small_json,
    "keywords": st.lists(st.text(max_size=12), max_size=3) | small_json,
    "secondary_creator": st.text(max_size=15) | small_json,
    "photographer": st.text(max_size=15) | small_json,
}
good_library_items = st.builds(
    lambda nasa_id, fields, href: {
        "data": [{**fields, "nasa_id": nasa_id, "media_type": "image"}],
        "links": [{"rel": "preview", "href": href + "~thumb.jpg"}],
    },
    st.text(string.ascii_letters + " _", min_size=1, max_size=10).map(lambda t: t + "1"),
    st.fixed_dictionaries({}, optional=LIBRARY_FIELDS),
    GOOD_URLS,
)
library_items = st.fixed_dictionaries(
    {
        "data": st.lists(st.fixed_dictionaries({}, optional=LIBRARY_FIELDS), max_size=2)
        | small_json,
        "links": st.lists(
            st.fixed_dictionaries(
                {
                    "rel": st.sampled_from(["preview", "captions", "x"]),
                    "href": URL_TEXT | small_json,
                }
            ),
            max_size=2,
        )
        | small_json,
    },
    optional={"href": json_values},
)


def outcome(adapter: Any, body: bytes, request: PageRequest) -> Page | None:
    """The page, or None for a ParseError; anything else propagates and fails the test."""
    try:
        page = adapter.parse_page(body, request)
    except ParseError:
        return None
    assert isinstance(page, Page)
    assert not any(
        p.startswith(("record", "item", "entry")) and "unexpected" in p for p in page.problems
    )
    assert page.skipped >= 0 and len(page.problems) <= 5
    for candidate in page.candidates:
        assert candidate.image_url is not None
        assert candidate.external_id == candidate.external_id.strip() != ""
        orjson.dumps(candidate.raw)
    return page


def assert_stable(adapter: Any, body: bytes, request: PageRequest) -> Page | None:
    """Parsing twice gives equal pages; re-normalising each ``raw`` gives its candidate."""
    page = outcome(adapter, body, request)
    again = outcome(adapter, body, request)
    assert page == again
    if page is not None:
        for candidate in page.candidates:
            assert adapter.normalise(candidate.raw) == candidate
    return page


# --- raw images ---------------------------------------------------------------------


@PROPERTIES
@given(json_values)
def test_raw_images_any_json_body_is_a_page_or_parse_error(value: Any) -> None:
    assert_stable(RAW, orjson.dumps(value), RAW_REQUEST)


@PROPERTIES
@given(st.lists(json_values, max_size=4), json_values)
def test_raw_images_any_json_records_are_a_page_or_parse_error(records: Any, envelope: Any) -> None:
    extra = envelope if isinstance(envelope, dict) else {"x": envelope}
    assert_stable(RAW, orjson.dumps({**extra, "images": records}), RAW_REQUEST)


@PROPERTIES
@given(st.lists(raw_records | good_raw_records, max_size=3))
def test_raw_images_records_shaped_like_nasas_never_break_the_page(records: Any) -> None:
    page = assert_stable(RAW, orjson.dumps({"images": records}), RAW_REQUEST)
    assert page is not None
    assert len(page.candidates) + page.skipped == len(records)


@PROPERTIES
@given(st.binary(max_size=200))
def test_raw_images_any_bytes_are_a_page_or_parse_error(data: bytes) -> None:
    outcome(RAW, data, RAW_REQUEST)


# --- image library ------------------------------------------------------------------


@PROPERTIES
@given(json_values)
def test_image_library_any_json_body_is_a_page_or_parse_error(value: Any) -> None:
    assert_stable(LIBRARY, orjson.dumps({"collection": value}), LIBRARY_REQUEST)
    assert_stable(LIBRARY, orjson.dumps(value), LIBRARY_REQUEST)


@PROPERTIES
@given(st.lists(library_items | good_library_items | json_values, max_size=3), json_values)
def test_image_library_items_shaped_like_nasas_never_break_the_page(items: Any, links: Any) -> None:
    body = orjson.dumps({"collection": {"items": items, "links": links, "metadata": links}})
    page = assert_stable(LIBRARY, body, LIBRARY_REQUEST)
    assert page is not None
    assert len(page.candidates) + page.skipped == len(items)


# --- rss ----------------------------------------------------------------------------


@PROPERTIES
@given(st.binary(max_size=300))
def test_rss_any_bytes_are_a_page_or_parse_error(data: bytes) -> None:
    outcome(RSS, data, RSS_REQUEST)


xml_text = st.text(max_size=40).map(
    lambda s: s.replace("&", "&amp;").replace("<", "&lt;").replace("]]>", "")
)


@PROPERTIES
@given(
    st.lists(
        st.tuples(xml_text, xml_text, xml_text, URL_TEXT.map(lambda u: u.replace("&", "&amp;"))),
        max_size=3,
    )
)
def test_rss_feeds_with_any_text_are_stable(items: list[tuple[str, str, str, str]]) -> None:
    body = "".join(
        f"<item><title>{title}</title><guid>{guid}</guid><pubDate>{date}</pubDate>"
        f'<description>&lt;img src="{url}"&gt;{title}</description>'
        f'<enclosure url="{url}" type="image/jpeg"/></item>'
        for title, guid, date, url in items
    )
    data = f'<rss version="2.0"><channel><title>t</title>{body}</channel></rss>'.encode()
    page = assert_stable(RSS, data, RSS_REQUEST)
    assert page is None or all(c.credit for c in page.candidates)


IMG_PIECES = st.sampled_from(
    [
        '<img src="https://www.nasa.gov/u/nasa_meatball_1_2.jpeg?w=985" width="985">',
        '<img class="avatar" src="https://www.nasa.gov/u/me.jpg">',
        '<img src="https://www.nasa.gov/t.gif" width="1" height="1">',
        '<img src="https://www.nasa.gov/u/a.jpg?w=1920&amp;fit=clip&amp;crop=faces" width="1920" '
        'srcset="https://www.nasa.gov/u/a.jpg?w=1920&amp;fit=crop&amp;crop=faces 1920w, '
        'https://www.nasa.gov/u/a.jpg?w=300&amp;fit=crop&amp;crop=faces 300w">',
        '<img src="https://www.nasa.gov/u/b.jpg?crop=faces" srcset="https://www.nasa.gov/u/b.jpg'
        '?crop=faces&amp;w=900 900w, https://www.nasa.gov/u/b.jpg 2000w">',
        '<img class="wp-post-image" src="https://www.nasa.gov/u/c.jpg" width="800">',
        '<img fetchpriority="high" src="/u/d.png" width="300" height="200">',
        '<img src="https://evil.example/e.jpg">',
        "<figure>",
        "</figure>",
        '<a href="/other/">',
        "</a>",
        '<div class="hds-credits">NASA/JPL-Caltech</div>',
        "<p>Image credit: NASA/JPL-Caltech/ASU<br>Interviewer: someone</p>",
        "<p>Text</p>",
    ]
)


@PROPERTIES
@given(st.lists(st.lists(IMG_PIECES, max_size=8).map("".join), min_size=1, max_size=3))
def test_rss_lead_picture_is_never_a_logo_or_a_crop_and_always_credited(
    posts: list[str],
) -> None:
    body = "".join(
        f"<item><title>T</title><guid>g{i}</guid>"
        f"<content:encoded><![CDATA[{html}]]></content:encoded></item>"
        for i, html in enumerate(posts)
    )
    data = (
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>t</title>{body}</channel></rss>"
    ).encode()
    page = assert_stable(RSS, data, RSS_REQUEST)
    assert page is not None
    assert len(page.candidates) + page.skipped == len(posts)
    for c in page.candidates:
        assert c.credit
        for url in (c.full_url, c.large_url, c.medium_url, c.thumbnail_url):
            assert url is None or ("meatball" not in url and "me.jpg" not in url)
            assert url is None or "t.gif" not in url
        for url in (c.full_url, c.large_url, c.medium_url):
            assert url is None or ("fit=crop" not in url and not url.endswith("?crop=faces"))
            assert url is None or "crop=faces&w=" not in url


HTML_BITS = st.sampled_from(
    ["<p>", "</p>", "<br>", "<div class='hds-credits'>", "</div>", "<span class=credit>", "</span>",
     "<a href='/x'>", "</a>", "<figure>", "</figure>", "<img src='/a.jpg' width='3'>", "<b>",
     "<script>", "</script>", "&amp;", "&#8230;", " ", "\n", "Credit: NASA", "text"]
)  # fmt: skip


@PROPERTIES
@given(st.text(max_size=200) | st.lists(HTML_BITS | st.text(max_size=5), max_size=30).map("".join))
def test_html_helpers_never_raise(markup: str) -> None:
    assert "\n" not in html_to_text(markup)
    for image in find_images(markup):
        assert image.width is None or image.width > 0
    html = read_html(markup)
    assert all(line and "\n" not in line and line == line.strip() for line in html.lines)
    assert " ".join(html.lines) == html_to_text(markup) or "credit" in markup.lower()
    assert all(0 <= image.line <= len(html.lines) for image in html.images)
    assert all(0 <= line < len(html.lines) and words for line, words in html.credits)


# --- helpers ------------------------------------------------------------------------

url_alphabet = string.ascii_letters + string.digits + "/:.?#&=%~_-+, @[]!$'()*;\\\t\n\"<>é"
url_text = st.text(url_alphabet, max_size=30) | st.text(
    string.ascii_letters + "/._~%-?=&,", max_size=30
)
SHARED_CLEANER = UrlCleaner(HOSTS)  # shared on purpose: its caches carry over between examples


@PROPERTIES
@given(
    st.sampled_from(["https://", "http://", "HTTPS://", "javascript:", "", "https:/"]),
    st.sampled_from(["mars.nasa.gov", "nasa.gov", "NASA.gov", "evil.example", "127.0.0.1:8123", ""])
    | st.text(url_alphabet, max_size=12),
    st.sampled_from(["", "/a", "/a/b"]) | url_text,
    url_text,
    url_text,
)
def test_fast_url_cleaning_agrees_with_clean_url(
    scheme: str, host: str, folder: str, name: str, sibling: str
) -> None:
    for url in (
        f"{scheme}{host}{folder}/{name}",
        f"{scheme}{host}{folder}/{sibling}",
        f"{scheme}{host}{name}",
    ):
        assert SHARED_CLEANER.clean(url) == clean_url(url, HOSTS), url
        assert UrlCleaner(HOSTS).clean(url) == clean_url(url, HOSTS), url


@PROPERTIES
@given(
    st.sampled_from(["https://mars.nasa.gov", "http://www.nasa.gov", "https://nasa.gov"]),
    st.text(string.ascii_letters + "/._-% ?", max_size=15),
    st.lists(url_text, min_size=1, max_size=4),
)
def test_sibling_urls_of_a_known_folder_agree_with_clean_url(
    origin: str, folder: str, names: list[str]
) -> None:
    cleaner = UrlCleaner(HOSTS)
    for name in ["first.jpg", *names]:
        url = f"{origin}/{folder}/{name}"
        assert cleaner.clean(url) == clean_url(url, HOSTS), url


@PROPERTIES
@given(json_values)
def test_to_int_never_raises_and_fits_64_bits(value: Any) -> None:
    number = to_int(value)
    assert number is None or -(2**63) < number < 2**63


@PROPERTIES
@given(st.datetimes(), st.integers(min_value=-23 * 60, max_value=23 * 60))
def test_timestamps_round_trip_through_the_canonical_form(moment: datetime, offset: int) -> None:
    utc = moment.replace(tzinfo=UTC)
    assert parse_timestamp(moment.isoformat()) == utc
    assert parse_timestamp(cursor_time(utc)) == utc.replace(microsecond=0)
    assert len(cursor_time(utc)) == 20
    try:
        shifted = utc.astimezone(timezone(timedelta(minutes=offset)))
    except OverflowError:
        return
    assert parse_timestamp(shifted.isoformat()) == utc


@PROPERTIES
@given(st.datetimes(timezones=st.just(UTC)), st.datetimes(timezones=st.just(UTC)))
def test_canonical_strings_sort_like_the_times(a: datetime, b: datetime) -> None:
    a, b = a.replace(microsecond=0), b.replace(microsecond=0)
    assert (cursor_time(a) < cursor_time(b)) == (a < b)


@PROPERTIES
@given(json_values | st.text(max_size=40))
def test_parse_timestamp_is_aware_utc_or_none(value: Any) -> None:
    parsed = parse_timestamp(value)
    assert parsed is None or parsed.utcoffset() == timedelta(0)
