"""Subscribers' mail, built here and nowhere else; pure (``now`` passed in).

An edition's mail is rendered once (HTML and plain text, from ``templates/email`` or the
operator's copy of it in ``templates_dir``) and then stamped per recipient with their
unsubscribe link, so 10,000 mails cost one rendering. Images are linked, never attached:
a mail stays small and the pictures come from NASA's servers at full quality.

Stamping works on bytes, not on ``EmailMessage``s. Building and flattening one
``EmailMessage`` per recipient costs about 3 ms in the header registry and generator,
which alone caps a worker near 150 mails/s; so ``MailTemplate`` flattens the edition's
message once (the stdlib still does every encoding: RFC 2047 subjects, quoted-printable
UTF-8 bodies, the multipart boundary) with a placeholder where the unsubscribe link goes,
and ``MailTemplate.stamp`` joins the pieces with one recipient's To, Date, Message-ID,
``List-Unsubscribe`` lines and quoted-printable link: some microseconds per mail. The
link is encoded on lines of its own between soft line breaks (``=`` CRLF), so it may sit
anywhere in a line and no body line exceeds 76 characters. Values that the hand-written
header lines cannot carry verbatim (a non-ASCII address, a control character) get no
template: ``EditionMail.message`` builds those mails the slow, general way.

Every mail carries its delivery key as ``Message-ID: <key@host-of-base_url>``: a resend
after a crash has the same Message-ID, so a mail client (or the subscriber) can recognise
the duplicate. Edition mails carry RFC 2369 ``List-Unsubscribe`` with the https link and
RFC 8058 ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``, and the link in the body.
"""

from __future__ import annotations

import binascii
import html
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from watcher.deliver import links
from watcher.exceptions import AddressProblem
from watcher.limits import MAX_ADDRESS
from watcher.markup import plain_text, render_markdown
from watcher.pictures import shown_credit, still
from watcher.template_dirs import search_path
from watcher.types import Edition, PublishedEntry

MAX_LOCAL = 64
_MARK = "\x00unsubscribe\x00"
# Plain letters and digits: quoted-printable leaves them as they are, so the placeholder
# is found verbatim in the flattened template (``MailTemplate.build`` checks that it is).
_SLOT_PREFIX = "WatcherUnsubscribeSlot"
# CRLF line ends; lines of at most 76 characters, the quoted-printable limit of RFC 2045
# (the stdlib's default of 78 is the header limit, which the body encoder reuses).
_POLICY = SMTP.clone(max_line_length=76)
MAX_HEADER_VALUE = 900  # RFC 5322: lines of at most 998 characters
# The mail's column (640 px less its padding): pictures are laid out no wider, so clients
# that ignore max-width (Outlook) do not overflow it either.
MAIL_WIDTH = 608
_HEADER_VALUE = re.compile(r"[!-~]+")  # printable ASCII, no space: safe unfolded
_ADDR_SPEC = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+")
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


def normalise_address(text: str) -> str:
    """The address with surrounding space trimmed and its domain in lower case (the local
    part is case-sensitive by the RFC, so it is kept as typed)."""
    address = text.strip()
    if not address:
        raise AddressProblem("enter your email address")
    if len(address) > MAX_ADDRESS:
        raise AddressProblem(f"an email address has at most {MAX_ADDRESS} characters")
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise AddressProblem("an email address looks like name@example.org")
    if len(local) > MAX_LOCAL or not _LOCAL.fullmatch(local):
        raise AddressProblem("the part before @ has characters an address cannot have")
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise AddressProblem("the part before @ cannot start or end with a dot, or repeat one")
    try:
        ascii_domain = domain.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise AddressProblem("the part after @ is not a valid domain name") from exc
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise AddressProblem("the part after @ is not a domain name (like example.org)")
    if labels[-1].isdigit():
        raise AddressProblem("the part after @ must be a domain name, not an address")
    return f"{local}@{domain.rstrip('.').lower()}"


