"""The shipped front-end recipes, run for real: Debian's nginx with ``deploy/nginx.conf`` and
Debian's Caddy with ``deploy/Caddyfile``, each in front of ``watcher run`` (the service, on
a loopback port) and its published site.

Each server runs as its own process under this test's user, in a temporary prefix, on a
free loopback port; only the values the recipe's header names are replaced (site_dir,
watcher's port, the address to listen on). It serves the site's files itself (told apart
from watcher's answers by watcher's ``Server-Timing`` header, which it never adds), with
watcher's security headers, ETags and 304s, the new edition from the first request after
a publish swaps the symlink, and hands everything else to watcher, naming the reader in
``X-Forwarded-For``: behind it, sign-in limits count the reader's address.

Without the server (``make nginx`` / ``make caddy`` install them) the test says so and
skips; in CI (``WATCHER_REQUIRE_NGINX=1``, ``WATCHER_REQUIRE_CADDY=1``) that is a failure.
"""

from __future__ import annotations

import getpass
import grp
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from watcher.core import Watcher, make_watcher
from watcher.types import Actor, EntryDraft, Role, TokenScope

from .conftest import (
    PASSWORD,
    ROOT,
    ServiceThread,
    build_settings,
    eventually,
    free_port,
    seed_candidate,
)

pytestmark = pytest.mark.timeout(120)

NGINX_CONF = ROOT / "deploy" / "nginx.conf"
CADDYFILE = ROOT / "deploy" / "Caddyfile"
MIME_TYPES = Path("/etc/nginx/mime.types")  # Debian's, as its nginx.conf includes it
SERVERS = {"nginx": "WATCHER_REQUIRE_NGINX", "caddy": "WATCHER_REQUIRE_CADDY"}
# Readers on this host's other loopback addresses: the fronts connect to watcher from
# 127.0.0.1, so a reader there would look like the front itself.
READERS = {"nginx": ("127.0.0.6", "127.0.0.7"), "caddy": ("127.0.0.4", "127.0.0.5")}
MAX_FAILURES = 3
START_TIMEOUT_S = 20.0
ALICE = Actor("alice", Role.EDITOR)
SECURITY_HEADERS = (
    "content-security-policy",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
)
SITE_TYPES = {
    "/": "text/html; charset=utf-8",
    "/feed.atom": "application/atom+xml",
    "/feed.json": "application/json",
    "/site.css": "text/css; charset=utf-8",
    "/favicon.svg": "image/svg+xml",
}


# -- rendering the shipped files -------------------------------------------------------


def replaced(text: str, old: str, new: str, times: int = 1) -> str:
    """``text`` with ``old`` (outside comments) replaced; fails when the shipped file no
    longer holds it as often as its header says, so the test never runs a stale copy."""
    lines = text.splitlines(keepends=True)
    found = sum(line.count(old) for line in lines if not line.lstrip().startswith("#"))
    assert found == times, f"expected {old!r} {times} time(s) outside comments, found {found}"
    return "".join(
        line if line.lstrip().startswith("#") else line.replace(old, new) for line in lines
    )


def render_nginx(text: str, *, site: Path, app_port: int, port: int) -> str:
    """``deploy/nginx.conf`` pointed at this test's site, watcher and port."""
    text = replaced(text, "server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};")
    text = replaced(text, "listen 80;", f"listen 127.0.0.1:{port};")
    return replaced(text, "root /var/lib/watcher/var/site;", f"root {site};")


