"""Security properties checked over the app's own route table, so routes added later are
covered too: who may call what (every route has a rule in RULES, and a sweep calls each as
anonymous, an editor, an admin, a read token and a write token), CSRF on every state
change, inert payloads everywhere, sessions that cannot be fixed, cookies with the right
flags, throttled sign-in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount
from starlette.testclient import TestClient

from watcher.core import make_watcher
from watcher.types import Actor, EntryDraft, Role, TokenScope
from watcher.web import create_app
from watcher.web.auth import safe_next

from .conftest import PASSWORD, Clock, WebApp, build_settings, run

# Who may call each route. Every route of the app is listed under exactly one rule, so a
# route added without one fails test_every_route_has_exactly_one_rule, and the sweep below
# calls each one as every kind of caller and checks the answer its rule gives.
ANYONE = "anyone"  # public: pages of the site, signing in and setting up, subscriptions
ADDRESS = "address"  # /metrics: the caller's address decides, not who signs in
EDITOR = "editor"  # the editor app: any signed-in editor (an API token is no session)
ADMIN = "admin"  # the editor app's admin pages
API_READ = "api-read"  # any token, read or write, or any signed-in session
API_WRITE = "api-write"  # a write token, or a session with its X-CSRF-Token header
API_ADMIN = "api-admin"  # an admin's session with its X-CSRF-Token header; never a token


def listed(text: str) -> frozenset[tuple[str, str]]:
    """``METHOD /path`` lines as (method, path) pairs."""
    return frozenset(
        (method, path) for method, path in (line.split() for line in text.strip().splitlines())
    )


RULES: dict[str, frozenset[tuple[str, str]]] = {
    ANYONE: listed("""
        GET /healthz
        GET /favicon.ico
        GET /editor/login
        POST /editor/login
        GET /editor/setup
        POST /editor/setup
        GET /subscribe
        POST /subscribe
        GET /confirm
        POST /confirm
        GET /unsubscribe
        POST /unsubscribe
        GET /api/v1/openapi.json
        GET /api/v1/docs
    """),
    ADDRESS: listed("""
        GET /metrics
    """),
    EDITOR: listed("""
        GET /editor
        POST /editor/bulk
        POST /editor/undo
        GET /editor/candidates/{candidate_id}
        POST /editor/candidates/{candidate_id}/approve
        POST /editor/candidates/{candidate_id}/reject
        POST /editor/preview
        GET /editor/compare
        POST /editor/compare
        GET /editor/entries
        POST /editor/entries/order
        GET /editor/entries/{entry_id}
        POST /editor/entries/{entry_id}
        POST /editor/entries/{entry_id}/status
        POST /editor/entries/{entry_id}/delete
        GET /editor/animations/{name}
        GET /editor/groups/{group_id}/preview
        POST /editor/groups/{group_id}/approve
        GET /editor/account
        POST /editor/account
        POST /editor/logout
    """),
    ADMIN: listed("""
        GET /editor/audit
        GET /editor/status
        GET /editor/editors
        POST /editor/editors
        POST /editor/editors/disabled
        POST /editor/editors/password
        GET /editor/tokens
        POST /editor/tokens
        POST /editor/tokens/{token_id}/revoke
        GET /editor/site
        POST /editor/site
        POST /editor/site/publish
        GET /editor/subscribers
        POST /editor/subscribers
        POST /editor/subscribers/{subscriber_id}/remove
        GET /editor/webhooks
        POST /editor/webhooks
        POST /editor/webhooks/{webhook_id}/remove
        POST /editor/webhooks/{webhook_id}/enable
        GET /editor/deliveries
    """),
    API_READ: listed("""
        GET /api/v1/me
        GET /api/v1/candidates
        GET /api/v1/candidates/{candidate_id}
        GET /api/v1/facets
        GET /api/v1/sources
        GET /api/v1/entries
        GET /api/v1/entries/{entry_id}
        GET /api/v1/editions
        GET /api/v1/editions/{number}
    """),
    API_WRITE: listed("""
        POST /api/v1/candidates/{candidate_id}/approve
        POST /api/v1/candidates/{candidate_id}/reject
        POST /api/v1/candidates/bulk
        POST /api/v1/undo
        POST /api/v1/entries
        PUT /api/v1/entries/order
        PATCH /api/v1/entries/{entry_id}
        DELETE /api/v1/entries/{entry_id}
    """),
    API_ADMIN: listed("""
        POST /api/v1/publish
        GET /api/v1/audit
        GET /api/v1/editors
        GET /api/v1/tokens
        POST /api/v1/tokens
        POST /api/v1/tokens/{token_id}/revoke
        GET /api/v1/site
        PUT /api/v1/site
        GET /api/v1/subscribers
        POST /api/v1/subscribers
        DELETE /api/v1/subscribers/{subscriber_id}
        GET /api/v1/webhooks
        POST /api/v1/webhooks
        DELETE /api/v1/webhooks/{webhook_id}
        POST /api/v1/webhooks/{webhook_id}/enable
        GET /api/v1/deliveries
    """),
}
# Files: the app's static assets and, under everything else, the published site.
MOUNTS = {"/static": ANYONE, "": ANYONE}
FILES = ("/static/editor.css", "/index.html")
PUBLIC = RULES[ANYONE]
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
# An id no seeded row has: the sweep's calls change nothing they could name.
NOBODY = 987654321


def routes(app: Any) -> list[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for context in iter_route_contexts(app.routes):
        for method in getattr(context, "methods", None) or ():
            if method != "HEAD":
                found.add((method, str(context.path)))
    return sorted(found)


def mounts(app: Any) -> set[str]:
    return {route.path for route in app.routes if isinstance(route, Mount)}


def concrete(path: str, value: object = 1) -> str:
    return re.sub(r"\{[^}]+\}", str(value), path)


def call(client: TestClient, method: str, path: str, **kwargs: Any) -> Any:
    return client.request(method, path, follow_redirects=False, **kwargs)


def test_every_route_has_exactly_one_rule(web: WebApp) -> None:
    ruled = [route for rule in RULES.values() for route in rule]
    assert len(ruled) == len(set(ruled)), "a route is listed under two rules"
    every = set(routes(web.app))
    assert every - set(ruled) == set(), "routes without a rule: add each to RULES"
    assert set(ruled) - every == set(), "rules for routes that are gone: remove them"
    assert mounts(web.app) == set(MOUNTS), "a mount without a rule: add it to MOUNTS"
    for method, path in every:
        if path.startswith(ADMIN_PREFIXES):
            assert (method, path) in RULES[ADMIN] | RULES[API_ADMIN], f"{method} {path}"


@dataclass
class Caller:
    """One kind of caller: a client with its credentials, and the CSRF token its session
    posts (None without a session)."""

    name: str
    client: TestClient
    csrf: str | None = None

    def send(self, method: str, url: str) -> Any:
        if method not in UNSAFE:
            return call(self.client, method, url)
        if url.startswith("/api/"):
            headers = {"X-CSRF-Token": self.csrf} if self.csrf else {}
            return call(self.client, method, url, json={}, headers=headers)
        return call(self.client, method, url, data={"csrf_token": self.csrf or ""})


# Seen from an address /metrics does not answer (a documentation address: nothing is sent).
ELSEWHERE = ("203.0.113.7", 50000)


def callers(web: WebApp) -> list[Caller]:
    """Anonymous, an editor, an admin, a read token and a write token."""

    def client(**headers: str) -> TestClient:
        return TestClient(
            web.app, base_url="http://127.0.0.1:8000", client=ELSEWHERE, headers=headers
        )

    made = [Caller("anonymous", client())]
    for name in ("alice", "root"):
        signed_in = web.browser(name)
        session = client()
        session.cookies = signed_in.client.cookies
        made.append(Caller("editor" if name == "alice" else "admin", session, signed_in.csrf))
    for scope in ("read", "write"):
        _, secret = web.watcher.create_api_token(f"{scope} bot", TokenScope(scope))
        made.append(Caller(f"{scope} token", client(Authorization=f"Bearer {secret}")))
    return made


# What each rule answers each caller: "served" (past the door: any answer but a refusal
# below or a 5xx; a 404 for the id no row has), "open" (the same, but a form may still
# refuse a missing form token with 403), "login" (303 to the sign-in form), 401, 403, 404.
EXPECTED = {
    ANYONE: dict.fromkeys(("anonymous", "editor", "admin", "read token", "write token"), "open"),
    ADDRESS: dict.fromkeys(("anonymous", "editor", "admin", "read token", "write token"), "404"),
    EDITOR: {"anonymous": "login", "editor": "served", "admin": "served",
             "read token": "login", "write token": "login"},
    ADMIN: {"anonymous": "login", "editor": "403", "admin": "served",
            "read token": "login", "write token": "login"},
    API_READ: {"anonymous": "401", "editor": "served", "admin": "served",
               "read token": "served", "write token": "served"},
    API_WRITE: {"anonymous": "401", "editor": "served", "admin": "served",
                "read token": "403", "write token": "served"},
    API_ADMIN: {"anonymous": "401", "editor": "403", "admin": "served",
                "read token": "403", "write token": "403"},
}  # fmt: skip


def answer(response: Any) -> str:
    """The class of an answer, as EXPECTED names them."""
    location = response.headers.get("location", "")
    if response.status_code == 303 and location.startswith("/editor/login?next="):
        return "login"
    if response.status_code >= 500:
        return f"error {response.status_code}"
    if response.status_code == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.headers["content-type"].startswith("application/problem+json")
        return "401"
    return str(response.status_code)


def test_every_route_answers_each_caller_as_its_rule_says(web: WebApp) -> None:
    """Every route, called anonymously, as an editor, as an admin, with a read token and
    with a write token (ids no row has, an empty body with the caller's CSRF token)."""
    ids = web.seed(1)
    root = Actor("root", Role.ADMIN)
    web.watcher.approve(ids, EntryDraft(heading="Dust", body="Words."), root)
    run(web.watcher.publish())  # the site's files are there to fetch
    everyone = callers(web)
    wrong = []
    # Signing out ends the sessions the sweep uses: last.
    ordered = sorted(routes(web.app), key=lambda route: route == ("POST", "/editor/logout"))
    for method, path in ordered:
        [rule] = [name for name, listed_routes in RULES.items() if (method, path) in listed_routes]
        for caller in everyone:
            got = answer(caller.send(method, concrete(path, NOBODY)))
            expected = EXPECTED[rule][caller.name]
            if expected == "open":  # no sign-in asked for (a form may still want its token)
                ok = got not in ("login", "401") and not got.startswith("error")
            elif expected == "served":
                ok = got not in ("login", "401", "403") and not got.startswith("error")
            else:
                ok = got == expected
            if not ok:
                wrong.append(f"{method} {path} as {caller.name}: {got}, not {expected} ({rule})")
    assert wrong == [], "\n".join(wrong)
    for url in FILES:  # files are anyone's, whoever asks
        for caller in everyone:
            assert call(caller.client, "GET", url).status_code == 200, (url, caller.name)


def test_metrics_are_served_by_address_whoever_asks(web: WebApp) -> None:
    loopback = TestClient(web.app, base_url="http://127.0.0.1:8000", client=("127.0.0.1", 5))
    assert call(loopback, "GET", "/metrics").status_code == 200
    for caller in callers(web):
        assert caller.send("GET", "/metrics").status_code == 404, caller.name


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