def message_id(key: str, base_url: str) -> str:
    return f"<{key}@{urlsplit(base_url).hostname or 'localhost'}>"


@lru_cache(maxsize=4)
def _environment(templates_dir: Path | None) -> Environment:
    return Environment(
        loader=FileSystemLoader(search_path(templates_dir, "email")),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        keep_trailing_newline=True,
    )


def _render(name: str, templates_dir: Path | None, **context: Any) -> str:
    return _environment(templates_dir).get_template(name).render(**context)


@dataclass(frozen=True, slots=True)
class EditionMail:
    """An edition's mail rendered once; ``message()`` makes one recipient's copy."""

    subject: str
    html: str
    text: str

    def message(
        self,
        *,
        key: str,
        sender: str,
        recipient: str,
        base_url: str,
        unsubscribe: str,
        now: datetime,
    ) -> EmailMessage:
        msg = _message(key, sender, recipient, self.subject, base_url, now)
        msg["List-Unsubscribe"] = f"<{unsubscribe}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        msg.set_content(self.text.replace(_MARK, unsubscribe), cte="quoted-printable")
        msg.add_alternative(
            self.html.replace(_MARK, html.escape(unsubscribe)),
            subtype="html",
            cte="quoted-printable",
        )
        return msg


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    """A message ready for SMTP: its envelope and its exact bytes (CRLF line ends)."""

    sender: str
    recipient: str
    data: bytes


def _verbatim(value: str) -> bool:
    """Whether ``value`` can be written as a header value as it is: printable ASCII,
    no space or line break, well below the line-length limit."""
    return len(value) <= MAX_HEADER_VALUE and _HEADER_VALUE.fullmatch(value) is not None


def _qp_own_lines(value: str) -> bytes:
    """``value`` quoted-printable on lines of its own: a soft break before and after, so
    it decodes to exactly ``value`` wherever the placeholder stood in its line."""
    encoded = binascii.b2a_qp(value.encode("utf-8")).replace(b"=\n", b"=\r\n")
    return b"=\r\n" + encoded + b"=\r\n"


@dataclass(frozen=True, slots=True)
class MailTemplate:
    """An edition's mail for one sender, flattened once; ``stamp`` makes a recipient's.

    ``pieces`` are the flattened message (constant headers, then both parts) cut where
    the unsubscribe link goes; ``in_html[i]`` says whether cut ``i`` is in the HTML part
    (the link is HTML-escaped there) or in the plain text.
    """

    envelope_from: str
    host: str
    pieces: tuple[bytes, ...]
    in_html: tuple[bool, ...]

    @classmethod
    def build(cls, mail: EditionMail, *, sender: str, base_url: str) -> MailTemplate | None:
        """None when a fixed part cannot be stamped safely (then use ``mail.message``)."""
        host = urlsplit(base_url).hostname or "localhost"
        slot = f"{_SLOT_PREFIX}{secrets.token_hex(8)}"
        if not _verbatim(host) or slot in mail.text or slot in mail.html:
            return None
        msg = EmailMessage(policy=_POLICY)
        msg["From"] = sender
        msg["Subject"] = mail.subject
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(mail.text.replace(_MARK, slot), cte="quoted-printable")
        msg.add_alternative(mail.html.replace(_MARK, slot), subtype="html", cte="quoted-printable")
        addresses = msg["From"].addresses
        envelope_from = addresses[0].addr_spec if addresses else ""
        if not envelope_from.isascii() or not _verbatim(envelope_from):
            return None
        pieces = tuple(msg.as_bytes().split(slot.encode("ascii")))
        in_text, in_html = mail.text.count(_MARK), mail.html.count(_MARK)
        if len(pieces) != in_text + in_html + 1:
            return None  # the encoder cut a placeholder: stamping would miss it
        return cls(envelope_from, host, pieces, (False,) * in_text + (True,) * in_html)

    def stamp(
        self, *, key: str, recipient: str, unsubscribe: str, now: datetime
    ) -> OutgoingMail | None:
        """One recipient's mail, or None when their values cannot be written verbatim
        (a non-ASCII address needs SMTPUTF8: ``EditionMail.message`` handles it)."""
        if (
            not _verbatim(key)
            or not _verbatim(unsubscribe)
            or len(recipient) > MAX_HEADER_VALUE
            or _ADDR_SPEC.fullmatch(recipient) is None
        ):
            return None
        head = (
            f"To: {recipient}\r\n"
            f"Date: {format_datetime(now)}\r\n"
            f"Message-ID: <{key}@{self.host}>\r\n"
            f"List-Unsubscribe: <{unsubscribe}>\r\n"
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
        ).encode("ascii")
        text_link = _qp_own_lines(unsubscribe)
        html_link = _qp_own_lines(html.escape(unsubscribe))
        parts = [head, self.pieces[0]]
        for in_html, piece in zip(self.in_html, self.pieces[1:], strict=True):
            parts.append(html_link if in_html else text_link)
            parts.append(piece)
        return OutgoingMail(self.envelope_from, recipient, b"".join(parts))


