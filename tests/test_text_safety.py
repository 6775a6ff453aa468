"""Text no feed, page or database chokes on (issue 13, the first break).

A NUL or another control character used to stop every publish in feedgen/lxml, and the
edition was committed although its files were never written. Now: NASA's text is cleaned
where the sources normalise it, an editor's is refused where it is typed (beside the field,
422 from the API, exit 2 from the CLI), rows stored before the rule are rendered safely,
and an edition is committed only once its files are written.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from typing import Any

import orjson
import pytest
from argon2 import PasswordHasher
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree  # type: ignore[import-untyped]
from typer.testing import CliRunner

from watcher.accounts import passwords as security
from watcher.cli import app
from watcher.core import Watcher
from watcher.exceptions import InvalidInput, StorageError
from watcher.publish import writer
from watcher.text import (
    clean_json,
    clean_text,
    safe_candidate,
    safe_entry,
    text_problem,
    unify_newlines,
)
from watcher.types import Actor, CandidateData, EntryDraft, Role, TokenScope

from .conftest import Browser, Clock, WebApp, run, seed_candidate
from .deliver_support import ADMIN, html_of, mail_watcher, publish_edition, smtp_server
from .test_sources_properties import LIBRARY, LIBRARY_REQUEST, RAW, RAW_REQUEST, RSS, RSS_REQUEST

ALICE = Actor("alice", Role.EDITOR)
T0 = datetime(2026, 8, 2, tzinfo=UTC)
# What the feeds' XML (and PostgreSQL, for NUL) cannot hold, one of each kind.
UNSAFE = "\x00\x01\x08\x0b\x0c\x1b\x1f\x7f\x85\x9f\ud800\udfff\ufffe\uffff"
# What a JSON body or a SQLite row can carry: all of it but the lone surrogates.
STORABLE = UNSAFE.replace("\ud800\udfff", "")
BAD = "Dust\x00 devil\x1b at\x85 Jezero\ufffe"  # as NASA or an old row might hold it
CLEANED = "Dust devil at Jezero"


def xml_holds(value: str) -> bool:
    """Whether lxml (under feedgen) takes ``value`` as an element's text."""
    try:
        etree.Element("t").text = value
    except ValueError:
        return False
    return True


# -- the rule --------------------------------------------------------------------------


def test_line_ends_become_lf_and_what_xml_cannot_hold_is_stripped() -> None:
    assert clean_text("one\r\ntwo\rthree\nfour") == "one\ntwo\nthree\nfour"
    assert clean_text(f"a{UNSAFE}b") == "ab"
    assert clean_text(BAD) == CLEANED
    kept = "tab\there, line\nhere, é, \u2019, \xa0, 🚀, \U0010fffd, \ue000, \ufffd"
    assert clean_text(kept) is kept  # nothing to do costs no copy
    for character in UNSAFE:
        assert not xml_holds(f"x{character}") or character in "\x7f\x85\x9f"
        assert clean_text(character) == ""


def test_an_editors_text_is_refused_naming_the_character_and_where() -> None:
    assert text_problem("Dust devil\r\nat Jezero\twith a tab") is None
    assert text_problem("Dust\x00devil") == (
        "contains an invisible control character (U+0000) at position 5; remove it"
    )
    assert "a lone surrogate (U+D800) at position 1" in str(text_problem("\ud800"))
    assert "a noncharacter (U+FFFE)" in str(text_problem("ok \ufffe"))
    assert "(U+0085)" in str(text_problem("next\x85line"))
    # Positions count the text as the editor sees it: CRLF is one line end.
    assert "position 4" in str(text_problem("a\r\nb\x07"))


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(codec=None, exclude_categories=())))
def test_cleaned_text_is_held_by_xml_and_accepted_as_an_editors(value: str) -> None:
    cleaned = clean_text(value)
    assert xml_holds(cleaned)
    assert "\x00" not in cleaned and "\r" not in cleaned
    cleaned.encode()  # no lone surrogate: PostgreSQL and orjson take it
    assert clean_text(cleaned) == cleaned
    assert text_problem(cleaned) is None
    assert (text_problem(value) is None) == (cleaned == unify_newlines(value))


