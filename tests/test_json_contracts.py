"""The JSON contracts, pinned: every shape the CLI's ``--json`` and ``/api/v1`` send, and the
OpenAPI document's schemas, exactly as ``tests/golden/json_contracts.json`` recorded them.

A scene (the demo emulator polled, decisions, entries, two editions, subscribers, webhooks,
tokens, with the test clock) is built once; each command and route it reads is compared with
the recording, so a change of field, type, null-vs-missing or datetime format shows here.
Values that differ per run (the emulator's port, token secrets, timings) are masked. A contract that
changes on purpose is re-recorded with ``python -m tests.test_json_contracts``.
"""

from __future__ import annotations

import asyncio
import json
import socket
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from tests.conftest import PASSWORD, Browser, Clock, WebApp, raw_toml
from watcher.cli import app as cli_app
from watcher.config import load_settings
from watcher.core import make_watcher
from watcher.demo import NasaEmulator, demo_emulator
from watcher.types import Role

GOLDEN = Path(__file__).resolve().parent / "golden" / "json_contracts.json"
START = datetime(2026, 11, 25, 12, 0, 0, 123456, tzinfo=UTC)  # fractions: their format counts
MASKED_KEYS = ("prefix", "secret", "timings")
RECORDED: dict[str, Any] = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}

CLI_COMMANDS: dict[str, tuple[str, ...]] = {
    "queue": ("queue", "--json", "--status", "all", "--limit", "40"),
    "sources": ("sources", "--json"),
    "entries": ("entries", "--json", "--unpublished"),
    "entries_published": ("entries", "--json"),
    "editions": ("editions", "--json"),
    "subscribers": ("subscribers", "list", "--json"),
    "webhooks": ("webhooks", "list", "--json"),
    "deliveries": ("deliveries", "--json"),
    "editors": ("editors", "list", "--json"),
    "tokens": ("tokens", "list", "--json"),
    "publish unchanged": ("publish", "--json"),
}
API_READS = (
    "/api/v1/me",
    "/api/v1/candidates?status=all&limit=40",
    "/api/v1/candidates?status=approved",
    "/api/v1/entries",
    "/api/v1/entries/1",
    "/api/v1/sources",
    "/api/v1/facets",
    "/api/v1/audit?limit=500",
    "/api/v1/editors",
    "/api/v1/tokens",
    "/api/v1/editions",
    "/api/v1/editions/1",
    "/api/v1/site",
    "/api/v1/subscribers",
    "/api/v1/webhooks",
    "/api/v1/deliveries",
)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def config_text(tmp: Path, nasa: NasaEmulator, offline: str) -> str:
    """Three sources the emulator answers and one nobody does (a failing source)."""
    return f"""
[database]
url = "sqlite:///{tmp / "watcher.db"}"

[publish]
site_dir = "{tmp / "site"}"
# The contracts approve without words and expect entries on the list: one-step publishing.
require_words = false

[email]
enabled = true
smtp_port = 9
security = "none"

[webhooks]
allow_private = true

[security]
image_hosts = ["nasa.gov", "*.nasa.gov", "127.0.0.1"]

{raw_toml(nasa.raw_images_url)}
[[sources]]
name = "image_library"
kind = "image_library"
url = "{nasa.image_library_url}"
queries = ["Perseverance"]
interval = "1h"

[[sources]]
name = "nasa_rss"
kind = "rss"
url = "{nasa.rss_url()}"
keywords = ["Perseverance", "Ingenuity"]
interval = "1h"

[[sources]]
name = "offline"
kind = "raw_images"
url = "{offline}"
category = "mars2020"
interval = "10m"
"""


class Scene:
    """Calls the API as an admin, noting each answer (the write answers are shapes too)."""

    def __init__(self, client: TestClient, clock: Clock, mask: Callable[[Any], Any]):
        self.client = client
        self.clock = clock
        self.mask = mask
        self.seen: dict[str, Any] = {}

    def call(self, method: str, path: str, note: str | None = None, **kwargs: Any) -> Any:
        self.clock.advance(1.5)
        response = self.client.request(method, path, **kwargs)
        assert response.status_code < 300, (path, response.text)
        body = response.json() if response.content else None
        if note:
            self.seen[f"api {method} {note}"] = self.mask(body)
        return body


