"""Property tests of the parsers test_sources_properties leaves out: URL cleaning against a
second reader, the text rule, RSS and Atom from random XML-ish bytes, the image library's
asset manifest, the raw images' ``latest=true`` summary and listings, and the config reader.

What they hold, for any input: a parser answers with its result or with its own error
(ParseError, ConfigError), never anything else; every candidate it makes can be stored as
it is (URLs on the allowlist and read alike by two parsers, text the feeds' XML and
PostgreSQL hold, numbers the columns hold, fields no longer than their columns); and
normalising again changes nothing. The breaks they found are kept at the end as examples.
"""

from __future__ import annotations

import math
import string
from dataclasses import fields, is_dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import ada_url
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watcher.config import Settings, settings_from_dict
from watcher.config_reader import SECTION_KEYS, SOURCE_KEYS
from watcher.exceptions import ConfigError, ParseError
from watcher.limits import FIELD_LIMITS, fit_limits, fits_integer
from watcher.polling.sources.common import UrlCleaner, parse_timestamp
from watcher.polling.sources.raw_images import LATEST
from watcher.text import clean_json, clean_text, is_safe, safe_candidate, text_problem
from watcher.types import CandidateData, Page, PageRequest, cursor_time
from watcher.urls import clean_url, shown_url

from .test_sources_properties import (
    HOSTS,
    LIBRARY,
    LIBRARY_REQUEST,
    RAW,
    RAW_REQUEST,
    RSS,
    RSS_REQUEST,
    URL_TEXT,
    good_library_items,
    good_raw_records,
    int64,
    json_values,
    raw_records,
    small_json,
)

PROPERTIES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
URL_FIELDS = ("page_url", "thumbnail_url", "medium_url", "large_url", "full_url")
TEXT_FIELDS = ("external_id", "mission", "title", "caption", "credit", "camera", "mars_local_time")
# Everything the text rule strips, one of each kind, and what it keeps that looks close.
UNSAFE = "\x00\x01\x08\x0b\x0c\x1b\x1f\x7f\x85\x9f\ud800\udfff\ufffe\uffff"
any_text = st.text(
    st.sampled_from(UNSAFE + "\r\n\t é\u2019🚀<&>\\") | st.characters(codec=None), max_size=30
)