def test_a_record_is_cleaned_keys_and_all_and_a_clean_one_is_not_copied() -> None:
    record = {"title": "ok", "nested": [{"caption": "fine\r\n"}], "n": 1.5, "none": None}
    assert clean_json(record) is record
    dirty = {"ti\x00tle": "a\x00b", "list": ["c\ufffe", {"d": "e\x85"}], "kept": "x\r\ny", "n": 2}
    assert clean_json(dirty) == {
        "title": "ab",
        "list": ["c", {"d": "e"}],
        "kept": "x\r\ny",  # a record's line ends are its own
        "n": 2,
    }
    assert clean_json(["\ud800"]) == [""]


# -- NASA's text, cleaned at the edge --------------------------------------------------------


def raw_page() -> bytes:
    from watcher.demo import SyntheticRawImages

    record = SyntheticRawImages(1).record(0)
    record |= {"title": BAD, "caption": f"First\r\nsecond\x00 line{STORABLE}", "credit": "NASA\x00"}
    record["extended"] = {**record["extended"], "note\x00": "odd\x01 value"}
    return orjson.dumps({"images": [record], "per_page": "3"})


def library_page() -> bytes:
    fields = {
        "nasa_id": "PIA24264",
        "date_created": "2021-02-22T00:00:00Z",
        "title": f"Perseverance {BAD}",
        "keywords": ["Mars", "Perseverance\x00"],
        "media_type": "image",
        "description": "The first\x0c full-color image.\r\nCredit: NASA/JPL-Caltech\x1f",
        "center": "JPL",
    }
    assets = "https://images-assets.nasa.gov/image/PIA24264/"
    item = {
        "href": f"{assets}collection.json",
        "data": [fields],
        "links": [{"rel": "preview", "render": "image", "href": f"{assets}PIA24264~thumb.jpg"}],
    }
    return orjson.dumps({"collection": {"items": [item], "metadata": {"total_hits": 1}}})


def rss_page() -> bytes:
    # XML 1.0 forbids these characters: feedparser's lenient parser passes them through.
    return (
        b'<rss version="2.0"><channel><title>t</title><item>'
        b"<title>Perseverance Dust\x00 devil\x1b at Jezero</title><guid>a\x01b</guid>"
        b"<description>Seen\x08 from the mast.</description>"
        b'<enclosure url="https://www.nasa.gov/a.jpg" type="image/jpeg"/>'
        b"</item></channel></rss>"
    )


@pytest.mark.parametrize(
    ("adapter", "request_", "body"),
    [
        (RAW, RAW_REQUEST, raw_page),
        (LIBRARY, LIBRARY_REQUEST, library_page),
        (RSS, RSS_REQUEST, rss_page),
    ],
    ids=["raw_images", "image_library", "rss"],
)
def test_every_source_strips_control_characters_and_the_record_is_stored_on_any_database(
    adapter: Any,
    request_: Any,
    body: Any,
    watcher_for: Any,
    database_url: str,
) -> None:
    page = adapter.parse_page(body(), request_)
    assert page.skipped == 0
    [candidate] = page.candidates
    texts = [candidate.title, candidate.caption, candidate.credit, candidate.external_id]
    shown = " ".join(t or "" for t in texts) + orjson.dumps(candidate.raw).decode()
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]", shown), shown
    assert "\\u00" not in orjson.dumps(candidate.raw).decode()
    assert "Dust devil" in candidate.title and xml_holds(candidate.caption)
    assert adapter.normalise(candidate.raw) == candidate  # the stored record gives it again

    watcher: Watcher = watcher_for([], database_url=database_url)
    assert watcher.store.add_candidates(page.candidates, T0) == 1  # PostgreSQL refuses NUL
    [stored] = watcher.list_candidates(limit=None)
    assert (stored.title, stored.caption) == (candidate.title, candidate.caption)
    assert stored.raw == candidate.raw


def test_safe_candidate_drops_a_url_holding_a_control_character() -> None:
    item = CandidateData(
        source="perseverance",
        external_id="NRF\x00_1",
        title=BAD,
        full_url="https://mars.nasa.gov/a.png#\ufffe",
        large_url="https://mars.nasa.gov/a_1200.jpg",
    )
    safe = safe_candidate(item)
    assert (safe.external_id, safe.title) == ("NRF_1", CLEANED)
    assert safe.full_url is None and safe.large_url == item.large_url