def nginx_main(prefix: Path, server_block: Path) -> str:
    """The main configuration around the server block, everything under ``prefix``: what
    /etc/nginx/nginx.conf gives an operator's copy (mime.types, the http context)."""
    temps = "\n".join(
        f"    {name}_temp_path {prefix / name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # Run as root (as in CI), nginx's workers would become ``nobody``, who cannot read
    # this test's private temporary directory: keep them this user.
    user = getpass.getuser()
    user_line = f"user {user} {grp.getgrgid(os.getgid()).gr_name};" if os.geteuid() == 0 else ""
    return f"""daemon off;
worker_processes 1;
{user_line}
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} warn;
events {{ worker_connections 64; }}
http {{
    include {MIME_TYPES};
    default_type application/octet-stream;
    access_log {prefix / "access.log"};
{temps}
    include {server_block};
}}
"""


def render_caddy(text: str, *, site: Path, app_port: int, port: int) -> str:
    """``deploy/Caddyfile`` pointed at this test's site, watcher and port, over plain HTTP
    on loopback only, without the admin endpoint (other tests may run beside it)."""
    text = replaced(text, "127.0.0.1:8000", f"127.0.0.1:{app_port}", times=3)
    text = replaced(text, "mars.example.org {", f"http://127.0.0.1:{port} {{\n\tbind 127.0.0.1")
    text = replaced(text, "root * /var/lib/watcher/var/site", f"root * {site}")
    return "{\n\tadmin off\n}\n\n" + text


# -- the running parts -----------------------------------------------------------------


@dataclass
class Live:
    """``watcher run`` on ``app``, its first edition published, and an API token."""

    app: str
    watcher: Watcher
    token: str


@dataclass
class Front:
    name: str
    base: str
    live: Live

    def get(
        self, path: str, *, source: str = "127.0.0.1", headers: dict[str, str] | None = None
    ) -> httpx.Response:
        with client(self.base, source) as http:
            return http.get(path, headers=headers)


def client(base: str, source: str = "127.0.0.1") -> httpx.Client:
    """An HTTP client whose connections come from ``source`` (any 127.0.0.0/8 address
    is this host's loopback), to be a reader other than the proxy's own address."""
    transport = httpx.HTTPTransport(local_address=source)
    return httpx.Client(base_url=base, transport=transport, timeout=10)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("watcher")
    port = free_port()
    settings = build_settings(
        tmp,
        f"sqlite:///{tmp / 'watcher.db'}",
        server={"host": "127.0.0.1", "port": port, "trusted_proxies": ["127.0.0.1"]},
        publish={"debounce": "0s", "title": "Mars, lately"},
        security={"image_hosts": ["nasa.gov", "*.nasa.gov"]},  # the recipes' policy
        editor={"login_max_failures": MAX_FAILURES},
        email={"enabled": True},  # the subscribe pages answer; nothing is ever sent
    )
    watcher = make_watcher(settings)
    watcher.prepare_database()
    watcher.add_editor("alice", PASSWORD, Role.EDITOR)
    _, token = watcher.create_api_token("front", TokenScope.WRITE)
    [first] = seed_candidate(watcher, "NRF_00001")
    watcher.approve([first], EntryDraft(heading="Dust devil over Jezero"), ALICE)
    running = ServiceThread(watcher)
    try:
        eventually(lambda: watcher.site_edition() == 1, "the first edition's files")
        yield Live(f"http://127.0.0.1:{port}", watcher, token)
    finally:
        running.stop()


def program(name: str) -> str:
    """The server's binary, or a skip saying why (a failure where it is required)."""
    found = shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/usr/bin") / name) if p.exists()),
        None,
    )
    if found is None or (name == "nginx" and not MIME_TYPES.exists()):
        reason = f"Debian's {name} is not installed here (run `make {name}` to install it)"
        if os.environ.get(SERVERS[name]):
            pytest.fail(f"the {name} test is required here: {reason}")
        print(f"skipping the {name} test: {reason}")
        pytest.skip(reason)
    return found


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            raise AssertionError(f"the server exited ({process.returncode}):\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                message = f"the server did not listen in time:\n{log.read_text()}"
                raise AssertionError(message) from None
            time.sleep(0.05)


def start(
    name: str, binary: str, live: Live, prefix: Path, port: int
) -> tuple[list[str], dict[str, str]]:
    """The command line (and environment) that runs ``name`` with the shipped file."""
    site = live.watcher.settings.site_dir
    app_port = int(live.app.rsplit(":", 1)[1])
    env = dict(os.environ)
    if name == "nginx":
        block = prefix / "watcher.conf"
        block.write_text(
            render_nginx(NGINX_CONF.read_text(), site=site, app_port=app_port, port=port)
        )
        main = prefix / "nginx.conf"
        main.write_text(nginx_main(prefix, block))
        command = [binary, "-p", str(prefix), "-c", str(main), "-e", str(prefix / "error.log")]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, checked.stderr
        return command, env
    config = prefix / "Caddyfile"
    config.write_text(render_caddy(CADDYFILE.read_text(), site=site, app_port=app_port, port=port))
    env.update(HOME=str(prefix), XDG_DATA_HOME=str(prefix / "data"), XDG_CONFIG_HOME=str(prefix))
    return [binary, "run", "--config", str(config), "--adapter", "caddyfile"], env


@pytest.fixture(scope="module", params=sorted(SERVERS))
def front(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Front]:
    name: str = request.param
    binary = program(name)  # before watcher starts: skipping costs nothing
    live: Live = request.getfixturevalue("live")
    prefix = tmp_path_factory.mktemp(name)
    port = free_port()
    command, env = start(name, binary, live, prefix, port)
    log = prefix / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, process, log)
        yield Front(name, f"http://127.0.0.1:{port}", live)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def site_bytes(live: Live, path: str) -> bytes:
    return (live.watcher.settings.site_dir / (path.lstrip("/") or "index.html")).read_bytes()


