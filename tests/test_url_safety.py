"""URLs judged as browsers read them (issue 13): hostile URLs are never stored, never shown
as a link or a picture, published pages carry the app's Content-Security-Policy, and a
webhook cannot reach a private address through an IPv6 transition form.

The hostile URLs are the kind a parser differential lets through: Python's ``urlsplit``
reads ``https://evil.example\\@mars.nasa.gov/`` as a NASA host, a browser (WHATWG) goes to
evil.example. Everything here asks what the browser would do.
"""

from __future__ import annotations

import ipaddress
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import orjson
import pytest

from watcher.core import Watcher
from watcher.csp import content_security_policy
from watcher.deliver.channels import webhook
from watcher.demo import Fault, NasaEmulator
from watcher.demo.datasets import RecordedRawImages
from watcher.exceptions import InvalidInput
from watcher.polling.sources.common import UrlCleaner
from watcher.polling.sources.feed_pictures import PictureFinder
from watcher.text import clean_text
from watcher.types import Actor, EntryDraft, Role
from watcher.urls import clean_url, shown_url

from .conftest import WebApp, raw_source, run, seed_candidate

pytestmark = pytest.mark.timeout(60)

HOSTS = ("nasa.gov", "*.nasa.gov", "127.0.0.1")
ALICE = Actor("alice", Role.EDITOR)
ADMIN = Actor("root", Role.ADMIN)
URL_FIELDS = ("page_url", "thumbnail_url", "medium_url", "large_url", "full_url")

# Each would send a reader (or watcher) somewhere other than an allowed host, or run script.
HOSTILE = [
    "https://evil.example\\@mars.nasa.gov/x.png",  # "\" ends the host for a browser
    "https://evil.example\\.mars.nasa.gov/x.jpg",
    "https:\\\\evil.example\\x.png",
    "https:/\\evil.example/x.png",
    "https://evil.example\\\\@mars.nasa.gov/x.png",
    "https://evil.ex\tample\\@mars.nasa.gov/x.png",  # a tab is dropped, not kept
    "https://evil.example@mars.nasa.gov/x.png",  # credentials: refused outright
    "https://mars.nasa.gov:443@evil.example/x.png",
    "https://mars.nasa.gov@evil.example/x.png",
    "https://evil.example#@mars.nasa.gov/x.png",
    "https://evil.example?@mars.nasa.gov/x.png",
    "https://evil.example%2F.mars.nasa.gov/x.png",  # a host percent-decodes
    "https://evil.example%5C.mars.nasa.gov/x.png",
    "https://mars.nasa.gov.evil.example/x.png",
    "https://evil\u3002example/x.png",  # ideographic full stop: a dot after IDNA mapping
    "https://mars.n\u0430sa.gov/x.png",  # Cyrillic a: another domain than nasa.gov
    "https://mars.nasa.g\u043ev/x.png",  # Cyrillic o
    "https://mars.nasa.gov../x.png",  # two trailing dots: no such DNS name
    " JaVaScRiPt:alert(1)//mars.nasa.gov/x.png",
    "java\tscript:alert(1)//mars.nasa.gov/x.png",
    "javascript\n:alert(1)//mars.nasa.gov/x.png",
    "\x00https://mars.nasa.gov/x.png",
    "data:image/png;base64,iVBORw0KGgo=",
    "//evil.example/x.png",
    "http://0x7f000002/x.png",  # 127.0.0.2, not the allowed 127.0.0.1
]

# Accepted, and kept as the browser's serialisation: what is stored is what was checked.
NORMALISED = [
    ("https://MARS.NASA.GOV/x.png", "https://mars.nasa.gov/x.png"),
    ("https://mars.nasa.gov:443/a/../x.png", "https://mars.nasa.gov/x.png"),
    ("https://mars.nasa.gov/a/%2e%2E/x.png", "https://mars.nasa.gov/x.png"),
    ("https://ma\trs.nasa.gov/x\n.png", "https://mars.nasa.gov/x.png"),
    ("https://mars%2enasa.gov/x.png", "https://mars.nasa.gov/x.png"),
    (
        "https://\uff4d\uff41\uff52\uff53\uff0enasa\uff0egov/x.png",
        "https://mars.nasa.gov/x.png",
    ),  # fullwidth
    ("https:\\\\mars.nasa.gov\\raw\\x.png", "https://mars.nasa.gov/raw/x.png"),
    ("http://0x7f.1/x.png", "http://127.0.0.1/x.png"),
    ("http://2130706433/x.png", "http://127.0.0.1/x.png"),
    ("https://mars.nasa.gov./x.png", "https://mars.nasa.gov./x.png"),
    (
        "https://mars.nasa.gov/a b.png?w=800&c='x'",
        "https://mars.nasa.gov/a%20b.png?w=800&c=%27x%27",
    ),
]


