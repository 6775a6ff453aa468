"""The JSON API (/api/v1): tokens and sessions, the queue, decisions, entries, admin reads,
problem+json errors, and its OpenAPI document and docs page. In-process, real SQLite."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import Browser, WebApp
from watcher.types import Actor, Role, TokenScope
from watcher.views import CandidateOut, EntryOut

PROBLEM = "application/problem+json"
WHEN = "2026-11-25 12:00 UTC"  # the test clock's now, as conflicts print it


@pytest.fixture
def client(web: WebApp) -> Iterator[TestClient]:
    with TestClient(web.app, base_url="http://127.0.0.1:8000") as client:
        yield client


def bearer(web: WebApp, scope: str = "write", name: str = "bot") -> dict[str, str]:
    _, secret = web.watcher.create_api_token(name, TokenScope(scope))
    return {"Authorization": f"Bearer {secret}"}


def problem(response: Any, status: int) -> dict[str, Any]:
    """The body of an error response, after checking its status and problem+json shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"] and body["title"] and "detail" in body
    return body


def editor(name: str) -> Actor:
    return Actor(name, Role.EDITOR)


def api_session(web: WebApp, name: str) -> Browser:
    """A signed-in browser whose API calls carry the CSRF header."""
    browser = web.browser(name)
    browser.client.headers["X-CSRF-Token"] = browser.csrf
    return browser


# -- authentication ------------------------------------------------------------------------


def test_a_read_token_reads_but_may_not_decide_or_edit(web: WebApp, client: TestClient) -> None:
    ids = web.seed(3)
    read = bearer(web, "read")
    listed = client.get("/api/v1/candidates", headers=read)
    assert listed.status_code == 200
    assert [c["id"] for c in listed.json()["items"]] == ids[::-1]
    assert client.get(f"/api/v1/candidates/{ids[0]}", headers=read).status_code == 200
    assert client.get("/api/v1/entries", headers=read).status_code == 200
    me = client.get("/api/v1/me", headers=read).json()
    assert me == {
        "name": "bot",
        "role": "editor",
        "kind": "token",
        "can_write": False,
        "is_admin": False,
    }

    refused = client.post(f"/api/v1/candidates/{ids[0]}/approve", headers=read)
    assert "read" in problem(refused, 403)["detail"]
    problem(client.post(f"/api/v1/candidates/{ids[0]}/reject", headers=read), 403)
    problem(client.post("/api/v1/undo", headers=read), 403)
    problem(client.post("/api/v1/entries", headers=read, json={"candidate_ids": [ids[1]]}), 403)
    assert web.watcher.get_candidate(ids[0]).status.value == "new"

    entry = web.watcher.approve([ids[2]], None, editor("alice"))
    edit = client.patch(
        f"/api/v1/entries/{entry.id}", headers=read, json={"version": 1, "heading": "X"}
    )
    problem(edit, 403)
    problem(client.delete(f"/api/v1/entries/{entry.id}?version=1", headers=read), 403)
    problem(client.put("/api/v1/entries/order", headers=read, json={"order": [entry.id]}), 403)


def test_a_write_token_approves_rejects_and_edits(web: WebApp, client: TestClient) -> None:
    ids = web.seed(3)
    write = bearer(web, "write")
    assert client.get("/api/v1/me", headers=write).json()["can_write"] is True

    approved = client.post(
        f"/api/v1/candidates/{ids[0]}/approve", headers=write, json={"heading": "Dust devil"}
    )
    assert approved.status_code == 201, approved.text
    entry = approved.json()
    assert entry["heading"] == "Dust devil"
    assert entry["created_by"] == "token:bot"
    rejected = client.post(
        f"/api/v1/candidates/{ids[1]}/reject", headers=write, json={"reason": "blurred"}
    )
    assert rejected.json()["status"] == "rejected"
    edited = client.patch(
        f"/api/v1/entries/{entry['id']}", headers=write, json={"version": 1, "body": "*Look*."}
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["body_html"] == "<p><em>Look</em>.</p>"


def test_a_revoked_token_is_refused(web: WebApp, client: TestClient) -> None:
    token, secret = web.watcher.create_api_token("old", TokenScope.WRITE)
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    web.watcher.revoke_api_token(token.id)
    refused = client.get("/api/v1/me", headers=headers)
    problem(refused, 401)
    assert refused.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer nonsense",
        "Bearer wt_" + "A" * 43,
        "Bearer wt_\u00ff\u00fe",
        "Basic cm9vdDpjb3JyZWN0IGhvcnNlIGJhdHRlcnk=",
        "Token wt_abc",
    ],
)
def test_missing_or_malformed_credentials_are_401_with_a_challenge(
    web: WebApp, client: TestClient, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization.encode("latin-1")}
    for method, path in [("GET", "/api/v1/candidates"), ("POST", "/api/v1/undo")]:
        response = client.request(method, path, headers=headers)
        problem(response, 401)
        assert response.headers["www-authenticate"] == 'Bearer realm="watcher"'