def on_allowlist(url: str) -> bool:
    """The test allowlist (``HOSTS``) applied to Python's own reading of ``url``: urlsplit,
    another parser than the WHATWG one that judged it."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removesuffix(".")
    return (
        host == "nasa.gov"
        or host.endswith(".nasa.gov")
        or (host == "127.0.0.1" and parts.port == 8123)
    )


def assert_kept_url(url: str) -> None:
    """What every URL watcher keeps must be: http(s), no credentials, nothing a browser
    would read differently from Python, on the allowlist, and its own cleaning."""
    parts = urlsplit(url)
    assert parts.scheme in ("http", "https"), url
    assert "@" not in parts.netloc and parts.username is None, url
    assert "\\" not in url and not any(c.isspace() or c < " " or c == "\x7f" for c in url), url
    assert on_allowlist(url), url
    browser = ada_url.URL(url)
    assert browser.href == url
    assert browser.hostname.strip("[]") == parts.hostname, url
    assert clean_url(url, HOSTS) == url and shown_url(url) == url
    assert UrlCleaner(HOSTS).clean(url) == url


def assert_storable(candidate: CandidateData) -> None:
    """A candidate the store takes as it is, on SQLite and PostgreSQL alike."""
    for name in URL_FIELDS:
        value = getattr(candidate, name)
        if value is not None:
            assert_kept_url(value)
    for name in TEXT_FIELDS:
        value = getattr(candidate, name)
        assert value is None or (is_safe(value) and "\r" not in value), (name, value)
    for name, limit in FIELD_LIMITS.items():
        value = getattr(candidate, name)
        assert value is None or len(value) <= limit, name
    for number in (candidate.sol, candidate.width, candidate.height):
        assert number is None or fits_integer(number), number
    assert candidate.external_id == candidate.external_id.strip() != ""
    assert clean_json(candidate.raw) is candidate.raw  # clean already: no copy needed
    orjson.dumps(candidate.raw)


def parsed(adapter: Any, body: bytes, request: PageRequest) -> Page | None:
    """The page (checked, and the same when parsed again), or None for a ParseError;
    any other exception fails the test."""
    try:
        page = adapter.parse_page(body, request)
    except ParseError:
        return None
    assert isinstance(page, Page)
    assert page == adapter.parse_page(body, request)
    for candidate in page.candidates:
        assert_storable(candidate)
        # What a stored record gives again: the same candidate, fitted to its columns.
        assert fit_limits(adapter.normalise(candidate.raw)) == candidate
    return page


# -- URLs ------------------------------------------------------------------------------

URL_ALPHABET = string.ascii_letters + string.digits + "/:.?#&=%~_-+@[]\\\t\n \x00é\u3002\uff41"
# Each part is most often a plain one and else a trick: about one URL in seven is one to keep,
# and the rest are refusals of every kind.
PLAIN_SCHEMES = st.sampled_from(["https://", "http://"])
SCHEMES = PLAIN_SCHEMES | PLAIN_SCHEMES | st.sampled_from(
    ["HTTPS://", "https:", "https:/", "https:\\\\", "https:/\\", "//", "javascript:",
     "data:text/html,", "ftp://", "file://", " https://", "h\ttps://", ""]
)  # fmt: skip
USERINFO = (
    st.just("")
    | st.just("")
    | st.sampled_from(
        ["user@", "user:pass@", "evil.example@", "evil.example\\@", "@", "a%40b@", ":@"]
    )
)
ALLOWED_HOSTS = st.sampled_from(
    ["mars.nasa.gov", "nasa.gov", "MARS.NASA.GOV", "mars.nasa.gov.", "127.0.0.1:8123",
     "mars%2Enasa.gov", "\uff4d\uff41\uff52\uff53.nasa.gov", "mars\u3002nasa.gov",
     "mars.nasa.gov:443", "0x7f.0.0.1:8123", "2130706433:8123", "images-assets.nasa.gov"]
)  # fmt: skip
HOSTNAMES = ALLOWED_HOSTS | ALLOWED_HOSTS | st.sampled_from(
    ["mars.nasa.gov..", "evil.example", "evil.example\\.mars.nasa.gov",
     "evil.example\\@mars.nasa.gov", "nasa.gov.evil.example", "evilnasa.gov",
     "xn--mars.nasa.gov", "\u0430pple.nasa.gov", "127.0.0.1", "0x7f.1", "2130706433", "127.1",
     "[::1]", "[::ffff:127.0.0.1]", "mars.nasa.gov:0", "mars.nasa.gov:99999",
     "127.0.0.1.:8123", "evil.example#@mars.nasa.gov", "evil.example?@mars.nasa.gov",
     "evil.example/@mars.nasa.gov", "mars.na\nsa.gov", "mars.nasa.gov%00", "mars.nasa.gov\t"]
) | st.text(string.ascii_letters + string.digits + ".-%[]:@\\", max_size=12)  # fmt: skip
PATHS = st.sampled_from(["/", "/a.jpg", "/raw/NRF_1_320.jpg", "/a b.jpg", "?q=1", "#f"]) | (
    st.sampled_from(
        ["", "\\a.jpg", "/../a.jpg", "/a/./b.jpg", "/%2e%2e/x", "/x@y", "/\\evil.example/x",
         "/a\\..\\..\\b"]
    )
    | st.text(URL_ALPHABET, max_size=20)
)  # fmt: skip
built_urls = st.builds(lambda *parts: "".join(parts), SCHEMES, USERINFO, HOSTNAMES, PATHS)
urls = built_urls | built_urls | built_urls | st.text(URL_ALPHABET, max_size=40)


def browser_reading(url: str) -> str | None:
    """The URL a browser would follow for ``url`` when that is one watcher should keep
    (http(s), no credentials, on the allowlist by the browser's own reading), else None."""
    text = url.strip()
    if any((c < " " and c not in "\t\n\r") or c == "\x7f" for c in text):
        return None  # watcher refuses these outright: no real URL carries them
    try:
        parsed_url = ada_url.URL(text)
    except ValueError:
        return None
    if parsed_url.protocol not in ("http:", "https:") or parsed_url.username:
        return None
    if parsed_url.password or "\\" in parsed_url.href:  # a page shows no URL with one
        return None
    host = parsed_url.hostname.removesuffix(".")
    allowed = (
        host == "nasa.gov"
        or host.endswith(".nasa.gov")
        or (host == "127.0.0.1" and parsed_url.port == "8123")
    )
    return parsed_url.href if allowed else None


@PROPERTIES
@given(urls)
def test_a_url_is_kept_exactly_when_a_browser_would_follow_it_to_an_allowed_host(
    url: str,
) -> None:
    kept = clean_url(url, HOSTS)
    assert kept == browser_reading(url), url
    if kept is not None:
        assert_kept_url(kept)
    assert UrlCleaner(HOSTS).clean(url) == kept


@PROPERTIES
@given(urls)
def test_a_page_shows_a_stored_url_only_as_both_readers_see_it(url: str) -> None:
    shown = shown_url(url)
    if shown is None:
        return
    assert not any(c.isspace() or c < " " or c in "\\\x7f" for c in url), url
    assert shown == clean_url(url)
    assert urlsplit(shown).hostname == ada_url.URL(shown).hostname.strip("[]")
    assert "@" not in urlsplit(shown).netloc
    assert shown_url(shown) == shown


# -- the text rule ---------------------------------------------------------------------

json_with_any_text = st.recursive(
    st.none() | st.booleans() | int64 | any_text,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(any_text, children, max_size=3)
    ),
    max_leaves=12,
)


