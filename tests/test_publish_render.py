"""Pure rendering of the site: pages, permalinks, feeds; hostile input stays inert."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import feedparser
import orjson

from watcher.config import DEFAULT_TITLE
from watcher.publish.model import Animation, SiteContent
from watcher.publish.render import PAGE_SIZE, render_site
from watcher.types import Frame, PublishedEntry

T0 = datetime(2026, 8, 30, 20, 0, tzinfo=UTC)
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def frame(i: int, **fields: object) -> Frame:
    values: dict[str, object] = {
        "candidate_id": i,
        "taken_at": T0 + timedelta(minutes=i),
        "thumbnail_url": f"https://mars.nasa.gov/{i}_320.jpg",
        "medium_url": f"https://mars.nasa.gov/{i}_800.jpg",
        "large_url": f"https://mars.nasa.gov/{i}_1200.jpg",
        "full_url": f"https://mars.nasa.gov/{i}.png",
        "width": 1600,
        "height": 1200,
    }
    values.update(fields)
    return Frame(**values)  # type: ignore[arg-type]


def entry(i: int, **fields: object) -> PublishedEntry:
    values: dict[str, object] = {
        "id": i,
        "position": i,
        "heading": f"Heading {i}",
        "body": "Look **left**.",
        "alt_text": f"Alt {i}",
        "credit": "NASA/JPL-Caltech",
        "rendition": "large",
        "frames": (frame(i),),
        "mission": "perseverance",
        "camera": "MCZ_LEFT",
        "sol": 1965,
        "mars_local_time": "15:28:38",
        "taken_at": T0,
        "nasa_page_url": "https://mars.nasa.gov/raw/1",
        "created_at": T0 + timedelta(hours=i),
        "updated_at": T0 + timedelta(hours=i),
    }
    values.update(fields)
    return PublishedEntry(**values)  # type: ignore[arg-type]


def content(*entries: PublishedEntry, **fields: object) -> SiteContent:
    values: dict[str, object] = {
        "title": "Mars, as it happens",
        "intro": "The *best* pictures.",
        "base_url": "https://mars.example.org",
        "entries": entries,
        "edition": 3,
        "updated": T0,
    }
    values.update(fields)
    return SiteContent(**values)  # type: ignore[arg-type]


def test_the_page_shows_credit_picture_paragraph_and_status() -> None:
    files = render_site(
        content(entry(1), notes=("Mars is near solar conjunction.",), subscribe="/subscribe")
    )
    page = files["index.html"].decode()
    assert "Image courtesy of NASA/JPL-Caltech" in page
    assert "Last updated 2026-08-30 20:00 UTC (edition 3)." in page
    assert "Mars is near solar conjunction." in page
    assert "<strong>left</strong>" in page and "<em>best</em>" in page
    img = re.search(r"<img [^>]*>", page)
    assert img is not None
    tag = img.group(0)
    assert 'src="https://mars.nasa.gov/1_800.jpg"' in tag
    assert (
        'srcset="https://mars.nasa.gov/1_800.jpg 800w, https://mars.nasa.gov/1_1200.jpg 1200w"'
        ' sizes="(max-width: 800px) 100vw, 800px"'
    ) in tag
    assert 'width="800" height="600"' in tag and 'alt="Alt 1"' in tag
    assert '<a href="https://mars.nasa.gov/1.png" title="The full-size picture"><img' in page
    assert "Click the image" not in page and "Permalink" not in page  # no line per entry
    assert '<a class="anchor" href="entries/1.html" aria-label="Link to this entry">' in page
    assert page.count("<h1>") == 1 and '<html lang="en">' in page
    assert 'action="/subscribe"' in page and 'name="email"' in page
    assert 'name="website" type="text" value=""' in page
    assert "<script" not in page and "http://" not in page.replace("https://", "")
    assert "sol 1965" in page and "15:28:38 Mars local time" in page
    assert "Mastcam-Z left" in page and "MCZ" not in page  # plain words, not NASA's code
    assert files["site.css"].startswith(b"/*")


def test_the_sign_up_form_is_offered_only_when_email_is_on() -> None:
    quiet = render_site(content(entry(1)))
    for path in ("index.html", "entries/1.html"):
        assert 'action="/subscribe"' not in quiet[path].decode()
        assert 'href="feed.atom"' in quiet[path].decode() or 'feed.atom"' in quiet[path].decode()
    offered = render_site(content(entry(1), subscribe="/subscribe"))
    assert 'action="/subscribe"' in offered["entries/1.html"].decode()


def test_only_the_first_pictures_load_eagerly() -> None:
    page = render_site(content(*(entry(i) for i in range(1, 6))))["index.html"].decode()
    [hero, *tags] = re.findall(r"<img [^>]*>", page)
    assert 'fetchpriority="high"' in hero and "lazy" not in hero
    assert ["lazy" in tag for tag in tags] == [False, False, False, True, True]


def test_script_payloads_in_every_field_render_inert() -> None:
    hostile = entry(
        1,
        heading=XSS,
        body=XSS,
        alt_text='" onload="alert(1)',
        credit=XSS,
        frames=(frame(1, medium_url="javascript:alert(1)", large_url=None, full_url=None),),
    )
    files = render_site(content(hostile, title=XSS, intro=XSS))
    for name in ("index.html", "entries/1.html"):
        page = files[name].decode()
        assert "<script>" not in page and "onerror=alert" not in page.replace(
            "onerror=alert(1)&gt;", ""
        )
        assert "javascript:" not in page
        assert 'alt="&#34; onload=&#34;alert(1)"' in page or "&quot; onload" in page
        assert "&lt;script&gt;" in page
    for feed in ("feed.atom", "feed.json"):
        text = files[feed].decode()
        assert "javascript:" not in text
    parsed = feedparser.parse(files["feed.atom"])
    assert "<script>" not in parsed.entries[0].content[0].value


def test_a_missing_size_or_medium_still_renders_a_picture() -> None:
    bare = entry(1, frames=(frame(1, medium_url=None, width=None, height=None),))
    page = render_site(content(bare))["index.html"].decode()
    tag = re.search(r"<img [^>]*>", page)
    assert tag is not None and 'src="https://mars.nasa.gov/1_1200.jpg"' in tag.group(0)
    # The name says 1200 px: laid out at the column's 800, with no height to guess.
    assert 'width="800"' in tag.group(0) and "height=" not in tag.group(0)
    assert "srcset" not in tag.group(0)


def test_long_lists_are_paginated_with_relative_links() -> None:
    files = render_site(content(*(entry(i) for i in range(1, PAGE_SIZE * 2 + 2))))
    assert {"index.html", "page/2.html", "page/3.html"} <= set(files)
    assert "page/4.html" not in files
    second = files["page/2.html"].decode()
    assert f"<h2>Heading {PAGE_SIZE + 1} <a" in second
    assert f"<h2>Heading {PAGE_SIZE} <a" not in second
    assert 'href="../site.css"' in second and 'rel="prev" href="../index.html"' in second
    assert 'href="../entries/101.html"' in second and "edition 3" not in second
    permalink = files["entries/150.html"].decode()
    assert 'href="../page/2.html#entry-150"' in permalink
    assert len([name for name in files if name.startswith("entries/")]) == PAGE_SIZE * 2 + 1


def test_entry_pages_do_not_change_with_the_edition() -> None:
    one = render_site(content(entry(1), entry(2), edition=3))
    two = render_site(content(entry(1), entry(2), edition=4, updated=T0 + timedelta(days=1)))
    assert one["entries/1.html"] == two["entries/1.html"]
    assert one["index.html"] != two["index.html"]


def test_an_animation_is_a_webp_with_a_gif_fallback() -> None:
    animation = Animation(key="abc", webp=b"WEBP", gif=b"GIF", width=400, height=300, frames=3)
    sequence = entry(1, frames=(frame(1), frame(2)))
    files = render_site(content(sequence, animations={1: animation}))
    page = files["index.html"].decode()
    assert '<source type="image/webp" srcset="animations/abc.webp">' in page
    assert 'src="animations/abc.gif"' in page and 'width="400" height="300"' in page
    assert '<a href="https://mars.nasa.gov/1.png" title' in page  # the first frame, full size
    assert files["animations/abc.webp"] == b"WEBP" and files["animations/abc.gif"] == b"GIF"
    assert 'srcset="../animations/abc.webp"' in files["entries/1.html"].decode()


def test_feeds_hold_the_newest_created_entries_with_stable_ids() -> None:
    entries = [entry(i) for i in range(1, 6)]
    entries[0] = replace(entries[0], created_at=T0 + timedelta(days=9))  # newest, yet first
    files = render_site(content(*entries, feed_items=3, hubs=("https://hub.example/",)))
    atom = feedparser.parse(files["feed.atom"])
    assert not atom.bozo
    assert [e.id for e in atom.entries] == [
        "tag:mars.example.org,2026:entry/1",
        "tag:mars.example.org,2026:entry/5",
        "tag:mars.example.org,2026:entry/4",
    ]
    assert atom.feed.title == "Mars, as it happens"
    assert "Image courtesy of NASA/JPL-Caltech" in atom.entries[0].content[0].value
    document = orjson.loads(files["feed.json"])
    assert [item["id"] for item in document["items"]] == [e.id for e in atom.entries]
    item = document["items"][0]
    assert item["url"] == "https://mars.example.org/entries/1.html"
    assert item["image"] == "https://mars.nasa.gov/1_800.jpg"
    assert item["date_published"].endswith("Z") and item["content_text"] == "Look left."
    assert document["feed_url"] == "https://mars.example.org/feed.json"
    assert document["hubs"] == [{"type": "WebSub", "url": "https://hub.example/"}]
    assert all(
        {"id", "url", "title", "content_html", "date_modified"} <= set(i) for i in document["items"]
    )


def test_without_a_title_the_page_and_both_feeds_show_the_one_default() -> None:
    files = render_site(content(entry(1), title=""))
    assert f"<h1>{DEFAULT_TITLE}</h1>" in files["index.html"].decode()
    assert f"Heading 1 · {DEFAULT_TITLE}" in files["entries/1.html"].decode()
    assert feedparser.parse(files["feed.atom"]).feed.title == DEFAULT_TITLE
    assert orjson.loads(files["feed.json"])["title"] == DEFAULT_TITLE


def test_rendering_is_deterministic() -> None:
    site = content(*(entry(i) for i in range(1, 4)))
    assert render_site(site) == render_site(site)


def img_tags(page: str) -> list[str]:
    return re.findall(r"<img [^>]*>", page)


def test_a_thumbnail_only_entry_is_never_stretched() -> None:
    only = frame(1, medium_url=None, large_url=None, full_url=None)
    files = render_site(content(entry(1, frames=(only,), rendition="full")))
    for path in ("index.html", "entries/1.html"):
        page = files[path].decode()
        [tag] = img_tags(page)
        assert 'src="https://mars.nasa.gov/1_320.jpg"' in tag
        assert 'width="320" height="240"' in tag and "srcset" not in tag
        assert '<a href="https://mars.nasa.gov' not in page
    json_item = orjson.loads(files["feed.json"])["items"][0]
    assert 'width="320"' in json_item["content_html"] and "<a " not in json_item["content_html"]


def test_the_editors_rendition_caps_what_the_page_loads() -> None:
    pages = {
        rendition: render_site(content(entry(1, rendition=rendition)))["index.html"].decode()
        for rendition in ("medium", "large", "full")
    }
    assert "srcset" not in img_tags(pages["medium"])[0]
    assert "1_1200.jpg 1200w" in img_tags(pages["large"])[0]
    assert "1.png 1600w" not in img_tags(pages["large"])[0]
    assert "1.png 1600w" in img_tags(pages["full"])[0]
    assert '<a href="https://mars.nasa.gov/1.png" title' in pages["large"]
    # Showing the full file already: nothing larger to open.
    assert '<a href="https://mars.nasa.gov/1.png"' not in pages["full"]


def test_a_picture_of_unknown_width_claims_no_size_and_is_never_stretched_by_css() -> None:
    library = "https://images-assets.nasa.gov/image/PIA1/PIA1"
    unsized = frame(
        1,
        thumbnail_url=f"{library}~thumb.jpg",
        medium_url=f"{library}~medium.jpg",
        large_url=f"{library}~large.jpg",
        full_url=f"{library}~orig.jpg",
        width=None,
        height=None,
    )
    files = render_site(content(entry(1, frames=(unsized,))))
    [tag] = img_tags(files["index.html"].decode())
    assert f'src="{library}~large.jpg"' in tag
    assert "width=" not in tag and "height=" not in tag and "srcset" not in tag
    css = files["site.css"].decode()
    rule = re.search(r"figure img \{([^}]*)\}", css)
    assert rule is not None
    assert "max-width: 100%" in rule.group(1) and "height: auto" in rule.group(1)
    assert re.search(r"(?<!-)width:\s*100%", rule.group(1)) is None


def test_an_entry_without_a_credit_shows_the_default_credit() -> None:
    files = render_site(content(entry(1, credit="")))
    assert "Image courtesy of NASA</figcaption>" in files["index.html"].decode()
    assert "Image courtesy of NASA</figcaption>" in files["entries/1.html"].decode()
    atom = feedparser.parse(files["feed.atom"])
    assert "Image courtesy of NASA</small>" in atom.entries[0].content[0].value
    assert atom.entries[0].author == "NASA"
    assert orjson.loads(files["feed.json"])["items"][0]["authors"] == [{"name": "NASA"}]


def test_feeds_show_the_pages_picture_and_link_only_to_a_larger_file() -> None:
    files = render_site(content(entry(1)))
    item = orjson.loads(files["feed.json"])["items"][0]
    assert item["image"] == "https://mars.nasa.gov/1_800.jpg"
    assert item["external_url"] == "https://mars.nasa.gov/1.png"
    html = item["content_html"]
    assert (
        '<a href="https://mars.nasa.gov/1.png"><img src="https://mars.nasa.gov/1_800.jpg"' in html
    )
    assert 'width="800" height="600"' in html
