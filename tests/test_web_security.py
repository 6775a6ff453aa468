"""Security properties checked over the app's own route table, so routes added later are
covered too: who may call what, CSRF on every state change, inert payloads everywhere,
sessions that cannot be fixed, cookies with the right flags, throttled sign-in."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from starlette.testclient import TestClient

from watcher.core import make_watcher
from watcher.types import Actor, EntryDraft, Role, TokenScope
from watcher.web import create_app
from watcher.web.auth import safe_next

from .conftest import PASSWORD, Clock, WebApp, build_settings, run

# Reachable without signing in, on purpose. Everything else must refuse anonymous callers.
PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/editor/login"),
    ("POST", "/editor/login"),
    ("GET", "/editor/setup"),
    ("POST", "/editor/setup"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/api/v1/docs"),
    ("GET", "/subscribe"),
    ("POST", "/subscribe"),
    ("GET", "/confirm"),
    ("POST", "/confirm"),
    ("GET", "/unsubscribe"),
    ("POST", "/unsubscribe"),
    ("GET", "/favicon.ico"),
}
# Gated by the caller's address, not by signing in (tests/test_metrics.py): the test
# client's address is no IP address, so it gets the 404 of a page that is not there.
BY_ADDRESS = {("GET", "/metrics")}
# Admin pages and endpoints live under these paths; any route added there later must be
# admin-only too.
ADMIN_PREFIXES = (
    "/editor/audit",
    "/editor/editors",
    "/editor/tokens",
    "/editor/site",
    "/editor/subscribers",
    "/editor/webhooks",
    "/editor/deliveries",
    "/editor/status",
    "/api/v1/audit",
    "/api/v1/site",
    "/api/v1/subscribers",
    "/api/v1/webhooks",
    "/api/v1/deliveries",
    "/api/v1/editors",
    "/api/v1/tokens",
    "/api/v1/publish",
)
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
PAYLOADS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']


def routes(app: Any) -> list[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for context in iter_route_contexts(app.routes):
        for method in getattr(context, "methods", None) or ():
            if method != "HEAD":
                found.add((method, str(context.path)))
    return sorted(found)


def concrete(path: str, value: object = 1) -> str:
    return re.sub(r"\{[^}]+\}", str(value), path)


def call(client: TestClient, method: str, path: str, **kwargs: Any) -> Any:
    return client.request(method, path, follow_redirects=False, **kwargs)


def test_the_route_table_is_what_these_tests_expect(web: WebApp) -> None:
    every = routes(web.app)
    assert len(every) > 40
    assert set(every) >= PUBLIC, "a public route disappeared: update PUBLIC"
    assert any(path.startswith(ADMIN_PREFIXES) for _, path in every)


def test_every_non_public_route_refuses_anonymous_callers(web: WebApp) -> None:
    client = TestClient(web.app, base_url="http://127.0.0.1:8000")
    checked = 0
    for method, path in routes(web.app):
        if (method, path) in PUBLIC:
            continue
        response = call(client, method, concrete(path))
        where = f"{method} {path}"
        if (method, path) in BY_ADDRESS:
            assert response.status_code == 404, where
        elif path.startswith("/api/"):
            assert response.status_code == 401, where
            assert response.headers["content-type"].startswith("application/problem+json"), where
        else:
            assert response.status_code == 303, where
            assert response.headers["location"].startswith("/editor/login?next="), where
        checked += 1
    assert checked > 35


def test_admin_routes_refuse_editors_and_tokens(web: WebApp) -> None:
    alice = web.browser("alice")
    _, secret = web.watcher.create_api_token("bot", TokenScope.WRITE)
    bearer = {"Authorization": f"Bearer {secret}"}
    admin_routes = [(m, p) for m, p in routes(web.app) if p.startswith(ADMIN_PREFIXES)]
    assert len(admin_routes) >= 8
    for method, path in admin_routes:
        url = concrete(path)
        as_editor = call(
            alice.client,
            method,
            url,
            data={"csrf_token": alice.csrf},
            headers={"X-CSRF-Token": alice.csrf},
        )
        assert as_editor.status_code == 403, f"{method} {path} as an editor"
        if path.startswith("/api/"):
            assert call(alice.client, method, url, headers=bearer).status_code == 403, path


def test_admin_pages_work_for_admins(web: WebApp) -> None:
    root = web.browser("root")
    for method, path in routes(web.app):
        if method == "GET" and path.startswith(ADMIN_PREFIXES) and "{" not in path:
            assert call(root.client, "GET", path).status_code == 200, path


def test_every_state_change_needs_the_csrf_token(web: WebApp) -> None:
    root = web.browser("root")
    web.seed(3)
    checked = 0
    for method, path in routes(web.app):
        if method not in UNSAFE or (method, path) in PUBLIC:
            continue
        url = concrete(path)
        if path.startswith("/api/"):
            missing = call(root.client, method, url, json={})
            wrong = call(root.client, method, url, json={}, headers={"X-CSRF-Token": "nope"})
        else:
            missing = call(root.client, method, url, data={})
            wrong = call(root.client, method, url, data={"csrf_token": "nope"})
        assert missing.status_code == 403, f"{method} {path} without a token"
        assert wrong.status_code == 403, f"{method} {path} with a wrong token"
        checked += 1
    assert checked > 20
    assert web.watcher.list_entries() == []  # nothing slipped through


def test_sign_in_and_setup_forms_need_their_form_token(web: WebApp) -> None:
    client = TestClient(web.app, base_url="http://127.0.0.1:8000")
    login = call(client, "POST", "/editor/login", data={"name": "root", "password": PASSWORD})
    assert login.status_code == 403
    assert "watcher_session" not in login.headers.get("set-cookie", "")
    forged = call(
        client,
        "POST",
        "/editor/login",
        data={"name": "root", "password": PASSWORD, "form_token": "guess"},
    )
    assert forged.status_code == 403


def test_payloads_in_nasa_fields_and_editor_text_are_inert_on_every_page(web: WebApp) -> None:
    evil = PAYLOADS[0] + PAYLOADS[1]
    ids = web.seed(
        3,
        title=f"Sol 1 {evil}",
        caption=f"caption {evil}",
        credit=f"NASA {evil}",
        camera="NAVCAM",
        raw={"imageid": evil, "note": evil},
    )
    root = web.browser("root")
    someone = Actor("root", Role.ADMIN)
    draft = EntryDraft(
        heading=f"Heading {evil}",
        body=f"Body {evil} [x](javascript:alert(1))",
        alt_text=f"alt {evil}",
        credit=f"credit {evil}",
    )
    entry = web.watcher.approve(ids[:1], draft, someone)
    web.watcher.reject(ids[1], someone, reason=f"reason {evil}")
    checked = 0
    for method, path in routes(web.app):
        if method != "GET" or path.startswith(("/static", "/api/")):
            continue
        value = entry.id if "entry" in path else ids[0]
        for url in {concrete(path, value), concrete(path, ids[1])}:
            response = call(
                root.client, "GET", url + ("?q=" + PAYLOADS[0] if path == "/editor" else "")
            )
            if not response.headers.get("content-type", "").startswith("text/html"):
                continue
            for payload in PAYLOADS:
                assert payload not in response.text, f"raw payload on {url}"
            assert 'href="javascript:' not in response.text.replace(" ", "").lower(), url
            checked += 1
    assert checked >= 10


def test_signing_in_replaces_any_session_id_the_browser_had(web: WebApp) -> None:
    client = TestClient(web.app, base_url="http://127.0.0.1:8000", follow_redirects=False)

    def sign_in(name: str) -> str:
        client.cookies.set("watcher_form", "form-token")
        response = client.post(
            "/editor/login", data={"name": name, "password": PASSWORD, "form_token": "form-token"}
        )
        assert response.status_code == 303
        found = re.search(r"watcher_session=([^;]+)", response.headers["set-cookie"])
        assert found
        client.cookies.clear()
        client.cookies.set("watcher_session", found.group(1))
        return found.group(1)

    client.cookies.set("watcher_session", "attacker-chosen-value")
    alice = sign_in("alice")
    assert alice != "attacker-chosen-value"
    assert web.watcher.session("attacker-chosen-value") is None
    root = sign_in("root")  # a second sign-in in the same browser
    assert root != alice
    assert web.watcher.session(alice) is None  # the browser's previous session ended
    assert web.watcher.session(root) is not None


def test_session_cookie_is_httponly_and_samesite_lax(web: WebApp) -> None:
    client = TestClient(web.app, base_url="http://127.0.0.1:8000")
    token = re.search(r'name="form_token" value="([^"]+)"', client.get("/editor/login").text)
    assert token
    response = call(
        client,
        "POST",
        "/editor/login",
        data={"name": "alice", "password": PASSWORD, "form_token": token.group(1)},
    )
    cookie = response.headers["set-cookie"].lower()
    assert "watcher_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie  # plain http: public_url is not https


def test_https_public_url_marks_the_session_cookie_secure(tmp_path: Path, clock: Clock) -> None:
    settings = build_settings(
        tmp_path,
        f"sqlite:///{tmp_path / 'https.db'}",
        server={"public_url": "https://mars.example.org"},
    )
    watcher = make_watcher(settings, clock=clock)
    watcher.prepare_database()
    watcher.add_editor("alice", PASSWORD, Role.EDITOR)
    client = TestClient(create_app(watcher), base_url="https://mars.example.org")
    page = client.get("/editor/login")
    token = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert token and "secure" in page.headers["set-cookie"].lower()
    response = client.post(
        "/editor/login",
        follow_redirects=False,
        data={"name": "alice", "password": PASSWORD, "form_token": token.group(1)},
    )
    assert response.status_code == 303
    assert "secure" in response.headers["set-cookie"].lower()
    run(watcher.aclose())


def test_sign_in_is_throttled_with_a_clear_message(web: WebApp) -> None:
    client = TestClient(web.app, base_url="http://127.0.0.1:8000")
    token = re.search(r'name="form_token" value="([^"]+)"', client.get("/editor/login").text)
    assert token
    for _ in range(10):
        failed = call(
            client,
            "POST",
            "/editor/login",
            data={"name": "alice", "password": "wrong guess!", "form_token": token.group(1)},
        )
        assert failed.status_code == 401 and "Wrong name or password." in failed.text
    locked = call(
        client,
        "POST",
        "/editor/login",
        data={"name": "alice", "password": PASSWORD, "form_token": token.group(1)},
    )
    assert locked.status_code == 429
    assert "Too many failed sign-ins. Try again in 15 minutes." in locked.text
    assert int(locked.headers["retry-after"]) > 800


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/editor/entries", "/editor/entries"),
        ("/editor?camera=MCZ_LEFT&q=dust", "/editor?camera=MCZ_LEFT&q=dust"),
        ("https://evil.example/", "/editor"),
        ("//evil.example/", "/editor"),
        ("/\\evil.example/", "/editor"),
        ("/\t/evil.example/", "/editor"),
        ("javascript:alert(1)", "/editor"),
        ("", "/editor"),
    ],
)
def test_next_never_leaves_the_site(target: str, expected: str) -> None:
    assert safe_next(target) == expected


def test_every_response_carries_the_security_headers(web: WebApp) -> None:
    client = web.browser("alice").client
    for url in ("/editor", "/editor/login", "/healthz", "/api/v1/me", "/api/v1/docs"):
        headers = client.get(url).headers
        policy = headers["content-security-policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, url
        assert "unsafe-inline" not in policy, url
        assert headers["x-content-type-options"] == "nosniff", url
        assert headers["x-frame-options"] == "DENY", url