# What a database may hold from before URLs were parsed as browsers parse them: forms an
# older watcher took for NASA hosts, and anything else a page must never run. (A plain
# URL on another host is the storage check's business; a page does not ask again.)
STORED_BEFORE = [
    "https://evil.example\\@mars.nasa.gov/x.png",
    "https://evil.example\\.mars.nasa.gov/x.jpg",
    "https://evil.example\\\\@mars.nasa.gov/x.png",
    "https:\\\\evil.example\\x.png",
    "https://evil.example@mars.nasa.gov/x.png",
    "https://evil.example%2F.mars.nasa.gov/x.png",
    "https://evil.ex\tample\\@mars.nasa.gov/x.png",
    " JaVaScRiPt:alert(1)//mars.nasa.gov/x.png",
    "java\tscript:alert(1)//mars.nasa.gov/x.png",
    "data:image/png;base64,iVBORw0KGgo=",
]


# -- parsing -----------------------------------------------------------------------------


@pytest.mark.parametrize("url", HOSTILE)
def test_hostile_urls_are_refused_by_the_allowlist(url: str) -> None:
    assert clean_url(url, HOSTS) is None
    assert UrlCleaner(HOSTS).clean(url) is None


@pytest.mark.parametrize(("given", "kept"), NORMALISED)
def test_accepted_urls_are_kept_as_the_browser_serialises_them(given: str, kept: str) -> None:
    assert clean_url(given, HOSTS) == kept
    cleaner = UrlCleaner(HOSTS)
    assert cleaner.clean(given) == kept
    assert cleaner.clean(kept) == kept  # and the fast path leaves the result alone
    assert clean_url(kept, HOSTS) == kept


@pytest.mark.parametrize("url", STORED_BEFORE)
def test_a_page_never_shows_a_url_a_browser_would_read_differently(url: str) -> None:
    assert shown_url(url) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://mars.nasa.gov/x.png?a\\b",
        "https://mars.nasa.gov/x.png#\\",
        "https://mars.nasa.gov/?\\",
    ],
)
def test_a_url_is_stored_only_if_a_page_can_show_it(url: str) -> None:
    """A backslash in a query or a fragment survives the browser's serialisation, and pages
    show no URL with one: such a URL was stored as a picture nobody could see (found by
    tests/test_parsers_properties.py)."""
    assert shown_url(url) is None
    assert clean_url(url, HOSTS) is None
    assert UrlCleaner(HOSTS).clean(url) is None


def test_a_relative_link_in_a_feed_resolves_as_in_a_browser() -> None:
    finder = PictureFinder(UrlCleaner(HOSTS).clean)
    base = "https://www.nasa.gov/news/item/"
    assert finder.url("/\\evil.example/x.png", base) is None  # "/\" is "//" to a browser
    assert finder.url("\\\\evil.example/x.png", base) is None
    assert finder.url("../x y.png", base) == "https://www.nasa.gov/news/x%20y.png"


# -- storage -----------------------------------------------------------------------------


def raw_record(imageid: str, url: str) -> dict[str, Any]:
    return {
        "imageid": imageid,
        "sol": 1965,
        "sample_type": "Full",
        "camera": {"instrument": "NAVCAM_RIGHT"},
        "title": f"Mars Perseverance Sol 1965: {imageid}",
        "credit": "NASA/JPL-Caltech",
        "date_taken_utc": "2026-08-30T20:47:41.638",
        "date_received": "2026-08-31T02:02:58Z",
        "link": url,
        "image_files": {"small": url, "medium": url, "large": url, "full_res": url},
    }


def test_a_record_with_a_hostile_url_is_skipped_and_others_are_stored_normalised(
    watcher_for: Any,
) -> None:
    good = "https://mars.nasa.gov/raw/GOOD_800.jpg"
    # A record's control characters are removed where the sources read it (watcher/text.py),
    # before any of its URLs is judged: what is left is judged like any other URL (here,
    # as a browser also reads it, without the leading NUL).
    hostile = [url for url in HOSTILE if clean_text(url) == url]
    records = [raw_record(f"EVIL_{i:02d}", url) for i, url in enumerate(hostile)]
    records += [raw_record(f"NORM_{i:02d}", url) for i, (url, _) in enumerate(NORMALISED)]
    records.append(raw_record("NUL", "\x00https://mars.nasa.gov/x.png"))
    mixed = raw_record("MIXED", HOSTILE[0])
    mixed["image_files"] = {**mixed["image_files"], "full_res": good}
    records.append(mixed)
    body = orjson.dumps({"images": records, "per_page": "100", "page": 0, "total_results": 1})
    with NasaEmulator(raw_images={"mars2020": RecordedRawImages([])}) as nasa:
        watcher = watcher_for([raw_source(nasa.raw_images_url)])
        nasa.inject(
            Fault.respond(200, body, content_type="application/json"), path_prefix="/rss/api/"
        )
        report = run(watcher.poll_source("perseverance"))
    assert report.ok and report.skipped == len(hostile) == len(HOSTILE) - 1
    stored = {c.external_id: c for c in watcher.list_candidates(status=None, limit=None)}
    assert set(stored) == {f"NORM_{i:02d}" for i in range(len(NORMALISED))} | {"MIXED", "NUL"}
    assert stored["NUL"].full_url == "https://mars.nasa.gov/x.png"
    for i, (_, kept) in enumerate(NORMALISED):
        candidate = stored[f"NORM_{i:02d}"]
        assert [getattr(candidate, name) for name in URL_FIELDS] == [kept] * 5
    assert [getattr(stored["MIXED"], name) for name in URL_FIELDS] == [None] * 4 + [good]