def holds_unsafe(value: Any) -> bool:
    if isinstance(value, str):
        return clean_text(value.replace("\r", "")) != value.replace("\r", "")
    if isinstance(value, dict):
        return any(holds_unsafe(k) or holds_unsafe(v) for k, v in value.items())
    if isinstance(value, list):
        return any(holds_unsafe(v) for v in value)
    return False


@PROPERTIES
@given(any_text)
def test_text_is_safe_exactly_when_cleaning_leaves_it_alone(value: str) -> None:
    cleaned = clean_text(value)
    assert is_safe(value) == (cleaned == value)
    assert is_safe(cleaned) and clean_text(cleaned) is cleaned
    assert text_problem(cleaned) is None
    cleaned.encode()  # no lone surrogate


@PROPERTIES
@given(json_with_any_text)
def test_a_record_is_cleaned_of_every_unsafe_character_and_a_clean_one_is_not_copied(
    record: Any,
) -> None:
    cleaned = clean_json(record)
    assert not holds_unsafe(cleaned)
    assert clean_json(cleaned) is cleaned
    assert (cleaned is record) == (not holds_unsafe(record))
    orjson.dumps(cleaned)  # PostgreSQL's JSONB and orjson take it


candidates = st.builds(
    CandidateData,
    source=st.just("perseverance"),
    external_id=any_text.filter(lambda t: t.strip() != ""),
    mission=st.none() | any_text,
    title=any_text,
    caption=any_text,
    credit=st.none() | any_text,
    camera=st.none() | any_text,
    mars_local_time=st.none() | any_text,
    page_url=st.none() | urls,
    thumbnail_url=st.none() | urls,
    full_url=st.none() | urls,
    raw=json_with_any_text.map(lambda v: {"record": v}),
)


@PROPERTIES
@given(candidates)
def test_a_safe_candidate_holds_only_safe_text_and_keeps_its_clean_urls(
    item: CandidateData,
) -> None:
    safe = safe_candidate(item)
    for name in TEXT_FIELDS:
        value = getattr(safe, name)
        assert value is None or is_safe(value), name
    for name in URL_FIELDS:
        before, after = getattr(item, name), getattr(safe, name)
        assert after == (before if before is None or is_safe(before) else None), name
    assert not holds_unsafe(safe.raw)
    assert safe_candidate(safe) is safe


# -- RSS and Atom, through feedparser ----------------------------------------------------

TAGS = (
    "item", "entry", "title", "link", "guid", "id", "description", "summary", "content",
    "content:encoded", "pubDate", "published", "updated", "enclosure", "media:content",
    "media:thumbnail", "media:credit", "media:group", "author", "category", "img", "p", "a",
    "figure", "source",
)  # fmt: skip
ATTRIBUTE_NAMES = ("url", "href", "src", "srcset", "rel", "type", "medium", "width", "height",
                   "term", "isPermaLink", "xml:base", "class", "fetchpriority")  # fmt: skip
ATTRIBUTE_VALUES = (
    URL_TEXT
    | st.sampled_from(["enclosure", "alternate", "image/jpeg", "image", "1200", "0", "-5",
                       "99999999999999999999", "wp-post-image", "high",
                       "https://mars.nasa.gov/a.jpg 800w, https://evil.example/b.jpg 1600w"])
    | st.text(max_size=8)
)  # fmt: skip


