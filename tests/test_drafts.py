"""Nothing goes public by accident: an approval without the editor's heading and paragraph
is a draft, which no edition, feed or mail sees until an editor writes both and publishes
it. With the product's default (``[publish] require_words = true``), on SQLite and
PostgreSQL, through the facade, the editor pages, the JSON API and the CLI."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from watcher.cli import app as cli_app
from watcher.config import load_settings, settings_from_dict
from watcher.core import Watcher, make_watcher
from watcher.demo import NasaEmulator, SyntheticRawImages
from watcher.exceptions import InvalidInput
from watcher.types import (
    Actor,
    CandidateStatus,
    DeliveryChannel,
    EntryDraft,
    EntryStatus,
    Role,
)

from .conftest import PASSWORD, Clock, WebApp, build_settings, raw_toml, run, write_config

pytestmark = pytest.mark.timeout(90)

ALICE = Actor("alice", Role.EDITOR)
ROOT = Actor("root", Role.ADMIN)
WORDS = EntryDraft(heading="Dawn over Jezero", body="The **first** light of the day.")
REPO = Path(__file__).resolve().parent.parent


def worded(tmp_path: Path, database_url: str, **publish: Any) -> dict[str, Any]:
    """Settings sections with the product's default rule, email on and a place for the
    animation cache (no worker runs, so nothing is sent: the outbox shows what would be)."""
    return {
        "publish": {"require_words": True, "cache_dir": str(tmp_path / "cache"), **publish},
        "email": {"enabled": True, "security": "none"},
    }


@pytest.fixture
def desk(watcher_for: Any, database_url: str, tmp_path: Path) -> Watcher:
    """A watcher with the default rule and one confirmed subscriber."""
    built: Watcher = watcher_for([], database_url, **worded(tmp_path, database_url))
    built.add_subscriber("reader@example.org", ROOT, confirmed=True)
    return built


@pytest.fixture
def web_desk(tmp_path: Path, clock: Clock, database_url: str) -> Iterator[WebApp]:
    """The editor app with the default rule."""
    settings = build_settings(tmp_path, database_url, **worded(tmp_path, database_url))
    watcher = make_watcher(settings, clock=clock, rand=lambda: 0.0)
    watcher.prepare_database()
    watcher.add_editor("alice", PASSWORD, Role.EDITOR)
    yield WebApp(watcher)
    run(watcher.aclose())


def seeded(watcher: Watcher, count: int = 3) -> list[int]:
    from .test_review import seed

    return seed(watcher, count)


def edition_mail(watcher: Watcher) -> int:
    return len(watcher.list_deliveries(channel=DeliveryChannel.EMAIL))


# -- the default ---------------------------------------------------------------------


def test_words_are_required_by_default_in_the_shipped_config_and_an_empty_one(
    tmp_path: Path,
) -> None:
    shipped = load_settings(REPO / "config" / "watcher.toml", env={})
    assert shipped.publish.require_words is True
    assert settings_from_dict({}, path=tmp_path / "empty.toml").publish.require_words is True
    off = settings_from_dict({"publish": {"require_words": False}}, path=tmp_path / "w.toml")
    assert off.publish.require_words is False


# -- the rule, through the facade ----------------------------------------------------


def test_approving_without_words_saves_a_draft_with_no_edition_and_no_outbox_row(
    desk: Watcher,
) -> None:
    first, *_ = seeded(desk)
    baseline = run(desk.publish())
    mails_before = edition_mail(desk)
    entry = desk.approve([first], None, ALICE)
    assert entry.status is EntryStatus.DRAFT
    assert entry.heading == desk.get_candidate(first).title  # NASA's title as placeholder
    assert desk.get_candidate(first).status is CandidateStatus.APPROVED
    report = run(desk.publish())
    assert report.edition is None and report.entries == 0
    assert edition_mail(desk) == mails_before
    latest = desk.list_editions(limit=1)
    assert [e.number for e in latest] == ([baseline.edition.number] if baseline.edition else [])
    assert desk.list_entries(EntryStatus.DRAFT) == [entry]


def test_a_heading_without_a_paragraph_is_still_a_draft(desk: Watcher) -> None:
    first, *_ = seeded(desk)
    entry = desk.approve([first], EntryDraft(heading="Only a heading"), ALICE)
    assert (entry.status, entry.heading) == (EntryStatus.DRAFT, "Only a heading")


def test_approving_with_words_publishes_and_mails_the_subscriber(desk: Watcher) -> None:
    first, *_ = seeded(desk)
    entry = desk.approve([first], WORDS, ALICE)
    assert entry.status is EntryStatus.PUBLISHED
    report = run(desk.publish())
    assert report.edition is not None and report.edition.added == (entry.id,)
    assert edition_mail(desk) == 1


def test_publishing_a_draft_needs_a_paragraph_then_makes_an_edition(desk: Watcher) -> None:
    first, *_ = seeded(desk)
    run(desk.publish())
    draft = desk.approve([first], None, ALICE)
    with pytest.raises(InvalidInput) as refused:
        desk.set_entry_status(draft.id, draft.version, EntryStatus.PUBLISHED, ALICE)
    assert set(refused.value.errors) == {"body"}
    with pytest.raises(InvalidInput) as again:
        desk.edit_entry(
            draft.id, draft.version, EntryDraft(heading="Dawn"), ALICE, status=EntryStatus.PUBLISHED
        )
    assert set(again.value.errors) == {"body"}
    assert desk.get_entry(draft.id).status is EntryStatus.DRAFT
    published = desk.edit_entry(draft.id, draft.version, WORDS, ALICE, status=EntryStatus.PUBLISHED)
    assert published.status is EntryStatus.PUBLISHED
    report = run(desk.publish())
    assert report.edition is not None and report.edition.added == (draft.id,)
    assert edition_mail(desk) == 1


def test_bulk_approve_makes_one_draft_each(desk: Watcher) -> None:
    ids = seeded(desk, 4)
    made = desk.approve_each(ids[:2], ALICE)
    assert [e.status for e in made] == [EntryStatus.DRAFT] * 2
    sequence = desk.approve(ids[2:], None, ALICE)
    assert sequence.status is EntryStatus.DRAFT


def test_undoing_a_draft_approval_returns_the_candidate_to_the_queue(desk: Watcher) -> None:
    first, *_ = seeded(desk)
    draft = desk.approve([first], None, ALICE)
    event = desk.undo_last(ALICE)
    assert (event.subject_type, event.subject_id) == ("entry", str(draft.id))
    assert desk.get_candidate(first).status is CandidateStatus.NEW
    assert desk.list_entries() == []


def test_require_words_false_keeps_one_step_publishing(
    watcher_for: Any, database_url: str, tmp_path: Path
) -> None:
    sections = worded(tmp_path, database_url, require_words=False)
    watcher: Watcher = watcher_for([], database_url, **sections)
    watcher.add_subscriber("reader@example.org", ROOT, confirmed=True)
    first, second, *_ = seeded(watcher)
    entry = watcher.approve([first], None, ALICE)
    assert entry.status is EntryStatus.PUBLISHED and entry.body == ""
    [bulk] = watcher.approve_each([second], ALICE)
    assert bulk.status is EntryStatus.PUBLISHED
    report = run(watcher.publish())
    assert report.edition is not None and set(report.edition.added) == {entry.id, bulk.id}
    assert edition_mail(watcher) == 1


# -- the editor pages ----------------------------------------------------------------


def notice(html: str) -> str:
    found = re.search(r'class="notice"[^>]*>\s*(.*?)\s*</', html, re.S)
    assert found, html
    return found.group(1)


def test_the_queue_says_saved_as_a_draft_and_the_entry_page_publishes_it(
    web_desk: WebApp,
) -> None:
    alice = web_desk.browser("alice")
    first, *_ = web_desk.seed(3)
    quick = alice.post(f"/editor/candidates/{first}/approve", {"next": "/editor"})
    assert quick.status_code == 303 and "done=drafted" in quick.headers["location"]
    assert "saved as a draft" in notice(alice.get(quick.headers["location"]).text)
    [draft] = web_desk.watcher.list_entries()
    assert draft.status is EntryStatus.DRAFT

    listing = alice.get("/editor/entries").text
    assert "badge-draft" in listing and "Write and publish" in listing

    page = alice.get(f"/editor/entries/{draft.id}").text
    assert 'name="publish" value="1"' in page
    form = {
        "version": str(draft.version),
        "heading": "Dawn over Jezero",
        "body": "",
        "alt_text": "",
        "credit": "",
        "rendition": "large",
        "frames": str(first),
        "publish": "1",
    }
    refused = alice.post(f"/editor/entries/{draft.id}", form)
    assert refused.status_code == 422
    assert re.search(r'id="body-error"[^>]*>[^<]*write a paragraph', refused.text)
    assert web_desk.watcher.get_entry(draft.id).status is EntryStatus.DRAFT

    done = alice.post(f"/editor/entries/{draft.id}", {**form, "body": "First light."})
    assert done.status_code == 303 and "done=published" in done.headers["location"]
    published = web_desk.watcher.get_entry(draft.id)
    assert (published.status, published.body) == (EntryStatus.PUBLISHED, "First light.")


def test_the_candidate_page_publishes_when_both_fields_are_filled(web_desk: WebApp) -> None:
    alice = web_desk.browser("alice")
    first, second, *_ = web_desk.seed(3)
    base = {"origin": "candidate", "next": "/editor", "alt_text": "", "credit": ""}
    words = {**base, "heading": "Dawn", "body": "First light.", "rendition": "large"}
    answer = alice.post(f"/editor/candidates/{first}/approve", words)
    assert answer.status_code == 303 and "done=approved" in answer.headers["location"]
    only_heading = {**words, "body": ""}
    answer = alice.post(f"/editor/candidates/{second}/approve", only_heading)
    assert "done=drafted" in answer.headers["location"]
    statuses = {e.candidate_ids[0]: e.status for e in web_desk.watcher.list_entries()}
    assert statuses == {first: EntryStatus.PUBLISHED, second: EntryStatus.DRAFT}


def test_bulk_approve_and_grouping_in_the_queue_say_drafts(web_desk: WebApp) -> None:
    alice = web_desk.browser("alice")
    ids = web_desk.seed(4)
    chosen = [str(i) for i in ids[:2]]
    each = alice.post("/editor/bulk", {"action": "approve_each", "ids": chosen, "next": "/editor"})
    assert "done=drafted_each" in each.headers["location"]
    grouped = alice.post(
        "/editor/bulk", {"action": "group", "ids": [str(i) for i in ids[2:]], "next": "/editor"}
    )
    assert "done=grouped_draft" in grouped.headers["location"]
    assert "saved as a draft" in notice(alice.get(grouped.headers["location"]).text)
    statuses = {e.status for e in web_desk.watcher.list_entries()}
    assert statuses == {EntryStatus.DRAFT}


# -- the JSON API --------------------------------------------------------------------


def test_the_api_approves_drafts_and_publishes_them_only_with_words(web_desk: WebApp) -> None:
    alice = web_desk.browser("alice")
    headers = {"X-CSRF-Token": alice.csrf}
    first, second, *_ = web_desk.seed(3)
    made = alice.client.post(f"/api/v1/candidates/{first}/approve", headers=headers)
    assert made.status_code == 201 and made.json()["status"] == "draft"
    entry = made.json()
    refused = alice.client.patch(
        f"/api/v1/entries/{entry['id']}",
        json={"version": entry["version"], "status": "published"},
        headers=headers,
    )
    assert refused.status_code == 422
    assert "body" in refused.json()["errors"]
    done = alice.client.patch(
        f"/api/v1/entries/{entry['id']}",
        json={"version": entry["version"], "status": "published", "body": "First light."},
        headers=headers,
    )
    assert done.status_code == 200 and done.json()["status"] == "published"
    bulk = alice.client.post(
        "/api/v1/candidates/bulk", json={"action": "approve", "ids": [second]}, headers=headers
    )
    [result] = bulk.json()["results"]
    assert web_desk.watcher.get_entry(result["entry_id"]).status is EntryStatus.DRAFT
    drafts = alice.client.get("/api/v1/entries", params={"status": "draft"}).json()["items"]
    assert [d["id"] for d in drafts] == [result["entry_id"]]


# -- the CLI -------------------------------------------------------------------------


runner = CliRunner()


def test_cli_approve_without_words_drafts_and_entries_publish_publishes_it(
    tmp_path: Path,
) -> None:
    with NasaEmulator(raw_images={"mars2020": SyntheticRawImages(3)}) as nasa:
        config = write_config(tmp_path, raw_toml(nasa.raw_images_url), require_words=True)
        assert runner.invoke(cli_app, ["--config", str(config), "poll", "--once"]).exit_code == 0

    def invoke(*args: str) -> Any:
        return runner.invoke(cli_app, ["--config", str(config), *args])

    queued = json.loads(invoke("queue", "--json").stdout)
    first = queued[0]["id"]
    approved = invoke("approve", str(first))
    assert approved.exit_code == 0, approved.output
    assert "as draft entry #1" in approved.stdout
    assert "watcher entries publish 1 --heading" in approved.stdout

    listed = invoke("entries")
    assert listed.exit_code == 0 and "draft" in listed.stdout and "1 entry" in listed.stdout
    [shown] = json.loads(invoke("entries", "--json").stdout)
    assert shown["status"] == "draft"
    nothing = json.loads(invoke("publish", "--json").stdout)
    assert nothing["edition"] is None or nothing["edition"]["added"] == []

    refused = invoke("entries", "publish", "1", "--heading", "Dawn")
    assert refused.exit_code == 2 and "body: write a paragraph" in refused.output
    published = invoke("entries", "publish", "1", "--heading", "Dawn", "--text", "First light.")
    assert published.exit_code == 0 and "published entry #1: Dawn" in published.stdout
    edition = json.loads(invoke("publish", "--json").stdout)["edition"]
    assert edition is not None and edition["added"] == [1]


def test_a_published_entry_cannot_lose_its_paragraph(desk: Watcher) -> None:
    first, second, *_ = seeded(desk)
    entry = desk.approve([first], WORDS, ALICE)
    assert entry.status is EntryStatus.PUBLISHED
    with pytest.raises(InvalidInput) as refused:
        desk.edit_entry(entry.id, entry.version, EntryDraft(heading="Dawn"), ALICE)
    assert set(refused.value.errors) == {"body"}
    assert desk.get_entry(entry.id).body == WORDS.body
    draft = desk.approve([second], None, ALICE)
    kept = desk.edit_entry(draft.id, draft.version, EntryDraft(heading="Later"), ALICE)
    assert kept.status is EntryStatus.DRAFT and kept.heading == "Later"  # a draft may stay bare