# -- rendering ---------------------------------------------------------------------------


class Links(HTMLParser):
    """Every URL a page hands the browser: href, src, srcset, action, meta content."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.metas: dict[str, str] = {}
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.tags.append((tag, values))
        for name in ("href", "src", "action", "poster"):
            if name in values:
                self.urls.append(values[name])
        if "srcset" in values:
            self.urls += [part.split()[0] for part in values["srcset"].split(",") if part.split()]
        if tag == "meta" and ("property" in values or "http-equiv" in values):
            key = values.get("property") or values["http-equiv"]
            self.metas[key] = values.get("content", "")
            if key.startswith("og:image") and values.get("content", "").startswith("http"):
                self.urls.append(values["content"])


def links_of(html: str) -> Links:
    parser = Links()
    parser.feed(html)
    return parser


def assert_nothing_hostile(html: str, where: str) -> list[str]:
    urls = links_of(html).urls
    for url in urls:
        lowered = url.lower()
        assert "evil" not in lowered, (where, url)
        assert "\\" not in url and not lowered.lstrip().startswith(("javascript", "data:")), (
            where,
            url,
        )
    return urls


def test_pages_never_link_or_load_a_hostile_url_stored_before_the_fix(web: WebApp) -> None:
    watcher = web.watcher
    good = "https://mars.nasa.gov/raw/GOOD_800.jpg"
    ids = [web.seed(1, **dict.fromkeys(URL_FIELDS, url))[0] for url in STORED_BEFORE]
    [clean_id] = web.seed(1, thumbnail_url=None, medium_url=good, large_url=None, full_url=None)
    alice = web.browser("alice")
    queue = alice.get("/editor")
    assert queue.status_code == 200
    assert good in assert_nothing_hostile(queue.text, "queue")
    for candidate in [*ids, clean_id]:
        page = alice.get(f"/editor/candidates/{candidate}")
        assert page.status_code == 200
        assert_nothing_hostile(page.text, f"candidate {candidate}")
    entries = [
        watcher.approve([candidate], EntryDraft(heading=f"Entry {candidate}"), ALICE)
        for candidate in [*ids, clean_id]
    ]
    for entry in entries:
        assert_nothing_hostile(alice.get(f"/editor/entries/{entry.id}").text, f"entry {entry.id}")
    run(watcher.publish())
    site = watcher.settings.site_dir
    assert good in assert_nothing_hostile((site / "index.html").read_text(), "index.html")
    for entry in entries:
        assert_nothing_hostile((site / f"entries/{entry.id}.html").read_text(), f"#{entry.id}")
    feed = orjson.loads((site / "feed.json").read_bytes())
    assert "evil" not in orjson.dumps(feed).decode().lower()
    assert "evil" not in (site / "feed.atom").read_text().lower()


# -- Content-Security-Policy -------------------------------------------------------------


def meta_policy(html: str) -> str:
    policy = links_of(html).metas.get("Content-Security-Policy")
    assert policy, "no Content-Security-Policy meta tag"
    return policy


def loads_only_what_the_policy_allows(html: str, policy: str) -> None:
    """The page's own assets are relative links (the policy's 'self'), its pictures are on
    the image hosts the policy names, and nothing inline needs 'unsafe-inline'."""
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'self'" and directives["style-src"] == "'self'"
    images = directives["img-src"].split()
    parsed = links_of(html)
    for tag, attrs in parsed.tags:
        assert "style" not in attrs, (tag, attrs)
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert tag != "script" or "src" in attrs
        assert tag != "style"
        if tag == "link" and attrs.get("rel") in ("stylesheet", "icon"):
            assert "://" not in attrs["href"], attrs  # relative: this site
        if tag in ("img", "source"):
            candidates = [attrs.get("src", ""), *attrs.get("srcset", "").split(",")]
            for url in (c.split()[0] for c in candidates if c.split()):
                if "://" in url:
                    assert any(image_source_allows(source, url) for source in images), url


def image_source_allows(source: str, url: str) -> bool:
    """Whether a CSP source (``https://host``, ``https://*.suffix``, ``'self'``) names the
    origin of absolute ``url``."""
    scheme, _, rest = url.partition("://")
    host = rest.partition("/")[0]
    wanted, _, pattern = source.partition("://")
    if wanted != scheme:
        return False
    return host == pattern or (pattern.startswith("*.") and host.endswith(pattern[1:]))


def test_published_pages_carry_the_policy_the_app_sends_as_a_header(web: WebApp) -> None:
    watcher = web.watcher
    ids = web.seed(2)
    entry = watcher.approve([ids[0]], EntryDraft(heading="A dust devil"), ALICE)
    run(watcher.publish())
    header = web.browser().get("/healthz").headers["Content-Security-Policy"]
    assert header == content_security_policy(watcher.settings.image_hosts)
    for path in ("index.html", f"entries/{entry.id}.html"):
        html = (watcher.settings.site_dir / path).read_text()
        policy = meta_policy(html)
        # The same text, less what only a header can say (a meta tag cannot forbid framing).
        assert header == f"{policy}; frame-ancestors 'none'"
        assert html.index("Content-Security-Policy") < html.index("stylesheet")
        loads_only_what_the_policy_allows(html, policy)
    served = web.browser().get("/")
    assert served.headers["Content-Security-Policy"] == header
    assert meta_policy(served.text) == content_security_policy(HOSTS, meta=True)


def test_an_export_carries_the_policy_and_may_post_its_form_to_the_public_address(
    watcher_for: Any, tmp_path: Path
) -> None:
    watcher: Watcher = watcher_for(
        [], email={"enabled": True}, server={"public_url": "https://mars.example.org/list/"}
    )
    [first] = seed_candidate(watcher)
    watcher.approve([first], EntryDraft(heading="Exported"), ALICE)
    run(watcher.publish())
    out = tmp_path / "export"
    run(watcher.export_site(out))
    html = (out / "index.html").read_text()
    policy = meta_policy(html)
    forms = [attrs["action"] for tag, attrs in links_of(html).tags if tag == "form"]
    assert forms == ["https://mars.example.org/list/subscribe"]
    assert "form-action 'self' https://mars.example.org;" in policy + ";"
    assert "frame-ancestors" not in policy
    loads_only_what_the_policy_allows(html, policy)
    # The served copy posts to its own watcher: only 'self'.
    served = meta_policy((watcher.settings.site_dir / "index.html").read_text())
    assert "form-action 'self';" in served + ";"


# -- webhooks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
        "2002:c0a8:101::1",  # 6to4 of 192.168.1.1
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254 (cloud metadata)
        "2002::1",  # 6to4 of 0.0.0.0
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "2001::1",
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b:1::808:808",  # local-use NAT64: whatever its operator routes it to
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:169.254.169.254",
        "::127.0.0.1",  # IPv4-compatible
        "::8.8.8.8",
        "::ffff:0:a00:1",  # IPv4-translated (SIIT) of 10.0.0.1
    ],
)
def test_ipv6_forms_of_private_ipv4_addresses_are_refused(address: str) -> None:
    assert webhook.address_problem(ipaddress.ip_address(address)) is not None
    with pytest.raises(Exception, match="only public addresses"):
        webhook.vet_addresses("h", [address], allow_private=False)


@pytest.mark.parametrize("address", ["2002:808:808::1", "64:ff9b::808:808", "::ffff:8.8.8.8"])
def test_ipv6_forms_of_a_public_ipv4_address_pass(address: str) -> None:
    assert webhook.address_problem(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://[2002:7f00:1::1]/hook",
        "http://[2002:a9fe:a9fe::]:8080/hook",
        "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook",
        "http://[64:ff9b::a00:1]/hook",
        "http://[::127.0.0.1]/hook",
    ],
)
def test_a_webhook_on_a_transition_address_is_refused(watcher_for: Any, url: str) -> None:
    watcher = watcher_for(
        [], server={"public_url": "https://mars.example.org"}, webhooks={"allow_private": False}
    )
    with pytest.raises(InvalidInput) as caught:
        watcher.add_webhook(url, ADMIN)
    assert "allow_private" in caught.value.errors["url"]


def test_a_webhook_url_with_a_backslash_is_refused(watcher_for: Any) -> None:
    watcher = watcher_for([], server={"public_url": "https://mars.example.org"})
    with pytest.raises(InvalidInput) as caught:
        watcher.add_webhook("https://hooks.example.org\\.internal/hook", ADMIN)
    assert "backslash" in caught.value.errors["url"]
