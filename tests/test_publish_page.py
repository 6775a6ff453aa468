"""The public page as readers and link previews see it: the hero, each entry's parts, the
share card (Open Graph, Twitter), the sign-up form's place, the icon; rendered, not served."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from watcher.publish.model import Animation
from watcher.publish.render import PAGE_SIZE, render_site

from .test_publish_render import T0, content, entry, frame

PUBLIC = "https://mars.example.org"


def metas(page: str) -> dict[str, str]:
    """The page's ``<meta property|name=... content=...>`` tags by name."""
    found = re.findall(r'<meta (?:property|name)="([^"]+)" content="([^"]*)">', page)
    return dict(found)


def main_part(page: str) -> str:
    return page.split('<main id="main">', 1)[1].split("</main>", 1)[0]


def test_the_newest_addition_leads_the_list_as_its_hero() -> None:
    entries = [entry(i) for i in range(1, 4)]  # created an hour apart: 3 is the newest
    page = render_site(content(*entries))["index.html"].decode()
    main = main_part(page)
    hero = re.search(r'<figure class="hero">(.*?)</figure>', main, re.S)
    assert hero is not None and main.index('<figure class="hero">') < main.index("<article")
    assert '<a href="entries/3.html"><img src="https://mars.nasa.gov/3_1200.jpg"' in hero[1]
    assert 'fetchpriority="high"' in hero[1] and 'width="1200" height="900"' in hero[1]
    assert ">Heading 3</a>" in hero[1] and "Image courtesy of NASA/JPL-Caltech" in hero[1]
    assert "Look" not in hero[1]  # the picture and its credit, not the whole article
    later = render_site(content(*(entry(i) for i in range(1, PAGE_SIZE + 3))))
    assert 'class="hero"' not in later["page/2.html"].decode()


def test_no_hero_when_the_newest_entry_already_opens_the_list() -> None:
    first = entry(1, created_at=T0 + timedelta(days=9))
    page = render_site(content(first, entry(2)))["index.html"].decode()
    assert 'class="hero"' not in page
    assert 'class="hero"' not in render_site(content())["index.html"].decode()


def test_each_entry_is_heading_linked_picture_credit_and_words_without_repeated_lines() -> None:
    page = render_site(content(entry(1), entry(2)))["index.html"].decode()
    articles = re.findall(r"<article .*?</article>", page, re.S)
    assert len(articles) == 2
    for number, article in enumerate(articles, start=1):
        heading = article.index("<h2>")
        picture = article.index(f'<a href="https://mars.nasa.gov/{number}.png"')
        credit = article.index("<figcaption>Image courtesy of NASA/JPL-Caltech</figcaption>")
        words = article.index("<p>Look <strong>left</strong>.</p>")
        assert heading < picture < credit < words
        anchor = f'<a class="anchor" href="entries/{number}.html" aria-label="Link to this entry">'
        assert anchor in article
    for line in ("Click the image", "Permalink", "larger version"):
        assert line not in page


@pytest.mark.parametrize("rendition", ["thumbnail", "medium", "large", "full"])
def test_no_picture_is_laid_out_wider_than_any_file_it_may_load(rendition: str) -> None:
    """Every srcset file is at least as wide as the box (sharp) and the box is never wider
    than the editor's rendition (never upscaled), in the column, the hero and a permalink."""
    files = render_site(content(entry(1), entry(2, rendition=rendition)))
    for page in (files["index.html"].decode(), files["entries/2.html"].decode()):
        for tag in re.findall(r"<img [^>]*>", page):
            if "mars.nasa.gov/2" not in tag:
                continue
            box = int(re.search(r'width="(\d+)"', tag)[1])  # type: ignore[index]
            chosen = {"thumbnail": 320, "medium": 800, "large": 1200, "full": 1600}[rendition]
            assert box <= chosen
            widths = [int(w) for w in re.findall(r" (\d+)w\b", tag)]
            assert all(box <= w <= chosen for w in widths), tag
            if widths:
                assert f'sizes="(max-width: {box}px) 100vw, {box}px"' in tag


