"""Publishing through the Watcher: editions, the site's files, settings; SQLite and PostgreSQL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import orjson
import pytest

from watcher.core import Watcher
from watcher.exceptions import Conflict, InvalidInput, NotFound, PermissionDenied
from watcher.plans import EditionPlan
from watcher.types import Actor, CandidateData, EntryDraft, EntryStatus, ProcessId, Role

from .conftest import Clock, run

ALICE = Actor("alice", Role.EDITOR)
ADMIN = Actor("root", Role.ADMIN)
T0 = datetime(2026, 8, 30, 20, 0, tzinfo=UTC)


def seed(watcher: Watcher, count: int = 4, prefix: str = "IMG", **fields: Any) -> list[int]:
    """``count`` new candidates; returns their ids, ascending."""
    before = {c.id for c in watcher.list_candidates(status=None, limit=None)}
    items = []
    for i in range(count):
        values: dict[str, Any] = {
            "source": "perseverance",
            "external_id": f"{prefix}_{i:03d}",
            "mission": "perseverance",
            "title": f"Sol 1965 frame {i}",
            "credit": "NASA/JPL-Caltech",
            "camera": "MCZ_LEFT",
            "sol": 1965,
            "mars_local_time": "15:28:38",
            "taken_at": T0 + timedelta(minutes=i),
            "page_url": f"https://mars.nasa.gov/raw/{prefix}_{i}",
            "medium_url": f"https://mars.nasa.gov/{prefix}_{i}_800.jpg",
            "large_url": f"https://mars.nasa.gov/{prefix}_{i}_1200.jpg",
            "full_url": f"https://mars.nasa.gov/{prefix}_{i}.png",
            "width": 1600,
            "height": 1200,
            "raw": {},
        }
        values.update(fields)
        items.append(CandidateData(**values))
    watcher.store.add_candidates(items, T0)
    return sorted(
        c.id for c in watcher.list_candidates(status=None, limit=None) if c.id not in before
    )


@pytest.fixture
def watcher(watcher_for: Any, database_url: str) -> Watcher:
    built: Watcher = watcher_for(
        [],
        database_url=database_url,
        publish={"title": "Mars, as it happens", "intro": "The best pictures.", "debounce": 0},
        server={"public_url": "https://mars.example.org"},
    )
    return built


def site_files(watcher: Watcher) -> dict[str, float]:
    root = watcher.settings.site_dir
    return {
        str(path.relative_to(root)): path.stat().st_mtime_ns
        for path in root.rglob("*")
        if path.is_file()
    }


def index(watcher: Watcher) -> str:
    return (watcher.settings.site_dir / "index.html").read_text()


def test_approve_then_publish_makes_edition_one_with_the_entry(watcher: Watcher) -> None:
    [first, *_] = seed(watcher)
    entry = watcher.approve([first], EntryDraft(heading="A dust devil"), ALICE)
    report = run(watcher.publish())
    assert report.changed and report.edition is not None
    assert report.edition.number == 1 and report.edition.added == (entry.id,)
    assert report.edition.entries == 1 and report.entries == 1
    assert watcher.site_edition() == 1
    page = index(watcher)
    assert "A dust devil" in page and "Image courtesy of NASA/JPL-Caltech" in page
    assert "Last updated 2026-11-25 12:00 UTC (edition 1)" in page
    assert (watcher.settings.site_dir / f"entries/{entry.id}.html").is_file()
    assert watcher.settings.site_dir.is_symlink()
    assert watcher.get_edition(1) == report.edition
    assert {"read", "render", "write"} <= set(report.timings)


def test_an_edition_made_meanwhile_by_another_publisher_is_not_repeated(
    watcher: Watcher,
) -> None:
    """A publisher whose lease ran out mid-publish must not announce the same changes as
    the one that took over: its edition insert sees the newer edition and backs off."""
    [first, *_] = seed(watcher)
    entry = watcher.approve([first], EntryDraft(heading="Only once"), ALICE)
    snapshot = watcher.store.publish_snapshot()
    assert snapshot[3] is None  # the slow publisher compared against "no edition yet"
    assert run(watcher.publish()).edition is not None  # the other one published meanwhile
    stale = EditionPlan(
        number=1,
        published_at=watcher.clock(),
        added=(entry.id,),
        changed=(),
        removed=(),
        reordered=False,
        site_changed=False,
        current=((entry.id, "stale"),),
        stored={},
        site_digest="stale",
        audit_id=snapshot[0],
    )
    with pytest.raises(Conflict):
        watcher.store.commit_edition(stale)
    assert [e.number for e in watcher.list_editions()] == [1]


def test_publishing_twice_without_a_change_writes_no_edition_and_no_file(
    watcher: Watcher, clock: Clock
) -> None:
    [first, *_] = seed(watcher)
    watcher.approve([first], EntryDraft(heading="One"), ALICE)
    run(watcher.publish())
    before = site_files(watcher)
    target = os.readlink(watcher.settings.site_dir)
    clock.advance(60)
    again = run(watcher.publish())
    assert not again.changed and again.edition is None and again.site is None
    assert site_files(watcher) == before and os.readlink(watcher.settings.site_dir) == target
    assert [e.number for e in watcher.list_editions()] == [1]


def test_edit_reorder_unpublish_and_title_each_make_an_edition_saying_what(
    watcher: Watcher, clock: Clock
) -> None:
    ids = seed(watcher)
    a = watcher.approve([ids[0]], EntryDraft(heading="First"), ALICE)
    b = watcher.approve([ids[1]], EntryDraft(heading="Second"), ALICE)
    run(watcher.publish())

    clock.advance(10)
    a = watcher.edit_entry(a.id, a.version, EntryDraft(heading="First, sharper"), ALICE)
    edited = run(watcher.publish()).edition
    assert edited is not None and edited.number == 2 and edited.changed == (a.id,)
    assert not edited.added and not edited.reordered
    assert "First, sharper" in index(watcher)

    clock.advance(10)
    watcher.reorder_entries([b.id, a.id], ALICE)
    moved = run(watcher.publish()).edition
    assert moved is not None and moved.reordered and not moved.changed
    page = index(watcher)
    assert page.index("Second") < page.index("First, sharper")

    clock.advance(10)
    b = watcher.get_entry(b.id)
    watcher.set_entry_status(b.id, b.version, EntryStatus.UNPUBLISHED, ALICE)
    gone = run(watcher.publish()).edition
    assert gone is not None and gone.removed == (b.id,) and gone.entries == 1
    assert "Second" not in index(watcher)
    assert not (watcher.settings.site_dir / f"entries/{b.id}.html").exists()

    clock.advance(10)
    watcher.update_site_settings(ADMIN, title="Mars, every day", intro="New *intro*.")
    site = run(watcher.publish()).edition
    assert site is not None and site.site_changed and site.number == 5
    assert "<h1>Mars, every day</h1>" in index(watcher) and "<em>intro</em>" in index(watcher)
    assert [e.number for e in watcher.list_editions(limit=2)] == [5, 4]
    assert [e.number for e in watcher.list_editions(before=3)] == [2, 1]


def test_feeds_keep_ids_across_publishes_and_carry_self_and_hub(
    watcher_for: Any, database_url: str, clock: Clock
) -> None:
    watcher: Watcher = watcher_for(
        [],
        database_url=database_url,
        publish={"websub_hubs": ["https://hub.example.org/"], "feed_items": 2},
        server={"public_url": "https://mars.example.org"},
    )
    ids = seed(watcher, 3)
    for i, candidate in enumerate(ids):
        watcher.approve([candidate], EntryDraft(heading=f"Entry {i}"), ALICE)
        clock.advance(60)
    run(watcher.publish())
    site = watcher.settings.site_dir
    first = feedparser.parse((site / "feed.atom").read_bytes())
    assert not first.bozo and len(first.entries) == 2
    assert [e.title for e in first.entries] == ["Entry 2", "Entry 1"]  # newest created first
    links = {(link.rel, link.href) for link in first.feed.links}
    assert ("self", "https://mars.example.org/feed.atom") in links
    assert ("hub", "https://hub.example.org/") in links
    entry = watcher.list_entries()[2]
    watcher.edit_entry(entry.id, entry.version, EntryDraft(heading="Entry 2, edited"), ALICE)
    run(watcher.publish())
    second = feedparser.parse((site / "feed.atom").read_bytes())
    assert [e.id for e in second.entries] == [e.id for e in first.entries]
    assert second.entries[0].title == "Entry 2, edited"
    assert second.entries[0].id == f"tag:mars.example.org,2026:entry/{entry.id}"
    assert second.entries[0].link == f"https://mars.example.org/entries/{entry.id}.html"
    document = orjson.loads((site / "feed.json").read_bytes())
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert [item["id"] for item in document["items"]] == [e.id for e in second.entries]
    assert document["hubs"] == [{"type": "WebSub", "url": "https://hub.example.org/"}]


def test_change_mark_is_due_after_a_change_and_clear_after_publish(watcher: Watcher) -> None:
    assert not watcher.change_mark().due
    [first, *_] = seed(watcher)
    watcher.approve([first], None, ALICE)
    mark = watcher.change_mark()
    assert mark.due and mark.audit_id > 0 and mark.at is not None
    run(watcher.publish())
    assert not watcher.change_mark().due
    watcher.reject(seed(watcher, 1, prefix="REJ")[0], ALICE)
    assert not watcher.change_mark().due  # a rejection changes nothing readers see


def test_a_held_lease_makes_publish_busy(watcher: Watcher, clock: Clock) -> None:
    [first, *_] = seed(watcher)
    watcher.approve([first], None, ALICE)
    assert watcher.store.take_lease("publish", "other", clock.now, clock.now + timedelta(60))
    report = run(watcher.publish())
    assert report.busy and report.edition is None and not report.changed
    assert watcher.site_edition() is None


def test_a_dead_publishers_lease_on_this_host_is_taken_over_at_once(
    watcher: Watcher, clock: Clock
) -> None:
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    pid = int(finished.stdout)
    dead = f"{socket.gethostname()}:{pid}:abcd"
    process = ProcessId(socket.gethostname(), pid)
    until = clock.now + timedelta(minutes=2)
    assert watcher.store.take_lease("publish", dead, clock.now, until, process=process)
    watcher.approve([seed(watcher)[0]], EntryDraft(heading="Taken over"), ALICE)
    report = run(watcher.publish())
    assert not report.busy and report.edition is not None and report.edition.number == 1


def test_sync_site_re_renders_files_behind_the_latest_edition(watcher: Watcher) -> None:
    assert run(watcher.sync_site()).reason == "nothing published yet"
    [first, *_] = seed(watcher)
    watcher.approve([first], EntryDraft(heading="Kept"), ALICE)
    run(watcher.publish())
    up = run(watcher.sync_site())
    assert not up.rendered and up.edition == 1 and not up.pending
    (watcher.settings.site_dir / "edition.json").write_text('{"edition": 0}')
    watcher.approve([seed(watcher, 1, prefix="NEW")[0]], EntryDraft(heading="Later"), ALICE)
    synced = run(watcher.sync_site())
    assert synced.rendered and synced.pending and synced.edition == 1
    assert watcher.site_edition() == 1
    assert [e.number for e in watcher.list_editions()] == [1]


def test_site_settings_are_admin_only_validated_and_audited(watcher: Watcher) -> None:
    assert watcher.site_settings().title == "Mars, as it happens"
    with pytest.raises(PermissionDenied):
        watcher.update_site_settings(ALICE, title="Mine", intro="")
    with pytest.raises(InvalidInput) as empty:
        watcher.update_site_settings(ADMIN, title="  ", intro="")
    assert "title" in empty.value.errors
    with pytest.raises(InvalidInput) as long:
        watcher.update_site_settings(ADMIN, title="x" * 201, intro="y" * 2001)
    assert {"title", "intro"} <= set(long.value.errors)
    changed = watcher.update_site_settings(ADMIN, title="  Red   planet ", intro="Hello")
    assert (changed.title, changed.intro, changed.updated_by) == ("Red planet", "Hello", "root")
    [event] = watcher.audit_events(ADMIN, subject_type="site")
    assert event.before == {"title": "Mars, as it happens", "intro": "The best pictures."}
    assert event.after == {"title": "Red planet", "intro": "Hello"}
    with pytest.raises(NotFound):
        watcher.get_edition(99)


def test_export_writes_a_plain_directory_with_relative_links(
    watcher: Watcher, tmp_path: Path
) -> None:
    [first, *_] = seed(watcher)
    entry = watcher.approve([first], EntryDraft(heading="Exported"), ALICE)
    run(watcher.publish())
    out = tmp_path / "export"
    report = run(watcher.export_site(out))
    assert out.is_dir() and not out.is_symlink() and report.edition == 1
    page = (out / "index.html").read_text()
    assert f'href="entries/{entry.id}.html"' in page and 'href="site.css"' in page
    permalink = (out / f"entries/{entry.id}.html").read_text()
    assert 'href="../site.css"' in permalink and "Exported" in permalink


def test_published_entries_carry_frames_and_the_first_frames_details(watcher: Watcher) -> None:
    ids = seed(watcher)
    entry = watcher.approve([ids[2], ids[0]], EntryDraft(heading="Pair"), ALICE)
    [shown] = watcher.published_entries()
    assert shown.id == entry.id and [f.candidate_id for f in shown.frames] == [ids[2], ids[0]]
    assert shown.sol == 1965 and shown.camera == "MCZ_LEFT" and shown.mars_local_time
    assert shown.nasa_page_url == "https://mars.nasa.gov/raw/IMG_2"
    assert shown.frames[0].width == 1600 and shown.taken_at == T0 + timedelta(minutes=2)


@pytest.mark.parametrize(
    ("email", "public_url", "served", "exported"),
    [
        (True, "https://mars.example.org/", "/subscribe", "https://mars.example.org/subscribe"),
        (True, None, "/subscribe", None),
        (False, "https://mars.example.org", None, None),
    ],
)
def test_the_sign_up_form_posts_where_a_watcher_answers_or_is_left_out(
    watcher_for: Any,
    tmp_path: Path,
    email: bool,
    public_url: str | None,
    served: str | None,
    exported: str | None,
) -> None:
    """The served list posts to its own watcher; an export, served elsewhere, posts to the
    configured public address, and without one it has no form that could not work."""
    server = {"public_url": public_url} if public_url else {}
    watcher = watcher_for([], email={"enabled": email}, server=server)
    [first] = seed(watcher, count=1)
    entry = watcher.approve([first], EntryDraft(heading="A dust devil"), ALICE)
    run(watcher.publish())
    out = tmp_path / "export"
    run(watcher.export_site(out))
    pages = {
        "served": [watcher.settings.site_dir / "index.html"],
        "exported": [out / "index.html", out / f"entries/{entry.id}.html"],
    }
    for where, action in (("served", served), ("exported", exported)):
        for path in pages[where]:
            page = path.read_text()
            if action is None:
                assert "<form" not in page and "subscribe" not in page, (where, path)
            else:
                assert f'<form method="post" action="{action}">' in page, (where, path)
    exported_page = (out / "index.html").read_text()
    if public_url:
        assert '<meta property="og:url" content="https://mars.example.org/">' in exported_page
    else:
        assert "og:url" not in exported_page and "canonical" not in exported_page