# -- an editor's text, refused where it is typed ------------------------------------------


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap argon2 parameters: the web tests sign in."""
    monkeypatch.setattr(
        security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


def test_the_desk_refuses_control_characters_in_every_field_an_editor_types(
    watcher_for: Any,
) -> None:
    watcher: Watcher = watcher_for([])
    [candidate] = seed_candidate(watcher)
    draft = EntryDraft(
        heading="Dust\x00devil",
        body="Words\x0b",
        alt_text="alt\x1f",
        credit="NASA\x7f",
        rendition="large\x00",
    )
    with pytest.raises(InvalidInput) as refused:
        watcher.approve([candidate], draft, ALICE)
    assert set(refused.value.errors) == {"heading", "body", "alt_text", "credit", "rendition"}
    assert "U+0000" in refused.value.errors["heading"]
    assert "U+001F" in refused.value.errors["alt_text"]  # not folded into a space
    assert watcher.list_entries() == []
    with pytest.raises(InvalidInput) as reason:
        watcher.reject(candidate, ALICE, reason="blurry\x00")
    assert set(reason.value.errors) == {"reason"}
    with pytest.raises(InvalidInput) as site:
        watcher.update_site_settings(ADMIN, title="Mars\x00", intro="Hello\x1b[31m")
    assert set(site.value.errors) == {"title", "intro"}
    with pytest.raises(InvalidInput) as name:
        watcher.add_editor("bob\x1fby", "a long enough password", Role.EDITOR)
    assert set(name.value.errors) == {"name"}

    entry = watcher.approve(
        [candidate], EntryDraft(heading="Dust devil", body="One\r\ntwo\rthree\r\n"), ALICE
    )
    assert entry.body == "One\ntwo\nthree"  # a textarea's CRLF is kept as LF


def test_nasas_words_standing_in_for_the_editors_are_cleaned_not_refused(
    watcher_for: Any,
) -> None:
    """A candidate stored before the rule may hold a control character in its title or
    credit; approving it without words must not fail for what the editor never typed."""
    watcher: Watcher = watcher_for([])
    item = CandidateData(
        source="perseverance",
        external_id="OLD_1",
        title=BAD,
        credit="NASA/JPL\x00-Caltech",
        medium_url="https://mars.nasa.gov/raw/OLD_1_800.jpg",
    )
    watcher.store.add_candidates([item], T0)
    [candidate] = watcher.list_candidates(limit=None)
    entry = watcher.approve([candidate.id], None, ALICE)
    assert (entry.heading, entry.alt_text, entry.credit) == (CLEANED, CLEANED, "NASA/JPL-Caltech")


def error_beside(html: str, field_id: str, message: str) -> None:
    field = re.search(rf'<(input|select|textarea)\b[^>]*\bid="{field_id}"[^>]*>', html)
    assert field and 'aria-invalid="true"' in field.group(0), f"#{field_id} not marked"
    described = re.search(r'aria-describedby="([^"]+)"', field.group(0))
    assert described, field.group(0)
    error_id = next(i for i in described.group(1).split() if i.endswith("-error"))
    error = re.search(rf'<p class="field-error" id="{error_id}">(.*?)</p>', html, re.S)
    assert error and message in unescape(error.group(1)), html


def test_web_forms_show_the_refusal_beside_the_field(web: WebApp) -> None:
    alice: Browser = web.browser("alice")
    [candidate] = web.seed(1)
    response = alice.post(
        f"/editor/candidates/{candidate}/approve",
        {"origin": "candidate", "version": 1, "heading": "Dust\x00 devil", "body": "Words\x1b"},
    )
    assert response.status_code == 422
    error_beside(response.text, "heading", "invisible control character (U+0000)")
    error_beside(response.text, "body", "(U+001B) at position 6")
    assert web.watcher.list_entries() == []

    queue = alice.get("/editor", params={"q": "mars\x00"})
    assert queue.status_code == 422  # not a 500 from PostgreSQL
    error_beside(queue.text, "f-q", "(U+0000) at position 5")

    site = web.browser("root").post("/editor/site", {"title": "Mars\x00", "intro": "Hi"})
    assert site.status_code == 422
    error_beside(site.text, "title", "(U+0000)")


def test_a_name_with_a_nul_signs_in_no_one_and_breaks_nothing(web: WebApp) -> None:
    browser = Browser(web)
    page = browser.client.get("/editor/login")
    token = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert token
    response = browser.client.post(
        "/editor/login",
        data={"name": "alice\x00", "password": "x", "form_token": token.group(1)},
    )
    assert response.status_code == 401  # not a 500 from PostgreSQL
    assert "Wrong name or password." in response.text


def test_the_api_answers_422_naming_the_field(web: WebApp) -> None:
    [candidate, other] = web.seed(2)
    _, secret = web.watcher.create_api_token("bot", TokenScope.WRITE)
    headers = {"Authorization": f"Bearer {secret}"}
    client = Browser(web).client
    refused = client.post(
        f"/api/v1/candidates/{candidate}/approve",
        headers=headers,
        json={"heading": "Dust\x00 devil", "body": "fine\x0b", "credit": "NASA"},
    )
    assert refused.status_code == 422, refused.text
    errors = refused.json()["errors"]
    assert set(errors) == {"heading", "body"} and "U+0000" in errors["heading"]
    surrogate = client.post(  # JSON may escape a lone surrogate; it is refused too
        f"/api/v1/candidates/{candidate}/approve",
        headers={**headers, "Content-Type": "application/json"},
        content=b'{"heading": "Dust devil", "credit": "NASA\\ud800"}',
    )
    assert surrogate.status_code == 422 and set(surrogate.json()["errors"]) == {"credit"}
    assert web.watcher.list_entries() == []

    made = client.post(
        f"/api/v1/candidates/{other}/approve", headers=headers, json={"heading": "Dust devil"}
    )
    assert made.status_code == 201, made.text
    entry = made.json()
    edit = client.patch(
        f"/api/v1/entries/{entry['id']}",
        headers=headers,
        json={"version": entry["version"], "body": "A\x0cB"},
    )
    assert edit.status_code == 422 and set(edit.json()["errors"]) == {"body"}
    search = client.get("/api/v1/candidates", headers=headers, params={"q": "a\x00"})
    assert search.status_code == 422 and set(search.json()["errors"]) == {"q"}
    cameras = client.get("/api/v1/candidates", headers=headers, params={"camera": "N\x00"})
    assert cameras.status_code == 422 and set(cameras.json()["errors"]) == {"camera"}


def test_the_cli_exits_2_naming_the_field(tmp_path: Path, watcher_for: Any) -> None:
    from .conftest import write_config

    config = write_config(tmp_path, "")
    watcher: Watcher = watcher_for([], database_url=f"sqlite:///{tmp_path / 'watcher.db'}")
    [candidate] = seed_candidate(watcher)
    result = CliRunner().invoke(
        app,
        ["--config", str(config), "approve", str(candidate), "--heading", "Red\x1b[31m alert"],
    )
    assert result.exit_code == 2, result.output
    assert "heading" in result.output and "U+001B" in result.output
    assert watcher.list_entries() == []


# -- rows stored before the rule, rendered safely -------------------------------------------


def store_old_rows(watcher: Watcher) -> int:
    """An entry as an older version could store it, past every check: the entry's id."""
    item = CandidateData(
        source="perseverance",
        external_id="OLD_1",
        title=BAD,
        credit="NASA\x00",
        camera="NAVCAM\x01",
        mars_local_time="15:28\x00",
        medium_url="https://mars.nasa.gov/raw/OLD_1_800.jpg",
        full_url="https://mars.nasa.gov/raw/OLD_1.png#\ufffe",
        width=800,
        height=600,
        raw={"title": BAD},
    )
    watcher.store.add_candidates([item], T0)
    [candidate] = watcher.list_candidates(limit=None)
    draft = EntryDraft(heading=BAD, body=f"Seen\x00 **from**\r\nthe mast{STORABLE}", alt_text=BAD)
    entry = watcher.store.approve([candidate.id], {}, draft, "NASA\x00", "old", T0)
    watcher.store.set_site_text("Mars\x00 lately", "Hello\x01", {}, "old", T0)
    return entry.id