def served_by_watcher(response: httpx.Response) -> bool:
    return "server-timing" in response.headers


# -- the site's files, served by the front ---------------------------------------------


def test_pages_and_feeds_come_from_site_dir_with_their_types(front: Front) -> None:
    for path, content_type in SITE_TYPES.items():
        response = front.get(path, headers={"Accept-Encoding": "identity"})
        assert response.status_code == 200, (path, response.text)
        assert response.headers["content-type"] == content_type, path
        assert response.content == site_bytes(front.live, path), path
        assert not served_by_watcher(response), f"{path} went to watcher"
    page = front.get("/entries/1.html")  # the first entry's permalink
    assert page.status_code == 200 and "Dust devil over Jezero" in page.text
    assert not served_by_watcher(page)


def test_site_files_carry_the_headers_watcher_sends(front: Front) -> None:
    for path in SITE_TYPES:
        mine = front.get(path)
        with client(front.live.app) as direct:
            watchers = direct.get(path)
        assert not served_by_watcher(mine) and served_by_watcher(watchers)
        for name in (*SECURITY_HEADERS, "cache-control"):
            assert mine.headers.get_list(name) == watchers.headers.get_list(name), (path, name)
    assert "frame-ancestors 'none'" in mine.headers["content-security-policy"]


def test_a_conditional_request_gets_304_with_the_same_headers(front: Front) -> None:
    for encoding in ("identity", "gzip"):
        first = front.get("/", headers={"Accept-Encoding": encoding})
        etag, modified = first.headers["etag"], first.headers["last-modified"]
        again = front.get("/", headers={"Accept-Encoding": encoding, "If-None-Match": etag})
        assert again.status_code == 304 and again.content == b"", encoding
        for name in SECURITY_HEADERS:
            assert again.headers[name] == first.headers[name], (encoding, name)
        since = front.get("/", headers={"Accept-Encoding": encoding, "If-Modified-Since": modified})
        assert since.status_code == 304, encoding
    other = front.get("/", headers={"If-None-Match": '"not-this-one"'})
    assert other.status_code == 200


def test_text_is_compressed_for_those_who_ask(front: Front) -> None:
    for path in ("/", "/feed.atom", "/feed.json", "/site.css"):
        response = front.get(path, headers={"Accept-Encoding": "gzip"})
        assert response.headers.get("content-encoding") == "gzip", path
        assert "accept-encoding" in response.headers.get("vary", "").lower(), path
        assert response.content == site_bytes(front.live, path), path  # decoded by httpx


def test_animations_are_cached_for_a_year_other_files_a_minute(front: Front) -> None:
    # The publisher names an animation by the hash of its frames; one written beside the
    # served version's files stands in for it (making one needs frames from image hosts).
    folder = front.live.watcher.settings.site_dir / "animations"
    folder.mkdir(exist_ok=True)
    (folder / "0123456789abcdef0123456789abcdef.webp").write_bytes(b"RIFF\0\0\0\0WEBP")
    animation = front.get("/animations/0123456789abcdef0123456789abcdef.webp")
    assert animation.status_code == 200 and animation.headers["content-type"] == "image/webp"
    assert animation.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert animation.headers["x-content-type-options"] == "nosniff"
    assert front.get("/site.css").headers["cache-control"] == "public, max-age=60"
    missing = front.get("/animations/ffffffffffffffffffffffffffffffff.webp")
    assert missing.status_code == 404 and served_by_watcher(missing)