def test_a_bad_token_is_refused_even_with_a_signed_in_cookie(web: WebApp) -> None:
    browser = api_session(web, "root")
    response = browser.get("/api/v1/me", headers={"Authorization": "Bearer wt_wrong"})
    problem(response, 401)


ADMIN_READS = ["/api/v1/audit", "/api/v1/editors", "/api/v1/tokens"]


def test_tokens_never_reach_admin_endpoints(web: WebApp, client: TestClient) -> None:
    write = bearer(web, "write")
    for path in ADMIN_READS:
        assert "admin" in problem(client.get(path, headers=write), 403)["detail"]
    problem(client.post("/api/v1/tokens", headers=write, json={"name": "sneaky"}), 403)
    problem(client.post("/api/v1/tokens/1/revoke", headers=write), 403)


def test_admin_endpoints_need_an_admin_session(web: WebApp) -> None:
    alice = api_session(web, "alice")
    for path in ADMIN_READS:
        problem(alice.get(path), 403)
    root = api_session(web, "root")
    for path in ADMIN_READS:
        assert root.get(path).status_code == 200, path
    assert root.get("/api/v1/me").json() == {
        "name": "root",
        "role": "admin",
        "kind": "editor",
        "can_write": True,
        "is_admin": True,
    }


def test_a_session_needs_the_csrf_header_on_unsafe_methods(web: WebApp) -> None:
    ids = web.seed(2)
    browser = web.browser("alice")
    assert browser.get("/api/v1/candidates").status_code == 200
    assert browser.get("/api/v1/me").json()["kind"] == "editor"

    missing = browser.client.post(f"/api/v1/candidates/{ids[0]}/reject")
    problem(missing, 403)
    wrong = browser.client.post(
        f"/api/v1/candidates/{ids[0]}/reject", headers={"X-CSRF-Token": "not-it"}
    )
    problem(wrong, 403)
    problem(browser.client.put("/api/v1/entries/order", json={"order": []}), 403)
    assert web.watcher.get_candidate(ids[0]).status.value == "new"

    right = browser.client.post(
        f"/api/v1/candidates/{ids[0]}/reject", headers={"X-CSRF-Token": browser.csrf}
    )
    assert right.status_code == 200, right.text
    assert right.json()["decided_by"] == "alice"


# -- the queue -----------------------------------------------------------------------------


def test_candidates_page_through_with_next(web: WebApp, client: TestClient) -> None:
    ids = web.seed(7)
    read = bearer(web, "read")
    seen: list[int] = []
    url: str | None = "/api/v1/candidates?limit=3&camera=NAVCAM_RIGHT&status=all"
    pages = 0
    while url:
        response = client.get(url, headers=read)
        assert response.status_code == 200, response.text
        body = response.json()
        seen += [c["id"] for c in body["items"]]
        if body["next"]:
            assert response.headers["link"] == f'<{body["next"]}>; rel="next"'
            assert "camera=NAVCAM_RIGHT" in body["next"]
            assert body["next"].startswith("http://127.0.0.1:8000/api/v1/candidates?")
        else:
            assert "link" not in response.headers
        url = body["next"]
        pages += 1
    navcam = [i for n, i in enumerate(ids) if n % 3]  # the seed's camera pattern
    assert seen == sorted(navcam, reverse=True)
    assert pages == 2  # 3 + 1
    assert client.get("/api/v1/candidates?limit=500", headers=read).json()["next"] is None