def test_publishing_never_crashes_on_text_stored_before_the_rule(watcher_for: Any) -> None:
    watcher: Watcher = watcher_for([])
    entry_id = store_old_rows(watcher)
    report = run(watcher.publish())
    assert report.edition is not None and report.edition.number == 1
    assert watcher.site_edition() == 1
    site = watcher.settings.site_dir
    atom = etree.fromstring((site / "feed.atom").read_bytes())
    namespace = {"a": "http://www.w3.org/2005/Atom"}
    assert atom.findtext("a:entry/a:title", namespaces=namespace) == CLEANED
    assert atom.findtext("a:title", namespaces=namespace) == "Mars lately"
    feed = orjson.loads((site / "feed.json").read_bytes())
    assert feed["items"][0]["title"] == CLEANED
    for path in site.rglob("*.html"):
        assert not re.search("[\x00-\x08\x0b-\x1f\ufffe\uffff]", path.read_text()), path
    page = (site / f"entries/{entry_id}.html").read_text()
    assert CLEANED in page and "OLD_1.png#" not in page  # the broken URL is dropped


def test_mail_never_carries_text_stored_before_the_rule(watcher_for: Any, tmp_path: Path) -> None:
    with smtp_server() as (sink, port):
        watcher = mail_watcher(watcher_for, f"sqlite:///{tmp_path / 'mail.db'}", port)
        watcher.add_subscriber("a@example.org", ADMIN, confirmed=True)
        entry_id = store_old_rows(watcher)
        assert publish_edition(watcher, 1, (entry_id,)) == 1
        assert run(watcher.deliver_pending()).sent == 1
    [mail] = sink.messages
    assert mail["Subject"] == "Mars lately: 1 new image"
    body = html_of(mail)
    assert CLEANED in body and "\x00" not in body and "\ufffe" not in body


