"""The pure parts of delivery: signing, the outbox's plans and backoff, addresses, the
SSRF rules, message building, what a claimed row becomes, and how outcomes are judged."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from watcher.config import DeliveryConfig
from watcher.deliver import dispatch, outbox, signing, worker
from watcher.deliver.channels import email, webhook
from watcher.exceptions import DeliveryError, Refused
from watcher.types import (
    Delivery,
    DeliveryChannel,
    DeliveryStatus,
    Edition,
    Frame,
    PublishedEntry,
    Subscriber,
    SubscriberStatus,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
EDITION = Edition(
    number=3,
    published_at=NOW,
    added=(5,),
    changed=(6,),
    removed=(7,),
    reordered=False,
    site_changed=False,
    entries=2,
    audit_id=1,
)


def entry(entry_id: int, heading: str) -> PublishedEntry:
    frame = Frame(
        candidate_id=entry_id,
        taken_at=NOW,
        thumbnail_url=None,
        medium_url=f"https://mars.nasa.gov/{entry_id}_800.jpg",
        large_url=None,
        full_url=f"https://mars.nasa.gov/{entry_id}.png",
        width=800,
        height=600,
    )
    return PublishedEntry(
        id=entry_id,
        position=entry_id,
        heading=heading,
        body="A <script>x</script> *dust* devil",
        alt_text="",
        credit="NASA/JPL-Caltech/ASU",
        rendition="large",
        frames=(frame,),
        mission="perseverance",
        camera="MCZ_LEFT",
        sol=1,
        mars_local_time=None,
        taken_at=NOW,
        nasa_page_url=None,
        created_at=NOW,
        updated_at=NOW,
    )


def test_signed_links_round_trip_and_refuse_other_addresses() -> None:
    token = signing.confirm_token("k", 7, "a@example.org", NOW)
    parsed = signing.parse_token(token)
    assert parsed is not None and parsed.kind == "confirm" and parsed.subscriber_id == 7
    assert signing.token_matches("k", parsed, "a@example.org")
    assert not signing.token_matches("k", parsed, "b@example.org")
    assert not signing.token_matches("other", parsed, "a@example.org")
    assert not signing.token_expired(parsed, NOW + timedelta(hours=1), 7200)
    assert signing.token_expired(parsed, NOW + timedelta(hours=3), 7200)
    unsub = signing.parse_token(signing.unsubscribe_token("k", 7, "a@example.org"))
    assert unsub is not None and unsub.kind == "unsubscribe" and unsub.issued is None


# Made by the first version, as they sit in mails already sent and in receivers' checks.
SENT_CONFIRM = "c7.1795608000.QHchTsYbTcBZzH4GEPpE8YkxnUmr_PQ9hVSILLryuK4"
SENT_UNSUBSCRIBE = "u7.xgKVMgV5WUmy7VNZ5D7G0YQj46GfcTGUaOpmAOcoCKE"
SENT_SIGNATURE = "t=1795608000,v1=c0e8c98d13badaac8e168877ababbf7fb7cd7c97436dcb58143de2618220794a"


def test_links_and_signatures_already_sent_still_verify_and_are_made_alike() -> None:
    assert signing.confirm_token("k", 7, "a@example.org", NOW) == SENT_CONFIRM
    assert signing.unsubscribe_token("k", 7, "a@example.org") == SENT_UNSUBSCRIBE
    for token in (SENT_CONFIRM, SENT_UNSUBSCRIBE):
        parsed = signing.parse_token(token)
        assert parsed is not None and parsed.subscriber_id == 7
        assert signing.token_matches("k", parsed, "a@example.org")
    body = b'{"a":1}'
    assert signing.webhook_signature("s", body, int(NOW.timestamp())) == SENT_SIGNATURE
    assert signing.verify_webhook("s", body, SENT_SIGNATURE, NOW)


def test_webhook_signatures_verify_and_refuse_replays() -> None:
    body = b'{"a":1}'
    header = signing.webhook_signature("s", body, int(NOW.timestamp()))
    assert signing.verify_webhook("s", body, header, NOW)
    assert not signing.verify_webhook("s", body + b" ", header, NOW)
    assert not signing.verify_webhook("s", body, header, NOW + timedelta(minutes=10))


def test_plan_gives_one_row_per_receiver_and_mail_only_for_added_entries() -> None:
    rows = outbox.plan_edition(
        EDITION.number,
        bool(EDITION.added),
        NOW,
        subscribers=[(1, "a@example.org")],
        webhooks=[2],
        hubs=["https://hub.example/"],
        team=True,
    )
    assert [r.key for r in rows][:2] == ["e3-email-s1", "e3-webhook-w2"]
    assert {r.channel for r in rows} == set(DeliveryChannel) - {DeliveryChannel.CONFIRM}
    no_new = outbox.plan_edition(
        EDITION.number,
        False,
        NOW,
        subscribers=[(1, "a@example.org")],
        webhooks=[],
        hubs=[],
        team=False,
    )
    assert no_new == []


def test_retry_delay_grows_and_stays_within_bounds() -> None:
    config = DeliveryConfig(retry_base=60, retry_max=3600)
    delays = [outbox.retry_delay(n, config, 0.0) for n in range(1, 10)]
    assert delays[0] == 60 and delays == sorted(delays) and delays[-1] == 3600
    assert outbox.retry_delay(2, config, 1.0) == 180


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        (" Reader@Example.ORG ", "Reader@example.org"),
        ("a.b+c@xn--bcher-kva.example", "a.b+c@xn--bcher-kva.example"),
        ("x@bücher.example", "x@bücher.example"),
    ],
)
def test_addresses_keep_the_local_part_and_lower_the_domain(typed: str, kept: str) -> None:
    assert email.normalise_address(typed) == kept


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "127.0.0.1",
        "::1",
        "169.254.169.254",
        "192.168.1.1",
        "100.64.0.1",
        "224.0.0.1",
        "::ffff:10.0.0.1",
        "fc00::1",
        "0.0.0.0",
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert webhook.address_problem(ipaddress.ip_address(address)) is not None


def test_public_addresses_pass_and_a_mixed_answer_is_refused() -> None:
    assert webhook.address_problem(ipaddress.ip_address("93.184.216.34")) is None
    assert webhook.vet_addresses("h", ["93.184.216.34"], allow_private=False) == "93.184.216.34"
    with pytest.raises(Refused, match=r"10\.0\.0\.1"):
        webhook.vet_addresses("h", ["93.184.216.34", "10.0.0.1"], allow_private=False)
    assert webhook.vet_addresses("h", ["10.0.0.1"], allow_private=True) == "10.0.0.1"


def test_webhook_payload_holds_the_added_and_changed_entries() -> None:
    body = orjson.loads(
        webhook.payload(EDITION, [entry(5, "A"), entry(6, "B"), entry(8, "C")], "https://s")
    )
    assert body["edition"] == {
        "number": 3,
        "published_at": "2026-11-25T12:00:00Z",
        "added": [5],
        "changed": [6],
        "removed": [7],
    }
    assert [e["id"] for e in body["entries"]] == [5, 6]
    assert body["entries"][0]["url"] == "https://s/entries/5.html"


def test_edition_mail_is_multipart_with_linked_images_and_escaped_text() -> None:
    mail = email.render_edition(
        EDITION, [entry(5, "Dust <devil>")], title="Mars", base_url="https://s"
    )
    message = mail.message(
        key="e3-email-s1",
        sender="list@s",
        recipient="a@example.org",
        base_url="https://s",
        unsubscribe="https://s/unsubscribe?token=u1.x",
        now=NOW,
    )
    assert message["Subject"] == "Mars: 1 new image"
    assert message["Message-ID"] == "<e3-email-s1@s>"
    assert message["List-Unsubscribe"] == "<https://s/unsubscribe?token=u1.x>"
    assert message.get_content_type() == "multipart/alternative"
    html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert "Dust &lt;devil&gt;" in html and "<script>" not in html
    assert 'src="https://mars.nasa.gov/5_800.jpg"' in html and not list(message.iter_attachments())
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Image courtesy of NASA/JPL-Caltech/ASU" in text
    assert "https://s/unsubscribe?token=u1.x" in text


def delivery(channel: DeliveryChannel, target: str, edition: int | None = 3) -> Delivery:
    return Delivery(
        id=1,
        edition=edition,
        channel=channel,
        target=target,
        key="k",
        status=DeliveryStatus.PENDING,
        attempts=1,
        next_attempt_at=NOW,
        created_at=NOW,
    )


def context(**subscribers: SubscriberStatus) -> dispatch.Context:
    return dispatch.Context(
        now=NOW,
        base_url="https://s",
        title="Mars",
        sender="l@s",
        secret="k",
        confirm_ttl=3600,
        email_enabled=True,
        team_enabled=False,
        subscribers={
            f"{name}@example.org": Subscriber(
                id=n, email=f"{name}@example.org", status=status, created_at=NOW
            )
            for n, (name, status) in enumerate(subscribers.items(), 1)
        },
        webhooks={},
        editions={3: EDITION},
        entries={3: [entry(5, "A")]},
    )


def test_rows_for_receivers_who_left_are_skipped() -> None:
    ctx = context(a=SubscriberStatus.CONFIRMED, b=SubscriberStatus.UNSUBSCRIBED)
    rows = [
        delivery(DeliveryChannel.EMAIL, "a@example.org"),
        delivery(DeliveryChannel.EMAIL, "b@example.org"),
        delivery(DeliveryChannel.CONFIRM, "a@example.org", None),
        delivery(DeliveryChannel.WEBHOOK, "9"),
        delivery(DeliveryChannel.APPRISE, "team"),
    ]
    jobs = dispatch.plan(rows, ctx, dispatch.new_cache())
    assert [j.skip for j in jobs] == [
        None,
        "subscriber unsubscribed",
        "subscriber confirmed",
        "webhook removed",
        "no team channel configured",
    ]


def test_outcomes_are_judged_sent_retried_or_dead() -> None:
    config = DeliveryConfig(max_attempts=3, retry_base=60)
    batch: list[worker.Outcome] = [
        (delivery(DeliveryChannel.WEBHOOK, "4"), None),
        (delivery(DeliveryChannel.EMAIL, "a"), DeliveryError("try later")),
        (delivery(DeliveryChannel.EMAIL, "b"), DeliveryError("no such user", permanent=True)),
    ]
    judged = worker.judge(batch, NOW, config, lambda: 0.0)
    assert (judged.sent, judged.failed, judged.dead) == (1, 1, 1)
    assert judged.webhooks == [(4, None)]
    assert judged.outcomes[0][1:3] == (DeliveryStatus.PENDING, NOW + timedelta(seconds=60))
    assert judged.outcomes[1][1] is DeliveryStatus.DEAD