def test_a_new_edition_is_served_from_the_first_request_after_the_swap(front: Front) -> None:
    live = front.live
    before = live.watcher.site_edition()
    assert before is not None
    old = front.get("/")
    [candidate] = seed_candidate(live.watcher, f"NRF_{front.name.upper()}")
    heading = f"The shadow of Ingenuity, as {front.name} serves it"
    with client(front.base) as http:
        approved = http.post(
            f"/api/v1/candidates/{candidate}/approve",
            json={"heading": heading, "body": "Approved through the front."},
            headers={"Authorization": f"Bearer {live.token}"},
        )
    assert approved.status_code == 201, approved.text
    eventually(lambda: live.watcher.site_edition() == before + 1, "the next edition's swap")
    # No retry: the very first request after the swap shows the new edition.
    page = front.get("/", headers={"If-None-Match": old.headers["etag"]})
    assert page.status_code == 200, "the old edition's ETag still matched"
    assert heading in page.text and f"(edition {before + 1})" in page.text
    assert heading in front.get("/feed.atom").text
    assert not served_by_watcher(page)


# -- everything else, handed to watcher ------------------------------------------------


def test_watchers_own_paths_reach_it_through_the_front(front: Front) -> None:
    token = {"Authorization": f"Bearer {front.live.token}"}
    answers = {
        "/editor/login": (200, 'name="form_token"'),
        "/editor": (303, ""),
        "/api/v1/me": (200, '"front"'),
        "/api/v1/openapi.json": (200, '"openapi"'),
        "/healthz": (200, '"status"'),
        "/subscribe": (200, 'name="email"'),
        "/confirm?token=abc": (200, 'value="abc"'),
        "/unsubscribe?token=abc": (200, 'value="abc"'),
        "/static/editor.css": (200, ""),
        "/no-such-page": (404, "Not found"),
    }
    for path, (status, text) in answers.items():
        response = front.get(path, headers=token)
        assert response.status_code == status, (path, response.text[:300])
        assert text in response.text, path
        assert served_by_watcher(response), f"{path} did not reach watcher"
        for name in SECURITY_HEADERS:  # watcher's own, not doubled by the front
            assert len(response.headers.get_list(name)) == 1, (path, name)
    with client(front.base) as http:
        posted = http.post("/subscribe", data={"email": "not an address", "website": ""})
    assert posted.status_code == 422 and served_by_watcher(posted)


def test_metrics_answer_this_host_and_nobody_else(front: Front) -> None:
    local = front.get("/metrics")
    assert local.status_code == 200, local.text[:300]
    assert "watcher_editions" in local.text
    for source in ("127.0.0.2", "127.0.0.3"):
        other = front.get("/metrics", source=source)
        assert other.status_code == 404, source
        assert "watcher_editions" not in other.text


def sign_in(front: Front, source: str, name: str, password: str, **headers: str) -> int:
    """A browser's sign-in from ``source`` through the front; the status it gets."""
    with client(front.base, source) as http:
        form = http.get("/editor/login", headers=headers)
        found = re.search(r'name="form_token" value="([^"]+)"', form.text)
        assert found, form.text
        data = {"name": name, "password": password, "form_token": found[1]}
        return http.post("/editor/login", data=data, headers=headers).status_code


def locked(live: Live, address: str) -> bool:
    key = f"client:{address}"
    throttle = live.watcher.store.throttles([key]).get(key)
    return throttle is not None and throttle.locked_until is not None


def test_sign_in_limits_count_the_readers_address_not_the_fronts(front: Front) -> None:
    reader, neighbour = READERS[front.name]
    forged = {"X-Forwarded-For": "198.51.100.9"}
    for i in range(MAX_FAILURES):
        assert sign_in(front, reader, f"{front.name}{i}", "wrong guess!", **forged) == 401
    assert sign_in(front, reader, "alice", PASSWORD) == 429
    assert locked(front.live, reader)
    assert not locked(front.live, "127.0.0.1") and not locked(front.live, "198.51.100.9")
    # Another reader behind the same front is not locked out.
    assert sign_in(front, neighbour, "alice", PASSWORD) == 303


# -- the files themselves --------------------------------------------------------------


def test_every_value_the_headers_name_is_there_to_replace() -> None:
    """Runs without the servers too: an edit that renames a value fails here first."""
    defaults = ("127.0.0.1:8000", "/var/lib/watcher/var/site", "listen 80;", "example.org {")
    for text in (
        render_nginx(NGINX_CONF.read_text(), site=Path("/srv/site"), app_port=1, port=2),
        render_caddy(CADDYFILE.read_text(), site=Path("/srv/site"), app_port=1, port=2),
    ):
        lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
        assert not [line for line in lines if any(value in line for value in defaults)]
        assert any("/srv/site" in line for line in lines)
