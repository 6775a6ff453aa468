"""The public running list in a real browser (see browser_support): the hero above the
entries, each entry's parts, the share card, pictures sharp on dense screens, dark mode,
the sign-up form at the end, an animation only where one was made, and no icon request
that ends in a 404, here or on the app's own pages."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from watcher.types import Actor, CandidateData, EntryDraft, Role

from .browser_support import Live, chromium_page, serving
from .conftest import run

pytestmark = pytest.mark.timeout(110)

PUBLIC = "https://mars.example.org"
ALICE = Actor("alice", Role.EDITOR)
T0 = datetime(2026, 8, 1, 10, tzinfo=UTC)


def add(live: Live, names: list[str], *, missing: str = "") -> list[int]:
    """Candidates whose files the emulator draws; their URLs state their widths (``?w=``,
    as WordPress's do), so the page can offer each file in a srcset. A name in ``missing``
    gets a medium file the emulator does not have (its animation cannot be made)."""
    items = []
    for i, name in enumerate(names):
        medium = f"{live.images}/{name}_medium.jpg?w=800"
        items.append(
            CandidateData(
                source="perseverance",
                external_id=name,
                mission="perseverance",
                title=f"Mars Perseverance Sol 1965: {name}",
                caption="NASA's Mars Perseverance rover acquired this image.",
                credit="NASA/JPL-Caltech/ASU",
                camera="MCZ_LEFT" if name.startswith("Z") else "NAVCAM_LEFT",
                sol=1965,
                taken_at=T0 + timedelta(minutes=i),
                mars_local_time=f"15:{i:02d}:00",
                page_url=f"https://mars.nasa.gov/mars2020/multimedia/raw-images/{name}",
                thumbnail_url=f"{live.images}/{name}_small.jpg?w=320",
                medium_url=f"{live.images}/gone_medium.gif" if name == missing else medium,
                large_url=f"{live.images}/{name}_large.jpg?w=1200",
                full_url=f"{live.images}/{name}_full_res.png",
                width=1600,
                height=1200,
                raw={"imageid": name},
            )
        )
    live.watcher.store.add_candidates(items, T0 + timedelta(days=1))
    wanted = set(names)
    return sorted(c.id for c in live.watcher.list_candidates(limit=None) if c.external_id in wanted)


def publish(live: Live, heading: str, names: list[str], *, missing: str = "") -> int:
    body = f"{heading}: what the editors saw in it, in a **few** words of their own."
    draft = EntryDraft(heading=heading, body=body, alt_text=f"{heading}, seen from Jezero")
    return live.watcher.approve(add(live, names, missing=missing), draft, ALICE).id


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    """Four published entries, the newest last: a still, a sequence that animates, a
    sequence whose animation cannot be made (a frame is missing), a still."""
    with serving(
        tmp_path,
        require_words=True,
        count=0,
        email={"enabled": True},
        server={"public_url": PUBLIC},
    ) as running:
        ids = [
            publish(running, "The delta at dawn", ["ZLF_0001"]),
            publish(running, "A dust devil crosses the floor", ["NLF_0101", "NLF_0102"]),
            publish(running, "Three looks at Belva", ["NLF_0201", "NLF_0202"], missing="NLF_0202"),
            publish(running, "The rim, in colour", ["ZLF_0301"]),
        ]
        report = run(running.watcher.publish())
        assert report.animations_built == 1 and report.animations_failed == 1
        running.ids[:] = ids
        yield running


class Watch:
    """What a page did: every request's host, icon responses, console and script errors."""

    def __init__(self, page: Any) -> None:
        self.hosts: set[str] = set()
        self.problems: list[str] = []
        self.icons: list[tuple[str, int]] = []
        page.on("request", lambda request: self.hosts.add(urlsplit(request.url).hostname or ""))
        page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        page.on(
            "console",
            lambda m: self.problems.append(m.text) if m.type == "error" else None,
        )
        page.on(
            "response",
            lambda r: self.icons.append((r.url, r.status)) if "favicon" in r.url else None,
        )

    def check(self) -> None:
        assert self.hosts <= {"127.0.0.1"}, self.hosts
        assert self.problems == []
        assert all(status < 400 for _, status in self.icons), self.icons


def icons_load(page: Any) -> None:
    """Every icon the page links answers 200 (headless Chromium may not ask by itself)."""
    hrefs = page.eval_on_selector_all("link[rel=icon]", "links => links.map(l => l.href)")
    assert hrefs
    for href in [*hrefs, urlsplit(page.url)._replace(path="/favicon.ico", query="").geturl()]:
        assert page.request.get(href).status == 200, href


def meta(page: Any, name: str) -> str:
    value = page.get_attribute(f'meta[property="{name}"], meta[name="{name}"]', "content")
    assert value is not None, name
    return str(value)


def all_pictures_load(page: Any) -> None:
    for img in page.locator("main img").all():
        img.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => [...document.querySelectorAll('main img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )


def check_the_list(page: Any, live: Live, width: int) -> None:
    from playwright.sync_api import expect

    _, moving, still, newest = live.ids
    hero = page.locator("figure.hero")
    expect(hero).to_be_visible()
    expect(hero.locator("img")).to_be_visible()
    expect(hero.locator(f'a[href="entries/{newest}.html"]').first).to_be_visible()
    expect(hero).to_contain_text("Image courtesy of NASA/JPL-Caltech/ASU")
    articles = page.locator("article.entry")
    expect(articles).to_have_count(4)
    hero_box, first_box = hero.bounding_box(), articles.first.bounding_box()
    assert hero_box["y"] + hero_box["height"] <= first_box["y"]
    if width >= 1280:
        assert hero_box["y"] < 900  # the hero starts on the first screen
    for article in articles.all():
        expect(article.locator("h2")).to_be_visible()
        expect(article.locator('h2 a[aria-label="Link to this entry"]')).to_have_count(1)
        expect(article.locator("figure > a > img, figure > a > picture img")).to_have_count(1)
        expect(article.locator("figcaption")).to_have_text("Image courtesy of NASA/JPL-Caltech/ASU")
        expect(article.locator(".words p")).to_contain_text("in a few words of their own")
    text = page.locator("body").inner_text()
    assert "Click the image" not in text and "Permalink" not in text
    all_pictures_load(page)
    # The sequence that animates says so and is an animation; the other shows its still.
    expect(page.locator(f"#entry-{moving} picture source[type='image/webp']")).to_have_count(1)
    expect(page.locator(f"#entry-{moving} .meta")).to_contain_text("animation of 2 frames")
    expect(page.locator(f"#entry-{still} picture")).to_have_count(0)
    assert "animation" not in page.locator(f"#entry-{still}").inner_text().lower()
    still_src = page.get_attribute(f"#entry-{still} img", "src") or ""
    assert "NLF_0201_" in still_src
    # The email form closes the list, with the double opt-in in a sentence.
    form = page.locator("section.subscribe form")
    expect(form).to_be_visible()
    assert form.bounding_box()["y"] > articles.last.bounding_box()["y"]
    expect(page.locator("section.subscribe")).to_contain_text("subscribed only after you click")


def test_a_reader_sees_the_hero_then_each_entry_and_a_shared_link_shows_the_picture(
    live: Live,
) -> None:
    for width, height in ((1280, 900), (390, 844)):
        with chromium_page(width, height) as page:
            watch = Watch(page)
            page.goto(f"{live.base}/")
            check_the_list(page, live, width)
            assert meta(page, "og:type") == "website" and meta(page, "og:url") == f"{PUBLIC}/"
            image = meta(page, "og:image")
            assert image.startswith(f"{live.images}/ZLF_0301_large.jpg"), image  # the hero
            assert meta(page, "twitter:card") == "summary_large_image"
            assert "NASA/JPL-Caltech/ASU" in meta(page, "og:image:alt")
            assert meta(page, "og:title") and meta(page, "description")
            icons_load(page)
            # The permalink: its own card, the same form, the way back.
            moving = live.ids[1]
            page.click(f"#entry-{moving} h2 a.anchor")
            page.wait_for_url(f"{live.base}/entries/{moving}.html")
            assert meta(page, "og:type") == "article"
            assert meta(page, "og:url") == f"{PUBLIC}/entries/{moving}.html"
            assert meta(page, "og:title") == "A dust devil crosses the floor"
            assert meta(page, "og:image").startswith(f"{live.images}/NLF_0101_large.jpg")
            assert page.locator("h1").inner_text() == "A dust devil crosses the floor"
            assert page.locator("section.subscribe form").is_visible()
            all_pictures_load(page)
            icons_load(page)
            watch.check()


def test_dense_screens_get_the_sharper_file_and_dark_mode_darkens_the_page(live: Live) -> None:
    with chromium_page(1280, 900) as page:
        page.goto(f"{live.base}/")
        first = page.locator(f"#entry-{live.ids[0]} img")
        assert "_medium.jpg" in first.evaluate("i => i.currentSrc")  # 800 px for 800 px
        light = page.evaluate("getComputedStyle(document.body).backgroundColor")
        page.emulate_media(color_scheme="dark")
        dark = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert light != dark
        channels = [int(c) for c in dark.strip("rgba()").split(",")[:3]]
        assert max(channels) < 60, dark
        dense = page.context.browser.new_page(
            viewport={"width": 1280, "height": 900}, device_scale_factor=2
        )
        dense.goto(f"{live.base}/")
        sharp = dense.locator(f"#entry-{live.ids[0]} img")
        sharp.wait_for()
        dense.wait_for_function(
            f"() => document.querySelector('#entry-{live.ids[0]} img').currentSrc !== ''"
        )
        source = sharp.evaluate("i => i.currentSrc")
        assert "_large.jpg" in source, source  # the largest allowed file, never the full PNG
        box = sharp.bounding_box()
        assert box["width"] == 800  # laid out at the column, not at the file's 1200 px


def test_the_apps_own_pages_link_an_icon_that_loads(live: Live) -> None:
    with chromium_page(390, 844) as page:
        watch = Watch(page)
        for path in ("/editor/login", "/subscribe"):
            page.goto(f"{live.base}{path}")
            icons_load(page)
        watch.hosts.discard("")
        watch.check()


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def static_host(root: Path) -> Iterator[str]:
    """``root`` served as plain files on 127.0.0.1, as any static web host would: no
    header of watcher's, so the pages' own meta policy is all the browser goes by."""
    handler = functools.partial(_QuietFiles, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="static-host", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_an_exported_copy_on_a_static_host_enforces_the_policy_and_loads_everything(
    live: Live, tmp_path: Path
) -> None:
    from playwright.sync_api import Error as PlaywrightError

    out = tmp_path / "export"
    run(live.watcher.export_site(out))
    with static_host(out) as base, chromium_page(1280, 900) as page:
        watch = Watch(page)
        response = page.goto(f"{base}/index.html")
        assert response is not None and "content-security-policy" not in response.headers
        policy = page.get_attribute('meta[http-equiv="Content-Security-Policy"]', "content")
        assert policy and "script-src 'self'" in policy and "frame-ancestors" not in policy
        check_the_list(page, live, 1280)  # every picture loads, the form is there
        assert page.evaluate(
            "[...document.styleSheets].some(s => s.href && s.href.endsWith('/site.css')"
            " && s.cssRules.length > 0)"
        )
        watch.check()
        # The policy is in force: an inline script (what an injection would be) is refused.
        with pytest.raises(PlaywrightError, match="Content Security Policy"):
            page.add_script_tag(content="window.injected = true")
        assert page.evaluate("window.injected") is None
