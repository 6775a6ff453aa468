"""Forwarded headers believed only from ``[server] trusted_proxies``: through the real
server (uvicorn over loopback, as ``watcher run`` serves), a client cannot escape the
per-address sign-in limit by naming a new address in ``X-Forwarded-For`` or ``Forwarded``,
while a configured proxy's word is taken; and the rules that read the hops, on their own."""

from __future__ import annotations

import re
from collections.abc import Iterator
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from watcher.core import make_watcher
from watcher.types import Role, TokenScope
from watcher.web.proxies import address_of, client_behind, scheme_behind

from .conftest import PASSWORD, Clock, ServiceThread, WebApp, build_settings, free_port, run

pytestmark = pytest.mark.timeout(90)

MAX_FAILURES = 3


class Server:
    """``watcher run``'s web server on a free loopback port, with an editor (alice)."""

    def __init__(self, tmp_path: Path, clock: Clock, proxies: list[str]):
        port = free_port()
        settings = build_settings(
            tmp_path,
            f"sqlite:///{tmp_path / 'watcher.db'}",
            server={"port": port, "trusted_proxies": proxies},
            editor={"login_max_failures": MAX_FAILURES},
        )
        self.watcher = make_watcher(settings, clock=clock, rand=lambda: 0.0)
        self.watcher.prepare_database()
        self.watcher.add_editor("alice", PASSWORD, Role.EDITOR)
        self.url = f"http://127.0.0.1:{port}"
        self.thread = ServiceThread(self.watcher)

    def sign_in(self, name: str, password: str, headers: dict[str, str]) -> httpx.Response:
        """A browser's sign-in, sending ``headers`` with both of its requests."""
        with httpx.Client(base_url=self.url, headers=headers, timeout=10) as client:
            form = client.get("/editor/login")
            token = re.search(r'name="form_token" value="([^"]+)"', form.text)
            assert token, form.text
            data = {"name": name, "password": password, "form_token": token.group(1)}
            return client.post("/editor/login", data=data)

    def locked(self, address: str) -> bool:
        key = f"client:{address}"
        throttle = self.watcher.store.throttles([key]).get(key)
        return throttle is not None and throttle.locked_until is not None


@pytest.fixture
def serve(tmp_path: Path, clock: Clock) -> Iterator[Any]:
    started: list[Server] = []

    def start(proxies: list[str]) -> Server:
        server = Server(tmp_path / str(len(started)), clock, proxies)
        started.append(server)
        return server

    yield start
    for server in started:
        server.thread.stop()


def spoofed(i: int) -> dict[str, str]:
    """Headers a client forges to look like a new address at each try."""
    return {
        "X-Forwarded-For": f"198.51.100.{i}",
        "Forwarded": f"for=198.51.100.{i}",
        "X-Real-IP": f"198.51.100.{i}",
    }


def test_a_client_cannot_escape_the_sign_in_limit_by_forging_forwarded_headers(
    serve: Any,
) -> None:
    server = serve([])  # the default: no proxy is trusted, loopback included
    for i in range(MAX_FAILURES):
        failed = server.sign_in(f"nobody{i}", "wrong guess!", spoofed(i))
        assert failed.status_code == 401, failed.text
    locked = server.sign_in("alice", PASSWORD, spoofed(99))
    assert locked.status_code == 429, locked.text
    assert "Too many failed sign-ins" in locked.text
    assert server.locked("127.0.0.1")
    assert not any(server.locked(f"198.51.100.{i}") for i in (0, 1, 2, 99))


def test_a_configured_proxy_names_the_client(serve: Any) -> None:
    server = serve(["127.0.0.0/8", "10.0.0.0/8"])
    # Behind two proxies (10.0.0.9 forwarded to 127.0.0.1); what the client claimed first
    # is left of them and is not believed.
    chain = {"X-Forwarded-For": "192.0.2.1, 203.0.113.7, 10.0.0.9"}
    for i in range(MAX_FAILURES):
        assert server.sign_in(f"nobody{i}", "wrong guess!", chain).status_code == 401
    assert server.sign_in("alice", PASSWORD, chain).status_code == 429
    assert server.locked("203.0.113.7")
    assert not server.locked("192.0.2.1") and not server.locked("127.0.0.1")
    # Another client behind the same proxy, and the proxy itself, are not locked out.
    other = server.sign_in("alice", PASSWORD, {"X-Forwarded-For": "203.0.113.8"})
    assert other.status_code == 303, other.text
    assert server.sign_in("alice", PASSWORD, {}).status_code == 303