def test_candidate_filters(web: WebApp, client: TestClient) -> None:
    ids = web.seed(7)
    web.seed(2, source="ingenuity", mission="ingenuity", title="Heli")
    read = bearer(web, "read")

    def found(query: str) -> list[int]:
        response = client.get(f"/api/v1/candidates?{query}", headers=read)
        assert response.status_code == 200, response.text
        return sorted(c["id"] for c in response.json()["items"])

    web.watcher.reject(ids[0], editor("alice"))
    assert ids[0] not in found("")
    assert found("status=rejected") == [ids[0]]
    assert len(found("status=all")) == 9
    assert found("sol_min=1902&sol_max=1903") == [ids[2], ids[3]]
    assert found("camera=MCZ_LEFT") == [ids[3], ids[6]]
    assert found("mission=ingenuity&source=ingenuity") == found("q=heli")
    assert len(found("q=heli")) == 2
    assert found("q=NRF_00004") == [ids[4]]
    # taken_at is 2026-08-01 00:00 + i minutes: every one on that day
    assert len(found("from=2026-08-01&to=2026-08-01")) == 8
    assert found("from=2026-08-02") == []
    assert found("to=2026-07-31") == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("status=maybe", "status"),
        ("sol_min=5&sol_max=4", "sol_max"),
        ("from=2026-08-02&to=2026-08-01", "to"),
        ("from=yesterday", "from"),
        ("before=abc", "before"),
    ],
)
def test_bad_query_parameters_are_422_naming_them(
    web: WebApp, client: TestClient, query: str, field: str
) -> None:
    response = client.get(f"/api/v1/candidates?{query}", headers=bearer(web, "read"))
    assert field in problem(response, 422)["errors"]


def test_one_candidate_with_raw_record_neighbours_and_entry(
    web: WebApp, client: TestClient
) -> None:
    ids = web.seed(4, sol=1950, camera="NAVCAM_LEFT")
    web.seed(2, sol=1951, camera="NAVCAM_LEFT")
    read = bearer(web, "read")
    response = client.get(f"/api/v1/candidates/{ids[1]}", headers=read)
    assert response.status_code == 200
    body = response.json()
    assert response.headers["etag"] == '"v1"'
    assert body["raw"] == {"imageid": "NRF_00001", "extra": "kept"}
    assert body["tiles"] == []
    assert body["entry_id"] is None
    assert body["version"] == 1
    assert body["title"].startswith("Mars Perseverance")
    assert [n["id"] for n in body["neighbours"]] == [ids[0], ids[2], ids[3]]
    assert set(body["neighbours"][0]) == {
        "id", "title", "camera", "sol", "taken_at", "status", "thumbnail_url"
    }  # fmt: skip

    entry = editor_entry(web, [ids[1]])
    after = client.get(f"/api/v1/candidates/{ids[1]}", headers=read)
    assert after.json()["entry_id"] == entry
    assert after.json()["status"] == "approved"
    assert after.headers["etag"] == '"v2"'
    problem(client.get("/api/v1/candidates/999999", headers=read), 404)
    bad = client.get("/api/v1/candidates/x", headers=read)
    assert "candidate_id" in problem(bad, 422)["errors"]


def editor_entry(web: WebApp, ids: list[int], name: str = "alice") -> int:
    return web.watcher.approve(ids, None, editor(name)).id


def test_api_shapes_are_the_cli_shapes(web: WebApp, client: TestClient) -> None:
    """The API answers with the shapes the CLI prints: nothing may change on the way."""
    ids = web.seed(2)
    read = bearer(web, "read")
    listed = client.get("/api/v1/candidates", headers=read).json()["items"]
    shapes = [CandidateOut.of(web.watcher.get_candidate(i)) for i in ids[::-1]]
    assert listed == [shape.model_dump(mode="json") for shape in shapes]
    one = client.get(f"/api/v1/candidates/{ids[0]}", headers=read).json()
    assert {key: one[key] for key in listed[1]} == listed[1]
    entry = web.watcher.approve(ids, None, editor("alice"))
    shown = client.get(f"/api/v1/entries/{entry.id}", headers=read).json()
    assert shown == EntryOut.of(entry).model_dump(mode="json")


# -- decisions -----------------------------------------------------------------------------


