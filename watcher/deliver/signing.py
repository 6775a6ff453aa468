"""Signed links for subscribers and signatures for webhooks: pure, ``now`` passed in.

Why signed rather than stored tokens: a confirmation or unsubscribe link then needs no
table of its own, survives retries unchanged, and cannot be guessed or altered (HMAC-SHA256
with the site's secret key). The address is inside the MAC, so a link never works for a
different address, even if a subscriber id is ever reused.

- Confirmation: ``c<id>.<issued unix time>.<mac>``, valid for ``confirm_ttl`` after issue.
- Unsubscribe: ``u<id>.<mac>``, never expires (RFC 8058 one-click links must keep working).
- Webhooks: ``X-Watcher-Signature: t=<unix ts>,v1=<hex HMAC-SHA256(secret, "<ts>.<body>")>``;
  the timestamp lets receivers refuse replays (``verify_webhook`` checks it).

These formats are in mails already sent and in receivers' code: never change them (a test
holds tokens made by the first version). This is the one place watcher signs anything;
the editors' session, setup and API tokens are random secrets kept only as hashes
(``accounts.passwords``) because they must be revocable or used once, which a signature
alone cannot be.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from watcher.limits import MAX_LINK_TOKEN

WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105 (a label, not a secret)
_TOKEN = re.compile(
    r"(?P<kind>[cu])(?P<id>\d{1,18})(?:\.(?P<issued>\d{1,12}))?\.(?P<mac>[\w-]{43})"
)
_SIGNATURE = re.compile(r"t=(?P<t>\d{1,12}),v1=(?P<v1>[0-9a-f]{64})")


@dataclass(frozen=True, slots=True)
class LinkToken:
    """A parsed (not yet verified) confirmation or unsubscribe token."""

    kind: str  # "confirm" | "unsubscribe"
    subscriber_id: int
    issued: int | None
    mac: str


def _mac(secret: str, *parts: object) -> str:
    message = "\n".join(str(part) for part in parts).encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def confirm_token(secret: str, subscriber_id: int, address: str, issued: datetime) -> str:
    stamp = int(issued.timestamp())
    mac = _mac(secret, "watcher-confirm", subscriber_id, address, stamp)
    return f"c{subscriber_id}.{stamp}.{mac}"


def unsubscribe_token(secret: str, subscriber_id: int, address: str) -> str:
    return f"u{subscriber_id}.{_mac(secret, 'watcher-unsubscribe', subscriber_id, address)}"


def parse_token(token: str) -> LinkToken | None:
    """The token's parts, or None when it is not shaped like one of ours."""
    match = _TOKEN.fullmatch(token.strip()) if len(token) < MAX_LINK_TOKEN else None
    if match is None:
        return None
    kind = "confirm" if match["kind"] == "c" else "unsubscribe"
    issued = match["issued"]
    if (kind == "confirm") != (issued is not None):
        return None
    return LinkToken(kind, int(match["id"]), int(issued) if issued else None, match["mac"])


def token_matches(secret: str, token: LinkToken, address: str) -> bool:
    """True when ``token`` was signed with ``secret`` for this subscriber and address."""
    if token.kind == "confirm":
        expected = _mac(secret, "watcher-confirm", token.subscriber_id, address, token.issued)
    else:
        expected = _mac(secret, "watcher-unsubscribe", token.subscriber_id, address)
    return hmac.compare_digest(expected, token.mac)


def token_expired(token: LinkToken, now: datetime, ttl: float) -> bool:
    return token.issued is not None and now.timestamp() > token.issued + ttl


def issued_at(token: LinkToken) -> datetime | None:
    return datetime.fromtimestamp(token.issued, UTC) if token.issued is not None else None


def new_webhook_secret() -> str:
    return WEBHOOK_SECRET_PREFIX + secrets.token_urlsafe(32)


def webhook_signature(secret: str, body: bytes, timestamp: int) -> str:
    """The ``X-Watcher-Signature`` value for ``body`` sent at ``timestamp`` (unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_webhook(
    secret: str, body: bytes, header: str, now: datetime, tolerance: float = 300.0
) -> bool:
    """What a receiver does: recompute the MAC and refuse stale timestamps (replays)."""
    match = _SIGNATURE.fullmatch(header.strip())
    if match is None:
        return False
    timestamp = int(match["t"])
    if abs(now.timestamp() - timestamp) > tolerance:
        return False
    expected = webhook_signature(secret, body, timestamp)
    return hmac.compare_digest(expected, header.strip())
