"""Webhooks: the JSON body, the SSRF guard, and the channel that POSTs them.

The body is ``{"edition": {number, published_at, added, changed, removed}, "entries":
[the added and changed entries], "site": base_url}``; headers ``X-Watcher-Signature``
(``signing.webhook_signature`` over the send time and the body), ``X-Watcher-Delivery``
(the delivery key: the same on a resend) and ``X-Watcher-Event: edition``.

SSRF guard: a webhook URL is an admin's input, but it makes *the server* connect
somewhere, so it must not reach the machine's own or its network's private services.
``vet`` refuses non-http(s) URLs, credentials in the URL, and hosts any of whose
addresses is not globally routable (private, loopback, link-local — 169.254.169.254, the
cloud metadata service —, multicast, reserved; an IPv6 address that carries an IPv4 one
— IPv4-mapped, 6to4, NAT64 — is judged by the IPv4 address, and Teredo and IPv4-compatible
addresses never pass), unless ``allow_private``. It runs when a
webhook is registered *and* before every send, and the send connects to the very address
it vetted (``Fetcher.post(connect_to=...)``), so DNS cannot be rebound in between.

Answers: 2xx is delivered. 408, 425, 429 and 5xx, timeouts and connection failures are
retried with backoff (``Retry-After`` honoured). Other 4xx are permanent: the receiver
refused this request as such, and resending the same signed bytes will get the same answer;
a 3xx is permanent too (redirects are never followed: register the final URL). Every
failure counts towards the webhook's auto-disable.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import orjson

from watcher.config import WebhookConfig
from watcher.deliver import links
from watcher.deliver.signing import webhook_signature
from watcher.exceptions import DeliveryError, FetchError, HTTPStatusError, Refused
from watcher.fetch import Fetcher
from watcher.limits import MAX_WEBHOOK_URL
from watcher.types import Edition, PublishedEntry

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


# -- the body --------------------------------------------------------------------------


def _entry(entry: PublishedEntry, base_url: str) -> dict[str, Any]:
    return {
        "id": entry.id,
        "position": entry.position,
        "url": links.entry_url(base_url, entry.id),
        "heading": entry.heading,
        "body": entry.body,
        "alt_text": entry.alt_text,
        "credit": entry.credit,
        "mission": entry.mission,
        "camera": entry.camera,
        "sol": entry.sol,
        "mars_local_time": entry.mars_local_time,
        "taken_at": entry.taken_at,
        "nasa_page_url": entry.nasa_page_url,
        "images": [
            {
                "medium": frame.medium_url,
                "large": frame.large_url,
                "full": frame.full_url,
                "width": frame.width,
                "height": frame.height,
                "taken_at": frame.taken_at,
            }
            for frame in entry.frames
        ],
    }


def payload(edition: Edition, entries: Sequence[PublishedEntry], base_url: str) -> bytes:
    """The JSON body for ``edition``: the entries it added or changed, in list order."""
    wanted = set(edition.added) | set(edition.changed)
    return orjson.dumps(
        {
            "edition": {
                "number": edition.number,
                "published_at": edition.published_at,
                "added": list(edition.added),
                "changed": list(edition.changed),
                "removed": list(edition.removed),
            },
            "entries": [_entry(e, base_url) for e in entries if e.id in wanted],
            "site": base_url,
        },
        option=orjson.OPT_UTC_Z,
    )


# -- the guard --------------------------------------------------------------------------


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a webhook, judged on its text alone; None when it can."""
    if len(url) > MAX_WEBHOOK_URL:
        return f"keep it under {MAX_WEBHOOK_URL} characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "not a valid URL"
    if parts.scheme not in ("http", "https"):
        return "use an http:// or https:// URL"
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "leave credentials out of the URL (the signature authenticates us)"
    if not parts.hostname:
        return "the URL needs a host"
    if port == 0:
        return "not a valid port"
    if any(ord(c) < 33 for c in url) or "\\" in url:
        # A backslash is a slash to a browser and part of the host to Python: refused
        # rather than read one way here and another by whoever reads the URL next.
        return "the URL must not contain spaces, backslashes or control characters"
    return None


# IPv6 ranges that carry (or stand for) an IPv4 address. Which of them Python's
# ``is_global`` admits changes between Python versions (3.11 admits 6to4), so they are
# judged here: 6to4, IPv4-mapped and NAT64 (the well-known prefix) by the IPv4 address
# they embed; Teredo (its client address obfuscated), IPv4-compatible (deprecated since
# 2006) and the local-use NAT64 prefix (whatever its operator routes it to) never pass.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_REFUSED_V6 = (
    (ipaddress.IPv6Network("2001::/32"), "a Teredo address"),
    (ipaddress.IPv6Network("64:ff9b:1::/48"), "a local-use NAT64 address"),
    (ipaddress.IPv6Network("::/96"), "an IPv4-compatible address"),
)