def escaped(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")


def element(tag: str, attributes: dict[str, str], children: list[str]) -> str:
    shown = "".join(f' {name}="{escaped(value)}"' for name, value in attributes.items())
    return f"<{tag}{shown}>{''.join(children)}</{tag}>"


xml_leaves = any_text.map(escaped) | st.sampled_from(
    ["&amp;", "&lt;", "&#0;", "&#x1F;", "&#xD800;", "&#65535;", "&nbsp;", "&unknown;", "&e;",
     '<![CDATA[<img src="https://mars.nasa.gov/a.jpg" width="900">]]>', "<!-- c -->",
     "<?pi x?>", "Credit: NASA/JPL-Caltech", "Perseverance", "Sat, 01 Jan 0001 00:00:00 GMT",
     "9999-12-31T23:59:59Z", "</item>", "<entry>"]
)  # fmt: skip
xml_nodes = st.recursive(
    xml_leaves,
    lambda children: st.builds(
        element,
        st.sampled_from(TAGS),
        st.dictionaries(st.sampled_from(ATTRIBUTE_NAMES), ATTRIBUTE_VALUES, max_size=3),
        st.lists(children, max_size=4),
    ),
    max_leaves=20,
)
PROLOGS = st.sampled_from(
    ["", '<?xml version="1.0" encoding="utf-8"?>', '<?xml version="1.0" encoding="iso-8859-1"?>',
     '<!DOCTYPE rss [<!ENTITY e "entity">]>', "\ufeff", '<?xml version="1.1"?>']
)  # fmt: skip
NAMESPACES = (
    'xmlns:media="http://search.yahoo.com/mrss/" '
    'xmlns:content="http://purl.org/rss/1.0/modules/content/"'
)


def feed(prolog: str, atom: bool, items: list[list[str]]) -> str:
    if atom:
        body = "".join(f"<entry>{''.join(nodes)}</entry>" for nodes in items)
        return (
            f'{prolog}<feed xmlns="http://www.w3.org/2005/Atom" {NAMESPACES}>'
            f"<title>t</title>{body}</feed>"
        )
    body = "".join(f"<item>{''.join(nodes)}</item>" for nodes in items)
    return (
        f'{prolog}<rss version="2.0" {NAMESPACES}><channel><title>t</title>{body}</channel></rss>'
    )


# What makes an item a candidate (an id and a picture, in any of the places feeds put
# one), with URLs of every kind: most items hold some, among random nodes.
picture_urls = (
    st.sampled_from(["https://mars.nasa.gov/a/p.jpg", "https://www.nasa.gov/b.png"]) | urls
)
ITEM_PARTS = (
    st.builds("<guid>{}</guid>".format, any_text.map(escaped))
    | st.builds("<id>{}</id>".format, any_text.map(escaped))
    | st.builds('<link rel="alternate" href="{}"/>'.format, urls.map(escaped))
    | st.builds(
        '<enclosure url="{}" type="image/jpeg" length="1"/>'.format, picture_urls.map(escaped)
    )
    | st.builds(
        '<link rel="enclosure" type="image/jpeg" href="{}"/>'.format, picture_urls.map(escaped)
    )
    | st.builds(
        '<media:content url="{}" medium="image" width="1200"/>'.format, picture_urls.map(escaped)
    )
    | st.builds(
        '<description>&lt;img src="{}" width="900"&gt; {}</description>'.format,
        picture_urls.map(escaped).map(escaped),
        any_text.map(escaped),
    )
    | st.builds("<media:credit>{}</media:credit>".format, any_text.map(escaped))
)
feeds = st.builds(
    feed,
    PROLOGS,
    st.booleans(),
    st.lists(st.lists(ITEM_PARTS | ITEM_PARTS | xml_nodes, max_size=6), max_size=3),
)


@PROPERTIES
@given(feeds, st.none() | st.tuples(st.integers(0, 4000), st.binary(max_size=6)))
def test_rss_and_atom_from_any_xmlish_bytes_are_a_page_or_parse_error(
    text: str, damage: tuple[int, bytes] | None
) -> None:
    body = text.encode("utf-8", "surrogatepass")
    if damage is not None:
        cut, noise = damage
        body = body[:cut] + noise + body[cut:]
    parsed(RSS, body, RSS_REQUEST)


# -- the image library's asset manifest ------------------------------------------------

MANIFEST_FILES = st.builds(
    lambda base, name, marker, extension: f"{base}{name}~{marker}.{extension}",
    st.sampled_from(
        ["https://images-assets.nasa.gov/image/PIA1/", "http://images-assets.nasa.gov/i/",
         "https://evil.example/", "https://images-assets.nasa.gov\\@evil.example/",
         "javascript:", " https://images-assets.nasa.gov/image/a b/", "//images-assets.nasa.gov/",
         "https://user@images-assets.nasa.gov/", "https://images-assets.nasa.gov/\x00/"]
    ),
    st.text(string.ascii_letters + " %#?~", max_size=6),
    st.sampled_from(["orig", "large", "medium", "small", "thumb", "preview"]),
    st.sampled_from(["jpg", "JPG", "png", "tif", "webp", "mp4", "jpg?x=1", "jpg#f"]),
)  # fmt: skip
manifests = st.lists(MANIFEST_FILES | URL_TEXT | small_json, max_size=8) | json_values
manifest_bodies = manifests.map(orjson.dumps) | st.binary(max_size=60)
RENDITIONS = ("thumbnail_url", "medium_url", "large_url", "full_url")


@PROPERTIES
@given(good_library_items, manifest_bodies, URL_TEXT | small_json)
def test_an_asset_manifest_only_ever_adds_allowed_web_pictures(
    item: dict[str, Any], body: bytes, href: Any
) -> None:
    item = {**item, "href": href}
    page = parsed(LIBRARY, orjson.dumps({"collection": {"items": [item]}}), LIBRARY_REQUEST)
    assert page is not None
    for candidate in page.candidates:
        request = LIBRARY.detail_request(candidate)
        assert request is None or (
            request.url == clean_url(href, HOSTS) and on_allowlist(request.url)
        )
        detailed = LIBRARY.with_details(candidate, body)
        assert_storable(detailed)
        assert replace(detailed, **{n: getattr(candidate, n) for n in RENDITIONS}) == candidate
        for name in RENDITIONS:
            url = getattr(detailed, name)
            if url != getattr(candidate, name):
                path = urlsplit(url).path.lower()
                assert path.endswith((".jpg", ".jpeg", ".png", ".gif", ".webp")), url
        assert LIBRARY.with_details(detailed, body) == detailed


# -- raw images: the latest=true summary and listings ----------------------------------

moments = st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat) | st.sampled_from(
    ["0001-01-01T00:00:00Z", "0001-01-01T23:59:59+00:00", "9999-12-31T23:59:59Z",
     "2026-11-25T12:00:00Z", "2026-11-25T12:00:00.999999-05:00", "Wed, 25 Nov 2026 12:00:00 GMT"]
)  # fmt: skip
summaries = st.fixed_dictionaries(
    {},
    optional={
        "latest": moments | small_json,
        "latest_sols": st.lists(int64, max_size=3) | small_json,
        "new_count": int64 | small_json,
        "total": int64 | small_json,
        "images": st.lists(raw_records | good_raw_records, max_size=2) | small_json,
        "error_message": st.text(max_size=10) | small_json,
    },
)
stored_times = st.none() | moments.map(parse_timestamp).map(lambda m: cursor_time(m) if m else None)