def test_only_a_trusted_peer_sets_the_scheme(tmp_path: Path, clock: Clock) -> None:
    """``X-Forwarded-Proto`` changes the URLs the app builds (a keyset page's ``next``)
    only when the peer is a trusted proxy."""
    settings = build_settings(
        tmp_path, f"sqlite:///{tmp_path / 'w.db'}", server={"trusted_proxies": ["10.0.0.0/8"]}
    )
    watcher = make_watcher(settings, clock=clock)
    watcher.prepare_database()
    web = WebApp(watcher)
    web.seed(2)
    _, secret = watcher.create_api_token("bot", TokenScope.READ)
    headers = {"Authorization": f"Bearer {secret}", "X-Forwarded-Proto": "https"}
    following = {}
    for peer in ("10.1.2.3", "192.0.2.50"):
        client = TestClient(web.app, base_url="http://watcher.test", client=(peer, 4711))
        following[peer] = client.get("/api/v1/candidates?limit=1", headers=headers).json()["next"]
    assert following["10.1.2.3"].startswith("https://watcher.test/api/v1/candidates?")
    assert following["192.0.2.50"].startswith("http://watcher.test/api/v1/candidates?")
    run(watcher.aclose())


@pytest.mark.parametrize(
    ("hops", "proxies", "client"),
    [
        (["203.0.113.7"], ["127.0.0.1"], "203.0.113.7"),
        (["192.0.2.1, 203.0.113.7"], ["127.0.0.1"], "203.0.113.7"),
        (["192.0.2.1", "203.0.113.7, 10.0.0.9"], ["127.0.0.1", "10.0.0.0/8"], "203.0.113.7"),
        (["10.0.0.8, 10.0.0.9"], ["127.0.0.1", "10.0.0.0/8"], "10.0.0.8"),
        (["[2001:db8::7]:4711"], ["127.0.0.1"], "2001:db8::7"),
        (["203.0.113.7:4711"], ["127.0.0.1"], "203.0.113.7"),
        (["::ffff:203.0.113.7"], ["127.0.0.1"], "203.0.113.7"),
        (["unknown"], ["127.0.0.1"], None),
        (["192.0.2.1, garbage"], ["127.0.0.1"], None),
        ([" , "], ["127.0.0.1"], None),
        ([], ["127.0.0.1"], None),
    ],
)
def test_the_client_is_the_rightmost_hop_no_trusted_proxy_wrote(
    hops: list[str], proxies: list[str], client: str | None
) -> None:
    networks = tuple(ip_network(p) for p in proxies)
    assert client_behind("127.0.0.1", hops, networks) == client
    assert client_behind("::ffff:127.0.0.1", hops, networks) == client
    assert client_behind("192.0.2.200", hops, networks) is None  # not a trusted peer
    assert client_behind("testclient", hops, networks) is None
    assert client_behind("127.0.0.1", hops, ()) is None


def test_the_scheme_is_the_nearest_trusted_proxys() -> None:
    local = (ip_network("127.0.0.1"),)
    assert scheme_behind("127.0.0.1", ["https"], local) == "https"
    assert scheme_behind("127.0.0.1", ["http, HTTPS"], local) == "https"
    assert scheme_behind("127.0.0.1", ["gopher"], local) is None
    assert scheme_behind("192.0.2.1", ["https"], local) is None
    assert scheme_behind("127.0.0.1", [], local) is None


def test_addresses_are_read_as_proxies_write_them() -> None:
    assert str(address_of(" 192.0.2.1 ")) == "192.0.2.1"
    assert str(address_of("[2001:db8::1]")) == "2001:db8::1"
    assert address_of("example.org") is None
    assert address_of("") is None
