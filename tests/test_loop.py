"""The whole loop with real parts: ``watcher run`` (in-process, on a real port) publishes
after an approval made through the JSON API, the page and both feeds show the entry, and
each subscriber gets one mail (real SMTP server) and each webhook one signed POST (real
HTTP receiver), once."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import feedparser
import httpx
import pytest

from watcher.core import make_watcher
from watcher.deliver.signing import verify_webhook
from watcher.types import Actor, Role, TokenScope

from .conftest import ServiceThread, build_settings, eventually, free_port, seed_candidate
from .deliver_support import MailSink, Receiver, http_receiver, smtp_server

pytestmark = pytest.mark.timeout(90)


def link(message: EmailMessage, path: str) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    found = re.search(rf"(http://\S+{path}\?token=[\w.-]+)", body.get_content())
    assert found, body.get_content()
    return found.group(1)


@pytest.fixture
def inbox() -> Iterator[tuple[MailSink, int]]:
    with smtp_server() as served:
        yield served


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with http_receiver() as made:
        yield made


def test_approval_reaches_page_feeds_mail_and_webhook_once(
    tmp_path: Path, inbox: tuple[MailSink, int], receiver: Receiver
) -> None:
    mails, smtp_port = inbox
    port = free_port()
    settings = build_settings(
        tmp_path,
        f"sqlite:///{tmp_path / 'watcher.db'}",
        server={"host": "127.0.0.1", "port": port},
        publish={"debounce": "0s", "title": "Mars, lately", "cache_dir": str(tmp_path / "c")},
        email={
            "enabled": True,
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_port,
            "security": "none",
            "from_address": "list@example.org",
        },
        webhooks={"allow_private": True},
        delivery={"retry_base": "1s"},
    )
    watcher = make_watcher(settings)
    watcher.prepare_database()
    base = f"http://127.0.0.1:{port}"
    _, token = watcher.create_api_token("loop", TokenScope.WRITE)
    [candidate_id] = seed_candidate(watcher)
    running = ServiceThread(watcher)
    try:
        client = httpx.Client(base_url=base, timeout=10)
        # A reader subscribes on the public page and confirms from the mail.
        answer = client.post("/subscribe", data={"email": "reader@example.org", "website": ""})
        assert answer.status_code == 200, answer.text
        confirm = eventually(lambda: mails.to("reader@example.org"), "the confirmation mail")
        confirm_url = link(confirm[0], "/confirm")
        token_value = confirm_url.split("token=", 1)[1]
        assert client.post("/confirm", data={"token": token_value}).status_code == 200
        # An admin registers a webhook.
        webhook, secret = watcher.add_webhook(receiver.url("/hook"), admin_actor())
        before_mails = len(mails.messages)

        # An editor approves through the API; publishing follows by itself.
        approved = client.post(
            f"/api/v1/candidates/{candidate_id}/approve",
            json={"heading": "Dust devil over Jezero", "body": "A *whirlwind* crossing."},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert approved.status_code == 201, approved.text

        page = eventually(
            lambda: (
                (r := client.get("/")).status_code == 200
                and "Dust devil over Jezero" in r.text
                and r
            ),
            "the page showing the new entry",
        )
        assert "Image courtesy of NASA/JPL-Caltech" in page.text
        atom = feedparser.parse(client.get("/feed.atom").content)
        assert not atom.bozo, atom.bozo_exception
        assert [e.title for e in atom.entries] == ["Dust devil over Jezero"]
        feed = client.get("/feed.json").json()
        assert feed["version"] == "https://jsonfeed.org/version/1.1"
        assert [item["title"] for item in feed["items"]] == ["Dust devil over Jezero"]
        assert feed["items"][0]["id"] == atom.entries[0].id

        edition_mail = eventually(
            lambda: len(mails.messages) > before_mails and mails.messages[before_mails:],
            "the edition's mail",
        )
        eventually(lambda: receiver.requests, "the webhook call")
        time.sleep(1.5)  # a second delivery, if there were one, would have come by now

        assert len(mails.messages) == before_mails + 1
        [mail] = edition_mail
        assert mails.recipients[-1] == ["reader@example.org"]
        assert "Dust devil over Jezero" in mail.get_body(preferencelist=("plain",)).get_content()
        unsubscribe = mail["List-Unsubscribe"]
        assert unsubscribe and "/unsubscribe?token=" in unsubscribe
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

        [call] = receiver.requests
        headers, body = {k.lower(): v for k, v in call.headers.items()}, call.body
        assert call.path == "/hook"
        assert verify_webhook(secret, body, headers["x-watcher-signature"], datetime.now(UTC))
        assert headers["x-watcher-delivery"]
        payload = json.loads(body)
        assert payload["edition"]["number"] == 1
        assert payload["edition"]["added"] == [approved.json()["id"]]
        assert webhook.id == 1

        # One click (RFC 8058) and the next edition goes to nobody by mail.
        one_click = unsubscribe.strip("<>").split(">,")[0].strip("<>")
        path = one_click[len(base) :] if one_click.startswith(base) else one_click
        left = client.post(path, data={"List-Unsubscribe": "One-Click"})
        assert left.status_code == 200
        second = seed_candidate(watcher, "NRF_00002")[0]
        client.post(
            f"/api/v1/candidates/{second}/approve",
            json={"heading": "Second picture"},
            headers={"Authorization": f"Bearer {token}"},
        )
        eventually(lambda: len(receiver.requests) == 2, "the second edition's webhook")
        time.sleep(0.5)
        assert len(mails.messages) == before_mails + 1
    finally:
        running.stop()


def admin_actor() -> Actor:
    return Actor("root", Role.ADMIN)
