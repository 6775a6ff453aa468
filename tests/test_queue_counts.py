"""The queue's counts per status (its tabs) through the Watcher, on SQLite and PostgreSQL:
they follow every filter but the status, stop past the cap, and match text as the listing
does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from watcher.core import Watcher
from watcher.exceptions import InvalidInput
from watcher.review import desk
from watcher.types import Actor, CandidateData, CandidateFilter, CandidateStatus, Role

ALICE = Actor("alice", Role.EDITOR)
T0 = datetime(2026, 8, 30, 20, 0, tzinfo=UTC)
NEW, APPROVED, REJECTED = CandidateStatus.NEW, CandidateStatus.APPROVED, CandidateStatus.REJECTED


def seed(watcher: Watcher, count: int, **fields: Any) -> list[int]:
    """``count`` candidates (even ones Mastcam-Z, odd ones Navcam; sol 1965 then 1966);
    the ids of every candidate stored so far, ascending."""
    prefix = fields.pop("prefix", "IMG")
    items = []
    for i in range(count):
        values: dict[str, Any] = {
            "source": "perseverance",
            "external_id": f"{prefix}_{i:04d}",
            "mission": "perseverance",
            "title": f"Mars Perseverance Sol 1965: frame {i}",
            "caption": "A caption",
            "credit": "NASA/JPL-Caltech",
            "camera": "MCZ_LEFT" if i % 2 == 0 else "NAVCAM_RIGHT",
            "sol": 1965 if i < count // 2 else 1966,
            "taken_at": T0 + timedelta(minutes=i),
            "raw": {"imageid": f"{prefix}_{i:04d}"},
            **fields,
        }
        items.append(CandidateData(**values))
    watcher.store.add_candidates(items, T0)
    return sorted(c.id for c in watcher.list_candidates(status=None, limit=None))


def truth(watcher: Watcher, keep: Any) -> dict[CandidateStatus, int]:
    """What the counts must be: every candidate read back and counted here, by status."""
    found = {status: 0 for status in CandidateStatus}
    for candidate in watcher.list_candidates(status=None, limit=None):
        if keep(candidate):
            found[candidate.status] += 1
    return found


@pytest.fixture
def watcher(watcher_for: Any, database_url: str) -> Watcher:
    built: Watcher = watcher_for([], database_url=database_url)
    return built


def test_counts_per_status_follow_every_filter_but_the_status(watcher: Watcher) -> None:
    ids = seed(watcher, 10)
    watcher.reject(ids[0], ALICE)
    watcher.reject(ids[3], ALICE)
    watcher.approve([ids[2]], None, ALICE)

    counts = watcher.queue_counts(CandidateFilter())
    assert counts.by_status == truth(watcher, lambda c: True)
    assert dict(counts.by_status) == {
        NEW: 7,
        APPROVED: 1,
        REJECTED: 2,
        CandidateStatus.PUBLISHED: 0,
    }
    assert counts.total == 10
    # The status asked for does not narrow its own tabs: the same counts for every status.
    assert watcher.queue_counts(CandidateFilter(status=REJECTED)) == counts
    assert watcher.queue_counts(CandidateFilter(status=None)) == counts

    mastcam = watcher.queue_counts(CandidateFilter(camera="MCZ_LEFT"))
    assert mastcam.by_status == truth(watcher, lambda c: c.camera == "MCZ_LEFT")
    assert mastcam.total == 5
    later = watcher.queue_counts(CandidateFilter(camera="NAVCAM_RIGHT", sol_min=1966))
    assert later.by_status == truth(
        watcher, lambda c: c.camera == "NAVCAM_RIGHT" and c.sol is not None and c.sol >= 1966
    )
    window = CandidateFilter(
        taken_from=T0 + timedelta(minutes=2), taken_to=T0 + timedelta(minutes=4)
    )
    assert watcher.queue_counts(window).by_status == {
        NEW: 0, APPROVED: 1, REJECTED: 1, CandidateStatus.PUBLISHED: 0
    }  # fmt: skip
    assert watcher.queue_counts(CandidateFilter(mission="ingenuity")).total == 0


def test_the_counts_agree_with_the_listing_they_sit_beside(watcher: Watcher) -> None:
    ids = seed(watcher, 12)
    for candidate_id in ids[::3]:
        watcher.reject(candidate_id, ALICE)
    for wanted in (
        CandidateFilter(),
        CandidateFilter(status=REJECTED, camera="MCZ_LEFT"),
        CandidateFilter(status=None, sol_max=1965),
        CandidateFilter(text="frame"),
        CandidateFilter(status=REJECTED, text="frame 3"),
    ):
        listed = watcher.search_candidates(wanted, limit=100)
        counts = watcher.queue_counts(wanted, limit=100)
        shown = counts.total if wanted.status is None else counts.by_status[wanted.status]
        assert shown == len(listed), wanted


def test_a_text_search_counts_as_the_listing_matches_words(watcher: Watcher) -> None:
    seed(watcher, 3, prefix="NLF_0841393386")
    seed(watcher, 2, prefix="Dust", title="Dust devil over Jezero")
    seed(watcher, 1, prefix="Devils", title="Dust devils over Jezero")

    def counted(text: str, limit: int) -> int:
        listed = watcher.search_candidates(CandidateFilter(text=text), limit=limit)
        counts = watcher.queue_counts(CandidateFilter(text=text), limit=limit)
        assert counts.by_status[NEW] == len(listed) or len(listed) == limit, text
        return counts.by_status[NEW]

    # Whole words; the last word also as a prefix when whole words do not fill the page.
    assert counted("0841393", 50) == 3
    assert counted("devil", 50) == 3  # "devils" too: two whole words do not fill a page
    assert counted("devil", 2) == 2  # they fill a page of two: whole words only
    assert counted("dust devil", 50) == 3
    assert counted("pathfinder", 50) == 0


def test_counts_stop_past_the_cap_and_say_so(
    watcher: Watcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(desk, "COUNT_CAP", 4)
    ids = seed(watcher, 9)
    watcher.reject(ids[0], ALICE)
    counts = watcher.queue_counts(CandidateFilter())
    assert counts.cap == 4
    assert counts.by_status[NEW] == 5  # more than 4: stopped at cap + 1
    assert counts.by_status[REJECTED] == 1 and counts.by_status[APPROVED] == 0
    assert watcher.queue_counts(CandidateFilter(camera="NAVCAM_RIGHT")).by_status[NEW] == 4

    # Text: the full-text index counts a word's matches, not one status's; past the cap the
    # counts per status are unknown and only the total is told.
    wide = watcher.queue_counts(CandidateFilter(text="frame"))
    assert wide.total == 5 and dict(wide.by_status) == {}
    narrow = watcher.queue_counts(CandidateFilter(text="frame", sol_max=1965))
    assert dict(narrow.by_status) == {
        NEW: 3, APPROVED: 0, REJECTED: 1, CandidateStatus.PUBLISHED: 0
    }  # fmt: skip


def test_counts_refuse_a_range_that_ends_before_it_starts(watcher: Watcher) -> None:
    with pytest.raises(InvalidInput) as caught:
        watcher.queue_counts(CandidateFilter(sol_min=1966, sol_max=1965))
    assert caught.value.errors == {"sol_max": "must not be below the first sol"}
