"""RssAdapter against the three real nasa.gov captures and feeds built from their shapes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from watcher.config import SourceConfig
from watcher.exceptions import ParseError, UsageError
from watcher.sources.common import find_images, html_to_text, parse_srcset
from watcher.sources.rss import RssAdapter
from watcher.types import Page, PollState

NASA_HOSTS = ("nasa.gov", "*.nasa.gov")
DEFAULT_KEYWORDS = ("Perseverance", "Ingenuity", "Jezero", "Mars 2020")
WORDPRESS = "nasa_gov_main_feed_wordpress_2024-03-14.rss"
IMAGE_OF_THE_DAY = "nasa_image_of_the_day_2020-02.rss"
BREAKING_NEWS = "nasa_breaking_news_2020-06.rss"
HUBBLE = "Hubble Tracks Jupiter\u2019s Stormy Weather"


def adapter(keywords: tuple[str, ...] = (), **changes: Any) -> RssAdapter:
    values: dict[str, Any] = {
        "name": "nasa_rss",
        "kind": "rss",
        "url": "https://www.nasa.gov/feed/",
        "interval": 3600.0,
        "jitter": 0.0,
        "keywords": keywords,
    }
    values.update(changes)
    return RssAdapter(SourceConfig(**values), NASA_HOSTS)


def parse(data: bytes, keywords: tuple[str, ...] = (), **changes: Any) -> Page:
    a = adapter(keywords, **changes)
    return a.parse_page(data, a.first_request(PollState(source="nasa_rss")))


def feed(*items: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:media="http://search.yahoo.com/mrss/" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        "<channel><title>NASA</title><link>https://www.nasa.gov</link>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def entry(
    guid: str = "https://www.nasa.gov/?p=1",
    title: str = "Perseverance Finds a Rock",
    extra: str = "",
    description: str = "A rock.",
    link: str = "https://www.nasa.gov/image-article/rock/",
) -> str:
    return (
        f"<item><title>{title}</title><link>{link}</link>"
        f'<guid isPermaLink="false">{guid}</guid>'
        "<pubDate>Thu, 14 Mar 2024 14:27:52 +0000</pubDate>"
        f"<description>{description}</description>{extra}</item>"
    )


IMG = '<enclosure url="https://www.nasa.gov/a.jpg" length="1" type="image/jpeg"/>'


# --- the real captures --------------------------------------------------------------


def test_wordpress_feed_images_come_from_the_content_html(nasa_fixtures: Path) -> None:
    page = parse((nasa_fixtures / WORDPRESS).read_bytes())
    assert len(page.candidates) == 8
    assert page.skipped == 1  # "Compact Robot Takes Flight" has no image at all
    assert "no usable image URL" in page.problems[0]
    c = page.candidates[0]
    assert c.title == "Icing Cloud Characterization Engineer Emily Timko"
    assert c.full_url == "https://www.nasa.gov/wp-content/uploads/2024/03/grc-2024-c-01578.jpg"
    assert (
        c.large_url == "https://www.nasa.gov/wp-content/uploads/2024/03/grc-2024-c-01578.jpg?w=2048"
    )
    assert c.thumbnail_url == (
        "https://www.nasa.gov/wp-content/uploads/2024/03/grc-2024-c-01578.jpg?resize=300,200"
    )
    assert c.medium_url is not None and "resize=900,600" in c.medium_url
    assert (c.width, c.height) == (7425, 4949)
    assert (
        c.page_url
        == "https://www.nasa.gov/image-article/icing-cloud-characterization-engineer-emily-timko/"
    )
    assert c.received_at == datetime(2024, 3, 14, 14, 27, 52, tzinfo=UTC)
    assert c.credit is None
    assert page.high_water == "2024-03-14T14:27:52Z"


def test_wordpress_guid_ampersand_is_unescaped(nasa_fixtures: Path) -> None:
    ids = [c.external_id for c in parse((nasa_fixtures / WORDPRESS).read_bytes()).candidates]
    assert ids[0] == "https://www.nasa.gov/?post_type=image-article&p=631537"
    assert "https://www.nasa.gov/?post_type=press-release&p=631366" in ids
    assert not any("&#038;" in i or "&amp;" in i for i in ids)


def test_wordpress_captions_are_plain_text(nasa_fixtures: Path) -> None:
    for c in parse((nasa_fixtures / WORDPRESS).read_bytes()).candidates:
        assert "<" not in c.caption and "&#" not in c.caption and "&nbsp;" not in c.caption
        assert "  " not in c.caption and "\n" not in c.caption
    first = parse((nasa_fixtures / WORDPRESS).read_bytes()).candidates[0]
    assert first.caption.startswith(
        "\u201cIf I knew that I was going to get to where I\u2019m at [today]"
    )
    assert first.caption.endswith("[…]")


def test_wordpress_capture_has_nothing_for_the_default_mars_keywords(nasa_fixtures: Path) -> None:
    page = parse((nasa_fixtures / WORDPRESS).read_bytes(), DEFAULT_KEYWORDS)
    assert page.candidates == ()
    assert page.skipped == 0  # filtered out is not broken


def test_keywords_match_case_insensitively_in_title_summary_or_categories(
    nasa_fixtures: Path,
) -> None:
    data = (nasa_fixtures / WORDPRESS).read_bytes()
    hubble = parse(data, ("JUPITER",))
    assert [c.title for c in hubble.candidates] == [HUBBLE]
    by_category = parse(data, ("planetary environments & atmospheres",))
    assert [c.title for c in by_category.candidates] == [HUBBLE]


def test_image_of_the_day_uses_enclosures_and_named_zone_dates(nasa_fixtures: Path) -> None:
    page = parse((nasa_fixtures / IMAGE_OF_THE_DAY).read_bytes())
    assert len(page.candidates) == 60
    assert page.skipped == 0
    c = page.candidates[0]
    assert c.title == "Northrop Grumman Cargo Mission Awaits Launch"
    assert (
        c.full_url
        == "http://www.nasa.gov/sites/default/files/thumbnails/image/ng-13_on_pad_with_moon.jpg"
    )
    assert c.thumbnail_url is None
    assert c.received_at == datetime(2020, 2, 9, 14, 46, tzinfo=UTC)  # 09:46 EST
    assert (
        c.external_id
        == "http://www.nasa.gov/image-feature/northrop-grumman-cargo-mission-awaits-launch"
    )
    assert page.high_water == "2020-02-09T14:46:00Z"
    second = page.candidates[1]
    assert "Building 9N's Space Vehicle Mockup" in second.caption  # &#039; decoded


def test_breaking_news_mars_2020_item_is_found_and_its_crop_is_a_thumbnail(
    nasa_fixtures: Path,
) -> None:
    page = parse((nasa_fixtures / BREAKING_NEWS).read_bytes(), DEFAULT_KEYWORDS)
    assert len(page.candidates) == 1
    c = page.candidates[0]
    assert c.title == "NASA to Hold Mars 2020 Perseverance Rover Launch Briefing"
    assert c.mission == "perseverance"
    assert c.thumbnail_url == (
        "http://www.nasa.gov/sites/default/files/styles/1x1_cardfeed/public/thumbnails/image/"
        "2020_rover_name_plate-1080_0.png?itok=sJNPzlao"
    )
    assert c.full_url == (
        "http://www.nasa.gov/sites/default/files/thumbnails/image/2020_rover_name_plate-1080_0.png"
    )
    assert c.received_at == datetime(2020, 6, 15, 18, 42, tzinfo=UTC)  # 14:42 EDT
    assert c.raw["dc_identifier"] == "461930"


def test_breaking_news_crops_are_never_taken_for_full_images(nasa_fixtures: Path) -> None:
    page = parse((nasa_fixtures / BREAKING_NEWS).read_bytes())
    assert len(page.candidates) == 10
    for c in page.candidates:
        assert c.thumbnail_url is not None and "/styles/1x1_cardfeed/" in c.thumbnail_url
        assert c.full_url is not None and "/styles/" not in c.full_url


def test_raw_is_plain_json_for_every_capture(nasa_fixtures: Path) -> None:
    for name in (WORDPRESS, IMAGE_OF_THE_DAY, BREAKING_NEWS):
        for c in parse((nasa_fixtures / name).read_bytes()).candidates:
            assert orjson.loads(orjson.dumps(c.raw)) == c.raw
            assert type(c.raw) is dict
            assert isinstance(c.raw["published_parsed"], str)


def test_renormalising_raw_gives_the_same_candidate(nasa_fixtures: Path) -> None:
    a = adapter()
    for name in (WORDPRESS, IMAGE_OF_THE_DAY, BREAKING_NEWS):
        page = a.parse_page(
            (nasa_fixtures / name).read_bytes(), a.first_request(PollState(source="x"))
        )
        for c in page.candidates:
            assert a.normalise(orjson.loads(orjson.dumps(c.raw))) == c


# --- requests -----------------------------------------------------------------------


def test_the_feed_is_one_conditional_request_and_one_page() -> None:
    a = adapter()
    request = a.first_request(PollState(source="nasa_rss", cursor="2024-01-01T00:00:00Z"))
    assert request.url == "https://www.nasa.gov/feed/"
    assert request.params == ()
    assert request.conditional is True
    page = a.parse_page(feed(entry(extra=IMG)), request)
    assert page.next is None
    assert page.stop_when_all_known is False


def test_rss_cannot_backfill() -> None:
    with pytest.raises(UsageError, match="latest items"):
        adapter().backfill_request(None, None)
    with pytest.raises(UsageError):
        adapter().backfill_request(1, 2)


# --- synthetic entries --------------------------------------------------------------


def test_media_content_thumbnail_and_credit_are_used() -> None:
    media = (
        '<media:content url="https://www.nasa.gov/full.jpg" medium="image" width="4000" '
        'height="3000"><media:credit role="author">NASA/JPL-Caltech/ASU</media:credit>'
        '</media:content><media:thumbnail url="https://www.nasa.gov/thumb.jpg"/>'
    )
    c = parse(feed(entry(extra=media))).candidates[0]
    assert c.full_url == "https://www.nasa.gov/full.jpg"
    assert c.thumbnail_url == "https://www.nasa.gov/thumb.jpg"
    assert (c.width, c.height) == (4000, 3000)
    assert c.credit == "NASA/JPL-Caltech/ASU"


def test_media_thumbnail_alone_is_only_a_thumbnail() -> None:
    c = parse(feed(entry(extra='<media:thumbnail url="https://www.nasa.gov/t.jpg"/>'))).candidates[
        0
    ]
    assert c.thumbnail_url == "https://www.nasa.gov/t.jpg"
    assert c.full_url is None
    assert c.image_url == "https://www.nasa.gov/t.jpg"


def test_non_image_enclosures_are_ignored() -> None:
    audio = '<enclosure url="https://www.nasa.gov/a.mp3" length="1" type="audio/mpeg"/>'
    page = parse(feed(entry(extra=audio)))
    assert page.candidates == () and page.skipped == 1
    untyped = '<enclosure url="https://www.nasa.gov/pic.JPG?x=1" length="1" type=""/>'
    assert (
        parse(feed(entry(extra=untyped))).candidates[0].full_url
        == "https://www.nasa.gov/pic.JPG?x=1"
    )


def test_first_usable_img_of_the_summary_is_taken_and_relative_urls_resolved() -> None:
    html = (
        "&lt;p&gt;&lt;img src='javascript:alert(1)'&gt;&lt;img src='https://evil.example/x.jpg'&gt;"
        "&lt;img src='/wp-content/b.jpg' width='800' height='600'&gt;Text&lt;/p&gt;"
    )
    c = parse(feed(entry(description=html))).candidates[0]
    assert c.full_url == "https://www.nasa.gov/wp-content/b.jpg"
    assert (c.width, c.height) == (800, 600)
    assert c.caption == "Text"


def test_content_encoded_images_win_over_summary_images() -> None:
    content = (
        '<content:encoded><![CDATA[<p>x</p><img src="https://www.nasa.gov/c.jpg" '
        'srcset="https://www.nasa.gov/c.jpg?resize=300,200 300w, https://www.nasa.gov/c.jpg 3000w">'
        "]]></content:encoded>"
    )
    summary = "&lt;img src='https://www.nasa.gov/s.jpg'&gt;"
    c = parse(feed(entry(description=summary, extra=content))).candidates[0]
    assert c.full_url == "https://www.nasa.gov/c.jpg"
    assert c.thumbnail_url == "https://www.nasa.gov/c.jpg?resize=300,200"


def test_keywords_also_match_inside_content_only() -> None:
    content = "<content:encoded><![CDATA[<p>Data from Jezero crater</p>]]></content:encoded>"
    page = parse(feed(entry(title="Rocks", extra=IMG + content)), DEFAULT_KEYWORDS)
    assert len(page.candidates) == 1
    assert page.candidates[0].mission == "perseverance"


def test_non_matching_entries_are_filtered_not_skipped() -> None:
    page = parse(feed(entry(title="Moon rocks", extra=IMG), entry(title="Mars rocks")), ("moon",))
    assert [c.title for c in page.candidates] == ["Moon rocks"]
    assert page.skipped == 0 and page.problems == ()


def test_guid_falls_back_to_link_and_entries_without_either_are_skipped() -> None:
    no_guid = f"<item><title>T</title><link>https://www.nasa.gov/x/</link>{IMG}</item>"
    nothing = f"<item><title>T</title>{IMG}</item>"
    page = parse(feed(no_guid, nothing))
    assert [c.external_id for c in page.candidates] == ["https://www.nasa.gov/x/"]
    assert page.skipped == 1


def test_titles_and_captions_are_plain_text() -> None:
    description = (
        "&lt;p&gt;Rocks &amp;amp; &lt;b&gt;dust&lt;/b&gt;"
        "&lt;script&gt;x()&lt;/script&gt;\n\n  more&lt;/p&gt;"
    )
    c = parse(feed(entry(title="A &amp;amp; B", description=description, extra=IMG))).candidates[0]
    assert c.caption == "Rocks & dust more"
    assert c.title == "A & B"


def test_configured_mission_wins() -> None:
    page = parse(feed(entry(extra=IMG)), mission="ingenuity")
    assert page.candidates[0].mission == "ingenuity"


def test_atom_feeds_work_too() -> None:
    atom = (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>JPL</title>'
        b"<entry><id>tag:jpl,2024:1</id><title>Ingenuity</title>"
        b'<link rel="alternate" href="https://www.jpl.nasa.gov/news/1"/>'
        b'<link rel="enclosure" type="image/jpeg" href="https://www.jpl.nasa.gov/1.jpg"/>'
        b"<updated>2024-01-25T12:00:00-08:00</updated>"
        b"<summary>Last flight.</summary></entry></feed>"
    )
    page = parse(atom)
    c = page.candidates[0]
    assert c.external_id == "tag:jpl,2024:1"
    assert c.mission == "ingenuity"
    assert c.received_at == datetime(2024, 1, 25, 20, 0, tzinfo=UTC)
    assert page.high_water == "2024-01-25T20:00:00Z"


def test_an_empty_valid_feed_is_an_empty_page() -> None:
    page = parse(feed())
    assert page.candidates == () and page.next is None


def test_a_truncated_feed_keeps_the_entries_it_has_and_says_so() -> None:
    data = feed(entry(extra=IMG), entry(guid="2", extra=IMG))[:-40]
    page = parse(data)
    assert len(page.candidates) >= 1
    assert any("not well-formed" in p for p in page.problems)


@pytest.mark.parametrize(
    "data",
    [
        b"<!DOCTYPE html><html><head><title>503</title></head><body><h1>Down</h1></body></html>",
        b"",
        b'{"images": []}',
        b"\x00\xff\xfe garbage",
        b'<rss version="2.0"><channel><title>cut off',
        b"https://www.nasa.gov/feed/",
        b"/etc/hostname",
    ],
)
def test_bodies_without_a_feed_raise_parse_error(data: bytes) -> None:
    with pytest.raises(ParseError, match="not an RSS or Atom feed"):
        parse(data)


def test_external_entities_are_not_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    data = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<rss version="2.0"><channel><title>t</title>'
        f"{entry(title='&x;', extra=IMG)}</channel></rss>"
    ).encode()
    try:
        page = parse(data)
    except ParseError:
        return
    assert all("TOP-SECRET" not in orjson.dumps(c.raw).decode() for c in page.candidates)


# --- HTML helpers -------------------------------------------------------------------


def test_srcset_urls_may_contain_commas() -> None:
    value = (
        "https://a.gov/x.jpg 7425w, https://a.gov/x.jpg?resize=300,200 300w,https://a.gov/y.jpg 2x"
    )
    assert parse_srcset(value) == (
        ("https://a.gov/x.jpg", 7425),
        ("https://a.gov/x.jpg?resize=300,200", 300),
        ("https://a.gov/y.jpg", None),
    )
    assert parse_srcset(" , ,") == ()


def test_find_images_reads_src_srcset_and_numeric_sizes() -> None:
    images = find_images(
        '<p><img data-src="/lazy.jpg" width="10px"><IMG SRC="/b.jpg" height="5"/></p>'
    )
    assert [(i.src, i.width, i.height) for i in images] == [
        ("/lazy.jpg", None, None),
        ("/b.jpg", None, 5),
    ]


def test_html_to_text_drops_tags_scripts_and_collapses_space() -> None:
    assert html_to_text("<div>a<br>b</div><style>p{}</style><p>c&amp;d&#8230;</p>") == "a b c&d…"
    assert html_to_text("plain\n\ttext") == "plain text"
    assert html_to_text("a < b, <b>bold") == "a < b, bold"
    assert html_to_text("<![if x]>hi&#xffffffff;") == "hi\ufffd"