def play(scene: Scene, ids: list[int]) -> None:
    """Decisions, edits, the site's text, subscribers, webhooks, two editions, tokens."""
    first, second, third, fourth, fifth, sixth, seventh = ids[:7]
    scene.call(
        "POST",
        f"/api/v1/candidates/{first}/approve",
        "approve",
        json={
            "heading": "Dust devil",
            "body": "**Look** left & <b>right</b>",
            "alt_text": "A pale column of dust",
            "credit": "NASA/JPL-Caltech/ASU",
            "rendition": "full",
            "version": 1,
        },
    )
    scene.call(
        "POST", "/api/v1/entries", "entry", json={"candidate_ids": [third, second], "heading": ""}
    )
    scene.call("POST", f"/api/v1/candidates/{fourth}/reject", "reject", json={"reason": "dark"})
    scene.call("POST", f"/api/v1/candidates/{fifth}/reject")
    scene.call("POST", "/api/v1/undo", "undo")
    scene.call("PATCH", "/api/v1/entries/1", "edit", json={"version": 1, "heading": "Better"})
    scene.call(
        "POST",
        "/api/v1/candidates/bulk",
        "bulk",
        json={"action": "approve", "ids": [sixth, seventh, first]},
    )
    scene.call(
        "PATCH",
        "/api/v1/entries/3",
        "unpublish",
        json={"status": "unpublished"},
        headers={"If-Match": '"v1"'},
    )
    scene.call("PUT", "/api/v1/entries/order", "order", json={"order": [2, 1, 3, 4]})
    scene.call("PUT", "/api/v1/site", "site", json={"title": "Mars, daily", "intro": "*Hi*"})
    for email, confirmed in (("ada@example.org", True), ("bo@example.org", False)):
        scene.call(
            "POST",
            "/api/v1/subscribers",
            f"subscriber {'confirmed' if confirmed else 'pending'}",
            json={"email": email, "confirmed": confirmed},
        )
    gone = scene.call("POST", "/api/v1/subscribers", json={"email": "cy@example.org"})
    scene.call("DELETE", f"/api/v1/subscribers/{gone['id']}", "unsubscribe")
    scene.call("POST", "/api/v1/webhooks", "webhook", json={"url": "http://127.0.0.1:9/hook"})
    hook = scene.call("POST", "/api/v1/webhooks", json={"url": "http://127.0.0.1:9/other"})
    scene.call("DELETE", f"/api/v1/webhooks/{hook['webhook']['id']}", "remove webhook")
    scene.call("POST", "/api/v1/publish", "publish")
    scene.call("DELETE", "/api/v1/entries/4?version=1")
    scene.call("POST", "/api/v1/publish", "publish again")
    scene.call("POST", "/api/v1/publish", "publish unchanged")
    scene.call("POST", "/api/v1/tokens", "token", json={"name": "bot", "scope": "read"})
    ci = scene.call("POST", "/api/v1/tokens", json={"name": "ci", "scope": "write"})
    scene.call("POST", f"/api/v1/tokens/{ci['token']['id']}/revoke", "revoke")


def capture(tmp: Path) -> dict[str, Any]:
    """Build the scene in ``tmp`` and return every contract it shows, masked."""
    with demo_emulator(release_every=0) as nasa:
        offline = f"http://127.0.0.1:{closed_port()}/rss/api/"

        def mask(value: Any) -> Any:
            if isinstance(value, dict):
                return {k: "<masked>" if k in MASKED_KEYS else mask(v) for k, v in value.items()}
            if isinstance(value, list):
                return [mask(v) for v in value]
            if isinstance(value, str):
                return value.replace(nasa.base_url, "http://nasa").replace(offline, "http://off")
            return value

        config = tmp / "watcher.toml"
        config.write_text(config_text(tmp, nasa, offline))
        clock = Clock(START)
        watcher = make_watcher(load_settings(config), clock=clock, rand=lambda: 0.0)
        try:
            watcher.prepare_database()
            watcher.add_editor("root", PASSWORD, Role.ADMIN)
            watcher.add_editor("alice", PASSWORD, Role.EDITOR)
            watcher.add_editor("bob", PASSWORD, Role.EDITOR)
            watcher.set_editor_disabled("bob", True)
            asyncio.run(watcher.poll_all())
            clock.advance(60)
            browser: Browser = WebApp(watcher).browser("root")
            browser.client.headers["X-CSRF-Token"] = browser.csrf
            scene = Scene(browser.client, clock, mask)
            ids = sorted(c.id for c in watcher.list_candidates(status=None, limit=None))
            tiled = [c.id for c in watcher.list_candidates(limit=None) if c.tiles]
            play(scene, ids)
            clock.advance(5)
            asyncio.run(watcher.deliver_pending())  # nobody answers: failures, for the record
            reads = (*API_READS, f"/api/v1/candidates/{ids[0]}", f"/api/v1/candidates/{ids[3]}")
            for path in (*reads, *(f"/api/v1/candidates/{i}" for i in tiled[:1])):
                scene.seen[f"api GET {path}"] = mask(scene.client.get(path).json())
            schemas = scene.client.get("/api/v1/openapi.json").json()["components"]["schemas"]
        finally:
            asyncio.run(watcher.aclose())
        runner = CliRunner()
        for name, args in CLI_COMMANDS.items():
            result = runner.invoke(cli_app, ["--config", str(config), *args])
            assert result.exit_code == 0, (args, result.output)
            scene.seen[f"cli {name}"] = mask(json.loads(result.stdout))
    return {**scene.seen, "openapi schemas": schemas}


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return capture(tmp_path_factory.mktemp("contracts"))


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    return RECORDED


def test_the_same_contracts_are_shown(captured: dict[str, Any], golden: dict[str, Any]) -> None:
    assert sorted(captured) == sorted(golden)


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_each_contract_is_as_recorded(
    name: str, captured: dict[str, Any], golden: dict[str, Any]
) -> None:
    assert captured.get(name) == golden[name]
    # Keys in the same order too: what a reader of the raw output sees stays the same.
    assert json.dumps(captured.get(name)) == json.dumps(golden[name])


def record() -> None:
    """Re-record the golden file (only for a contract changed on purpose)."""
    with tempfile.TemporaryDirectory() as tmp:
        recorded = capture(Path(tmp))
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(recorded, indent=1, ensure_ascii=False) + "\n")
    print(f"recorded {len(recorded)} contracts in {GOLDEN}")


if __name__ == "__main__":
    record()