def test_approve_makes_an_entry_and_says_where(web: WebApp, client: TestClient) -> None:
    ids = web.seed(2)
    write = bearer(web)
    response = client.post(
        f"/api/v1/candidates/{ids[0]}/approve",
        headers=write,
        json={
            "heading": "  A  dust devil ",
            "body": "Look **left**.",
            "alt_text": "Dust over a plain",
            "rendition": "full",
            "version": 1,
        },
    )
    assert response.status_code == 201, response.text
    entry = response.json()
    assert response.headers["location"] == f"/api/v1/entries/{entry['id']}"
    assert response.headers["etag"] == '"v1"'
    assert entry["heading"] == "A dust devil"
    assert entry["body_html"] == "<p>Look <strong>left</strong>.</p>"
    assert entry["credit"] == "NASA/JPL-Caltech"  # NASA's own credit line
    assert entry["rendition"] == "full"
    assert entry["candidate_ids"] == [ids[0]]
    assert client.get(response.headers["location"], headers=write).json() == entry

    # no body at all: NASA's title for heading and alt text
    bare = client.post(f"/api/v1/candidates/{ids[1]}/approve", headers=write)
    assert bare.status_code == 201, bare.text
    assert bare.json()["heading"].startswith("Mars Perseverance Sol")
    assert bare.json()["alt_text"] == bare.json()["heading"]


def test_a_second_decision_is_a_409_saying_who_and_when(web: WebApp) -> None:
    ids = web.seed(2)
    alice, root = api_session(web, "alice"), api_session(web, "root")
    assert alice.client.post(f"/api/v1/candidates/{ids[0]}/approve").status_code == 201
    late = problem(root.client.post(f"/api/v1/candidates/{ids[0]}/approve"), 409)
    assert late["detail"] == f"candidate {ids[0]} was already approved by alice at {WHEN}"
    late = problem(root.client.post(f"/api/v1/candidates/{ids[0]}/reject"), 409)
    assert "already approved by alice" in late["detail"]

    stale = root.client.post(f"/api/v1/candidates/{ids[1]}/reject", json={"version": 7})
    assert "changed" in problem(stale, 409)["detail"]
    assert web.watcher.get_candidate(ids[1]).status.value == "new"


def test_reject_with_a_reason_and_undo(web: WebApp, client: TestClient) -> None:
    ids = web.seed(2)
    write = bearer(web)
    rejected = client.post(
        f"/api/v1/candidates/{ids[0]}/reject",
        headers=write,
        json={"reason": "  too   dark ", "version": 1},
    )
    assert rejected.status_code == 200, rejected.text
    body = rejected.json()
    assert (body["status"], body["reject_reason"], body["version"]) == ("rejected", "too dark", 2)
    assert body["decided_by"] == "token:bot"
    assert rejected.headers["etag"] == '"v2"'

    undone = client.post("/api/v1/undo", headers=write)
    assert undone.status_code == 200, undone.text
    event = undone.json()
    assert (event["action"], event["subject_type"], event["subject_id"]) == (
        "undo",
        "candidate",
        str(ids[0]),
    )
    assert event["actor"] == "token:bot"
    assert web.watcher.get_candidate(ids[0]).status.value == "new"
    assert "nothing to undo" in problem(client.post("/api/v1/undo", headers=write), 404)["detail"]

    long = client.post(
        f"/api/v1/candidates/{ids[1]}/reject", headers=write, json={"reason": "x" * 600}
    )
    assert "reason" in problem(long, 422)["errors"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"heading": "x" * 250}, "heading"),
        ({"rendition": "huge"}, "rendition"),
        ({"version": "one"}, "version"),
        ({"colour": "red"}, "colour"),
        ({"heading": 5}, "heading"),
    ],
)
def test_bad_approval_bodies_are_422_naming_the_field(
    web: WebApp, client: TestClient, body: dict[str, Any], field: str
) -> None:
    [candidate] = web.seed(1)
    response = client.post(
        f"/api/v1/candidates/{candidate}/approve", headers=bearer(web), json=body
    )
    assert field in problem(response, 422)["errors"]


def test_bulk_decisions_report_each_candidate(web: WebApp, client: TestClient) -> None:
    ids = web.seed(3)
    editor_entry(web, [ids[1]])
    write = bearer(web)
    response = client.post(
        "/api/v1/candidates/bulk",
        headers=write,
        json={"action": "approve", "ids": [ids[0], ids[1], 999999]},
    )
    assert response.status_code == 200, response.text
    first, second, third = response.json()["results"]
    assert first["ok"] and first["entry_id"] and first["problem"] is None
    assert not second["ok"] and second["problem"]["status"] == 409
    assert "already approved by alice" in second["problem"]["detail"]
    assert not third["ok"] and third["problem"]["status"] == 404
    rejected = client.post(
        "/api/v1/candidates/bulk",
        headers=write,
        json={"action": "reject", "ids": [ids[2]], "reason": "dark"},
    )
    assert rejected.json()["results"] == [
        {"id": ids[2], "ok": True, "entry_id": None, "problem": None}
    ]
    assert web.watcher.get_candidate(ids[2]).reject_reason == "dark"
    read = bearer(web, "read", name="reader")
    denied = client.post(
        "/api/v1/candidates/bulk", headers=read, json={"action": "reject", "ids": [ids[0]]}
    )
    problem(denied, 403)
    empty = client.post("/api/v1/candidates/bulk", headers=write, json={"action": "x", "ids": []})
    assert {"action", "ids"} <= set(problem(empty, 422)["errors"])


