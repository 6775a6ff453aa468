"""Shared fixtures: recorded NASA responses, databases, loopback servers."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
from starlette.testclient import TestClient

from watcher.config import Settings, settings_from_dict
from watcher.core import Watcher, make_watcher
from watcher.service import Service
from watcher.types import CandidateData, ReplicaRole, Role
from watcher.web import create_app

T = TypeVar("T")

# The fields DESIGN.md promises in every `watcher queue --json` candidate.
QUEUE_FIELDS = frozenset(
    ("id", "source", "external_id", "mission", "title", "camera", "sol", "taken_at",
     "credit", "image_url", "thumbnail_url", "status")
)  # fmt: skip

ROOT = Path(__file__).resolve().parent.parent
SHARED_FIXTURES = ROOT.parent / "shared" / "fixtures" / "nasa"


@pytest.fixture(scope="session")
def nasa_fixtures() -> Path:
    """``../shared/fixtures/nasa``; tests using it skip when the folder is absent."""
    if not SHARED_FIXTURES.is_dir():
        pytest.skip(f"recorded NASA fixtures not found at {SHARED_FIXTURES}")
    return SHARED_FIXTURES


# -- databases ------------------------------------------------------------------------

POSTGRES_URL = os.environ.get("WATCHER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A throwaway database on the local PostgreSQL server, dropped after the session.

    Skips (with the reason) when the server is unreachable, except under
    WATCHER_REQUIRE_POSTGRES=1 (set by .ci/run), where that is a failure.
    """
    try:
        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if os.environ.get("WATCHER_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL required but unreachable at {POSTGRES_URL}: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_URL}: {exc}")
    name = f"watcher_test_{os.getpid()}_{secrets.token_hex(3)}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        base, _, _ = POSTGRES_URL.rpartition("/")
        try:
            yield f"{base}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def reset_postgres(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a new SQLite file, or the PostgreSQL test database emptied."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'watcher.db'}"
    url: str = request.getfixturevalue("postgres_database")
    reset_postgres(url)
    return url


def build_settings(
    tmp_path: Path,
    database_url: str,
    sources: list[dict[str, Any]] | None = None,
    **sections: dict[str, Any],
) -> Settings:
    """Settings as a config file would give them, pointing at test servers and paths.

    Approvals publish in one step here (``require_words = false``): most tests are about
    something else than the words an entry needs. Tests of that rule, and the end-to-end
    ones, pass ``publish={"require_words": True}`` (the product's default). Curation's
    background job is off (``curate={"enabled": True}`` turns it on): test records point
    at NASA's real image hosts, which a test must never reach."""
    data: dict[str, Any] = {
        "database": {"url": database_url},
        "publish": {
            "site_dir": str(tmp_path / "site"),
            "cache_dir": str(tmp_path / "cache"),
            "require_words": False,
        },
        "fetch": {"connect_timeout": "2s", "read_timeout": "2s", "backoff_base": "1s"},
        "security": {"image_hosts": ["nasa.gov", "*.nasa.gov", "127.0.0.1"]},
        "curate": {"enabled": False},
        "sources": sources or [],
    }
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    return settings_from_dict(data, path=tmp_path / "watcher.toml")


def write_config(
    tmp_path: Path, sources: str, database: str | None = None, *, require_words: bool = False
) -> Path:
    """A config file as a user writes one, with test timeouts and ``sources`` (TOML text)
    appended; for tests that run the CLI. Approvals publish in one step unless
    ``require_words`` (the product's default) is asked for, and curation's background job
    is off, as in ``build_settings``."""
    path = tmp_path / "watcher.toml"
    url = database or f"sqlite:///{tmp_path / 'watcher.db'}"
    path.write_text(
        f"""
[database]
url = "{url}"

[publish]
require_words = {"true" if require_words else "false"}
site_dir = "{tmp_path / "site"}"
cache_dir = "{tmp_path / "cache"}"

[fetch]
connect_timeout = "2s"
read_timeout = "2s"

[security]
image_hosts = ["nasa.gov", "*.nasa.gov", "127.0.0.1"]

[curate]
enabled = false
{sources}
"""
    )
    return path


def raw_toml(url: str, name: str = "perseverance", category: str = "mars2020") -> str:
    """A raw-images ``[[sources]]`` table, as TOML text for ``write_config``."""
    return f"""
[[sources]]
name = "{name}"
kind = "raw_images"
url = "{url}"
category = "{category}"
interval = "10m"
"""


# -- watchers -------------------------------------------------------------------------


