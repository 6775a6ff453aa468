"""Shared fixtures: recorded NASA responses, databases, loopback servers."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Coroutine, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest

from watcher.config import Settings, settings_from_dict
from watcher.core import Watcher, make_watcher

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
    """Settings as a config file would give them, pointing at test servers and paths."""
    data: dict[str, Any] = {
        "database": {"url": database_url},
        "publish": {"site_dir": str(tmp_path / "site")},
        "fetch": {"connect_timeout": "2s", "read_timeout": "2s", "backoff_base": "1s"},
        "security": {"image_hosts": ["nasa.gov", "*.nasa.gov", "127.0.0.1"]},
        "sources": sources or [],
    }
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    return settings_from_dict(data, path=tmp_path / "watcher.toml")


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
