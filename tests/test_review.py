"""Decisions, entries and the audit log through the Watcher, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from watcher.core import Watcher
from watcher.exceptions import Conflict, InvalidInput, NotFound, PermissionDenied
from watcher.types import (
    Actor,
    CandidateData,
    CandidateFilter,
    CandidateStatus,
    EntryDraft,
    EntryStatus,
    Role,
)

from .conftest import Clock, raw_source

ALICE = Actor("alice", Role.EDITOR)
BOB = Actor("bob", Role.EDITOR)
ADMIN = Actor("root", Role.ADMIN)
READER = Actor("dashboard", Role.EDITOR, kind="token", can_write=False)
T0 = datetime(2026, 8, 30, 20, 0, tzinfo=UTC)


def seed(watcher: Watcher, count: int = 6, **fields: Any) -> list[int]:
    """``count`` candidates; returns the ids of every candidate stored so far, ascending."""
    items = []
    for i in range(count):
        values: dict[str, Any] = {
            "source": "perseverance",
            "external_id": f"IMG_{i:03d}",
            "mission": "perseverance",
            "title": f"Mars Perseverance Sol 1965: frame {i}",
            "caption": "A caption",
            "credit": "NASA/JPL-Caltech/ASU",
            "camera": "MCZ_LEFT" if i % 2 == 0 else "NAVCAM_RIGHT",
            "sol": 1965 if i < 4 else 1966,
            "taken_at": T0 + timedelta(minutes=i),
            "full_url": f"https://mars.nasa.gov/{i}.png",
            "raw": {"imageid": f"IMG_{i:03d}"},
        }
        values.update(fields)
        values["external_id"] = f"{fields.get('external_id', 'IMG')}_{i:03d}"
        items.append(CandidateData(**values))
    watcher.store.add_candidates(items, T0)
    return sorted(c.id for c in watcher.list_candidates(limit=None))


@pytest.fixture
def watcher(watcher_for: Any, database_url: str) -> Watcher:
    built: Watcher = watcher_for([], database_url=database_url)
    return built


def test_approving_makes_an_entry_from_nasas_title_and_credit(
    watcher: Watcher, clock: Clock
) -> None:
    first = seed(watcher)[0]
    entry = watcher.approve([first], None, ALICE)
    assert entry.heading == "Mars Perseverance Sol 1965: frame 0"
    assert entry.credit == "NASA/JPL-Caltech/ASU"
    assert entry.alt_text == entry.heading
    assert entry.candidate_ids == (first,) and entry.position == 1
    assert entry.status is EntryStatus.PUBLISHED and entry.created_by == "alice"
    candidate = watcher.get_candidate(first)
    assert candidate.status is CandidateStatus.APPROVED
    assert (candidate.decided_by, candidate.decided_at, candidate.version) == (
        "alice",
        clock.now,
        2,
    )
    assert watcher.entry_of(first) == entry.id
    [event] = watcher.audit_events(ADMIN)
    assert (event.actor, event.action, event.subject_id) == ("alice", "approve", str(entry.id))
    assert event.after is not None and event.after["heading"] == entry.heading


def test_approving_without_any_credit_credits_the_sources_fallback(watcher_for: Any) -> None:
    rss = {"name": "nasa_rss", "kind": "rss", "url": "https://www.nasa.gov/feed/", "interval": "1h"}
    watcher: Watcher = watcher_for([raw_source("https://mars.nasa.gov/rss/api/"), rss])
    raw = seed(watcher, 2, credit=None)
    quiet = watcher.approve([raw[0]], None, ALICE)
    blank = watcher.approve([raw[1]], EntryDraft(heading="Blank", credit="   "), ALICE)
    assert quiet.credit == blank.credit == "NASA/JPL-Caltech"
    ids = seed(watcher, 1, credit=None, source="nasa_rss", external_id="RSS")
    assert watcher.approve([ids[-1]], None, ALICE).credit == "NASA"


def test_a_candidate_of_a_removed_source_without_credit_is_credited_to_nasa(
    watcher: Watcher,
) -> None:
    first = seed(watcher, credit=None)[0]  # "perseverance" is not configured here
    assert watcher.approve([first], None, ALICE).credit == "NASA"


def test_an_editors_credit_always_wins(watcher_for: Any) -> None:
    watcher: Watcher = watcher_for([raw_source("https://mars.nasa.gov/rss/api/")])
    given, missing = seed(watcher, 2)[0], seed(watcher, 1, credit=None, external_id="X")[-1]
    for candidate in (given, missing):
        draft = EntryDraft(heading="Mine", credit="Jane Doe/NASA")
        assert watcher.approve([candidate], draft, ALICE).credit == "Jane Doe/NASA"


def test_the_second_decision_is_refused_with_who_and_when(watcher: Watcher) -> None:
    first = seed(watcher)[0]
    watcher.approve([first], EntryDraft(heading="Dust devil"), ALICE)
    with pytest.raises(
        Conflict, match=r"already approved by alice at 2026-11-25 12:00 UTC"
    ) as info:
        watcher.reject(first, BOB)
    assert info.value.by == "alice"
    with pytest.raises(Conflict, match="already approved by alice"):
        watcher.approve([first], None, BOB)


def test_a_decision_on_a_stale_version_is_refused(watcher: Watcher) -> None:
    first = seed(watcher)[0]
    with pytest.raises(Conflict, match="already changed"):
        watcher.reject(first, ALICE, version=7)
    assert watcher.get_candidate(first).status is CandidateStatus.NEW


def test_two_editors_racing_get_one_decision_and_one_conflict(
    watcher_for: Any, database_url: str
) -> None:
    one: Watcher = watcher_for([], database_url=database_url)
    two: Watcher = watcher_for([], database_url=database_url)
    ids = seed(one, 20)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def decide(w: Watcher, actor: Actor, approve: bool) -> None:
        barrier.wait()
        for candidate_id in ids:
            try:
                if approve:
                    w.approve([candidate_id], None, actor)
                else:
                    w.reject(candidate_id, actor, reason="blurry")
                outcomes.append("ok")
            except Conflict:
                outcomes.append("conflict")

    threads = [threading.Thread(target=decide, args=(one, ALICE, True)),
               threading.Thread(target=decide, args=(two, BOB, False))]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes.count("ok") == 20 and outcomes.count("conflict") == 20
    decided = one.search_candidates(CandidateFilter(status=None), limit=100)
    assert all(c.status is not CandidateStatus.NEW for c in decided)
    entries = {e.candidate_ids[0] for e in one.list_entries()}
    approved = {c.id for c in decided if c.status is CandidateStatus.APPROVED}
    assert entries == approved


def test_reject_keeps_the_reason_and_undo_brings_it_back(watcher: Watcher) -> None:
    first = seed(watcher)[0]
    rejected = watcher.reject(first, ALICE, reason="  out   of focus ")
    assert rejected.status is CandidateStatus.REJECTED and rejected.reject_reason == "out of focus"
    undo = watcher.undo_last(ALICE)
    assert undo.action == "undo"
    again = watcher.get_candidate(first)
    assert again.status is CandidateStatus.NEW and again.decided_by is None
    with pytest.raises(NotFound, match="nothing to undo"):
        watcher.undo_last(ALICE)


def test_undo_of_an_approval_removes_the_unedited_entry(watcher: Watcher) -> None:
    ids = seed(watcher)
    entry = watcher.approve(ids[:3], EntryDraft(heading="Sequence"), ALICE)
    watcher.reject(ids[3], BOB)
    watcher.undo_last(ALICE)  # alice's approval, not bob's later rejection
    assert watcher.list_entries() == []
    assert {watcher.get_candidate(i).status for i in ids[:3]} == {CandidateStatus.NEW}
    assert watcher.get_candidate(ids[3]).status is CandidateStatus.REJECTED
    with pytest.raises(NotFound):
        watcher.get_entry(entry.id)


def test_undo_after_someone_edited_the_entry_is_refused(watcher: Watcher) -> None:
    first = seed(watcher)[0]
    entry = watcher.approve([first], None, ALICE)
    watcher.edit_entry(entry.id, entry.version, EntryDraft(heading="Better"), BOB)
    with pytest.raises(Conflict, match="was changed by bob"):
        watcher.undo_last(ALICE)
    assert watcher.get_candidate(first).status is CandidateStatus.APPROVED


def test_a_sequence_entry_keeps_its_frame_order(watcher: Watcher) -> None:
    ids = seed(watcher)
    entry = watcher.approve([ids[2], ids[0], ids[1]], EntryDraft(heading="Dust devil"), ALICE)
    assert entry.candidate_ids == (ids[2], ids[0], ids[1])
    assert watcher.get_entry(entry.id).candidate_ids == (ids[2], ids[0], ids[1])


def test_editing_checks_the_version_and_returns_dropped_frames_to_the_queue(
    watcher: Watcher,
) -> None:
    ids = seed(watcher)
    entry = watcher.approve(ids[:2], EntryDraft(heading="Two"), ALICE)
    draft = EntryDraft(heading="Three", body="**Wow**", alt_text="A plume", rendition="full")
    edited = watcher.edit_entry(entry.id, entry.version, draft, BOB, candidate_ids=[ids[1], ids[2]])
    assert (edited.heading, edited.body, edited.rendition, edited.version) == (
        "Three",
        "**Wow**",
        "full",
        2,
    )
    assert edited.candidate_ids == (ids[1], ids[2]) and edited.updated_by == "bob"
    assert watcher.get_candidate(ids[0]).status is CandidateStatus.NEW
    assert watcher.get_candidate(ids[2]).status is CandidateStatus.APPROVED
    with pytest.raises(Conflict, match="was changed by bob"):
        watcher.edit_entry(entry.id, entry.version, EntryDraft(heading="Stale"), ALICE)
    assert watcher.get_entry(entry.id).heading == "Three"
    events = watcher.audit_events(ADMIN, subject_type="entry", subject_id=str(entry.id))
    edit = next(e for e in events if e.action == "edit")
    assert edit.before is not None and edit.after is not None
    assert (edit.before["heading"], edit.after["heading"]) == ("Two", "Three")


def test_unpublish_and_reorder(watcher: Watcher) -> None:
    ids = seed(watcher)
    a, b, c = (watcher.approve([i], None, ALICE) for i in ids[:3])
    hidden = watcher.set_entry_status(b.id, b.version, EntryStatus.UNPUBLISHED, ALICE)
    assert hidden.status is EntryStatus.UNPUBLISHED
    assert [e.id for e in watcher.list_entries(EntryStatus.PUBLISHED)] == [a.id, c.id]
    reordered = watcher.reorder_entries([c.id, a.id, b.id], BOB)
    assert [(e.id, e.position) for e in reordered] == [(c.id, 1), (a.id, 2), (b.id, 3)]
    with pytest.raises(Conflict, match="list changed"):
        watcher.reorder_entries([a.id, b.id], BOB)


@pytest.mark.parametrize(
    ("draft", "field"),
    [
        (EntryDraft(heading="x" * 201), "heading"),
        (EntryDraft(heading="ok", body="y" * 5001), "body"),
        (EntryDraft(heading="ok", alt_text="z" * 501), "alt_text"),
        (EntryDraft(heading="ok", rendition="huge"), "rendition"),
        (EntryDraft(heading="ok", credit="c" * 301), "credit"),
    ],
)
def test_bad_fields_are_named(watcher: Watcher, draft: EntryDraft, field: str) -> None:
    first = seed(watcher)[0]
    with pytest.raises(InvalidInput) as info:
        watcher.approve([first], draft, ALICE)
    assert set(info.value.errors) == {field}
    assert watcher.get_candidate(first).status is CandidateStatus.NEW


def test_read_tokens_cannot_decide_and_only_admins_read_the_audit(watcher: Watcher) -> None:
    first = seed(watcher)[0]
    with pytest.raises(PermissionDenied):
        watcher.approve([first], None, READER)
    with pytest.raises(PermissionDenied):
        watcher.audit_events(ALICE)
    with pytest.raises(NotFound):
        watcher.approve([99999], None, ALICE)


def test_queue_filters_and_keyset_pages(watcher: Watcher) -> None:
    ids = seed(watcher)
    seed(watcher, 2, source="ingenuity", mission="ingenuity", external_id="HELI", camera="HELI_NAV")
    newest_first = list(reversed(ids))
    every = watcher.search_candidates(CandidateFilter(source="perseverance"), limit=100)
    assert [c.id for c in every] == newest_first
    page1 = watcher.search_candidates(CandidateFilter(source="perseverance"), limit=4)
    page2 = watcher.search_candidates(CandidateFilter(source="perseverance"), limit=4,
                                      before_id=page1[-1].id)  # fmt: skip
    assert [c.id for c in page1 + page2] == newest_first
    assert {c.camera for c in watcher.search_candidates(CandidateFilter(camera="MCZ_LEFT"))} == {
        "MCZ_LEFT"
    }
    assert {c.sol for c in watcher.search_candidates(CandidateFilter(sol_min=1966))} == {1966}
    assert {c.mission for c in watcher.search_candidates(CandidateFilter(mission="ingenuity"))} == {
        "ingenuity"
    }
    window = CandidateFilter(
        taken_from=T0 + timedelta(minutes=1), taken_to=T0 + timedelta(minutes=3)
    )
    assert len([c for c in watcher.search_candidates(window) if c.source == "perseverance"]) == 2
    assert [c.title for c in watcher.search_candidates(CandidateFilter(text="FRAME 3"))] == [
        "Mars Perseverance Sol 1965: frame 3"
    ]
    assert watcher.search_candidates(CandidateFilter(text="100%_")) == []
    watcher.reject(ids[0], ALICE)
    assert ids[0] not in {c.id for c in watcher.search_candidates(CandidateFilter())}
    rejected = watcher.search_candidates(CandidateFilter(status=CandidateStatus.REJECTED))
    assert [c.id for c in rejected] == [ids[0]]
    with pytest.raises(InvalidInput) as info:
        watcher.search_candidates(CandidateFilter(sol_min=5, sol_max=1))
    assert "sol_max" in info.value.errors


def test_neighbours_are_the_same_camera_and_sol_nearest_in_time(watcher: Watcher) -> None:
    ids = seed(watcher, 12, camera="MCZ_LEFT", sol=1965)
    seed(watcher, 2, camera="MCZ_LEFT", sol=1966, external_id="other-sol")
    middle = watcher.get_candidate(ids[5])
    near = watcher.neighbours(middle, limit=4)
    assert [c.id for c in near] == [ids[3], ids[4], ids[6], ids[7]]
    assert all(c.sol == 1965 and c.camera == "MCZ_LEFT" for c in near)


def test_facets_list_what_the_filters_can_choose(watcher: Watcher) -> None:
    seed(watcher)
    facets = watcher.facets()
    assert facets["camera"] == ["MCZ_LEFT", "NAVCAM_RIGHT"]
    assert facets["source"] == ["perseverance"]
    assert facets["mission"] == ["perseverance"]


def test_deleting_an_entry_returns_its_frames_to_the_queue(watcher: Watcher) -> None:
    ids = seed(watcher)
    entry = watcher.approve(ids[:2], None, ALICE)
    with pytest.raises(Conflict):
        watcher.delete_entry(entry.id, entry.version + 1, BOB)
    watcher.delete_entry(entry.id, entry.version, BOB)
    assert watcher.list_entries() == []
    assert {watcher.get_candidate(i).status for i in ids[:2]} == {CandidateStatus.NEW}
    assert watcher.audit_events(ADMIN)[0].action == "delete"


def test_an_edit_can_change_the_status_in_the_same_transaction(watcher: Watcher) -> None:
    first = seed(watcher)[0]
    entry = watcher.approve([first], None, ALICE)
    edited = watcher.edit_entry(
        entry.id,
        entry.version,
        EntryDraft(heading="Hidden for now"),
        BOB,
        status=EntryStatus.UNPUBLISHED,
    )
    assert (edited.heading, edited.status, edited.version) == (
        "Hidden for now",
        EntryStatus.UNPUBLISHED,
        entry.version + 1,
    )


def test_every_change_to_the_list_tells_the_listeners(watcher: Watcher) -> None:
    heard: list[str] = []
    watcher.add_change_listener(lambda: heard.append("changed"))
    watcher.add_change_listener(lambda: 1 / 0)  # a broken listener must not undo anything
    ids = seed(watcher)
    a = watcher.approve([ids[0]], None, ALICE)
    b = watcher.approve([ids[1]], None, ALICE)
    watcher.edit_entry(a.id, a.version, EntryDraft(heading="New"), ALICE)
    watcher.set_entry_status(b.id, b.version, EntryStatus.UNPUBLISHED, ALICE)
    watcher.reorder_entries([b.id, a.id], ALICE)
    watcher.delete_entry(b.id, b.version + 1, ALICE)
    watcher.reject(ids[2], ALICE)  # a rejection does not change the list
    assert len(heard) == 6
    assert watcher.get_entry(a.id).heading == "New"