# -- entries -------------------------------------------------------------------------------


def test_entries_crud(web: WebApp, client: TestClient) -> None:
    ids = web.seed(4)
    write = bearer(web)
    created = client.post(
        "/api/v1/entries",
        headers=write,
        json={"candidate_ids": [ids[2], ids[0], ids[1]], "heading": "A sequence"},
    )
    assert created.status_code == 201, created.text
    entry = created.json()
    assert entry["candidate_ids"] == [ids[2], ids[0], ids[1]]
    assert created.headers["location"] == f"/api/v1/entries/{entry['id']}"
    url = created.headers["location"]

    fetched = client.get(url, headers=write)
    assert fetched.json() == entry
    assert fetched.headers["etag"] == '"v1"'
    listed = client.get("/api/v1/entries", headers=write).json()["items"]
    assert [e["id"] for e in listed] == [entry["id"]]

    edited = client.patch(
        url, headers=write, json={"version": 1, "heading": "Better", "credit": "NASA"}
    )
    assert edited.status_code == 200, edited.text
    assert (edited.json()["heading"], edited.json()["credit"]) == ("Better", "NASA")
    assert edited.json()["body"] == entry["body"]  # fields left out keep their value
    assert edited.headers["etag"] == '"v2"'

    # frames replaced: the dropped one goes back to the queue, the new one is taken
    frames = client.patch(url, headers=write, json={"version": 2, "candidate_ids": [ids[3]]})
    assert frames.json()["candidate_ids"] == [ids[3]]
    assert web.watcher.get_candidate(ids[0]).status.value == "new"
    assert web.watcher.get_candidate(ids[3]).status.value == "approved"

    unpublished = client.patch(url, headers=write, json={"version": 3, "status": "unpublished"})
    assert unpublished.json()["status"] == "unpublished"
    assert client.get("/api/v1/entries?status=published", headers=write).json()["items"] == []
    assert len(client.get("/api/v1/entries?status=unpublished", headers=write).json()["items"]) == 1

    both = client.patch(
        url, headers=write, json={"version": 4, "heading": "Back", "status": "published"}
    )
    # Text and status change in one transaction: one new version.
    assert (both.json()["heading"], both.json()["status"], both.json()["version"]) == (
        "Back",
        "published",
        5,
    )

    deleted = client.delete(f"{url}?version=5", headers=write)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert web.watcher.get_candidate(ids[3]).status.value == "new"
    problem(client.get(url, headers=write), 404)
    problem(client.delete(f"{url}?version=5", headers=write), 404)


def test_entry_version_conflicts_say_who_and_when(web: WebApp) -> None:
    ids = web.seed(1)
    alice, root = api_session(web, "alice"), api_session(web, "root")
    entry_id = alice.client.post(f"/api/v1/candidates/{ids[0]}/approve").json()["id"]
    url = f"/api/v1/entries/{entry_id}"
    assert alice.client.patch(url, json={"version": 1, "heading": "Mine"}).status_code == 200
    stale = root.client.patch(url, json={"version": 1, "heading": "Theirs"})
    detail = problem(stale, 409)["detail"]
    assert (
        detail == f"entry #{entry_id} was changed by alice at {WHEN}; reload to see their version"
    )
    problem(root.client.patch(url, json={"version": 1, "status": "unpublished"}), 409)
    problem(root.client.delete(f"{url}?version=1"), 409)
    assert web.watcher.get_entry(entry_id).heading == "Mine"