@PROPERTIES
@given(summaries, stored_times, stored_times)
def test_the_latest_summary_ends_the_poll_or_starts_a_listing_never_anything_else(
    summary: dict[str, Any], marker: str | None, cursor: str | None
) -> None:
    context = {"step": LATEST, "marker": marker, "cursor": cursor}
    request = PageRequest(RAW_REQUEST.url, RAW_REQUEST.params, False, context)
    page = parsed(RAW, orjson.dumps(summary), request)
    if page is None:
        return
    if page.unchanged:
        assert page.candidates == () and page.next is None and page.marker == marker
        return
    if page.next is None:
        return
    assert page.marker is not None and parse_timestamp(page.marker) is not None
    [since] = [v for k, v in page.next.params if k == "condition_2"]
    start = since.removesuffix(":date_received:gte")
    assert start == (cursor or start) and parse_timestamp(start) is not None
    assert page.high_water is not None and page.high_water >= start


@PROPERTIES
@given(
    st.lists(raw_records | good_raw_records, max_size=4),
    st.none() | st.integers(-5, 2**31 + 5),
    st.none() | st.integers(-5, 2**31 + 5),
)
def test_a_backfill_page_keeps_only_the_sols_asked_for(
    records: list[Any], first: int | None, last: int | None
) -> None:
    request = RAW.backfill_request(first, last)
    page = parsed(RAW, orjson.dumps({"images": records}), request)
    assert page is not None
    assert len(page.candidates) + page.skipped <= len(records)
    for candidate in page.candidates:
        if first is not None or last is not None:
            assert candidate.sol is not None
        assert first is None or (candidate.sol is not None and candidate.sol >= first)
        assert last is None or (candidate.sol is not None and candidate.sol <= last)