def test_a_shared_link_shows_title_words_and_an_absolute_picture() -> None:
    body = "A dust devil **crosses** the crater floor. " * 12
    files = render_site(content(entry(1), entry(2, body=body), public_url=PUBLIC))
    index = metas(files["index.html"].decode())
    assert index["og:type"] == "website" and index["og:title"] == "Mars, as it happens"
    assert index["og:description"] == index["description"] == "The best pictures."
    assert index["og:url"] == f"{PUBLIC}/" and index["twitter:card"] == "summary_large_image"
    assert index["og:image"] == "https://mars.nasa.gov/2_1200.jpg"  # the hero's
    assert index["og:image:alt"] == "Alt 2. Image courtesy of NASA/JPL-Caltech"
    page = files["entries/2.html"].decode()
    entry_tags = metas(page)
    assert entry_tags["og:type"] == "article" and entry_tags["og:title"] == "Heading 2"
    assert entry_tags["og:url"] == f"{PUBLIC}/entries/2.html"
    assert f'<link rel="canonical" href="{PUBLIC}/entries/2.html">' in page
    description = entry_tags["og:description"]
    assert description.startswith("A dust devil crosses the crater floor.")  # plain words
    assert description.endswith("…") and len(description) <= 201 and "**" not in description
    assert (entry_tags["og:image:width"], entry_tags["og:image:height"]) == ("1200", "900")
    assert "NASA/JPL-Caltech" in entry_tags["og:image:alt"]
    for tags in (index, entry_tags):
        urls = [v for k, v in tags.items() if k in ("og:url", "og:image")]
        assert urls and all(v.startswith(("https://", "http://")) for v in urls)


def test_without_a_public_address_no_page_claims_a_relative_url() -> None:
    files = render_site(content(entry(1), entry(2)))
    for path in ("index.html", "entries/1.html"):
        page = files[path].decode()
        tags = metas(page)
        assert "og:url" not in tags and 'rel="canonical"' not in page
        assert tags["og:image"].startswith("https://mars.nasa.gov/")  # NASA's own address
        assert tags["og:title"] and tags["description"]


def test_a_later_page_keeps_its_share_card_when_an_entry_is_added() -> None:
    entries = [entry(i) for i in range(1, PAGE_SIZE + 3)]
    before = render_site(content(*entries))["page/2.html"]
    after = render_site(content(*entries, entry(PAGE_SIZE + 5)))
    assert metas(before.decode())["og:image"] == metas(after["page/2.html"].decode())["og:image"]


def test_only_a_built_animation_is_announced_as_one() -> None:
    sequence = entry(1, frames=(frame(1), frame(2), frame(3)))
    animation = Animation(key="abc", webp=b"W", gif=b"G", width=800, height=600, frames=3)
    moving = render_site(content(sequence, animations={1: animation}))
    still = render_site(content(sequence))  # its animation could not be made (yet)
    for path in ("index.html", "entries/1.html"):
        assert "animation of 3 frames" in moving[path].decode()
        page = still[path].decode()
        assert "animation" not in main_part(page).lower() and "frames" not in main_part(page)
        assert 'src="https://mars.nasa.gov/1_' in page and "image/webp" not in page


def test_the_sign_up_form_closes_the_list_and_each_permalink() -> None:
    files = render_site(content(entry(1), entry(2), subscribe="/subscribe"))
    for path in ("index.html", "entries/2.html"):
        page = files[path].decode()
        form = page.index('<form method="post" action="/subscribe">')
        assert page.rindex("</article>") < form < page.index('<footer class="site-footer">')
        assert "you're subscribed only after you click its link" in page
    exported = render_site(content(entry(1), subscribe=f"{PUBLIC}/subscribe"))
    assert f'action="{PUBLIC}/subscribe"' in exported["index.html"].decode()


def test_every_page_links_the_icon_that_ships_with_the_site() -> None:
    files = render_site(content(*(entry(i) for i in range(1, PAGE_SIZE + 2))))
    assert files["favicon.svg"].startswith(b"<svg") and files["favicon.ico"][:4] == b"\0\0\1\0"
    for path, root in (("index.html", ""), ("page/2.html", "../"), ("entries/1.html", "../")):
        page = files[path].decode()
        assert f'<link rel="icon" href="{root}favicon.svg" type="image/svg+xml">' in page
        assert f'<link rel="icon" href="{root}favicon.ico" sizes="32x32">' in page