def test_if_match_can_stand_in_for_the_version(web: WebApp, client: TestClient) -> None:
    ids = web.seed(1)
    write = bearer(web)
    url = client.post(f"/api/v1/candidates/{ids[0]}/approve", headers=write).headers["location"]
    tag = client.get(url, headers=write).headers["etag"]
    edited = client.patch(url, headers={**write, "If-Match": tag}, json={"heading": "Tagged"})
    assert edited.status_code == 200, edited.text
    stale = client.patch(url, headers={**write, "If-Match": tag}, json={"heading": "Again"})
    assert "changed by token:bot" in problem(stale, 409)["detail"]
    bad = client.patch(url, headers={**write, "If-Match": "*"}, json={"heading": "Any"})
    assert "If-Match" in problem(bad, 422)["errors"]
    missing = client.patch(url, headers=write, json={"heading": "No version"})
    assert "version" in problem(missing, 422)["errors"]
    nothing = client.patch(url, headers=write, json={"version": 2})
    assert "fields" in problem(nothing, 422)["errors"]
    problem(client.delete(url, headers={**write, "If-Match": tag}), 409)
    gone = client.delete(url, headers={**write, "If-Match": edited.headers["etag"]})
    assert gone.status_code == 204
    assert "version" in problem(client.delete(url, headers=write), 422)["errors"]


def test_entry_edits_are_validated(web: WebApp, client: TestClient) -> None:
    ids = web.seed(2)
    write = bearer(web)
    url = client.post(f"/api/v1/candidates/{ids[0]}/approve", headers=write).headers["location"]
    blank = client.patch(url, headers=write, json={"version": 1, "heading": "   "})
    assert problem(blank, 422)["errors"] == {"heading": "write a heading"}
    status = client.patch(url, headers=write, json={"version": 1, "status": "hidden"})
    assert "status" in problem(status, 422)["errors"]
    frames = client.patch(url, headers=write, json={"version": 1, "candidate_ids": []})
    assert "candidate_ids" in problem(frames, 422)["errors"]
    none = client.post("/api/v1/entries", headers=write, json={"heading": "No frames"})
    assert "candidate_ids" in problem(none, 422)["errors"]
    problem(client.post("/api/v1/entries", headers=write, json={"candidate_ids": [999999]}), 404)
    taken = client.post("/api/v1/entries", headers=write, json={"candidate_ids": [ids[0]]})
    assert "already approved by token:bot" in problem(taken, 409)["detail"]
    problem(
        client.patch("/api/v1/entries/424242", headers=write, json={"version": 1, "heading": "x"}),
        404,
    )
    assert client.get(url, headers=write).json()["version"] == 1


def test_reorder_the_list(web: WebApp, client: TestClient) -> None:
    ids = web.seed(3)
    write = bearer(web)
    entries = [editor_entry(web, [i]) for i in ids]
    reordered = client.put("/api/v1/entries/order", headers=write, json={"order": entries[::-1]})
    assert reordered.status_code == 200, reordered.text
    items = reordered.json()["items"]
    assert [e["id"] for e in items] == entries[::-1]
    assert [e["position"] for e in items] == [1, 2, 3]
    listed = client.get("/api/v1/entries", headers=write).json()["items"]
    assert [e["id"] for e in listed] == entries[::-1]
    partial = client.put("/api/v1/entries/order", headers=write, json={"order": entries[:2]})
    assert "reload" in problem(partial, 409)["detail"]
    typed = client.put("/api/v1/entries/order", headers=write, json={"order": "1,2"})
    assert "order" in problem(typed, 422)["errors"]


# -- facets, sources, admin ----------------------------------------------------------------


def test_facets_and_sources(web: WebApp, client: TestClient) -> None:
    web.seed(4)
    read = bearer(web, "read")
    facets = client.get("/api/v1/facets", headers=read).json()
    assert facets == {
        "camera": ["MCZ_LEFT", "NAVCAM_RIGHT"],
        "mission": ["perseverance"],
        "source": ["perseverance"],
    }
    sources = client.get("/api/v1/sources", headers=read)
    assert sources.status_code == 200
    assert sources.json() == {"items": []}  # the test settings configure no source


def test_sources_list_health(watcher_for: Any) -> None:
    from watcher.web import create_app

    watcher = watcher_for([{"name": "perseverance", "kind": "raw_images",
                            "url": "http://127.0.0.1:9/api/", "category": "mars2020",
                            "interval": "10m"}])  # fmt: skip
    _, secret = watcher.create_api_token("bot", TokenScope.READ)
    with TestClient(create_app(watcher)) as client:
        response = client.get("/api/v1/sources", headers={"Authorization": f"Bearer {secret}"})
    [source] = response.json()["items"]
    assert (source["name"], source["health"], source["candidates"]) == (
        "perseverance",
        "pending",
        0,
    )
    assert source["interval_seconds"] == 600