# -- the config reader -----------------------------------------------------------------

EDGE_VALUES: tuple[Any, ...] = (
    math.nan, math.inf, -math.inf, 1e300, -1.0, 0.0, 0.5, -1, 0, 1, 2**31, 2**63 - 1, -(2**63),
    True, False, "", " ", "0", "0s", "nan", "inf", "1e999", "10m", "-5m", "99999999999999d",
    "never", "~nosuchuser/t", "~", "a\x00b", "\x00", "é", "https://", "http://[::1",
    "https://x.org/", "127.0.0.1", "10.0.0.1/8", "::1", "*.", "sqlite:///", [], [""], [1],
    {}, {"a": 1}, datetime(2026, 1, 1), datetime(2026, 1, 1).date(), datetime(2026, 1, 1).time(),
)  # fmt: skip
toml_scalars = (
    st.sampled_from(EDGE_VALUES)
    | st.text(max_size=12)
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats()
    | st.booleans()
    | st.datetimes()
    | st.dates()
    | st.times()
)
toml_values = st.recursive(
    toml_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=2)
    ),
    max_leaves=6,
)
CONFIG = Path("watcher.toml")
SOURCE = {
    "name": "perseverance",
    "kind": "raw_images",
    "url": "https://mars.nasa.gov/rss/api/",
    "category": "mars2020",
}
# Every key a config file may set: (table, key), ``sources`` for a [[sources]] table's.
KEYS = [(name, key) for name, keys in SECTION_KEYS.items() for key in keys] + [
    ("sources", key) for key in SOURCE_KEYS
]


def document_with(where: tuple[str, str], value: Any) -> dict[str, Any]:
    """A config that sets one key to ``value`` and leaves the rest to the defaults."""
    name, key = where
    if name == "sources":
        return {"sources": [{**SOURCE, key: value}]}
    return {name: {key: value}}


def numbers_in(value: Any) -> list[float]:
    """Every float in a settings object, its nested dataclasses and tuples included."""
    if isinstance(value, float):
        return [value]
    if is_dataclass(value) and not isinstance(value, type):
        return [n for f in fields(value) for n in numbers_in(getattr(value, f.name))]
    if isinstance(value, tuple | list):
        return [n for item in value for n in numbers_in(item)]
    return []


def read_or_refuse(document: dict[str, Any]) -> Settings | None:
    """The settings, or None for a ConfigError that names the file; anything else (a
    traceback instead of a message) fails. Settings read must be usable: no NaN, no
    infinity, no duration past what a clock can add."""
    try:
        read = settings_from_dict(document, path=CONFIG)
    except ConfigError as exc:
        assert str(exc).startswith(f"{CONFIG}: "), str(exc)
        return None
    assert isinstance(read, Settings)
    now = datetime.now(UTC)
    for number in numbers_in(read):
        assert math.isfinite(number), read
        now + timedelta(seconds=number)  # every duration can be waited for
    return read


@pytest.mark.parametrize("where", KEYS, ids=[".".join(k) for k in KEYS])
def test_every_key_takes_any_edge_value_or_names_itself(where: tuple[str, str]) -> None:
    for value in EDGE_VALUES:
        try:
            read_or_refuse(document_with(where, value))
        except Exception as exc:
            raise AssertionError(f"{'.'.join(where)} = {value!r}: {exc!r}") from exc


@settings(PROPERTIES, max_examples=300)
@given(st.sampled_from(KEYS), toml_values)
def test_any_toml_value_at_any_key_gives_settings_or_a_config_error(
    where: tuple[str, str], value: Any
) -> None:
    read_or_refuse(document_with(where, value))


# -- what these properties found, kept as examples -------------------------------------


def test_a_latest_at_the_start_of_time_starts_a_listing_instead_of_overflowing() -> None:
    page = RAW.parse_page(b'{"latest": "0001-01-01T06:00:00Z"}', RAW_REQUEST)
    assert page.marker == "0001-01-01T06:00:00Z"
    assert page.next is not None
    assert ("condition_2", "0001-01-01T00:00:00Z:date_received:gte") in page.next.params
