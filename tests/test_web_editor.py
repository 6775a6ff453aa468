"""The editor's HTML pages, in-process against a real SQLite file: queue, candidate page,
entries, audit, editors, tokens, account; errors beside fields; conflicts; inert payloads."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from argon2 import PasswordHasher

from watcher.accounts import passwords as security
from watcher.cameras import camera_name
from watcher.types import Actor, Candidate, CandidateStatus, EntryDraft, EntryStatus, Role
from watcher.web.pages_common import card_line

from .conftest import PASSWORD, Browser, WebApp

ALICE = Actor("alice", Role.EDITOR)
ROOT = Actor("root", Role.ADMIN)
SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"


# -- helpers --------------------------------------------------------------------------


def card_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-card data-id="(\d+)"', html)]


def location(response: object) -> str:
    value: str = response.headers["location"]  # type: ignore[attr-defined]
    return value


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def error_beside(html: str, field_id: str, message: str) -> None:
    """The field is marked invalid, points at its error, and the error (holding
    ``message``) follows it with no other form control in between."""
    field = re.search(rf'<(input|select|textarea)\b[^>]*\bid="{field_id}"[^>]*>', html)
    assert field, f"no field #{field_id}"
    tag = field.group(0)
    assert 'aria-invalid="true"' in tag, tag
    described = re.search(r'aria-describedby="([^"]+)"', tag)
    assert described, tag
    error_id = next(i for i in described.group(1).split() if i.endswith("-error"))
    error = re.search(rf'<p class="field-error" id="{error_id}">(.*?)</p>', html, re.S)
    assert error, f"no #{error_id}"
    assert message in unescape(error.group(1)), error.group(1)
    between = html[field.end() : error.start()]
    assert not re.search(r"<(input|select|textarea)\b", between), "the error is not beside it"


def notice(html: str) -> str | None:
    found = re.search(r'<p class="notice" role="status">(.*?)</p>', html, re.S)
    return unescape(found.group(1)) if found else None


def problem(html: str) -> str:
    return " ".join(unescape(m) for m in re.findall(r'<p class="problem"[^>]*>(.*?)</p>', html))


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap argon2 parameters: these tests sign in often, and test_accounts covers the
    real ones."""
    monkeypatch.setattr(
        security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture
def root(web: WebApp) -> Browser:
    return web.browser("root")


@pytest.fixture
def alice(web: WebApp) -> Browser:
    return web.browser("alice")


# -- who may see what -----------------------------------------------------------------


def test_editors_see_the_editor_pages_but_not_the_admin_pages(web: WebApp, alice: Browser) -> None:
    [candidate] = web.seed(1)
    entry = web.watcher.approve([candidate], None, ALICE)
    for path in ("/editor", f"/editor/candidates/{candidate}", "/editor/entries",
                 f"/editor/entries/{entry.id}", "/editor/account"):  # fmt: skip
        assert alice.get(path).status_code == 200, path
    for path in ("/editor/audit", "/editor/editors", "/editor/tokens"):
        response = alice.get(path)
        assert response.status_code == 403, path
        assert "only an admin" in response.text
    assert alice.post("/editor/tokens", {"name": "x", "scope": "write"}).status_code == 403
    assert alice.post("/editor/editors", {"name": "eve", "password": "x" * 20}).status_code == 403
    assert web.watcher.list_api_tokens() == []
    assert [e.name for e in web.watcher.list_editors()] == ["alice", "root"]


def test_admins_see_every_page(web: WebApp, root: Browser) -> None:
    [candidate] = web.seed(1)
    entry = web.watcher.approve([candidate], None, ROOT)
    for path in ("/editor", "/editor?status=all", f"/editor/candidates/{candidate}",
                 "/editor/entries", f"/editor/entries/{entry.id}", "/editor/audit",
                 "/editor/editors", "/editor/tokens", "/editor/account"):  # fmt: skip
        response = root.get(path)
        assert response.status_code == 200, path
        assert 'href="/editor/audit"' in response.text  # admins' nav


def test_anonymous_visitors_are_sent_to_sign_in_and_change_nothing(web: WebApp) -> None:
    [candidate] = web.seed(1)
    anonymous = web.browser()
    response = anonymous.get("/editor?camera=NAVCAM_RIGHT")
    assert response.status_code == 303
    assert location(response).startswith("/editor/login?next=")
    posted = anonymous.client.post(f"/editor/candidates/{candidate}/approve", data={"version": 1})
    assert posted.status_code == 303 and "/editor/login" in location(posted)
    assert web.watcher.get_candidate(candidate).status is CandidateStatus.NEW


def test_a_post_without_the_right_csrf_token_is_refused(web: WebApp, alice: Browser) -> None:
    [candidate] = web.seed(1)
    response = alice.post(f"/editor/candidates/{candidate}/approve", {"csrf_token": "forged"})
    assert response.status_code == 403
    assert "Form expired" in response.text
    assert web.watcher.get_candidate(candidate).status is CandidateStatus.NEW


# -- the queue ------------------------------------------------------------------------


def test_queue_cards_show_the_thumbnail_metadata_and_quick_decisions(
    web: WebApp, alice: Browser
) -> None:
    ids = web.seed(3)
    html = alice.get("/editor").text
    assert card_ids(html) == ids[::-1]  # newest first
    first = web.watcher.get_candidate(ids[0])
    card = html[html.index(f'id="card-{ids[0]}"') :]
    card = card[: card.index("</li>")]
    assert f'src="{first.thumbnail_url}"' in card
    assert 'loading="lazy"' in card and 'width="1288" height="968"' in card
    assert f'alt="{first.title}"' in card
    assert "2026-08-01 00:00:00 UTC" in card and "15:28:38 LMST" in card
    assert first.camera is not None and camera_name(first.camera) in card
    assert first.camera not in card  # NASA's code only in the raw record's details
    assert "NASA/JPL-Caltech" in card and "perseverance" in card
    assert f'action="/editor/candidates/{ids[0]}/approve"' in card
    assert f'action="/editor/candidates/{ids[0]}/reject"' in card
    assert 'name="version" value="1"' in card and 'name="next" value="/editor"' in card
    assert f'data-full="{first.full_url}"' in card
    assert f'value="{ids[0]}:1" form="bulk"' in card
    assert 'id="shortcuts"' in html and "editor.js" in html


def test_queue_filters_by_status_camera_sol_date_and_text(web: WebApp, alice: Browser) -> None:
    ids = web.seed(6)  # cameras: MCZ_LEFT for ids[0], ids[3]; sols 1900..1905
    late = web.seed(1, external_id="LATE", taken_at=datetime(2026, 8, 3, 23, 59, tzinfo=UTC))
    later = web.seed(
        1, external_id="LATER", title="Dust devil", taken_at=datetime(2026, 8, 4, tzinfo=UTC)
    )
    web.watcher.reject(ids[1], ALICE)

    def shown(path: str) -> list[int]:
        response = alice.get(path)
        assert response.status_code == 200, response.text
        return sorted(card_ids(response.text))

    assert ids[1] not in shown("/editor")
    assert shown("/editor?status=rejected") == [ids[1]]
    assert ids[1] in shown("/editor?status=all")
    assert shown("/editor?camera=MCZ_LEFT&status=all") == sorted(
        c.id for c in web.watcher.list_candidates(status=None) if c.camera == "MCZ_LEFT"
    )
    assert shown("/editor?sol_min=1902&sol_max=1903") == [ids[2], ids[3]]
    assert shown("/editor?from=2026-08-03&to=2026-08-03") == late  # UTC days, inclusive
    assert shown("/editor?from=2026-08-04") == later
    assert shown("/editor?q=dust+devil") == later
    html = alice.get("/editor?camera=MCZ_LEFT").text
    assert '<option value="MCZ_LEFT" selected>Mastcam-Z left</option>' in html  # the facets
    assert '<option value="NAVCAM_RIGHT">Navcam right</option>' in html


def test_bad_filter_values_are_named_beside_their_fields_without_a_500(
    web: WebApp, alice: Browser
) -> None:
    web.seed(2)
    response = alice.get(
        "/editor?status=maybe&sol_min=abc&from=2026-02-30&to=yesterday&limit=0&q=mars"
    )
    assert response.status_code == 422
    html = response.text
    error_beside(html, "f-status", "choose new, approved")
    error_beside(html, "f-sol_min", "whole number")
    error_beside(html, "f-from", "YYYY-MM-DD")
    error_beside(html, "f-to", "YYYY-MM-DD")
    error_beside(html, "f-limit", "between 1 and 200")
    assert card_ids(html) == [] and "Fix the filters" in html
    assert 'value="abc"' in html and 'value="mars"' in html  # what was typed stays
    reversed_range = alice.get("/editor?sol_min=1905&sol_max=1900")
    assert reversed_range.status_code == 422
    error_beside(reversed_range.text, "f-sol_max", "must not be below the first sol")
    dates = alice.get("/editor?from=2026-08-05&to=2026-08-01")
    error_beside(dates.text, "f-to", "must not be before the first date")
    broken = alice.get("/editor?before=nope")
    assert broken.status_code == 422 and "this page link is broken" in broken.text


def tab_counts(html: str) -> dict[str, str]:
    """Each status tab's count, as shown."""
    return dict(re.findall(r'data-status="(\w+)"[^>]*>\w+ <span[^>]*>([^<]+)</span>', html))


def test_queue_tabs_count_each_status_under_the_other_filters(web: WebApp, alice: Browser) -> None:
    ids = web.seed(6)  # cameras: MCZ_LEFT for ids[0], ids[3]
    web.watcher.reject(ids[0], ALICE)
    web.watcher.approve([ids[1]], None, ALICE)
    html = alice.get("/editor").text
    assert tab_counts(html) == {
        "new": "4", "approved": "1", "rejected": "1", "all": "6"
    }  # fmt: skip
    assert "4 new · showing 1\N{EN DASH}4" in html
    assert 'data-status="new" aria-current="page">New' in html
    mastcam = alice.get("/editor?camera=MCZ_LEFT&status=rejected").text
    assert card_ids(mastcam) == [ids[0]]
    assert tab_counts(mastcam) == {
        "new": "1", "approved": "0", "rejected": "1", "all": "2"
    }  # fmt: skip
    assert "1 rejected · showing 1\N{EN DASH}1" in mastcam
    # Each tab keeps the other filters and drops the page.
    assert 'href="/editor?camera=MCZ_LEFT" data-status="new"' in mastcam
    assert 'href="/editor?status=all&amp;camera=MCZ_LEFT" data-status="all"' in mastcam
    empty = alice.get("/editor?status=published").text
    assert "0 published" in empty and "No candidates match these filters." in empty


def test_queue_filters_beyond_the_bar_stay_folded_unless_set_or_wrong(
    web: WebApp, alice: Browser
) -> None:
    web.seed(2)
    folded = '<details class="fold" data-fold>'
    unfolded = '<details class="fold" data-fold open>'
    assert folded in alice.get("/editor").text
    assert folded in alice.get("/editor?q=mars&camera=MCZ_LEFT&status=all").text  # in the bar
    set_inside = alice.get("/editor?sol_min=1900&source=perseverance").text
    assert unfolded in set_inside
    assert '<summary>Filters <span class="tab-count">2</span></summary>' in set_inside
    wrong = alice.get("/editor?limit=0")
    assert wrong.status_code == 422 and unfolded in wrong.text
    error_beside(wrong.text, "f-limit", "between 1 and 200")


def test_keyset_pages_walk_the_queue_keeping_the_filters(web: WebApp, alice: Browser) -> None:
    ids = web.seed(7, camera="NAVCAM_LEFT")
    web.seed(2, camera="MCZ_RIGHT")
    first = alice.get("/editor?camera=NAVCAM_LEFT&limit=3").text
    assert card_ids(first) == ids[:-4:-1]
    older = re.search(r'<a class="button ghost" href="([^"]+)" rel="next">Older', first)
    assert older and "Newest" not in first
    second_url = unescape(older.group(1))
    assert query(second_url) == {
        "camera": ["NAVCAM_LEFT"], "limit": ["3"], "before": [str(ids[-3])], "at": ["4"]
    }  # fmt: skip
    assert "7 new · showing 1\N{EN DASH}3" in first
    second = alice.get(second_url).text
    assert card_ids(second) == ids[-4:-7:-1]
    assert "7 new · showing 4\N{EN DASH}6" in second
    assert 'href="/editor?camera=NAVCAM_LEFT&amp;limit=3">« Newest' in second
    third_url = unescape(re.findall(r'href="([^"]+)" rel="next"', second)[0])
    third = alice.get(third_url).text
    assert card_ids(third) == [ids[0]] and 'rel="next"' not in third


def test_approving_from_the_queue_makes_an_entry_and_returns_to_the_same_filtered_page(
    web: WebApp, alice: Browser
) -> None:
    ids = web.seed(3)
    here = "/editor?camera=NAVCAM_RIGHT&sol_min=1900&before=99"
    response = alice.post(f"/editor/candidates/{ids[1]}/approve", {"version": 1, "next": here})
    assert response.status_code == 303
    target = location(response)
    [entry] = web.watcher.list_entries()
    assert urlsplit(target).path == "/editor"
    assert query(target) == {
        "camera": ["NAVCAM_RIGHT"], "sol_min": ["1900"], "before": ["99"],
        "done": ["approved"], "entry": [str(entry.id)],
    }  # fmt: skip
    assert entry.candidate_ids == (ids[1],)
    assert entry.heading == web.watcher.get_candidate(ids[1]).title
    assert entry.created_by == "alice"
    assert notice(alice.get(target).text) == f"Approved: entry #{entry.id} is on the running list."
    rejected = alice.post(f"/editor/candidates/{ids[2]}/reject", {"version": 1, "next": here})
    assert query(location(rejected))["done"] == ["rejected"]
    assert web.watcher.get_candidate(ids[2]).status is CandidateStatus.REJECTED


def test_next_never_sends_the_editor_to_another_site(web: WebApp, alice: Browser) -> None:
    targets = ("https://evil.example/", "//evil.example/", "/\\evil.example/", "javascript:x")
    ids = web.seed(len(targets))
    for candidate, target in zip(ids, targets, strict=True):
        response = alice.post(f"/editor/candidates/{candidate}/reject", {"next": target})
        assert response.status_code == 303
        assert location(response).startswith("/editor?done=rejected"), target
    page = alice.get("/editor/candidates/1?next=//evil.example/").text
    assert 'href="/editor">← Back to the queue' in page and "evil" not in page


def test_a_quick_approve_of_a_decided_candidate_shows_who_decided_it(
    web: WebApp, alice: Browser, root: Browser
) -> None:
    [candidate] = web.seed(1)
    alice.post(f"/editor/candidates/{candidate}/approve", {"version": 1, "next": "/editor"})
    response = root.post(
        f"/editor/candidates/{candidate}/approve", {"version": 1, "next": "/editor?status=all"}
    )
    assert response.status_code == 409
    assert "already approved by alice at 2026-11-25 12:00 UTC" in problem(response.text)
    assert card_ids(response.text) == [candidate]  # the queue it came from (status=all)
    assert len(web.watcher.list_entries()) == 1


def test_notices_come_from_a_fixed_map_and_never_echo_the_url(web: WebApp, alice: Browser) -> None:
    html = alice.get(f"/editor?done={SCRIPT}&entry=1").text
    assert notice(html) is None and SCRIPT not in html and "alert(1)" not in html
    html = alice.get(f"/editor?done=approved&entry={SCRIPT}").text
    assert notice(html) == "Approved." and "alert(1)" not in html


def test_undo_takes_back_my_last_decision_and_says_what_it_undid(
    web: WebApp, alice: Browser
) -> None:
    ids = web.seed(2)
    alice.post(f"/editor/candidates/{ids[0]}/reject", {"version": 1})
    alice.post(f"/editor/candidates/{ids[1]}/approve", {"version": 1})
    [entry] = web.watcher.list_entries()
    response = alice.post("/editor/undo", {"next": "/editor?camera=NAVCAM_RIGHT"})
    assert response.status_code == 303
    assert query(location(response))["camera"] == ["NAVCAM_RIGHT"]
    assert notice(alice.get(location(response)).text) == (
        f"Undone: entry #{entry.id} is gone and its candidates are back in the queue."
    )
    assert web.watcher.list_entries() == []
    again = alice.post("/editor/undo", {"next": "/editor"})
    assert notice(alice.get(location(again)).text) == (
        f"Undone: candidate {ids[0]} is back in the queue."
    )
    assert web.watcher.get_candidate(ids[0]).status is CandidateStatus.NEW
    nothing = alice.post("/editor/undo", {"next": "/editor"})
    assert nothing.status_code == 404
    assert "nothing to undo" in problem(nothing.text)


def test_undo_of_an_edited_entry_explains_the_conflict(web: WebApp, alice: Browser) -> None:
    [candidate] = web.seed(1)
    entry = web.watcher.approve([candidate], None, ALICE)
    web.watcher.set_entry_status(entry.id, entry.version, EntryStatus.UNPUBLISHED, ROOT)
    response = alice.post("/editor/undo", {"next": "/editor"})
    assert response.status_code == 409
    assert f"entry #{entry.id} was changed by root" in problem(response.text)


# -- bulk decisions ---------------------------------------------------------------------


def test_bulk_approve_each_makes_one_entry_per_selected_candidate(
    web: WebApp, alice: Browser
) -> None:
    ids = web.seed(4)
    response = alice.post(
        "/editor/bulk",
        {"action": "approve_each", "ids": [f"{ids[3]}:1", f"{ids[1]}:1"], "next": "/editor"},
    )
    assert response.status_code == 303
    assert query(location(response)) == {"done": ["approved_each"], "n": ["2"]}
    entries = web.watcher.list_entries()
    assert [e.candidate_ids for e in entries] == [(ids[3],), (ids[1],)]
    assert notice(alice.get(location(response)).text) == "Approved 2 candidates, one entry each."


def test_bulk_group_makes_one_sequence_in_taken_time_or_in_the_order_selected(
    web: WebApp, alice: Browser
) -> None:
    ids = web.seed(6)
    picked = [f"{ids[2]}:1", f"{ids[0]}:1", f"{ids[1]}:1"]
    response = alice.post("/editor/bulk", {"action": "group", "ids": picked, "order": "taken"})
    assert response.status_code == 303
    [entry] = web.watcher.list_entries()
    assert entry.candidate_ids == (ids[0], ids[1], ids[2])  # taken time
    assert query(location(response))["n"] == ["3"]
    clicked = f"{ids[5]},{ids[3]},{ids[4]}"
    alice.post(
        "/editor/bulk",
        {"action": "group", "ids": [f"{i}:1" for i in ids[3:]], "order": "selected",
         "selection": clicked},
    )  # fmt: skip
    assert web.watcher.list_entries()[1].candidate_ids == (ids[5], ids[3], ids[4])


def test_bulk_reject_rejects_the_selection_with_the_reason_and_reports_conflicts(
    web: WebApp, alice: Browser
) -> None:
    ids = web.seed(3)
    web.watcher.approve([ids[2]], None, ROOT)
    response = alice.post(
        "/editor/bulk",
        {"action": "reject", "ids": [f"{i}:1" for i in ids], "reason": "Lens cap on"},
    )
    assert response.status_code == 409
    assert "Rejected 2 of 3" in problem(response.text)
    assert "already approved by root" in problem(response.text)
    for candidate_id in ids[:2]:
        rejected = web.watcher.get_candidate(candidate_id)
        assert rejected.status is CandidateStatus.REJECTED
        assert rejected.reject_reason == "Lens cap on"
    too_long = alice.post(
        "/editor/bulk", {"action": "reject", "ids": [str(ids[2])], "reason": "x" * 600}
    )
    assert too_long.status_code == 422
    error_beside(too_long.text, "bulk-reason", "keep it under 500 characters")


def test_bulk_without_a_selection_or_action_changes_nothing(web: WebApp, alice: Browser) -> None:
    [candidate] = web.seed(1)
    empty = alice.post("/editor/bulk", {"action": "approve_each", "next": "/editor"})
    assert empty.status_code == 422 and "Select at least one candidate" in problem(empty.text)
    odd = alice.post("/editor/bulk", {"action": "explode", "ids": [str(candidate)]})
    assert odd.status_code == 422 and "Choose what to do" in problem(odd.text)
    assert web.watcher.get_candidate(candidate).status is CandidateStatus.NEW


# -- the candidate page -----------------------------------------------------------------


def test_candidate_page_shows_the_picture_metadata_raw_record_and_neighbours(
    web: WebApp, alice: Browser
) -> None:
    ids = web.seed(3, camera="NAVCAM_LEFT", sol=1965)
    other = web.seed(1, camera="MCZ_LEFT", sol=1965)
    c = web.watcher.get_candidate(ids[1])
    html = alice.get(f"/editor/candidates/{ids[1]}?next=/editor%3Fsol_min%3D1965").text
    assert f'<a href="{c.full_url}" target="_blank" rel="noopener noreferrer">' in html
    assert f'<img src="{c.large_url}" alt="{c.title}"' in html
    assert "Click for the full-size file" in html
    for value in ("Navcam left", "1965", "15:28:38 LMST", c.external_id, "1288 x 968 px"):
        assert f"<dd>{value}</dd>" in html, value
    assert "&#34;extra&#34;: &#34;kept&#34;" in html  # the raw record, pretty and escaped
    assert f'href="{c.page_url}"' in html
    strip = html[html.index('class="strip"') :]
    assert f'href="/editor/candidates/{ids[0]}?next=' in strip
    assert f'href="/editor/candidates/{ids[2]}?next=' in strip
    assert f"/editor/candidates/{other[0]}" not in strip  # another camera
    assert 'aria-current="page"' in strip and f"#{ids[1]} · " in strip
    assert 'placeholder="' + c.title + '"' in html
    assert 'id="credit" name="credit" value="NASA/JPL-Caltech"' in html
    assert 'href="/editor?sol_min=1965">← Back to the queue' in html


def test_a_tiled_frame_shows_its_tiles_side_by_side(web: WebApp, alice: Browser) -> None:
    from watcher.types import Tile

    tiles = tuple(
        Tile(imageid=f"NRF_T_0{n}_1J", left=1 + 1272 * (n - 1), top=1, width=1296, height=968,
             medium_url=f"https://mars.nasa.gov/raw/T_0{n}_800.jpg",
             full_url=f"https://mars.nasa.gov/raw/T_0{n}.png")
        for n in (1, 2, 3)
    )  # fmt: skip
    [tiled] = web.seed(1, tiles=tiles)
    [whole] = web.seed(1)
    html = alice.get(f"/editor/candidates/{tiled}").text
    assert "NASA sent this frame in 3 tiles" in html
    row = html[html.index('class="tile-row"') :]
    for n, left in ((1, 1), (2, 1273), (3, 2545)):
        assert f'<a href="https://mars.nasa.gov/raw/T_0{n}.png"' in row
        assert f'<img src="https://mars.nasa.gov/raw/T_0{n}_800.jpg"' in row
        assert f"NRF_T_0{n}_1J: 1296 x 968 px at column {left}, row 1" in row
    assert "tiles</h2>" not in alice.get(f"/editor/candidates/{whole}").text


def test_approving_on_the_candidate_page_saves_the_entry_and_goes_to_the_next_new_one(
    web: WebApp, alice: Browser
) -> None:
    ids = web.seed(4, camera="NAVCAM_LEFT")
    web.watcher.reject(ids[1], ROOT)
    here = "/editor?camera=NAVCAM_LEFT"
    response = alice.post(
        f"/editor/candidates/{ids[2]}/approve",
        {"origin": "candidate", "version": 1, "next": here, "heading": "  Dawn   at Jezero ",
         "body": "The **first** light.", "alt_text": "A crater rim", "credit": "",
         "rendition": "full"},
    )  # fmt: skip
    assert response.status_code == 303
    [entry] = web.watcher.list_entries()
    assert (entry.heading, entry.body, entry.alt_text) == (
        "Dawn at Jezero", "The **first** light.", "A crater rim"
    )  # fmt: skip
    assert entry.credit == "NASA/JPL-Caltech" and entry.rendition == "full"
    target = location(response)
    assert urlsplit(target).path == f"/editor/candidates/{ids[0]}"  # next *new* one, older
    assert query(target)["next"] == [here] and query(target)["entry"] == [str(entry.id)]
    page = alice.get(target).text
    assert notice(page) == f"Approved: entry #{entry.id} is on the running list."
    decided = alice.get(f"/editor/candidates/{ids[2]}").text
    assert (
        f'Approved by alice at 2026-11-25 12:00 UTC — <a href="/editor/entries/{entry.id}">'
        f"entry #{entry.id}</a>" in decided
    )
    assert 'name="heading"' not in decided  # no form once decided
    last = alice.post(
        f"/editor/candidates/{ids[0]}/approve",
        {"origin": "candidate", "version": 1, "next": here, "heading": "Last"},
    )
    assert location(last).startswith("/editor?camera=NAVCAM_LEFT&done=approved")


def test_bad_entry_fields_are_shown_beside_them_and_the_text_is_kept(
    web: WebApp, alice: Browser
) -> None:
    [candidate] = web.seed(1)
    response = alice.post(
        f"/editor/candidates/{candidate}/approve",
        {"origin": "candidate", "version": 1, "heading": "H" * 201, "body": "My careful words",
         "alt_text": "a" * 501, "credit": "c" * 301, "rendition": "huge"},
    )  # fmt: skip
    assert response.status_code == 422
    html = response.text
    error_beside(html, "heading", "keep it under 200 characters")
    error_beside(html, "alt_text", "keep it under 500 characters")
    error_beside(html, "credit", "keep it under 300 characters")
    error_beside(html, "rendition", "choose one of medium, large, full")
    assert ">My careful words</textarea>" in html and 'value="' + "H" * 201 + '"' in html
    assert web.watcher.get_candidate(candidate).status is CandidateStatus.NEW


def test_a_candidate_approved_meanwhile_says_by_whom_and_keeps_the_editors_text(
    web: WebApp, alice: Browser, root: Browser
) -> None:
    [candidate] = web.seed(1)
    alice.post(f"/editor/candidates/{candidate}/approve", {"version": 1})
    response = root.post(
        f"/editor/candidates/{candidate}/approve",
        {"origin": "candidate", "version": 1, "heading": "My own heading",
         "body": "Words I *wrote*", "alt_text": "My alt", "credit": "NASA"},
    )  # fmt: skip
    assert response.status_code == 409
    html = response.text
    assert "already approved by alice at 2026-11-25 12:00 UTC" in problem(html)
    assert 'value="My own heading"' in html and ">Words I *wrote*</textarea>" in html
    assert 'value="My alt"' in html
    [entry] = web.watcher.list_entries()
    assert entry.heading != "My own heading"
    assert f'href="/editor/entries/{entry.id}">edit entry #{entry.id}</a>' in html


def test_reject_with_a_reason_is_recorded_and_shown_on_the_page(
    web: WebApp, alice: Browser
) -> None:
    [candidate] = web.seed(1)
    too_long = alice.post(
        f"/editor/candidates/{candidate}/reject",
        {"origin": "candidate", "version": 1, "reason": "x" * 501, "heading": "Kept"},
    )
    assert too_long.status_code == 422
    error_beside(too_long.text, "reason", "keep it under 500 characters")
    assert 'value="Kept"' in too_long.text
    response = alice.post(
        f"/editor/candidates/{candidate}/reject",
        {"origin": "candidate", "version": 1, "reason": "Too   blurry"},
    )
    assert response.status_code == 303
    assert query(location(response))["done"] == ["rejected"]
    page = alice.get(f"/editor/candidates/{candidate}").text
    assert "Rejected by alice at 2026-11-25 12:00 UTC: Too blurry" in page


def test_preview_renders_the_paragraph_and_keeps_the_form(web: WebApp, alice: Browser) -> None:
    [candidate] = web.seed(1)
    response = alice.post(
        "/editor/preview",
        {"candidate_id": candidate, "version": 1, "heading": "Draft", "body": "A **bold** claim",
         "next": "/editor?camera=MCZ_LEFT"},
    )  # fmt: skip
    assert response.status_code == 200
    html = response.text
    assert '<div class="prose"><p>A <strong>bold</strong> claim</p></div>' in html
    assert ">A **bold** claim</textarea>" in html and 'value="Draft"' in html
    assert 'name="next" value="/editor?camera=MCZ_LEFT"' in html
    assert web.watcher.get_candidate(candidate).status is CandidateStatus.NEW


def test_unknown_candidates_and_entries_are_404_pages(alice: Browser) -> None:
    for path in ("/editor/candidates/999", "/editor/entries/999"):
        response = alice.get(path)
        assert response.status_code == 404 and "Not found" in response.text


# -- entries --------------------------------------------------------------------------


def make_entries(web: WebApp, count: int) -> list[int]:
    ids = web.seed(count)
    drafts = [EntryDraft(heading=f"Entry {i}", body=f"Para *{i}*") for i in range(count)]
    return [web.watcher.approve([c], d, ALICE).id for c, d in zip(ids, drafts, strict=True)]


def test_entries_list_shows_the_running_list_in_order(web: WebApp, alice: Browser) -> None:
    entries = make_entries(web, 3)
    html = alice.get("/editor/entries").text
    assert [int(i) for i in re.findall(r'id="entry-(\d+)"', html)] == entries
    assert "<p>Para <em>0</em></p>" in html and "Entry 2" in html
    assert "1 frame" in html and "updated by alice at 2026-11-25 12:00 UTC" in html
    first = web.watcher.get_candidate(web.watcher.get_entry(entries[0]).candidate_ids[0])
    assert f'src="{first.thumbnail_url}"' in html
    assert html.count("Move up") == 2 and html.count("Move down") == 2
    assert "Yes, delete entry #" in html and "<details" in html


def test_moving_an_entry_saves_the_whole_new_order(web: WebApp, alice: Browser) -> None:
    a, b, c = make_entries(web, 3)
    html = alice.get("/editor/entries").text
    move_down_a = re.search(rf'name="order" value="({b},{a},{c})"', html)
    assert move_down_a
    response = alice.post("/editor/entries/order", {"order": f"{b},{a},{c}", "moved": a})
    assert response.status_code == 303 and location(response).endswith(f"#entry-{a}")
    assert [e.id for e in web.watcher.list_entries()] == [b, a, c]
    stale = alice.post("/editor/entries/order", {"order": f"{a},{b}"})
    assert stale.status_code == 409 and "list changed" in problem(stale.text)
    junk = alice.post("/editor/entries/order", {"order": "1,x"})
    assert junk.status_code == 422


def test_unpublishing_and_publishing_an_entry(web: WebApp, alice: Browser) -> None:
    [entry] = make_entries(web, 1)
    response = alice.post(
        f"/editor/entries/{entry}/status", {"status": "unpublished", "version": 1}
    )
    assert response.status_code == 303
    assert web.watcher.get_entry(entry).status is EntryStatus.UNPUBLISHED
    assert (notice(alice.get(location(response)).text) or "").startswith(
        f"Entry #{entry} is unpublished"
    )
    stale = alice.post(f"/editor/entries/{entry}/status", {"status": "published", "version": 1})
    assert stale.status_code == 409 and "was changed by alice" in problem(stale.text)
    alice.post(f"/editor/entries/{entry}/status", {"status": "published", "version": 2})
    assert web.watcher.get_entry(entry).status is EntryStatus.PUBLISHED


def test_deleting_an_entry_returns_its_candidates_to_the_queue(web: WebApp, alice: Browser) -> None:
    [entry] = make_entries(web, 1)
    [candidate] = web.watcher.get_entry(entry).candidate_ids
    response = alice.post(f"/editor/entries/{entry}/delete", {"version": 1})
    assert response.status_code == 303
    assert web.watcher.list_entries() == []
    assert web.watcher.get_candidate(candidate).status is CandidateStatus.NEW
    assert "its candidates are back in the queue" in (
        notice(alice.get(location(response)).text) or ""
    )


def test_editing_an_entry_saves_text_and_frames(web: WebApp, alice: Browser) -> None:
    [entry] = make_entries(web, 1)
    extra = web.seed(2)
    [first] = web.watcher.get_entry(entry).candidate_ids
    page = alice.get(f"/editor/entries/{entry}").text
    assert f'id="frames" name="frames" value="{first}"' in page
    assert 'name="version" value="1"' in page
    response = alice.post(
        f"/editor/entries/{entry}",
        {"version": 1, "heading": "Sequence", "body": "Moving *clouds*", "alt_text": "Clouds",
         "credit": "", "rendition": "medium", "frames": f"{extra[1]}, {first} {extra[0]}"},
    )  # fmt: skip
    assert response.status_code == 303
    saved = web.watcher.get_entry(entry)
    assert saved.candidate_ids == (extra[1], first, extra[0])
    assert (saved.heading, saved.rendition, saved.credit) == (
        "Sequence", "medium", "NASA/JPL-Caltech"
    )  # fmt: skip
    assert notice(alice.get(location(response)).text) == f"Saved entry #{entry}."
    again = alice.get(f"/editor/entries/{entry}").text
    assert again.count('class="strip-item') == 3


def test_bad_frames_and_fields_on_the_entry_form_are_named_beside_them(
    web: WebApp, alice: Browser
) -> None:
    [entry] = make_entries(web, 1)
    form = {"version": 1, "heading": "Kept heading", "body": "Kept body"}
    for frames, message in (("1, two", "whole numbers"), ("", "at least one"),
                            ("999", "no candidate with id 999")):  # fmt: skip
        response = alice.post(f"/editor/entries/{entry}", {**form, "frames": frames})
        assert response.status_code == 422
        error_beside(response.text, "frames", message)
        assert 'value="Kept heading"' in response.text and ">Kept body</textarea>" in response.text
    empty = alice.post(f"/editor/entries/{entry}", {**form, "heading": " ", "frames": "1"})
    error_beside(empty.text, "heading", "write a heading")
    assert web.watcher.get_entry(entry).version == 1


def test_an_entry_changed_meanwhile_shows_their_version_and_keeps_mine(
    web: WebApp, alice: Browser, root: Browser
) -> None:
    [entry] = make_entries(web, 1)
    frames = ",".join(str(i) for i in web.watcher.get_entry(entry).candidate_ids)
    alice.post(
        f"/editor/entries/{entry}",
        {"version": 1, "heading": "Alice's heading", "body": "Alice's words", "frames": frames},
    )
    response = root.post(
        f"/editor/entries/{entry}",
        {"version": 1, "heading": "Root's heading", "body": "Root's words", "frames": frames},
    )
    assert response.status_code == 409
    html = response.text
    assert f"entry #{entry} was changed by alice at 2026-11-25 12:00 UTC" in problem(html)
    theirs = html[html.index('class="theirs"') : html.index("</section>")]
    assert "Alice&#39;s heading" in theirs and "<p>Alice's words</p>" in theirs
    assert 'value="Root&#39;s heading"' in html and ">Root&#39;s words</textarea>" in html
    assert 'name="version" value="2"' in html  # saving again overwrites, knowingly
    assert web.watcher.get_entry(entry).heading == "Alice's heading"


def test_entry_preview_renders_without_saving(web: WebApp, alice: Browser) -> None:
    [entry] = make_entries(web, 1)
    response = alice.post(
        "/editor/preview",
        {"entry_id": entry, "version": 1, "heading": "New", "body": "- one\n- two"},
    )
    assert response.status_code == 200
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in response.text
    assert web.watcher.get_entry(entry).heading == "Entry 0"


# -- audit, editors, tokens, account -----------------------------------------------------


def test_audit_log_shows_who_did_what_with_before_and_after(web: WebApp, root: Browser) -> None:
    [entry] = make_entries(web, 1)
    current = web.watcher.get_entry(entry)
    web.watcher.edit_entry(entry, 1, EntryDraft(heading="Renamed", body=current.body), ROOT)
    [candidate] = web.seed(1)
    web.watcher.reject(candidate, ALICE, reason="Dark")
    html = root.get("/editor/audit").text
    rows = re.findall(r'<tr id="event-(\d+)">', html)
    assert [int(r) for r in rows] == sorted((int(r) for r in rows), reverse=True)
    assert '<dt>heading</dt><dd><span class="before">Entry 0</span>' in html
    assert '<span class="after">Renamed</span>' in html
    assert f'<a href="/editor/candidates/{candidate}">candidate {candidate}</a>' in html
    assert '<span class="after">Dark</span>' in html
    only_alice = root.get("/editor/audit?by=alice").text
    assert "Renamed" not in only_alice and "Dark" in only_alice
    one = root.get(f"/editor/audit?type=candidate&subject={candidate}").text
    assert len(re.findall(r'<tr id="event-', one)) == 1
    bad = root.get("/editor/audit?type=planet")
    assert bad.status_code == 422
    error_beside(bad.text, "a-type", "choose one of")


def test_audit_log_pages_by_keyset(web: WebApp, root: Browser) -> None:
    for candidate in web.seed(55):
        web.watcher.reject(candidate, ALICE)
    first = root.get("/editor/audit?by=alice").text
    ids = [int(i) for i in re.findall(r'<tr id="event-(\d+)">', first)]
    assert len(ids) == 50
    older = unescape(re.findall(r'href="([^"]+)" rel="next"', first)[0])
    assert query(older) == {"by": ["alice"], "before": [str(ids[-1])]}
    second = root.get(older).text
    rest = [int(i) for i in re.findall(r'<tr id="event-(\d+)">', second)]
    assert len(rest) == 5 and max(rest) < min(ids) and 'rel="next"' not in second


def test_admins_add_disable_enable_and_reset_editors(web: WebApp, root: Browser) -> None:
    bad = root.post("/editor/editors", {"name": "!bob", "password": "short", "role": "editor"})
    assert bad.status_code == 422
    error_beside(bad.text, "name", "use 1 to 63 letters")
    assert 'value="!bob"' in bad.text
    short = root.post("/editor/editors", {"name": "bob", "password": "short", "role": "editor"})
    error_beside(short.text, "password", "use at least 12 characters")
    role = root.post("/editor/editors", {"name": "bob", "password": PASSWORD, "role": "king"})
    error_beside(role.text, "role", "choose admin or editor")
    added = root.post("/editor/editors", {"name": "bob", "password": PASSWORD, "role": "editor"})
    assert added.status_code == 303
    assert notice(root.get(location(added)).text) == "Added the editor."
    bob = web.browser("bob")
    assert bob.get("/editor").status_code == 200
    root.post("/editor/editors/disabled", {"name": "bob", "disabled": "1"})
    assert web.watcher.get_editor("bob").disabled
    assert bob.get("/editor").status_code == 303  # the session ended
    root.post("/editor/editors/disabled", {"name": "bob", "disabled": "0"})
    assert not web.watcher.get_editor("bob").disabled
    weak = root.post("/editor/editors/password", {"name": "bob", "password": "tiny"})
    assert weak.status_code == 422
    page = root.get("/editor/editors").text
    index = re.findall(r"<th scope=\"row\">([^<]+)</th>", page).index("bob") + 1
    error_beside(weak.text, f"row-{index}-password", "use at least 12 characters")
    reset = root.post("/editor/editors/password", {"name": "bob", "password": "a new long secret"})
    assert reset.status_code == 303
    Browser(web).sign_in("bob", "a new long secret")
    last = root.post("/editor/editors/disabled", {"name": "root", "disabled": "1"})
    assert last.status_code == 422 and "this is the last admin" in last.text
    assert not web.watcher.get_editor("root").disabled


def test_a_token_secret_is_shown_once_and_tokens_can_be_revoked(web: WebApp, root: Browser) -> None:
    bad = root.post("/editor/tokens", {"name": "dash", "scope": "everything"})
    assert bad.status_code == 422
    error_beside(bad.text, "scope", "choose read or write")
    created = root.post("/editor/tokens", {"name": "dash", "scope": "read"})
    assert created.status_code == 201
    secret = re.search(r'class="secret-value" value="(wt_[^"]+)"', created.text)
    assert secret and "Copy it now" in created.text
    assert web.watcher.token_actor(secret.group(1)) is not None
    listing = root.get("/editor/tokens").text
    assert secret.group(1) not in listing and secret.group(1)[:10] in listing
    [token] = web.watcher.list_api_tokens()
    revoked = root.post(f"/editor/tokens/{token.id}/revoke")
    assert revoked.status_code == 303
    assert notice(root.get(location(revoked)).text) == f"Revoked token #{token.id}."
    assert web.watcher.token_actor(secret.group(1)) is None
    assert "revoked 2026-11-25" in root.get("/editor/tokens").text


def test_changing_your_own_password_signs_you_out_and_the_new_one_works(
    web: WebApp, alice: Browser
) -> None:
    new = "another long passphrase"
    wrong = alice.post("/editor/account", {"current": "nope", "password": new, "confirm": new})
    assert wrong.status_code == 422
    error_beside(wrong.text, "current", "this is not your current password")
    differ = alice.post(
        "/editor/account", {"current": PASSWORD, "password": new, "confirm": new + "!"}
    )
    error_beside(differ.text, "confirm", "the two passwords differ")
    short = alice.post("/editor/account", {"current": PASSWORD, "password": "s", "confirm": "s"})
    error_beside(short.text, "password", "use at least 12 characters")
    done = alice.post("/editor/account", {"current": PASSWORD, "password": new, "confirm": new})
    assert done.status_code == 303
    assert location(done) == "/editor/login?notice=password_changed"
    assert "password was changed" in alice.get(location(done)).text
    assert alice.get("/editor").status_code == 303
    assert Browser(web).sign_in("alice", new).get("/editor").status_code == 200


# -- script payloads stay inert ---------------------------------------------------------

PAYLOADS = (SCRIPT, ATTRIBUTE)


def assert_inert(html: str, *, shows: bool = True) -> None:
    for payload in PAYLOADS:
        assert payload not in html
    assert "<img src=x" not in html and "<script>alert" not in html
    in_a_tag = (
        r"""<[a-z][^<>]*\b(href|src|action|formaction|data-[a-z-]+)\s*=\s*["']?\s*javascript:"""
    )
    assert not re.search(in_a_tag, html, re.I), "a javascript: URL in a tag"
    if shows:
        assert ESCAPED_SCRIPT in html


def test_script_payloads_from_nasa_render_inert_on_every_page(web: WebApp, root: Browser) -> None:
    ids = web.seed(
        2,
        title=f"Title {SCRIPT}",
        caption=f"Caption {ATTRIBUTE}",
        credit=f"Credit {SCRIPT}{ATTRIBUTE}",
        mission=ATTRIBUTE,
        camera=SCRIPT,
        mars_local_time=ATTRIBUTE,
        page_url="javascript:alert(1)",
        thumbnail_url="javascript:alert(2)",
        medium_url=" JavaScript:alert(3)",
        large_url="data:text/html,<script>alert(4)</script>",
        full_url="javascript:alert(5)//https://mars.nasa.gov/",
        raw={"title": SCRIPT, "link": "javascript:alert(6)", "x": ATTRIBUTE},
        sol=1965,
    )
    entry = web.watcher.approve([ids[0]], None, ROOT)  # NASA's title and credit
    pages = [
        "/editor?status=all",
        f"/editor?status=all&camera={SCRIPT}",
        f"/editor/candidates/{ids[0]}",
        f"/editor/candidates/{ids[1]}",
        "/editor/entries",
        f"/editor/entries/{entry.id}",
        "/editor/audit",
    ]
    for path in pages:
        response = root.get(path)
        assert response.status_code == 200, path
        assert_inert(response.text)
    candidate_page = root.get(f"/editor/candidates/{ids[1]}").text
    assert "Caption &#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in candidate_page
    assert "NASA&#39;s page for this image" not in candidate_page
    assert "Click for the full-size file" not in candidate_page


def test_script_payloads_from_editors_render_inert_on_every_page(
    web: WebApp, alice: Browser, root: Browser
) -> None:
    [candidate] = web.seed(1)
    response = alice.post(
        f"/editor/candidates/{candidate}/approve",
        {"origin": "candidate", "version": 1, "heading": f"Heading {SCRIPT}",
         "body": f"Body {SCRIPT} {ATTRIBUTE} [click](javascript:alert(1)) "
                 "<a href=\"javascript:alert(2)\">raw</a>",
         "alt_text": f"Alt {ATTRIBUTE}", "credit": f"Credit {SCRIPT}"},
    )  # fmt: skip
    assert response.status_code == 303
    [entry] = web.watcher.list_entries()
    for path in ("/editor/entries", f"/editor/entries/{entry.id}",
                 f"/editor/candidates/{candidate}", "/editor/audit"):  # fmt: skip
        html = root.get(path).text
        assert_inert(html, shows=path != f"/editor/candidates/{candidate}")
    listing = root.get("/editor/entries").text
    assert 'alt="Alt &#34;&gt;&lt;img src=x onerror=alert(1)&gt;"' in listing
    preview = alice.post(
        "/editor/preview",
        {"candidate_id": candidate, "body": f"{SCRIPT} [x](javascript:alert(1))"},
    )
    assert_inert(preview.text)
    bad_reason = alice.post(
        "/editor/bulk", {"action": "reject", "ids": [str(candidate)], "reason": SCRIPT * 100}
    )
    assert_inert(bad_reason.text, shows=False)
    bad_filter = alice.get(f"/editor?sol_min={SCRIPT}&q={ATTRIBUTE}")
    assert bad_filter.status_code == 422
    assert_inert(bad_filter.text)


def test_a_cards_line_names_the_camera_sol_and_time_and_leaves_out_the_unknown() -> None:
    seen = datetime(2026, 9, 2, tzinfo=UTC)
    frame = Candidate(
        id=1, status=CandidateStatus.NEW, first_seen_at=seen, source="perseverance",
        external_id="NLF_1", title="Mars Perseverance Sol 1967: Left Navigation Camera",
        camera="NAVCAM_LEFT", sol=1967, mars_local_time="15:28:01",
        taken_at=datetime(2026, 9, 1, 21, 37, tzinfo=UTC),
    )  # fmt: skip
    assert card_line(frame) == ("Navcam left", "Sol 1967", "15:28")
    no_local = replace(frame, mars_local_time=None)
    assert card_line(no_local) == ("Navcam left", "Sol 1967", "21:37 UTC")
    library = replace(
        frame, source="image_library", title="A Dust Devil Seen by Perseverance",
        camera=None, sol=None, mars_local_time=None, taken_at=datetime(2025, 8, 30, tzinfo=UTC),
    )  # fmt: skip
    assert card_line(library) == ("A Dust Devil Seen by Perseverance", "2025-08-30")
    assert card_line(replace(library, taken_at=None)) == ("A Dust Devil Seen by Perseverance",)
