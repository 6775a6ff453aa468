"""Edition mails stamped from a flattened template must be the same mails, to a reader,
as the ones built the general way (``EditionMail.message``): same headers, same text and
HTML, every line within the limits; and whatever a template cannot carry verbatim falls
back to the general way."""

from __future__ import annotations

import email as stdlib_email
import email.policy
from dataclasses import replace
from email.message import EmailMessage

import pytest
from markupsafe import escape

from tests.test_deliver_rules import EDITION, NOW, context, delivery, entry
from watcher.deliver import dispatch
from watcher.deliver.channels import email as mail
from watcher.types import DeliveryChannel, SubscriberStatus

HEADERS = (
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "Auto-Submitted",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
)
LINK = "https://mars.example.org/unsubscribe?token=u12.AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcde"


def parse(data: bytes) -> EmailMessage:
    parsed = stdlib_email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def body(message: EmailMessage, kind: str) -> str:
    part = message.get_body(preferencelist=(kind,))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("title", "heading", "sender", "link"),
    [
        ("Mars", "Dust <devil>", "list@s", "https://s/unsubscribe?token=u1.x"),
        (
            "Mars Wätch \u2013 Jezero",
            "Tourbillon à Jézero \u2013 sol 1001 " * 4,
            "Mars Wätch <list@s>",
            LINK,
        ),
        ("Mars", "A & B", "list@s", LINK + "&utm=a=b" + "x" * 200),
    ],
)
def test_a_stamped_mail_reads_exactly_like_the_general_one(
    title: str, heading: str, sender: str, link: str
) -> None:
    rendered = mail.render_edition(EDITION, [entry(5, heading)], title=title, base_url="https://s")
    template = mail.MailTemplate.build(rendered, sender=sender, base_url="https://s")
    assert template is not None
    stamped = template.stamp(
        key="e3-email-s1", recipient="a@example.org", unsubscribe=link, now=NOW
    )
    assert stamped is not None
    assert (stamped.sender, stamped.recipient) == ("list@s", "a@example.org")
    general = rendered.message(
        key="e3-email-s1", sender=sender, recipient="a@example.org", base_url="https://s",
        unsubscribe=link, now=NOW,
    )  # fmt: skip
    fast, slow = parse(stamped.data), parse(general.as_bytes())
    for name in HEADERS:
        assert str(fast[name]) == str(slow[name]), name
    assert fast["Message-ID"] == "<e3-email-s1@s>"
    assert fast["List-Unsubscribe"] == f"<{link}>"
    assert fast.get_content_type() == "multipart/alternative"
    for kind in ("plain", "html"):
        assert body(fast, kind) == body(slow, kind)
    assert link in body(fast, "plain")
    assert f'href="{link.replace("&", "&amp;")}"' in body(fast, "html")
    assert str(escape(heading)) in body(fast, "html")
    assert heading in body(fast, "plain")
    assert not fast.defects and all(not part.defects for part in fast.walk())
    assert stamped.data.isascii() and b"\n" not in stamped.data.replace(b"\r\n", b"")
    lines = stamped.data.split(b"\r\n")
    head, _, rest = stamped.data.partition(b"\r\n\r\n")
    assert max(len(line) for line in head.split(b"\r\n")) <= 998
    assert max(len(line) for line in rest.split(b"\r\n")) <= 76, [
        line for line in lines if len(line) > 76
    ]


def test_each_recipient_gets_their_own_key_and_link() -> None:
    rendered = mail.render_edition(EDITION, [entry(5, "A")], title="Mars", base_url="https://s")
    template = mail.MailTemplate.build(rendered, sender="list@s", base_url="https://s")
    assert template is not None
    first, second = (
        template.stamp(
            key=f"e3-email-s{n}", recipient=f"r{n}@example.org", unsubscribe=f"{LINK}{n}", now=NOW
        )
        for n in (1, 2)
    )
    assert first is not None and second is not None
    one, two = parse(first.data), parse(second.data)
    assert (one["To"], two["To"]) == ("r1@example.org", "r2@example.org")
    assert (one["Message-ID"], two["Message-ID"]) == ("<e3-email-s1@s>", "<e3-email-s2@s>")
    assert f"{LINK}1" in body(one, "plain") and f"{LINK}2" not in body(one, "plain")
    assert f"{LINK}2" in body(two, "html") and f"{LINK}1" not in body(two, "html")


@pytest.mark.parametrize(
    ("recipient", "key", "link"),
    [
        ("a@bücher.example", "e3-email-s1", LINK),  # needs SMTPUTF8: send_message asks
        ("a@example.org", "e3 email", LINK),
        ("a@example.org", "e3-email-s1", LINK + "\r\nBcc: x@example.org"),
        ("a@example.org", "e3-email-s1", LINK + "x" * 1000),
    ],
)
def test_values_a_header_cannot_carry_verbatim_are_not_stamped(
    recipient: str, key: str, link: str
) -> None:
    rendered = mail.render_edition(EDITION, [entry(5, "A")], title="Mars", base_url="https://s")
    template = mail.MailTemplate.build(rendered, sender="list@s", base_url="https://s")
    assert template is not None
    assert template.stamp(key=key, recipient=recipient, unsubscribe=link, now=NOW) is None


def test_a_sender_the_envelope_cannot_carry_gets_no_template() -> None:
    rendered = mail.render_edition(EDITION, [entry(5, "A")], title="Mars", base_url="https://s")
    assert (
        mail.MailTemplate.build(rendered, sender="list@bücher.example", base_url="https://s")
        is None
    )


def test_dispatch_stamps_from_one_template_per_edition_and_falls_back_when_it_must() -> None:
    ctx = context(a=SubscriberStatus.CONFIRMED, b=SubscriberStatus.CONFIRMED)
    cache = dispatch.new_cache()
    rows = [
        delivery(DeliveryChannel.EMAIL, "a@example.org"),
        delivery(DeliveryChannel.EMAIL, "b@example.org"),
    ]
    jobs = dispatch.plan(rows, ctx, cache)
    assert all(isinstance(job.payload, mail.OutgoingMail) for job in jobs)
    assert list(cache.templates) == [(3, "l@s", "https://s")]
    assert [parse(job.payload.data)["To"] for job in jobs] == ["a@example.org", "b@example.org"]  # type: ignore[attr-defined]

    idn = replace(ctx.subscribers["a@example.org"], email="a@bücher.example")
    ctx = replace(ctx, subscribers={idn.email: idn})
    [job] = dispatch.plan([delivery(DeliveryChannel.EMAIL, "a@bücher.example")], ctx, cache)
    assert isinstance(job.payload, EmailMessage)
    assert job.payload["Message-ID"] == "<k@s>"