class Clock:
    """A clock tests move by hand, so backoff and schedules need no sleeping."""

    def __init__(self, start: datetime = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def raw_source(
    url: str, name: str = "perseverance", category: str = "mars2020", **extra: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "raw_images",
        "url": url,
        "category": category,
        "interval": "10m",
        **extra,
    }


@pytest.fixture
def watcher_for(tmp_path: Path, clock: Clock) -> Iterator[Any]:
    """``watcher_for(sources, database_url=None, **sections)``: a Watcher on a migrated
    database (a new SQLite file by default) with the test clock and no jitter."""
    made: list[Watcher] = []

    def build(
        sources: list[dict[str, Any]], database_url: str | None = None, **sections: Any
    ) -> Watcher:
        url = database_url or f"sqlite:///{tmp_path / 'watcher.db'}"
        settings = build_settings(tmp_path, url, sources, **sections)
        watcher = make_watcher(settings, clock=clock, rand=lambda: 0.0)
        watcher.prepare_database()
        made.append(watcher)
        return watcher

    yield build
    for watcher in made:
        run(watcher.aclose())


# -- the web app ----------------------------------------------------------------------

PASSWORD = "correct horse battery"


class Browser:
    """A TestClient that signs in like a person and adds the CSRF token to its posts."""

    def __init__(self, web: WebApp):
        self.web = web
        self.client = TestClient(web.app, base_url="http://127.0.0.1:8000", follow_redirects=False)

    def sign_in(self, name: str, password: str = PASSWORD) -> Browser:
        page = self.client.get("/editor/login")
        token = re.search(r'name="form_token" value="([^"]+)"', page.text)
        assert token, page.text
        response = self.client.post(
            "/editor/login",
            data={
                "name": name,
                "password": password,
                "form_token": token.group(1),
                "next": "/editor",
            },
        )
        assert response.status_code == 303, response.text
        return self

    @property
    def csrf(self) -> str:
        session = self.web.watcher.session(self.client.cookies.get("watcher_session"))
        assert session is not None, "not signed in"
        return session.csrf_token

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """A form post with the session's CSRF token (pass csrf_token= to override)."""
        return self.client.post(path, data={"csrf_token": self.csrf, **(data or {})}, **kwargs)


class WebApp:
    """The app over a fresh SQLite file, with an admin (root) and an editor (alice)."""

    def __init__(self, watcher: Watcher):
        self.watcher = watcher
        self.app = create_app(watcher)

    def browser(self, name: str | None = None) -> Browser:
        browser = Browser(self)
        return browser.sign_in(name) if name else browser

    def seed(self, count: int = 5, **fields: Any) -> list[int]:
        """``count`` candidates shaped like Perseverance raw images; their ids, oldest first."""
        start = self.watcher.store.count_candidates()
        items = []
        for i in range(start, start + count):
            values: dict[str, Any] = {
                "source": "perseverance",
                "external_id": f"NRF_{i:05d}",
                "mission": "perseverance",
                "title": f"Mars Perseverance Sol {1900 + i % 7}: Right Navigation Camera",
                "caption": "NASA's Mars Perseverance rover acquired this image.",
                "credit": "NASA/JPL-Caltech",
                "camera": "NAVCAM_RIGHT" if i % 3 else "MCZ_LEFT",
                "sol": 1900 + i % 7,
                "taken_at": datetime(2026, 8, 1, tzinfo=UTC) + timedelta(minutes=i),
                "mars_local_time": "15:28:38",
                "page_url": f"https://mars.nasa.gov/mars2020/multimedia/raw-images/NRF_{i:05d}",
                "thumbnail_url": f"https://mars.nasa.gov/raw/NRF_{i:05d}_320.jpg",
                "medium_url": f"https://mars.nasa.gov/raw/NRF_{i:05d}_800.jpg",
                "large_url": f"https://mars.nasa.gov/raw/NRF_{i:05d}_1200.jpg",
                "full_url": f"https://mars.nasa.gov/raw/NRF_{i:05d}.png",
                "width": 1288,
                "height": 968,
                "raw": {"imageid": f"NRF_{i:05d}", "extra": "kept"},
            }
            values.update(fields)
            items.append(CandidateData(**values))
        self.watcher.store.add_candidates(items, datetime(2026, 8, 2, tzinfo=UTC))
        every = self.watcher.list_candidates(status=None, limit=None)
        return sorted(c.id for c in every)[start:]


@pytest.fixture
def web(tmp_path: Path, clock: Clock, database_url: str) -> Iterator[WebApp]:
    """The app on SQLite and (in CI, and wherever it runs) on PostgreSQL."""
    settings = build_settings(tmp_path, database_url)
    watcher = make_watcher(settings, clock=clock, rand=lambda: 0.0)
    watcher.prepare_database()
    watcher.add_editor("root", PASSWORD, Role.ADMIN)
    watcher.add_editor("alice", PASSWORD, Role.EDITOR)
    yield WebApp(watcher)
    run(watcher.aclose())


# -- the running service --------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServiceThread:
    """``Service.run()`` in its own thread and event loop, stopped at the end; with
    ``role``, the service of one replica role (``Service.for_role``)."""

    def __init__(self, watcher: Watcher, role: ReplicaRole | None = None):
        self.service = Service(watcher) if role is None else Service.for_role(watcher, role)
        self.ready = threading.Event()
        self.service.on_ready = lambda _: self.ready.set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.ready.wait(20), f"service did not start: {self.error!r}"

    def _run(self) -> None:
        async def main() -> None:
            self.loop = asyncio.get_running_loop()
            try:
                await self.service.run()
            finally:
                await self.service.watcher.aclose()

        try:
            asyncio.run(main())
        except BaseException as exc:  # reported by the test
            self.error = exc
            self.ready.set()

    def stop(self) -> None:
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.service.stop)
        self.thread.join(30)
        assert not self.thread.is_alive(), "service did not stop"
        assert self.error is None, repr(self.error)


def eventually(check: Callable[[], Any], what: str, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


def seed_candidate(watcher: Watcher, external_id: str = "NRF_00001") -> list[int]:
    watcher.store.add_candidates(
        [
            CandidateData(
                source="perseverance",
                external_id=external_id,
                mission="perseverance",
                title="Mars Perseverance Sol 1200: Left Navigation Camera",
                credit="NASA/JPL-Caltech",
                camera="NAVCAM_LEFT",
                sol=1200,
                taken_at=datetime(2026, 8, 1, tzinfo=UTC),
                medium_url=f"https://mars.nasa.gov/raw/{external_id}_800.jpg",
                large_url=f"https://mars.nasa.gov/raw/{external_id}_1200.jpg",
                full_url=f"https://mars.nasa.gov/raw/{external_id}.png",
                width=1288,
                height=968,
                raw={"imageid": external_id},
            )
        ],
        datetime(2026, 8, 2, tzinfo=UTC),
    )
    found = watcher.list_candidates(status=None, limit=None)
    return [c.id for c in found if c.external_id == external_id]