def address_problem(address: IPAddress) -> str | None:
    """Why connecting to ``address`` is refused (not globally routable); None when fine."""
    if isinstance(address, ipaddress.IPv6Address):
        found = _embedded_ipv4(address)
        if found is not None:
            kind, embedded = found
            problem = address_problem(embedded)
            return f"{problem} ({embedded}) inside {kind}" if problem else None
        if not (address.is_loopback or address.is_unspecified):  # ::1 and :: are in ::/96
            for network, name in _REFUSED_V6:
                if address in network:
                    return name
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private:
        return "a private address"
    if address.is_reserved or address.is_unspecified or not address.is_global:
        return "a reserved address"
    return None


def _embedded_ipv4(
    address: ipaddress.IPv6Address,
) -> tuple[str, ipaddress.IPv4Address] | None:
    """The kind and the IPv4 address an IPv4-mapped, 6to4 or NAT64 address reaches."""
    if address.ipv4_mapped is not None:
        return "an IPv4-mapped address", address.ipv4_mapped
    if address.sixtofour is not None:
        return "a 6to4 address", address.sixtofour
    if address in _NAT64:
        return "a NAT64 address", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


async def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (an IP literal: itself)."""
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def resolve_blocking(host: str, port: int) -> list[str]:
    """``resolve`` for callers outside an event loop (registering a webhook)."""
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _host_port(url: str) -> tuple[str, int]:
    problem = url_problem(url)
    if problem:
        raise Refused(problem)
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


async def vet(url: str, *, allow_private: bool) -> str:
    """The address to connect to for ``url``, after the guard's checks.

    Raises ``Refused`` (the reason) or ``OSError`` when the host does not resolve. Every
    address of the host must pass, not just the first: a name resolving to one public
    and one private address is refused.
    """
    host, port = _host_port(url)
    return vet_addresses(host, await resolve(host, port), allow_private=allow_private)


def vet_blocking(url: str, *, allow_private: bool) -> str:
    """``vet`` outside an event loop."""
    host, port = _host_port(url)
    return vet_addresses(host, resolve_blocking(host, port), allow_private=allow_private)


def vet_addresses(host: str, addresses: Sequence[str], *, allow_private: bool) -> str:
    """The first of ``addresses`` when all of them pass the guard; else ``Refused``."""
    if not addresses:
        raise OSError(f"{host} has no address")
    if not allow_private:
        for text in addresses:
            reason = address_problem(ipaddress.ip_address(text.split("%")[0]))
            if reason:
                raise Refused(
                    f"{host} resolves to {text}, {reason}; "
                    "only public addresses are allowed (see webhooks.allow_private)"
                )
    return addresses[0]


# -- sending -----------------------------------------------------------------------------


def http_failure(exc: FetchError) -> DeliveryError:
    """The outbox's view of a failed POST (see the module docstring)."""
    if isinstance(exc, HTTPStatusError):
        return DeliveryError(str(exc), permanent=exc.permanent, retry_after=exc.retry_after)
    return DeliveryError(str(exc), retry_after=exc.retry_after)


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    url: str
    secret: str
    body: bytes


class WebhookChannel:
    """POSTs signed bodies through the shared ``Fetcher``, each within ``config.timeout``."""

    def __init__(self, fetcher: Fetcher, config: WebhookConfig, clock: Callable[[], datetime]):
        self.fetcher = fetcher
        self.config = config
        self.clock = clock

    async def send(self, key: str, payload: WebhookRequest) -> None:
        try:
            async with asyncio.timeout(self.config.timeout):
                address = await vet(payload.url, allow_private=self.config.allow_private)
        except Refused as exc:
            raise DeliveryError(f"refused: {exc}", permanent=True) from exc
        except (OSError, TimeoutError) as exc:
            raise DeliveryError(f"cannot resolve the host: {exc or 'timed out'}") from exc
        timestamp = int(self.clock().timestamp())
        headers = {
            "Content-Type": "application/json",
            "X-Watcher-Signature": webhook_signature(payload.secret, payload.body, timestamp),
            "X-Watcher-Delivery": key,
            "X-Watcher-Event": "edition",
        }
        try:
            await self.fetcher.post(
                payload.url,
                payload.body,
                headers,
                time_limit=self.config.timeout,
                connect_to=address,
            )
        except FetchError as exc:
            raise http_failure(exc) from exc

    async def aclose(self) -> None:
        """Nothing of its own: connections belong to the shared Fetcher."""