def test_safe_entry_is_the_entry_itself_when_clean(watcher_for: Any) -> None:
    watcher: Watcher = watcher_for([])
    [candidate] = seed_candidate(watcher)
    watcher.approve([candidate], EntryDraft(heading="Dust devil", body="Line\nbreak"), ALICE)
    [entry] = watcher.published_entries()
    assert safe_entry(entry) is entry


# -- an edition only with its files -----------------------------------------------------------


def test_files_that_cannot_be_written_leave_no_edition_and_the_next_publish_makes_it(
    watcher_for: Any, clock: Clock
) -> None:
    watcher: Watcher = watcher_for([])
    [candidate] = seed_candidate(watcher)
    watcher.approve([candidate], EntryDraft(heading="Dust devil", body="Words"), ALICE)
    site = watcher.settings.site_dir
    blocker = writer.versions_dir(site)
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("a file where the site's versions go")  # as a full disk would fail
    with pytest.raises(StorageError):
        run(watcher.publish())
    assert watcher.list_editions() == []  # the database claims nothing readers never saw
    assert watcher.site_edition() is None and not site.exists()
    assert watcher.change_mark().due

    blocker.unlink()
    clock.advance(1)
    report = run(watcher.publish())
    assert report.changed and report.edition is not None and report.edition.number == 1
    assert report.edition.added == (watcher.list_entries()[0].id,)
    assert watcher.site_edition() == 1 and "Dust devil" in (site / "index.html").read_text()


def test_a_template_that_fails_to_render_leaves_no_edition(
    watcher_for: Any, tmp_path: Path
) -> None:
    templates = tmp_path / "templates"
    (templates / "site").mkdir(parents=True)
    (templates / "site" / "entry.html").write_text("{{ no_such_value }}")
    watcher: Watcher = watcher_for([], publish={"templates_dir": str(templates)})
    [candidate] = seed_candidate(watcher)
    watcher.approve([candidate], EntryDraft(heading="Dust devil", body="Words"), ALICE)
    with pytest.raises(Exception, match="no_such_value"):
        run(watcher.publish())
    assert watcher.list_editions() == []
    assert watcher.site_edition() is None
    leftovers = list(writer.versions_dir(watcher.settings.site_dir).glob(".tmp-*"))
    assert leftovers == []