def subject_line(title: str, added: int) -> str:
    return f"{title}: {added} new image{'s' if added != 1 else ''}"


def _item(entry: PublishedEntry, base_url: str) -> dict[str, Any]:
    shown = still(entry.frames[0], entry.rendition, MAIL_WIDTH) if entry.frames else None
    return {
        "heading": entry.heading,
        "link": links.entry_url(base_url, entry.id),
        "image": shown.src if shown else None,
        "full": shown.larger if shown else None,
        "alt": entry.alt_text or entry.heading,
        "width": shown.width if shown else None,
        "height": shown.height if shown else None,
        "credit": shown_credit(entry.credit),
        "body_html": render_markdown(entry.body),
        "body_text": plain_text(entry.body),
    }


def render_edition(
    edition: Edition,
    entries: Sequence[PublishedEntry],
    *,
    title: str,
    base_url: str,
    templates_dir: Path | None = None,
) -> EditionMail:
    """The mail for ``edition``: the entries it added, in list order (``templates_dir``: the
    operator's templates, looked in before the shipped ones)."""
    added = [entry for entry in entries if entry.id in set(edition.added)]
    subject = subject_line(title, len(added))
    day = edition.published_at
    when = f"{day.day} {day:%B %Y}"
    context = {
        "subject": subject,
        "title": title,
        "intro_line": f"Edition {edition.number}, {when}: "
        f"{len(added)} new image{'s' if len(added) != 1 else ''} on the list.",
        "items": [_item(entry, base_url) for entry in added],
        "site_url": links.site_url(base_url),
        "unsubscribe_url": _MARK,
    }
    return EditionMail(
        subject,
        _render("edition.html", templates_dir, **context),
        _render("edition.txt", templates_dir, **context),
    )


def confirmation_message(
    *,
    key: str,
    sender: str,
    recipient: str,
    title: str,
    base_url: str,
    confirm: str,
    ttl: float,
    now: datetime,
    templates_dir: Path | None = None,
) -> EmailMessage:
    """The double opt-in mail: one signed link that expires after ``ttl`` seconds."""
    hours = max(1, round(ttl / 3600))
    context = {
        "subject": f"Confirm your subscription to {title}",
        "title": title,
        "address": recipient,
        "confirm_url": confirm,
        "ttl": f"{hours // 24} days" if hours % 24 == 0 and hours > 24 else f"{hours} hours",
    }
    msg = _message(key, sender, recipient, str(context["subject"]), base_url, now)
    text = _render("confirm.txt", templates_dir, **context)
    page = _render("confirm.html", templates_dir, **context)
    msg.set_content(text, cte="quoted-printable")
    msg.add_alternative(page, subtype="html", cte="quoted-printable")
    return msg


def _message(
    key: str, sender: str, recipient: str, subject: str, base_url: str, now: datetime
) -> EmailMessage:
    msg = EmailMessage(policy=_POLICY)
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = subject
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id(key, base_url)
    msg["Auto-Submitted"] = "auto-generated"
    return msg