def test_admin_reads_the_audit_log_editors_and_tokens(web: WebApp) -> None:
    ids = web.seed(3)
    root = api_session(web, "root")
    alice = api_session(web, "alice")
    for candidate in ids:
        assert alice.client.post(f"/api/v1/candidates/{candidate}/reject").status_code == 200

    page = root.get("/api/v1/audit?actor=alice&limit=2")
    assert page.status_code == 200, page.text
    first = page.json()
    assert [e["subject_id"] for e in first["items"]] == [str(ids[2]), str(ids[1])]
    assert all(e["action"] == "reject" and e["actor"] == "alice" for e in first["items"])
    rest = root.get(first["next"]).json()
    assert [e["subject_id"] for e in rest["items"]] == [str(ids[0])]
    assert rest["next"] is None
    one = root.get(f"/api/v1/audit?subject_type=candidate&subject_id={ids[1]}").json()
    assert [e["subject_id"] for e in one["items"]] == [str(ids[1])]
    assert "limit" in problem(root.get("/api/v1/audit?limit=0"), 422)["errors"]

    editors = root.get("/api/v1/editors").json()["items"]
    assert {(e["name"], e["role"]) for e in editors} == {("root", "admin"), ("alice", "editor")}


def test_admin_creates_lists_and_revokes_tokens(web: WebApp, client: TestClient) -> None:
    root = api_session(web, "root")
    created = root.client.post("/api/v1/tokens", json={"name": "newsroom", "scope": "read"})
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    token = created.json()["token"]
    assert secret.startswith("wt_") and token["prefix"] == secret[:10]
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/me", headers=headers).json()["name"] == "newsroom"

    listed = root.get("/api/v1/tokens")
    assert [t["name"] for t in listed.json()["items"]] == ["newsroom"]
    assert secret not in listed.text and secret[10:] not in listed.text
    assert set(listed.json()["items"][0]) == {
        "id", "name", "prefix", "scope", "created_by", "created_at", "last_used_at", "revoked_at"
    }  # fmt: skip

    revoked = root.client.post(f"/api/v1/tokens/{token['id']}/revoke")
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None
    problem(client.get("/api/v1/me", headers=headers), 401)
    problem(root.client.post("/api/v1/tokens/999/revoke"), 404)
    bad = root.client.post("/api/v1/tokens", json={"name": "!!", "scope": "all"})
    assert "scope" in problem(bad, 422)["errors"]
    bad = root.client.post("/api/v1/tokens", json={"name": "!!"})
    assert "name" in problem(bad, 422)["errors"]
    problem(api_session(web, "alice").client.post("/api/v1/tokens", json={"name": "x"}), 403)


# -- errors, the OpenAPI document, the docs page --------------------------------------------


def test_unknown_routes_and_methods_are_problems(web: WebApp, client: TestClient) -> None:
    read = bearer(web, "read")
    problem(client.get("/api/v1/nope", headers=read), 404)
    problem(client.get("/api/v2/candidates"), 404)
    problem(client.delete("/api/v1/candidates", headers=read), 405)


def test_a_body_that_is_not_utf8_is_a_documented_bad_request(
    web: WebApp, client: TestClient
) -> None:
    """Found by schemathesis: FastAPI answers a body it cannot decode with 400, which the
    document did not list (a body that decodes but is not JSON is a 422)."""
    ids = web.seed(1)
    headers = {**bearer(web), "Content-Type": "application/json"}
    url = f"/api/v1/candidates/{ids[0]}/approve"
    body = problem(client.post(url, headers=headers, content=b"\xff\xfe{"), 400)
    assert body["title"] == "Bad request"
    problem(client.post(url, headers=headers, content=b"{"), 422)
    assert web.watcher.get_candidate(ids[0]).status.value == "new"
    document = client.get("/api/v1/openapi.json").json()
    operation = document["paths"]["/api/v1/candidates/{candidate_id}/approve"]["post"]
    assert "400" in operation["responses"]


