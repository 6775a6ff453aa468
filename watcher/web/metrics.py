"""``GET /metrics``: the Watcher's metrics (``watcher.metrics``) for Prometheus.

The figures tell an outsider how busy the editors are, how the sources fare and how
many subscribers there are, so only loopback and the addresses in ``[server]
metrics_allow`` may read them, unless ``[server] metrics_public`` opens them to all.
Everyone else gets the 404 of a path that does not exist: nothing says the page is there.
The address judged is ``request.client``: the one that connected, or behind proxies in
``[server] trusted_proxies`` the client they name (``watcher.web.proxies``).

A reverse proxy on the same host connects from loopback on behalf of anyone on the
internet, so a request carrying a proxy's forwarding header is never let in for being from
loopback: only ``metrics_allow`` (or ``metrics_public``) opens the page to it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from watcher.web.auth import client_address, watcher_of

router = APIRouter(include_in_schema=False)
# Headers a proxy adds to say whom it relays: their presence is what counts, not their value.
FORWARDING_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")


def may_read_metrics(
    client: str | None,
    allowed: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network],
    *,
    public: bool = False,
    forwarded: bool = False,
) -> bool:
    """Whether ``client`` (an address as the server saw it) may read ``/metrics``: anyone
    when ``public``, else members of ``allowed``, and loopback unless the request was
    ``forwarded`` by a proxy. An IPv4 client reached over an IPv6 socket
    (``::ffff:10.0.0.7``) is judged by its IPv4 address; a client that is no IP address (a
    Unix socket, a test client's name) is refused."""
    if public:
        return True
    if not client:
        return False
    try:
        address = ipaddress.ip_address(client.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback and not forwarded:
        return True
    return any(address in network for network in allowed)


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Prometheus's text format (OpenMetrics when the scraper asks for it). A plain
    ``def``: the database figures are read in a worker thread."""
    watcher = watcher_of(request)
    settings = watcher.settings
    if not may_read_metrics(
        client_address(request),
        settings.metrics_allow,
        public=settings.metrics_public,
        forwarded=any(name in request.headers for name in FORWARDING_HEADERS),
    ):
        raise HTTPException(status_code=404)
    body, content_type = watcher.metrics_exposition(request.headers.get("accept"))
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})
