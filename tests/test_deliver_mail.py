"""Email end to end against a real SMTP server (aiosmtpd on loopback), on both databases:
double opt-in, one mail per edition with RFC 8058 headers, unsubscribe, rate limits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import feedparser
import orjson
import pytest

from tests.conftest import Clock, run
from tests.deliver_support import (
    ADMIN,
    approve_one,
    html_of,
    link_in,
    mail_watcher,
    publish_edition,
    smtp_server,
    text_of,
    token_of,
)
from watcher.config import DEFAULT_TITLE
from watcher.deliver.channels import email
from watcher.exceptions import BadLink, InvalidInput, PermissionDenied, RateLimited, UsageError
from watcher.types import (
    Actor,
    DeliveryChannel,
    DeliveryStatus,
    Edition,
    Frame,
    PublishedEntry,
    Role,
    SubscriberStatus,
)


def test_subscribe_confirm_edition_mail_once_then_unsubscribe(
    watcher_for: Any, database_url: str, clock: Clock
) -> None:
    with smtp_server() as (sink, port):
        watcher = mail_watcher(watcher_for, database_url, port)
        pending = watcher.subscribe("Reader@Example.ORG", client="203.0.113.9")
        assert pending.email == "Reader@example.org"
        assert pending.status is SubscriberStatus.PENDING

        report = run(watcher.deliver_pending())
        assert report.sent == 1
        [confirm_mail] = sink.messages
        assert confirm_mail["To"] == "Reader@example.org"
        link = link_in(confirm_mail, "confirm")
        assert link.startswith("https://mars.example.org/confirm?token=")
        confirmed = watcher.confirm_subscription(token_of(link))
        assert confirmed.status is SubscriberStatus.CONFIRMED
        assert watcher.confirm_subscription(token_of(link)).status is SubscriberStatus.CONFIRMED

        entry_id = approve_one(watcher, 1, "Dust devil")
        assert publish_edition(watcher, 1, (entry_id,)) == 1
        report = run(watcher.deliver_pending())
        assert (report.claimed, report.sent) == (1, 1)
        edition_mail = sink.messages[1]
        assert edition_mail["Subject"].endswith(": 1 new image")
        assert edition_mail["Message-ID"] == "<e1-email-s1@mars.example.org>"
        unsubscribe = edition_mail["List-Unsubscribe"]
        assert unsubscribe.startswith("<https://mars.example.org/unsubscribe?token=u1.")
        assert edition_mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert unsubscribe.strip("<>") in text_of(edition_mail)
        body = html_of(edition_mail)
        assert "Dust devil 1" in body and "Image courtesy of NASA/JPL-Caltech" in body
        assert 'src="https://mars.nasa.gov/raw/NRF_00001_800.jpg"' in body
        assert "<em>whirl</em>" in body

        assert run(watcher.deliver_pending()).claimed == 0
        assert len(sink.messages) == 2
        [row] = watcher.list_deliveries(edition=1, channel=DeliveryChannel.EMAIL)
        assert row.status is DeliveryStatus.SENT and row.attempts == 1

        left = watcher.unsubscribe(token_of(unsubscribe.strip("<>")))
        assert left.status is SubscriberStatus.UNSUBSCRIBED
        assert watcher.unsubscribe(token_of(unsubscribe.strip("<>"))).id == left.id
        second = approve_one(watcher, 2)
        assert publish_edition(watcher, 2, (second,)) == 0
        assert run(watcher.deliver_pending()).claimed == 0
        assert len(sink.messages) == 2


def test_with_no_title_configured_or_stored_site_feeds_and_mail_name_the_list_alike(
    watcher_for: Any, database_url: str
) -> None:
    with smtp_server() as (sink, port):
        watcher = mail_watcher(watcher_for, database_url, port)
        assert watcher.settings.publish.title == DEFAULT_TITLE
        watcher.add_subscriber("a@example.org", ADMIN, confirmed=True)
        approve_one(watcher, 1)
        report = run(watcher.publish())
        assert report.edition is not None
        assert run(watcher.deliver_pending()).sent == 1
    site = watcher.settings.site_dir
    assert f"<h1>{DEFAULT_TITLE}</h1>" in (site / "index.html").read_text()
    assert feedparser.parse((site / "feed.atom").read_bytes()).feed.title == DEFAULT_TITLE
    assert orjson.loads((site / "feed.json").read_bytes())["title"] == DEFAULT_TITLE
    [mail] = sink.messages
    assert mail["Subject"] == f"{DEFAULT_TITLE}: 1 new image"
    assert watcher.site_settings().title == DEFAULT_TITLE


def test_unsubscribing_after_enqueue_skips_the_queued_mail(
    watcher_for: Any, database_url: str
) -> None:
    with smtp_server() as (sink, port):
        watcher = mail_watcher(watcher_for, database_url, port)
        subscriber = watcher.add_subscriber("a@example.org", ADMIN, confirmed=True)
        publish_edition(watcher, 1, (approve_one(watcher, 1),))
        url = watcher.unsubscribe_url(subscriber)
        watcher.unsubscribe(token_of(url))
        report = run(watcher.deliver_pending())
        assert (report.sent, report.skipped) == (0, 1)
        [row] = watcher.list_deliveries(edition=1)
        assert row.status is DeliveryStatus.DEAD
        assert row.last_error == "skipped: subscriber unsubscribed"
        assert sink.messages == []


def test_confirmed_address_subscribing_again_gets_no_mail(
    watcher_for: Any, database_url: str
) -> None:
    with smtp_server() as (sink, port):
        watcher = mail_watcher(watcher_for, database_url, port)
        watcher.add_subscriber("a@example.org", ADMIN, confirmed=True)
        again = watcher.subscribe("a@example.org", client="198.51.100.1")
        assert again.status is SubscriberStatus.CONFIRMED
        assert run(watcher.deliver_pending()).claimed == 0
        assert sink.messages == []


@pytest.mark.parametrize(
    ("address", "words"),
    [
        ("", "enter your email"),
        ("no-at-sign", "looks like"),
        ("a@b", "domain name"),
        ("a b@example.org", "before @"),
        ("a@exa mple.org", "domain"),
        ("x" * 250 + "@example.org", "at most 254"),
        ("a..b@example.org", "dot"),
        ("a@127.0.0.1", "not an address"),
    ],
)
def test_invalid_addresses_are_refused_on_the_email_field(
    watcher_for: Any, address: str, words: str
) -> None:
    watcher = mail_watcher(watcher_for, None, 25)
    with pytest.raises(InvalidInput) as caught:
        watcher.subscribe(address, client="203.0.113.9")
    assert list(caught.value.errors) == ["email"]
    assert words in caught.value.errors["email"]


def test_subscribing_when_email_is_off_is_a_usage_error(watcher_for: Any) -> None:
    watcher = watcher_for([])
    with pytest.raises(UsageError, match="not enabled"):
        watcher.subscribe("a@example.org", client="x")


def test_sign_ups_are_rate_limited_per_client_and_per_mailbox(
    watcher_for: Any, database_url: str, clock: Clock
) -> None:
    watcher = watcher_for(
        [],
        database_url=database_url,
        email={"enabled": True},
        delivery={"subscribe_per_hour": 3},
    )
    for n in range(3):
        watcher.subscribe(f"user{n}@example.org", client="203.0.113.9")
    with pytest.raises(RateLimited) as caught:
        watcher.subscribe("user9@example.org", client="203.0.113.9")
    assert list(caught.value.errors) == ["email"]
    assert 3500 < caught.value.retry_after <= 3600
    watcher.subscribe("user9@example.org", client="198.51.100.7")  # another client is fine

    for n in range(3):
        clock.advance(1)  # the confirmation's key holds the request's time
        watcher.subscribe("victim@example.org", client=f"192.0.2.{n}")
    with pytest.raises(RateLimited, match="for this address"):
        watcher.subscribe("victim@example.org", client="192.0.2.99")

    clock.advance(3601)
    watcher.subscribe("user10@example.org", client="203.0.113.9")
    confirmations = watcher.list_deliveries(channel=DeliveryChannel.CONFIRM, limit=100)
    assert len(confirmations) == 3 + 1 + 3 + 1


def test_links_are_refused_when_tampered_foreign_or_expired(
    watcher_for: Any, database_url: str, clock: Clock
) -> None:
    with smtp_server() as (sink, port):
        watcher = mail_watcher(watcher_for, database_url, port, confirm_ttl="1h")
        watcher.subscribe("a@example.org", client="c")
        run(watcher.deliver_pending())
        token = token_of(link_in(sink.messages[0], "confirm"))
        with pytest.raises(BadLink):
            watcher.confirm_subscription(token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
        with pytest.raises(BadLink):
            watcher.confirm_subscription("c999." + token.split(".", 1)[1])
        with pytest.raises(BadLink):
            watcher.unsubscribe(token)  # a confirm token is not an unsubscribe token
        with pytest.raises(BadLink):
            watcher.confirm_subscription("garbage")
        clock.advance(3601)
        with pytest.raises(BadLink) as caught:
            watcher.confirm_subscription(token)
        assert caught.value.expired


def test_admin_adds_lists_and_removes_subscribers_with_audit(
    watcher_for: Any, database_url: str
) -> None:
    with smtp_server() as (sink, port):
        watcher = mail_watcher(watcher_for, database_url, port)
        with pytest.raises(PermissionDenied):
            watcher.add_subscriber("a@example.org", Actor("alice", Role.EDITOR))
        added = watcher.add_subscriber("a@example.org", ADMIN)
        watcher.add_subscriber("b@example.org", ADMIN, confirmed=True)
        assert added.status is SubscriberStatus.PENDING
        run(watcher.deliver_pending())
        assert [m["To"] for m in sink.messages] == ["a@example.org"]
        assert [s.email for s in watcher.list_subscribers()] == ["a@example.org", "b@example.org"]
        confirmed = watcher.list_subscribers(status=SubscriberStatus.CONFIRMED)
        assert [s.email for s in confirmed] == ["b@example.org"]
        assert [s.email for s in watcher.list_subscribers(after_id=added.id)] == ["b@example.org"]
        removed = watcher.remove_subscriber("B@EXAMPLE.org".lower(), ADMIN)
        assert removed.status is SubscriberStatus.UNSUBSCRIBED
        assert watcher.remove_subscriber(str(added.id), ADMIN).status.value == "unsubscribed"
        events = watcher.audit_events(ADMIN, subject_type="subscriber")
        assert sorted(e.action for e in events) == ["add", "add", "remove", "remove"]


def test_a_refused_recipient_is_dead_at_once_and_others_still_get_mail(
    watcher_for: Any, database_url: str
) -> None:
    with smtp_server() as (sink, port):
        watcher = mail_watcher(watcher_for, database_url, port)
        sink.refuse.add("gone@example.org")
        watcher.add_subscriber("gone@example.org", ADMIN, confirmed=True)
        watcher.add_subscriber("here@example.org", ADMIN, confirmed=True)
        publish_edition(watcher, 1, (approve_one(watcher, 1),))
        report = run(watcher.deliver_pending())
        assert (report.sent, report.dead) == (1, 1)
        dead = watcher.list_deliveries(status=DeliveryStatus.DEAD)
        assert [d.target for d in dead] == ["gone@example.org"]
        assert "550" in (dead[0].last_error or "")


def test_smtp_server_down_fails_the_batch_for_retry(
    watcher_for: Any, database_url: str, clock: Clock
) -> None:
    from tests.deliver_support import free_port

    watcher = mail_watcher(watcher_for, database_url, free_port())
    for n in range(3):
        watcher.add_subscriber(f"s{n}@example.org", ADMIN, confirmed=True)
    publish_edition(watcher, 1, (approve_one(watcher, 1),))
    report = run(watcher.deliver_pending())
    assert (report.claimed, report.failed, report.sent) == (3, 3, 0)
    rows = watcher.list_deliveries(edition=1)
    assert {r.status for r in rows} == {DeliveryStatus.PENDING}
    assert all("cannot reach SMTP server" in (r.last_error or "") for r in rows)
    next_at = watcher.next_delivery_at()
    assert next_at is not None and next_at > clock()


def test_non_ascii_title_and_headings_arrive_intact_in_stamped_mails(
    watcher_for: Any, database_url: str
) -> None:
    with smtp_server() as (sink, port):
        watcher = watcher_for(
            [],
            database_url=database_url,
            server={"public_url": "https://mars.example.org"},
            publish={"title": "Marsbeobachtung \u2013 Bilder für alle"},
            email={"enabled": True, "smtp_port": port, "security": "none", "timeout": "5s"},
        )  # fmt: skip
        for name in ("a", "b"):
            watcher.add_subscriber(f"{name}@example.org", ADMIN, confirmed=True)
        heading = "Tourbillon à Jézero \u2013 « dust devil »"
        publish_edition(watcher, 1, (approve_one(watcher, 1, heading),))
        assert run(watcher.deliver_pending()).sent == 2
        first, second = sorted(sink.messages, key=lambda m: str(m["To"]))
        assert first["Subject"] == "Marsbeobachtung \u2013 Bilder für alle: 1 new image"
        assert (first["Message-ID"], second["Message-ID"]) == (
            "<e1-email-s1@mars.example.org>",
            "<e1-email-s2@mars.example.org>",
        )
        for message in (first, second):
            link = message["List-Unsubscribe"].strip("<>")
            assert f"{heading} 1" in text_of(message) and link in text_of(message)
            assert f'href="{link}"' in html_of(message)
            assert "Tourbillon à Jézero \u2013 « dust devil » 1" in html_of(message)
            subscriber = watcher.unsubscribe(token_of(link))
            assert subscriber.email == message["To"]


# -- the edition mail's pictures (pure) --------------------------------------------------

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
RAW = "https://mars.nasa.gov/raw/NRF_1"


def edition_mail(credit: str = "NASA/JPL-Caltech", **urls: str | None) -> tuple[str, str]:
    """The HTML and text of a one-entry edition whose frame has ``urls``."""
    values: dict[str, str | None] = {
        "thumbnail_url": f"{RAW}_320.jpg",
        "medium_url": f"{RAW}_800.jpg",
        "large_url": f"{RAW}_1200.jpg",
        "full_url": f"{RAW}.png",
    }
    values.update(urls)
    frame = Frame(candidate_id=1, taken_at=NOW, width=1600, height=1200, **values)
    entry = PublishedEntry(
        id=1, position=1, heading="Dust devil", body="A *whirl*.", alt_text="", credit=credit,
        rendition="large", frames=(frame,), mission="perseverance", camera="NAVCAM_LEFT",
        sol=1, mars_local_time=None, taken_at=NOW, nasa_page_url=None, created_at=NOW,
        updated_at=NOW,
    )  # fmt: skip
    edition = Edition(
        number=1, published_at=NOW, added=(1,), changed=(), removed=(), reordered=False,
        site_changed=True, entries=1, audit_id=1,
    )  # fmt: skip
    mail = email.render_edition(edition, [entry], title="Mars", base_url="https://s")
    return mail.html, mail.text


def test_the_edition_mail_shows_the_pages_picture_fitted_to_the_mail() -> None:
    html, text = edition_mail()
    assert f'<a href="{RAW}.png"><img src="{RAW}_800.jpg"' in html
    assert 'width="608" height="456"' in html and "max-width:100%" in html
    assert "See a larger version of the image</a>" in html
    assert f"Larger version: {RAW}.png" in text


def test_a_thumbnail_only_mail_picture_is_never_stretched_nor_linked() -> None:
    html, text = edition_mail(medium_url=None, large_url=None, full_url=None)
    assert f'<img src="{RAW}_320.jpg" alt="Dust devil" width="320" height="240"' in html
    assert f'<a href="{RAW}' not in html and "larger version" not in html.lower()
    assert "Larger version" not in text


def test_an_edition_mail_never_shows_an_empty_credit() -> None:
    html, text = edition_mail(credit="")
    assert "Image courtesy of NASA</p>" in html and "Image courtesy of NASA\n" in text