def test_the_openapi_document_lists_every_route(client: TestClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = json.loads(response.text)
    assert document["openapi"].startswith("3.")
    documented = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if path.startswith("/api/v1/")
    }
    expected = {
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/candidates"),
        ("GET", "/api/v1/candidates/{candidate_id}"),
        ("POST", "/api/v1/candidates/{candidate_id}/approve"),
        ("POST", "/api/v1/candidates/{candidate_id}/reject"),
        ("POST", "/api/v1/candidates/bulk"),
        ("POST", "/api/v1/undo"),
        ("GET", "/api/v1/entries"),
        ("POST", "/api/v1/entries"),
        ("PUT", "/api/v1/entries/order"),
        ("GET", "/api/v1/entries/{entry_id}"),
        ("PATCH", "/api/v1/entries/{entry_id}"),
        ("DELETE", "/api/v1/entries/{entry_id}"),
        ("GET", "/api/v1/facets"),
        ("GET", "/api/v1/sources"),
        ("GET", "/api/v1/audit"),
        ("GET", "/api/v1/editors"),
        ("GET", "/api/v1/tokens"),
        ("POST", "/api/v1/tokens"),
        ("POST", "/api/v1/tokens/{token_id}/revoke"),
        ("GET", "/api/v1/editions"),
        ("GET", "/api/v1/editions/{number}"),
        ("POST", "/api/v1/publish"),
        ("GET", "/api/v1/site"),
        ("PUT", "/api/v1/site"),
        ("GET", "/api/v1/subscribers"),
        ("POST", "/api/v1/subscribers"),
        ("DELETE", "/api/v1/subscribers/{subscriber_id}"),
        ("GET", "/api/v1/webhooks"),
        ("POST", "/api/v1/webhooks"),
        ("DELETE", "/api/v1/webhooks/{webhook_id}"),
        ("POST", "/api/v1/webhooks/{webhook_id}/enable"),
        ("GET", "/api/v1/deliveries"),
    }
    assert documented == expected
    schemes = document["components"]["securitySchemes"]
    assert schemes["token"]["scheme"] == "bearer"
    assert schemes["session"] == {
        "type": "apiKey",
        "in": "cookie",
        "name": "watcher_session",
        "description": schemes["session"]["description"],
    }
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert operation["summary"], (method, path)
            assert operation["security"] == [{"token": []}, {"session": []}], (method, path)
            assert {"400", "401", "403"} <= set(operation["responses"]), (method, path)
            errors = [
                spec["content"]
                for code, spec in operation["responses"].items()
                if code.startswith(("4", "5"))
            ]
            assert all(list(content) == [PROBLEM] for content in errors), (method, path)
    # every $ref resolves
    text = json.dumps(document)
    for name in set(re.findall(r'"#/components/schemas/([^"]+)"', text)):
        assert name in document["components"]["schemas"], name
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_the_docs_page_renders_every_path_without_external_urls(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    operations = [(m.upper(), p) for p, item in document["paths"].items() for m in item]
    assert len(operations) == 33
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    for method, path in operations:
        assert path in html, path
        assert f"<code>{method} {path}</code>" in html
    assert 'href="/api/v1/openapi.json"' in html
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"<script|<style|\sstyle=|\son\w+=", html)
    for name in ("CandidatePage", "EntryPatch", "Problem"):
        assert f'id="schema-{name}"' in html
    assert "X-CSRF-Token" in html and "Bearer" in html
    publish = html[html.index("<code>POST /api/v1/publish</code></h3>") :]
    publish = publish[: publish.index("</article>")]
    assert "A signed-in admin" in publish and "write-scoped token" not in publish
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_every_documented_route_refuses_anonymous_and_wrong_callers(
    web: WebApp, client: TestClient
) -> None:
    """Walks the OpenAPI document, so routes added later are checked too."""
    document = client.get("/api/v1/openapi.json").json()
    read, write = bearer(web, "read"), bearer(web, "write", "writer")
    alice = api_session(web, "alice")
    checked = 0
    for template, item in document["paths"].items():
        path = re.sub(r"\{[^}]+\}", "1", template)
        for method, operation in item.items():
            anonymous = client.request(method.upper(), path)
            problem(anonymous, 401)
            assert anonymous.headers["www-authenticate"].startswith("Bearer")
            if "admin" in operation["tags"]:
                problem(alice.client.request(method.upper(), path), 403)
                problem(client.request(method.upper(), path, headers=write), 403)
            elif method != "get":
                problem(client.request(method.upper(), path, headers=read, json={}), 403)
            checked += 1
    assert checked == 33
