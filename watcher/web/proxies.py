"""Who a request comes from, when reverse proxies stand in front of watcher.

A proxy names the client it serves in ``X-Forwarded-For`` and the scheme it was reached by
in ``X-Forwarded-Proto``. Anyone can send those headers, so they are believed only from a
peer in ``[server] trusted_proxies`` (nobody by default): otherwise a client could name a
new address at each try and never meet the per-address limits of sign-in and sign-up.
uvicorn's own reading of them, which trusts 127.0.0.1 unless told otherwise, is switched
off (``watcher.service``), so this middleware is the one reader, whichever server runs the
app, and tests see what production does.

``Forwarded`` (RFC 7239) is never read: a proxy that writes X-Forwarded-For passes a
client's own ``Forwarded`` through untouched, so believing it would reopen the hole.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from starlette.types import ASGIApp, Receive, Scope, Send

Network = IPv4Network | IPv6Network
Address = IPv4Address | IPv6Address
SCHEMES = frozenset({"http", "https"})


def address_of(text: str) -> Address | None:
    """An address as a proxy writes a hop (``192.0.2.7``, ``2001:db8::7``, with or without
    a port: ``192.0.2.7:4711``, ``[2001:db8::7]:4711``), an IPv4-mapped IPv6 address as the
    IPv4 one it stands for; None for anything else (``unknown``, a name, garbage)."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        found = ip_address(text)
    except ValueError:
        return None
    if isinstance(found, IPv6Address) and found.ipv4_mapped is not None:
        return found.ipv4_mapped
    return found


def trusted(address: Address | None, proxies: tuple[Network, ...]) -> bool:
    return address is not None and any(address in network for network in proxies)


def client_behind(
    peer: str | None, forwarded_for: list[str], proxies: tuple[Network, ...]
) -> str | None:
    """The client's address as the trusted proxies in front of watcher saw it, or None to
    keep the peer's own: the peer is no trusted proxy, or it forwarded nothing usable.

    Each proxy appends the address it was reached from, so the hops are read from the right:
    the first address that is no trusted proxy's is the client (what stands left of it is
    only what the client claims); when every hop is a trusted proxy, the leftmost."""
    if not trusted(address_of(peer or ""), proxies):
        return None
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    if not hops:
        return None
    for hop in reversed(hops):
        address = address_of(hop)
        if address is None:
            return None  # no proxy writes this: believe none of it
        if not trusted(address, proxies):
            return str(address)
    return str(address_of(hops[0]))


def scheme_behind(
    peer: str | None, forwarded_proto: list[str], proxies: tuple[Network, ...]
) -> str | None:
    """The scheme the nearest trusted proxy says it was reached by, or None to keep the
    connection's own."""
    if not forwarded_proto or not trusted(address_of(peer or ""), proxies):
        return None
    said = forwarded_proto[-1].split(",")[-1].strip().lower()
    return said if said in SCHEMES else None


def behind_proxies(scope: Scope, proxies: tuple[Network, ...]) -> Scope:
    """``scope`` with its client and scheme as the trusted proxies say (unchanged when the
    peer is none of them)."""
    peer = scope.get("client")
    host = peer[0] if peer else None
    headers: dict[bytes, list[str]] = {}
    for name, value in scope.get("headers", ()):
        if name in (b"x-forwarded-for", b"x-forwarded-proto"):
            headers.setdefault(name, []).append(value.decode("latin-1"))
    client = client_behind(host, headers.get(b"x-forwarded-for", []), proxies)
    scheme = scheme_behind(host, headers.get(b"x-forwarded-proto", []), proxies)
    changed = dict(scope)
    if client is not None:
        changed["client"] = (client, 0)
    if scheme is not None and scope["type"] == "http":
        changed["scheme"] = scheme
    return changed if client is not None or scheme is not None else scope


class TrustedProxies:
    """ASGI middleware: every request's client (and scheme) as ``behind_proxies`` says."""

    def __init__(self, app: ASGIApp, proxies: tuple[Network, ...]) -> None:
        self.app = app
        self.proxies = proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.proxies and scope["type"] in ("http", "websocket"):
            scope = behind_proxies(scope, self.proxies)
        await self.app(scope, receive, send)


__all__ = ["TrustedProxies", "address_of", "behind_proxies", "client_behind", "scheme_behind"]
