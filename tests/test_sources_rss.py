"""RssAdapter against the three real nasa.gov captures and feeds built from their shapes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from watcher.config import SourceConfig
from watcher.demo import feed_bytes
from watcher.exceptions import ParseError, UsageError
from watcher.polling.sources.credits import fallback_credit
from watcher.polling.sources.html import find_images, html_to_text, parse_srcset, read_html
from watcher.polling.sources.rss import RssAdapter
from watcher.types import Page, PollState

NASA_HOSTS = ("nasa.gov", "*.nasa.gov")
DEFAULT_KEYWORDS = ("Perseverance", "Ingenuity", "Jezero", "Mars 2020")
WORDPRESS = "nasa_gov_main_feed_wordpress_2024-03-14.rss"
IMAGE_OF_THE_DAY = "nasa_image_of_the_day_2020-02.rss"
BREAKING_NEWS = "nasa_breaking_news_2020-06.rss"
HUBBLE = "Hubble Tracks Jupiter\u2019s Stormy Weather"
PRESS_RELEASE = "https://www.nasa.gov/?post_type=press-release&p=631366"
ARMSTRONG = "NASA Armstrong Updates 1960s Concept to Study Giant Planets"


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


def content(html: str) -> str:
    return f"<content:encoded><![CDATA[{html}]]></content:encoded>"


def picture(html: str, **changes: Any) -> Any:
    """The one candidate of a feed whose only item has ``html`` as its content."""
    page = parse(feed(entry(extra=content(html))), **changes)
    assert page.skipped == 0, page.problems
    (candidate,) = page.candidates
    return candidate


def picture_of(extra: str, description: str = "A rock.") -> Any:
    """The one candidate of a feed whose only item carries ``extra``."""
    (candidate,) = parse(feed(entry(extra=extra, description=description))).candidates
    return candidate


def by_title(page: Page) -> dict[str, Any]:
    return {c.title: c for c in page.candidates}


# --- the real captures --------------------------------------------------------------


def test_wordpress_feed_images_come_from_the_content_html(nasa_fixtures: Path) -> None:
    page = parse((nasa_fixtures / WORDPRESS).read_bytes())
    assert len(page.candidates) == 7
    assert page.skipped == 2  # "Compact Robot Takes Flight" has no image; see the logo test
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
    assert c.credit == "NASA/Quentin Schwinn"
    assert page.high_water == "2024-03-14T14:27:52Z"


def test_wordpress_guid_ampersand_is_unescaped(nasa_fixtures: Path) -> None:
    ids = [c.external_id for c in parse((nasa_fixtures / WORDPRESS).read_bytes()).candidates]
    assert ids[0] == "https://www.nasa.gov/?post_type=image-article&p=631537"
    assert "https://www.nasa.gov/?post_type=image-article&p=631278" in ids
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


def test_the_nasa_logo_is_never_the_lead_picture(nasa_fixtures: Path) -> None:
    # The press release's only <img> is nasa_meatball_1_2.jpeg (985x554, in the post's
    # figure): no picture to queue, so the item is skipped and says why.
    page = parse((nasa_fixtures / WORDPRESS).read_bytes())
    assert PRESS_RELEASE not in [c.external_id for c in page.candidates]
    assert any(PRESS_RELEASE in p and "only logos" in p for p in page.problems)
    for c in page.candidates:
        urls = (c.full_url, c.large_url, c.medium_url, c.thumbnail_url)
        assert not any("meatball" in (u or "") for u in urls)


def test_wordpress_lead_picture_is_the_posts_own_not_a_related_card(nasa_fixtures: Path) -> None:
    # Hubble and Lunar Instrumentation end with "related" cards (images inside links to other
    # articles); some are larger than the lead (a 1536x1536 Jupiter, a 1536x864 card).
    page = by_title(parse((nasa_fixtures / WORDPRESS).read_bytes()))
    assert page[HUBBLE].full_url == (
        "https://smd-cms.nasa.gov/wp-content/uploads/2024/03/"
        "hubble-jupiter-jan2024-stsci-01hpmmg9ft9f6s1n7pdevpa8h0.png"
    )
    lunar = page["NASA Awards Grants for Lunar Instrumentation"]
    assert lunar.full_url == "https://smd-cms.nasa.gov/wp-content/uploads/2024/03/dali-grantees.png"
    assert (lunar.width, lunar.height) == (3112, 701)
    # Armstrong has five post figures (then a theme placeholder and cards): the first of the
    # widest, not the 1041-wide second one.
    assert page[ARMSTRONG].full_url is not None
    assert "/AFRC2023-0193-47~large.jpg" in page[ARMSTRONG].full_url


def test_face_crops_are_never_the_full_size_file(nasa_fixtures: Path) -> None:
    page = by_title(parse((nasa_fixtures / WORDPRESS).read_bytes()))
    armstrong = page[ARMSTRONG]
    # Every srcset entry of its lead is "...&fit=crop&crop=faces%2Cfocalpoint": the full file
    # is the src, which only scales ("fit=clip").
    assert armstrong.full_url == (
        "https://images-assets.nasa.gov/image/AFRC2023-0193-47/AFRC2023-0193-47~large.jpg"
        "?w=1920&h=1280&fit=clip&crop=faces%2Cfocalpoint"
    )
    assert (armstrong.width, armstrong.height) == (1920, 1280)
    assert armstrong.large_url is None and armstrong.medium_url is None
    assert armstrong.thumbnail_url is not None and "fit=crop" in armstrong.thumbnail_url
    for c in page.values():
        assert not any("fit=crop" in (u or "") for u in (c.full_url, c.large_url, c.medium_url))


def test_wordpress_credits_are_the_posts_own_words(nasa_fixtures: Path) -> None:
    credits = {
        title: c.credit
        for title, c in by_title(parse((nasa_fixtures / WORDPRESS).read_bytes())).items()
    }
    assert credits == {
        # "Image Credit: NASA/Quentin Schwinn<br>Interviewer: NASA/Thalia Patrinos"
        "Icing Cloud Characterization Engineer Emily Timko": "NASA/Quentin Schwinn",
        # the hds-credits element under the lead, not the video's later "Credit:" lines
        HUBBLE: "NASA, ESA, STScI, Amy Simon (NASA-GSFC)",
        "Apollo 9 Crew Comes Home": "NASA",
        ARMSTRONG: "NASA/Steve Freeman",
        "Evolved Adapter for Future NASA SLS Flights Readied for Testing": "NASA/Sam Lott",
        # no credit in these posts (the "credits-and-details" block is share links and tags)
        "NASA Awards Grants for Lunar Instrumentation": fallback_credit("rss"),
        "8 Must-Have NASA Resources for Science Teachers in 2024": fallback_credit("rss"),
    }


def test_packaged_wordpress_copy_gives_the_same_pictures_and_credits() -> None:
    page = parse(feed_bytes(WORDPRESS))
    assert [c.credit for c in page.candidates][:2] == [
        "NASA/Quentin Schwinn",
        "NASA, ESA, STScI, Amy Simon (NASA-GSFC)",
    ]
    assert not any("meatball" in (c.image_url or "") for c in page.candidates)


def test_old_feeds_without_credit_lines_are_credited_to_the_fallback(nasa_fixtures: Path) -> None:
    for name in (IMAGE_OF_THE_DAY, BREAKING_NEWS):
        candidates = parse((nasa_fixtures / name).read_bytes()).candidates
        assert candidates and {c.credit for c in candidates} == {"NASA"}


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


# --- the lead picture ---------------------------------------------------------------

ROVER = "https://www.nasa.gov/wp-content/uploads/2024/03/rover.jpg"
PHOTO = f'<img src="{ROVER}" width="2048" height="1536">'


@pytest.mark.parametrize(
    "logo",
    [
        '<img src="https://www.nasa.gov/wp-content/uploads/2023/05/nasa_meatball_1_2.jpeg?w=985" '
        'width="985" height="554">',
        '<img src="https://www.nasa.gov/uploads/NASA-Logo.png" width="1200" height="1000">',
        '<img src="https://www.nasa.gov/uploads/nasalogo.png">',
        '<img src="https://www.nasa.gov/images/icons/rss.png">',
        '<img src="https://www.nasa.gov/avatar/ab12cd.jpg?s=96">',
        '<img class="avatar avatar-96 photo" src="https://www.nasa.gov/u/jane.jpg">',
        '<img class="emoji" src="https://www.nasa.gov/images/core/1f680.png" alt="rocket">',
        '<img class="wp-smiley" src="https://www.nasa.gov/s/smile.png">',
        '<img src="https://www.nasa.gov/wp-content/themes/nasa/assets/images/default-thumbnail.jpg">',
        '<img src="https://www.nasa.gov/assets/worm.svg" width="800" height="600">',
    ],
)
def test_logos_icons_avatars_and_emoji_are_never_the_lead_picture(logo: str) -> None:
    c = picture(f'<figure class="wp-block-image">{logo}</figure><p>Text</p>{PHOTO}')
    assert c.full_url == ROVER


@pytest.mark.parametrize(
    "tiny",
    [
        '<img src="https://www.nasa.gov/t.gif?u=1" width="1" height="1">',
        '<img src="https://www.nasa.gov/pixel.gif">',
        '<img src="https://www.nasa.gov/uploads/badge.png" width="150" height="150">',
        '<img src="https://www.nasa.gov/uploads/strip.jpg" width="1200" height="120">',
    ],
)
def test_tiny_images_and_tracking_pixels_are_never_the_lead_picture(tiny: str) -> None:
    assert picture(f"{tiny}<p>Text</p>{PHOTO}").full_url == ROVER


def test_a_small_src_with_a_large_srcset_is_a_picture() -> None:
    c = picture(
        '<img src="https://www.nasa.gov/u/r.jpg?resize=150,150" width="150" height="150" '
        'srcset="https://www.nasa.gov/u/r.jpg 4000w, '
        'https://www.nasa.gov/u/r.jpg?resize=150,150 150w">'
    )
    assert c.full_url == "https://www.nasa.gov/u/r.jpg"
    assert (c.width, c.height) == (4000, 4000)


def test_an_item_with_only_a_logo_is_skipped_and_says_why() -> None:
    logo = '<img src="https://www.nasa.gov/uploads/nasa_meatball.jpeg" width="985" height="554">'
    page = parse(feed(entry(extra=content(logo))))
    assert page.candidates == () and page.skipped == 1
    assert "only logos, icons or tiny images" in page.problems[0]


def test_a_logo_enclosure_or_media_content_is_not_the_picture() -> None:
    logo = '<enclosure url="https://www.nasa.gov/nasa-logo.jpg" length="1" type="image/jpeg"/>'
    assert picture_of(logo + content(PHOTO)).full_url == ROVER
    media = (
        '<media:content url="https://www.nasa.gov/icon.png" medium="image" width="64" height="64"/>'
    )
    assert picture_of(media + content(PHOTO)).full_url == ROVER


def test_the_widest_media_content_picture_is_taken() -> None:
    media = "".join(
        f'<media:content url="https://www.nasa.gov/{name}.jpg" medium="image" width="{w}"/>'
        for name, w in (("small", 640), ("big", 4000), ("mid", 1600), ("same", 4000))
    )
    c = picture_of(media)
    assert (c.full_url, c.width) == ("https://www.nasa.gov/big.jpg", 4000)


def test_a_featured_image_wins_over_an_earlier_image() -> None:
    html = (
        '<img src="https://www.nasa.gov/u/first.jpg" width="3000" height="2000">'
        '<img class="attachment-large size-large wp-post-image" '
        'src="https://www.nasa.gov/u/featured.jpg" width="1024" height="768">'
    )
    assert picture(html).full_url == "https://www.nasa.gov/u/featured.jpg"


def test_fetchpriority_high_marks_the_lead_over_a_wider_post_image() -> None:
    html = (
        '<img class="attachment-2048x2048" src="https://www.nasa.gov/u/a.jpg" width="900">'
        '<img class="attachment-2048x2048" fetchpriority="high" '
        'src="https://www.nasa.gov/u/lead.jpg" width="800">'
    )
    assert picture(html).full_url == "https://www.nasa.gov/u/lead.jpg"


def test_the_first_figure_image_wins_over_a_loose_image_before_it() -> None:
    html = (
        '<p><img src="https://www.nasa.gov/u/inline.jpg" width="3000"></p>'
        '<figure><img src="https://www.nasa.gov/u/figure.jpg" width="1000"></figure>'
        '<figure><img src="https://www.nasa.gov/u/second.jpg" width="4000"></figure>'
    )
    assert picture(html).full_url == "https://www.nasa.gov/u/figure.jpg"


def test_among_equally_marked_images_the_wider_wins() -> None:
    html = (
        '<img class="wp-image-1" src="https://www.nasa.gov/u/narrow.jpg" width="1000">'
        '<img class="wp-image-2" src="https://www.nasa.gov/u/wide.jpg" width="3000">'
        '<img class="wp-image-3" src="https://www.nasa.gov/u/also-wide.jpg" width="3000">'
    )
    assert picture(html).full_url == "https://www.nasa.gov/u/wide.jpg"


def test_among_unmarked_images_the_first_wins() -> None:
    html = (
        '<img src="https://www.nasa.gov/u/first.jpg" width="1000">'
        '<img src="https://www.nasa.gov/u/wider.jpg" width="3000">'
    )
    assert picture(html).full_url == "https://www.nasa.gov/u/first.jpg"


def test_a_card_linking_to_another_article_loses_to_the_posts_own_picture() -> None:
    card = (
        '<a href="https://science.nasa.gov/other-article/"><figure class="hds-media-background">'
        '<img class="attachment-1536x1536" fetchpriority="high" '
        'src="https://www.nasa.gov/u/card.jpg" width="1536"></figure></a>'
    )
    own = '<img src="https://www.nasa.gov/u/own.jpg" width="800">'
    assert picture(card + own).full_url == "https://www.nasa.gov/u/own.jpg"
    # a link to the picture's own file, or to the item itself, is no card
    for link in ("https://www.nasa.gov/u/own-full.jpg", "https://www.nasa.gov/image-article/rock"):
        linked = f'<a href="{link}"><img src="https://www.nasa.gov/u/linked.jpg" width="800"></a>'
        assert picture(linked + own).full_url == "https://www.nasa.gov/u/linked.jpg"


def test_a_card_is_still_the_picture_when_the_item_has_no_other() -> None:
    card = '<a href="/other/"><img src="https://www.nasa.gov/u/card.jpg" width="800"></a>'
    assert picture(card).full_url == "https://www.nasa.gov/u/card.jpg"


# --- crops --------------------------------------------------------------------------

FACES = "fit=crop&amp;crop=faces%2Cfocalpoint"


def test_a_face_crop_srcset_entry_is_never_full_large_or_medium() -> None:
    c = picture(
        '<img src="https://www.nasa.gov/u/x.jpg?w=1024" width="1024" height="683" srcset="'
        f"https://www.nasa.gov/u/x.jpg?w=4000&amp;h=2667&amp;{FACES} 4000w, "
        f"https://www.nasa.gov/u/x.jpg?w=1200&amp;h=800&amp;{FACES} 1200w, "
        'https://www.nasa.gov/u/x.jpg?w=300 300w">'
    )
    assert c.full_url == "https://www.nasa.gov/u/x.jpg?w=1024"
    assert c.large_url is None and c.medium_url is None
    assert c.thumbnail_url == "https://www.nasa.gov/u/x.jpg?w=300"
    assert (c.width, c.height) == (1024, 683)


def test_the_widest_uncropped_srcset_entry_is_the_full_file() -> None:
    c = picture(
        '<img src="https://www.nasa.gov/u/y.jpg?w=1024" width="1024" height="512" srcset="'
        "https://www.nasa.gov/u/y.jpg?crop=faces&amp;w=5000 5000w, "
        "https://www.nasa.gov/u/y.jpg 3000w, https://www.nasa.gov/u/y.jpg?crop=1 2000w, "
        'https://www.nasa.gov/u/y.jpg?resize=900,450 900w">'
    )
    assert c.full_url == "https://www.nasa.gov/u/y.jpg"
    assert c.large_url == "https://www.nasa.gov/u/y.jpg?w=1024"
    assert c.medium_url == "https://www.nasa.gov/u/y.jpg?resize=900,450"
    assert (c.width, c.height) == (3000, 1500)


def test_a_crop_is_only_a_thumbnail_when_nothing_else_exists() -> None:
    c = picture(
        '<img src="https://www.nasa.gov/u/z.jpg?w=600&amp;h=600&amp;crop=faces" '
        f'width="600" height="600" srcset="https://www.nasa.gov/u/z.jpg?w=400&amp;{FACES} 400w">'
    )
    assert c.full_url is None and c.large_url is None and c.medium_url is None
    assert c.thumbnail_url == "https://www.nasa.gov/u/z.jpg?w=400&fit=crop&crop=faces%2Cfocalpoint"
    assert c.image_url == c.thumbnail_url
    assert (c.width, c.height) == (None, None)


def test_a_src_that_only_scales_is_no_crop() -> None:
    src = "https://images-assets.nasa.gov/image/A/A~large.jpg?w=1920&amp;fit=clip&amp;crop=faces"
    c = picture(f'<img src="{src}" width="1920" height="1280">')
    assert c.full_url == src.replace("&amp;", "&")


# --- credits ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "html",
    [
        "<p>A rock.</p><p>Image credit: NASA/JPL-Caltech/ASU</p><p>The rover drove on.</p>",
        "<p><em>Image Credit: NASA/JPL-Caltech/ASU<br>Interviewer: NASA/Jane Doe</em></p>",
        "<ul><li>Credit: NASA/JPL-Caltech/ASU</li><li>Location: Jezero</li></ul>",
        "<figcaption>A rock.<div>Credits: NASA/JPL-Caltech/ASU</div>More words</figcaption>",
        '<figcaption><div class="hds-credits">NASA/JPL-Caltech/ASU</div></figcaption>',
        '<p>A rock (<span class="media-credit">Credit: NASA/JPL-Caltech/ASU</span>) here</p>',
    ],
)
def test_the_credit_line_of_the_item_is_its_credit_and_ends_with_its_block(html: str) -> None:
    assert picture(PHOTO + html).credit == "NASA/JPL-Caltech/ASU"


def test_the_credit_under_the_lead_picture_wins_over_later_ones() -> None:
    html = (
        f'<figure>{PHOTO}</figure><figcaption><div class="hds-credits">NASA/JPL-Caltech/MSSS'
        "</div></figcaption><p>Video. Credit: NASA/Goddard</p>"
        '<img src="https://www.nasa.gov/u/b.jpg"><p>Credit: NASA/Bill Ingalls</p>'
    )
    c = picture(html)
    assert (c.full_url, c.credit) == (ROVER, "NASA/JPL-Caltech/MSSS")


def test_the_credit_is_the_lead_pictures_not_that_of_a_logo_before_it() -> None:
    html = (
        '<figure><img src="https://www.nasa.gov/u/nasa_meatball.jpeg" width="985"></figure>'
        '<figcaption><div class="hds-credits">Credits: NASA</div></figcaption>'
        f"<p>News.</p><figure>{PHOTO}<figcaption>A rock. Credit: NASA/JPL-Caltech</figcaption>"
        "</figure>"
    )
    c = picture(html)
    assert (c.full_url, c.credit) == (ROVER, "NASA/JPL-Caltech")


def test_a_credit_before_the_lead_picture_is_still_the_items_own() -> None:
    assert picture(f"<p>Credit: NASA/JPL-Caltech</p>{PHOTO}").credit == "NASA/JPL-Caltech"


def test_media_credit_wins_over_the_html() -> None:
    media = (
        '<media:content url="https://www.nasa.gov/full.jpg" medium="image">'
        '<media:credit role="author">NASA/JPL-Caltech/ASU</media:credit></media:content>'
    )
    c = picture_of(media + content("<p>Credit: NASA/Someone Else</p>"))
    assert c.credit == "NASA/JPL-Caltech/ASU"


def test_a_credit_line_of_the_summary_is_used() -> None:
    c = picture_of(IMG, description="A rock in Jezero. Credit: NASA/JPL-Caltech/MSSS")
    assert c.credit == "NASA/JPL-Caltech/MSSS"
    assert c.caption == "A rock in Jezero. Credit: NASA/JPL-Caltech/MSSS"


def test_an_item_that_names_no_one_gets_the_fallback_credit() -> None:
    assert picture_of(IMG).credit == fallback_credit("rss") == "NASA"
    details = (
        '<div class="wp-block-nasa-blocks-credits-and-details"><h2>Share</h2>'
        "<p>Last Updated Mar 13, 2024</p></div>"
    )
    assert picture(PHOTO + details).credit == "NASA"
    long = '<div class="hds-credits">' + "Many words. " * 30 + "</div>"
    assert picture(PHOTO + long).credit == "NASA"


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


def test_read_html_gives_one_line_per_block_element() -> None:
    html = read_html("<p>a<br>b</p><ul><li>c</li></ul>text <b>bold</b><div>Credit: X</div>tail")
    assert html.lines == ("a", "b", "c", "text bold", "Credit: X", "tail")
    assert read_html("").lines == () and read_html("plain\n text").lines == ("plain text",)


def test_read_html_notes_what_marks_an_image_and_where_it_stands() -> None:
    html = read_html(
        '<p>Intro</p><a href="/other/"><figure><img src="/a.jpg" class="Attachment-Large x" '
        'fetchpriority="HIGH"></figure></a><p>Caption</p><img src="/b.jpg">'
    )
    first, second = html.images
    assert first.classes == ("attachment-large", "x")
    assert first.priority and first.in_figure and first.link == "/other/"
    assert not second.priority and not second.in_figure and second.link is None
    assert (html.lines[first.line], first.line, second.line) == ("Caption", 1, 2)


def test_read_html_finds_credits_elements_but_not_nasas_credits_and_details_block() -> None:
    html = read_html(
        '<p>A</p><div class="hds-credits">NASA/<b>JPL</b></div>'
        '<p>B <span class="media-credit">ESA</span> C</p>'
        '<div class="wp-block-nasa-blocks-credits-and-details"><p>Share</p></div>'
    )
    assert html.credits == ((1, "NASA/JPL"), (3, "ESA"))
    assert html.lines == ("A", "NASA/JPL", "B", "ESA", "C", "Share")


def test_read_html_keeps_a_credits_element_left_open() -> None:
    assert read_html('<p>A</p><div class="credits">NASA/JPL').credits == ((1, "NASA/JPL"),)
    assert read_html('<img class="credit" src="/a.jpg"><p class="credit">B</p>').credits == (
        (0, "B"),
    )
