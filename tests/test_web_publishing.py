"""The publication's pages and API: public subscribe / confirm / unsubscribe, and the admin
pages for the site's text, editions, subscribers, webhooks and deliveries."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from watcher.core import make_watcher
from watcher.types import Actor, DeliveryChannel, EntryDraft, Role, SubscriberStatus, TokenScope

from .conftest import PASSWORD, WebApp, build_settings, run

pytestmark = pytest.mark.timeout(60)

ROOT = Actor("root", Role.ADMIN)


@pytest.fixture
def mailing(tmp_path: Path) -> Iterator[WebApp]:
    """The app with email on (nothing is sent here: no worker runs)."""
    settings = build_settings(
        tmp_path,
        f"sqlite:///{tmp_path / 'watcher.db'}",
        email={"enabled": True, "security": "none"},
        delivery={"subscribe_per_hour": 3},
        publish={"cache_dir": str(tmp_path / "cache")},
    )
    watcher = make_watcher(settings)
    watcher.prepare_database()
    watcher.add_editor("root", PASSWORD, Role.ADMIN)
    app = WebApp(watcher)
    yield app
    run(watcher.aclose())


def public(app: WebApp) -> TestClient:
    return TestClient(app.app, base_url="http://127.0.0.1:8000", follow_redirects=False)


def test_subscribing_queues_one_confirmation_and_answers_neutrally(mailing: WebApp) -> None:
    client = public(mailing)
    form = client.get("/subscribe")
    assert form.status_code == 200 and 'name="email"' in form.text
    answer = client.post("/subscribe", data={"email": "Reader@Example.ORG"})
    assert answer.status_code == 200
    assert "Check your inbox" in answer.text
    [subscriber] = mailing.watcher.list_subscribers()
    assert subscriber.status is SubscriberStatus.PENDING
    confirmations = mailing.watcher.list_deliveries(channel=DeliveryChannel.CONFIRM)
    assert len(confirmations) == 1
    assert answer.headers["cache-control"] == "no-store"


def test_an_invalid_address_is_shown_beside_the_field(mailing: WebApp) -> None:
    answer = public(mailing).post("/subscribe", data={"email": "not an address"})
    assert answer.status_code == 422
    assert re.search(r'id="email-error"[^>]*>[^<]+', answer.text)
    assert 'aria-invalid="true"' in answer.text
    assert 'value="not an address"' in answer.text
    assert mailing.watcher.list_subscribers() == []


def test_the_honeypot_field_makes_nothing(mailing: WebApp) -> None:
    answer = public(mailing).post(
        "/subscribe", data={"email": "bot@example.org", "website": "http://spam"}
    )
    assert answer.status_code == 200
    assert mailing.watcher.list_subscribers() == []


def test_subscribe_flooding_is_rate_limited(mailing: WebApp) -> None:
    client = public(mailing)
    codes = [
        client.post("/subscribe", data={"email": f"r{i}@example.org"}).status_code for i in range(6)
    ]
    assert codes[0] == 200
    assert 429 in codes
    limited = client.post("/subscribe", data={"email": "late@example.org"})
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert 'id="email-error"' in limited.text


def test_broken_confirm_and_unsubscribe_links_say_so(mailing: WebApp) -> None:
    client = public(mailing)
    for path in ("/confirm", "/unsubscribe"):
        page = client.get(f"{path}?token=c1.123.abc")
        assert page.status_code == 200  # the button page; GET changes nothing
        answer = client.post(path, data={"token": "u1.forged-token-value"})
        assert answer.status_code == 400
        assert "does not work" in answer.text


def test_without_email_the_subscribe_form_says_it_is_not_offered(web: WebApp) -> None:
    for answer in (
        public(web).get("/subscribe"),
        public(web).post("/subscribe", data={"email": "reader@example.org"}),
    ):
        assert answer.status_code == 404
        assert "not offered" in answer.text
        assert 'name="email"' not in answer.text
    assert web.watcher.list_subscribers() == []


def test_admin_changes_title_with_errors_beside_the_field(web: WebApp) -> None:
    root = web.browser("root")
    bad = root.post("/editor/site", {"title": "", "intro": "x"})
    assert bad.status_code == 422
    assert 'id="title-error"' in bad.text
    good = root.post("/editor/site", {"title": "Mars, lately", "intro": "The *best* frames."})
    assert good.status_code == 303
    assert web.watcher.site_settings().title == "Mars, lately"
    page = root.get("/editor/site")
    assert 'value="Mars, lately"' in page.text
    events = web.watcher.audit_events(ROOT, subject_type="site")
    assert events and events[0].actor == "root"


def test_publish_now_makes_an_edition_then_nothing(web: WebApp) -> None:
    root = web.browser("root")
    [candidate_id] = web.seed(1)
    web.watcher.approve([candidate_id], EntryDraft(heading="First"), ROOT)
    first = root.post("/editor/site/publish")
    assert first.status_code == 303 and "done=edition_made&n=1" in first.headers["location"]
    second = root.post("/editor/site/publish")
    assert "done=nothing_changed" in second.headers["location"]
    page = root.get("/editor/site")
    assert "Published edition" not in page.text
    assert re.search(r"<th scope=\"row\">1</th>", page.text)


def test_webhook_secret_is_shown_once_and_private_urls_are_refused(web: WebApp) -> None:
    root = web.browser("root")
    refused = root.post("/editor/webhooks", {"url": "http://127.0.0.1:9/hook"})
    assert refused.status_code == 422
    assert 'id="url-error"' in refused.text
    assert web.watcher.list_webhooks() == []
    bad_scheme = root.post("/editor/webhooks", {"url": "ftp://example.org/hook"})
    assert bad_scheme.status_code == 422


def test_webhooks_page_shows_a_new_secret_once(tmp_path: Path) -> None:
    settings = build_settings(
        tmp_path, f"sqlite:///{tmp_path / 'w.db'}", webhooks={"allow_private": True}
    )
    watcher = make_watcher(settings)
    watcher.prepare_database()
    watcher.add_editor("root", PASSWORD, Role.ADMIN)
    app = WebApp(watcher)
    try:
        root = app.browser("root")
        created = root.post("/editor/webhooks", {"url": "http://127.0.0.1:9/hook"})
        assert created.status_code == 201
        secret = re.search(r'class="secret-value" value="([^"]+)"', created.text)
        assert secret and secret.group(1).startswith("whsec_")
        listed = root.get("/editor/webhooks")
        assert secret.group(1) not in listed.text
        assert "http://127.0.0.1:9/hook" in listed.text
        [hook] = watcher.list_webhooks()
        removed = root.post(f"/editor/webhooks/{hook.id}/remove")
        assert removed.status_code == 303
        assert all(not w.enabled for w in watcher.list_webhooks()) or not watcher.list_webhooks()
    finally:
        run(watcher.aclose())


def test_admin_adds_and_removes_a_subscriber(mailing: WebApp) -> None:
    root = mailing.browser("root")
    added = root.post("/editor/subscribers", {"email": "friend@example.org", "confirmed": "yes"})
    assert added.status_code == 303
    [subscriber] = mailing.watcher.list_subscribers()
    assert subscriber.status is SubscriberStatus.CONFIRMED
    listed = root.get("/editor/subscribers?status=confirmed")
    assert "friend@example.org" in listed.text
    root.post(f"/editor/subscribers/{subscriber.id}/remove")
    [after] = mailing.watcher.list_subscribers()
    assert after.status is SubscriberStatus.UNSUBSCRIBED
    bad = root.post("/editor/subscribers", {"email": "nope"})
    assert bad.status_code == 422 and 'id="email-error"' in bad.text


def test_delivery_log_lists_the_outbox(mailing: WebApp) -> None:
    public(mailing).post("/subscribe", data={"email": "reader@example.org"})
    root = mailing.browser("root")
    page = root.get("/editor/deliveries?channel=confirm")
    assert page.status_code == 200
    assert "reader@example.org" in page.text
    assert "pending" in page.text


def test_api_twins_for_editions_site_and_subscribers(mailing: WebApp) -> None:
    root = mailing.browser("root")
    headers = {"X-CSRF-Token": root.csrf}
    site = root.client.put(
        "/api/v1/site", json={"title": "Mars via API", "intro": ""}, headers=headers
    )
    assert site.status_code == 200 and site.json()["title"] == "Mars via API"
    bad = root.client.put("/api/v1/site", json={"title": "", "intro": ""}, headers=headers)
    assert bad.status_code == 422 and "title" in bad.json()["errors"]
    nothing = root.client.post("/api/v1/publish", headers=headers).json()
    assert nothing["edition"] is None and nothing["changed"] is False
    [candidate_id] = mailing.seed(1)
    entry = mailing.watcher.approve([candidate_id], EntryDraft(heading="First"), ROOT)
    published = root.client.post("/api/v1/publish", headers=headers)
    assert published.status_code == 200
    body = published.json()
    assert body["edition"]["number"] == 1 and body["edition"]["added"] == [entry.id]
    assert root.client.get("/api/v1/editions").json()["items"][0]["number"] == 1
    assert root.client.get("/api/v1/editions/1").json()["number"] == 1
    assert root.client.get("/api/v1/editions/99").status_code == 404
    added = root.client.post(
        "/api/v1/subscribers", json={"email": "api@example.org"}, headers=headers
    )
    assert added.status_code == 201 and added.json()["status"] == "pending"
    listed = root.client.get("/api/v1/subscribers").json()["items"]
    assert [s["email"] for s in listed] == ["api@example.org"]
    gone = root.client.delete(f"/api/v1/subscribers/{listed[0]['id']}", headers=headers)
    assert gone.json()["status"] == "unsubscribed"
    log = root.client.get("/api/v1/deliveries?channel=confirm").json()["items"]
    assert log and log[0]["channel"] == "confirm"


def test_only_an_admin_publishes_now_by_api_as_on_the_page(mailing: WebApp) -> None:
    """``POST /api/v1/publish`` asks for what the Site page's "Publish now" asks for: an
    admin's session. An editor's session and any token (tokens are editors) are refused,
    and nothing is published."""
    mailing.watcher.add_editor("alice", PASSWORD, Role.EDITOR)
    [candidate_id] = mailing.seed(1)
    mailing.watcher.approve([candidate_id], EntryDraft(heading="First"), ROOT)
    alice = mailing.browser("alice")
    _, secret = mailing.watcher.create_api_token("bot", TokenScope.WRITE)
    refused = [
        alice.client.post("/api/v1/publish", headers={"X-CSRF-Token": alice.csrf}),
        alice.post("/editor/site/publish"),
        alice.client.post("/api/v1/publish", headers={"Authorization": f"Bearer {secret}"}),
    ]
    assert [r.status_code for r in refused] == [403, 403, 403]
    assert mailing.watcher.list_editions(limit=5) == []
    root = mailing.browser("root")
    published = root.client.post("/api/v1/publish", headers={"X-CSRF-Token": root.csrf})
    assert published.status_code == 200 and published.json()["edition"]["number"] == 1


def test_api_subscribers_page_on_oldest_first_with_after(mailing: WebApp) -> None:
    for name in ("ada", "bo", "cy"):
        mailing.watcher.add_subscriber(f"{name}@example.org", ROOT, confirmed=True)
    root = mailing.browser("root")
    first = root.client.get("/api/v1/subscribers?limit=2").json()
    assert [s["email"] for s in first["items"]] == ["ada@example.org", "bo@example.org"]
    assert first["next"].endswith(f"after={first['items'][-1]['id']}")
    rest = root.client.get(first["next"]).json()
    assert [s["email"] for s in rest["items"]] == ["cy@example.org"]
    assert rest["next"] is None
