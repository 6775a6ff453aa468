"""The compare page over HTTP, in-process against a real SQLite file: two to four frames
side by side, clear refusals for anything else, and the decisions made from it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from argon2 import PasswordHasher

from watcher.accounts import passwords as security
from watcher.core import make_watcher
from watcher.types import Actor, CandidateStatus, EntryStatus, Fingerprint, Role
from watcher.web.pages_common import card_line

from .conftest import PASSWORD, Browser, Clock, WebApp, build_settings, run

pytestmark = pytest.mark.timeout(110)

ALICE = Actor("alice", Role.EDITOR)


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture
def web(tmp_path: Path, clock: Clock, database_url: str) -> Iterator[WebApp]:
    """The app as shipped: an approval is a draft until it has a heading and a paragraph."""
    settings = build_settings(tmp_path, database_url, publish={"require_words": True})
    watcher = make_watcher(settings, clock=clock, rand=lambda: 0.0)
    watcher.prepare_database()
    watcher.add_editor("alice", PASSWORD, Role.EDITOR)
    yield WebApp(watcher)
    run(watcher.aclose())


@pytest.fixture
def alice(web: WebApp) -> Browser:
    return web.browser("alice")


def frame_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'id="frame-(\d+)" data-frame', html)]


def problem(html: str) -> str:
    return " ".join(unescape(m) for m in re.findall(r'<p class="problem"[^>]*>(.*?)</p>', html))


def fields(html: str, form_action: str) -> dict[str, list[str]]:
    """The hidden fields of the first form posting to ``form_action``."""
    form = re.search(
        rf'<form method="post" action="{re.escape(form_action)}".*?</form>', html, re.S
    )
    assert form, f"no form to {form_action}"
    found: dict[str, list[str]] = {}
    for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(0)):
        found.setdefault(name, []).append(unescape(value))
    return found


def test_two_frames_are_shown_side_by_side_with_their_lines_and_actions(
    web: WebApp, alice: Browser
) -> None:
    ids = web.seed(3)
    response = alice.get(f"/editor/compare?ids={ids[2]},{ids[0]}")
    assert response.status_code == 200, response.text
    html = response.text
    assert frame_ids(html) == [ids[2], ids[0]]
    assert 'class="compare compare-2"' in html
    for candidate in web.watcher.get_candidates([ids[2], ids[0]]):
        column = html.split(f'id="frame-{candidate.id}"')[1].split("</li>")[0]
        for part in card_line(candidate):
            assert part in unescape(column)
        # the smallest file filling a half-page column (800 px), larger ones in the srcset
        assert f'src="{candidate.medium_url}"' in column
        assert f"{candidate.large_url} 1200w" in column
        assert f'action="/editor/candidates/{candidate.id}/approve"' in html
        assert f'action="/editor/candidates/{candidate.id}/reject"' in html
        assert f'href="/editor/candidates/{candidate.id}?next=' in html
    assert "Not measured yet." in html


def test_four_frames_show_their_statistics_once_measured(web: WebApp, alice: Browser) -> None:
    ids = web.seed(4)
    measured = Fingerprint(
        candidate_id=ids[1], phash=1, dhash=2, width=320, height=240, colourfulness=0.25,
        entropy=0.5, sharpness=0.75, brightness=0.4, black=0.0,
        computed_at=datetime(2026, 8, 2, tzinfo=UTC),
    )  # fmt: skip
    web.watcher.store.save_fingerprints([(measured, None)])
    html = alice.get("/editor/compare?ids=" + ",".join(map(str, ids))).text
    assert frame_ids(html) == ids
    assert 'class="compare compare-4"' in html
    column = html.split(f'id="frame-{ids[1]}"')[1].split("</li>")[0]
    assert "<dt>Colour</dt><dd>25 %</dd>" in column
    assert "<dt>Sharpness</dt><dd>75 %</dd>" in column
    assert html.count("Not measured yet.") == 3


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("ids={a}", 422, "Pick two to four frames"),
        ("ids={a},{a}", 422, "Pick two to four frames"),
        ("ids={a},{b},{c},{d},{e}", 422, "at most four frames at a time (5 were picked)"),
        ("ids={a},999999", 404, "No candidate #999999."),
        ("ids={a},abc", 422, "must be candidate numbers"),
        ("ids=%3Cscript%3E", 422, "must be candidate numbers"),
        ("", 422, "Pick two to four frames"),
    ],
)
def test_anything_but_two_to_four_known_ids_is_refused_on_the_page(
    web: WebApp, alice: Browser, query: str, status: int, message: str
) -> None:
    a, b, c, d, e = web.seed(5)
    response = alice.get("/editor/compare?" + query.format(a=a, b=b, c=c, d=d, e=e))
    assert response.status_code == status
    assert message in problem(response.text)
    assert frame_ids(response.text) == []
    assert "<script>" not in response.text.split("<main")[1]


def test_approving_from_the_page_makes_a_draft_and_comes_back_to_it(
    web: WebApp, alice: Browser
) -> None:
    a, b = web.seed(2)
    html = alice.get(f"/editor/compare?ids={a},{b}&next=%2Feditor%3Fcamera%3DMCZ_LEFT").text
    form = fields(html, f"/editor/candidates/{b}/approve")
    response = alice.post(f"/editor/candidates/{b}/approve", {k: v[0] for k, v in form.items()})
    assert response.status_code == 303
    target = response.headers["location"]
    assert urlsplit(target).path == "/editor/compare"
    assert parse_qs(urlsplit(target).query)["next"] == ["/editor?camera=MCZ_LEFT"]
    [entry] = web.watcher.list_entries()
    assert entry.status is EntryStatus.DRAFT
    assert web.watcher.get_candidate(b).status is CandidateStatus.APPROVED
    again = alice.get(target).text
    assert "saved as a draft" in again
    assert f'action="/editor/candidates/{b}/approve"' not in again
    assert f'action="/editor/candidates/{a}/approve"' in again
    assert 'href="/editor?camera=MCZ_LEFT" data-back' in again


def test_approve_as_one_entry_groups_them_in_the_compared_order(
    web: WebApp, alice: Browser
) -> None:
    a, b, c = web.seed(3)
    html = alice.get(f"/editor/compare?ids={c},{a},{b}").text
    form = fields(html, "/editor/bulk")
    response = alice.post("/editor/bulk", {**form, "action": "group"})
    assert response.status_code == 303
    assert urlsplit(response.headers["location"]).path == "/editor"
    [entry] = web.watcher.list_entries()
    assert [frame for frame in entry.candidate_ids] == [c, a, b]


def test_the_queue_bulk_form_without_script_opens_the_compare_page(
    web: WebApp, alice: Browser
) -> None:
    ids = web.seed(4)
    queue = alice.get("/editor?camera=NAVCAM_RIGHT").text
    assert 'formaction="/editor/compare"' in queue
    response = alice.post(
        "/editor/compare",
        {"ids": [f"{ids[2]}:1", f"{ids[1]}:1"], "next": "/editor?camera=NAVCAM_RIGHT",
         "selection": "", "order": "taken", "reason": ""},
    )  # fmt: skip
    assert response.status_code == 303
    target = response.headers["location"]
    assert "csrf" not in target
    assert parse_qs(urlsplit(target).query) == {
        "ids": [f"{ids[2]},{ids[1]}"],
        "next": ["/editor?camera=NAVCAM_RIGHT"],
    }
    assert frame_ids(alice.get(target).text) == [ids[2], ids[1]]
    one = alice.post("/editor/compare", {"ids": [f"{ids[0]}:1"], "next": "/editor"})
    assert one.status_code == 422
    assert "Pick two to four frames" in problem(one.text)
    assert 'data-card data-id="' in one.text  # the queue again, with the reason


def test_the_compare_post_needs_the_form_token(web: WebApp, alice: Browser) -> None:
    a, b = web.seed(2)
    response = alice.post("/editor/compare", {"ids": [str(a), str(b)], "csrf_token": "forged"})
    assert response.status_code == 403


def test_a_frame_decided_meanwhile_is_refused_on_the_compare_page(
    web: WebApp, alice: Browser
) -> None:
    a, b = web.seed(2)
    html = alice.get(f"/editor/compare?ids={a},{b}&next=%2Feditor%3Fsol_min%3D1900").text
    form = fields(html, f"/editor/candidates/{a}/reject")
    web.watcher.approve([a], None, ALICE)
    response = alice.post(f"/editor/candidates/{a}/reject", {k: v[0] for k, v in form.items()})
    assert response.status_code == 409
    assert "Already decided" in problem(response.text)
    assert frame_ids(response.text) == [a, b]
    assert 'href="/editor?sol_min=1900" data-back' in response.text
    assert web.watcher.get_candidate(a).status is CandidateStatus.APPROVED
