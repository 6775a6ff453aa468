"""``watcher demo``: the whole service, offline, against NASA's feeds replayed on 127.0.0.1.

The demo writes a real config file (``<data_dir>/watcher.toml``) pointing every source at
the emulator, so the rest of the CLI works on the demo from another terminal:
``watcher --config var/demo/watcher.toml queue``. The emulator's pictures are kept in
``<data_dir>/pictures`` (they never change, so they survive restarts).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import threading
from pathlib import Path

from rich.console import Console

from watcher.accounts.passwords import new_secret
from watcher.config import MISSION_KEYWORDS, OFF_TOPIC, load_settings
from watcher.core import Watcher, make_watcher
from watcher.demo.packaged import demo_emulator
from watcher.demo.server import NasaEmulator
from watcher.service import Service
from watcher.types import Role

SUMMARY_EVERY_SECONDS = 10.0

logger = logging.getLogger("watcher.demo")


def demo_config(emulator: NasaEmulator, data_dir: Path, port: int) -> str:
    """The demo's config: the four real sources, pointed at the emulator, polled often."""
    host = emulator.base_url.split("//", 1)[1]
    return f"""# Written by `watcher demo`: the shipped sources, pointed at a local NASA replay.
[database]
url = "sqlite:///{data_dir / "watcher.db"}"

[server]
host = "127.0.0.1"
port = {port}

[publish]
site_dir = "{data_dir / "site"}"
cache_dir = "{data_dir / "cache"}"
debounce = "5s"

[fetch]
backoff_base = "5s"
backoff_max = "1m"

[security]
image_hosts = ["nasa.gov", "*.nasa.gov", "{host}"]

[[sources]]
name = "perseverance"
kind = "raw_images"
url = "{emulator.raw_images_url}"
category = "mars2020"
interval = "5s"
jitter = 0

[[sources]]
name = "ingenuity"
kind = "raw_images"
url = "{emulator.raw_images_url}"
category = "ingenuity"
interval = "1h"

[[sources]]
name = "image_library"
kind = "image_library"
url = "{emulator.image_library_url}"
queries = ["Perseverance", "Ingenuity"]
keywords = {_toml_list(MISSION_KEYWORDS)}
exclude = {_toml_list(OFF_TOPIC)}
interval = "1m"

[[sources]]
name = "nasa_rss"
kind = "rss"
url = "{emulator.rss_url("")}"
keywords = {_toml_list(MISSION_KEYWORDS)}
exclude = {_toml_list(OFF_TOPIC)}
interval = "1m"
"""


def _toml_list(words: tuple[str, ...]) -> str:
    return "[" + ", ".join(f'"{word}"' for word in words) + "]"


async def run_demo(*, port: int, duration: float | None, data_dir: Path, console: Console) -> None:
    """Run until Ctrl-C (or ``duration`` seconds). Each run starts from an empty database."""
    with demo_emulator(picture_dir=data_dir / "pictures") as emulator:
        _prerender(emulator)
        config_path = await asyncio.to_thread(_prepare, emulator, data_dir, port)
        settings = load_settings(config_path, env={})
        watcher = make_watcher(settings)
        await asyncio.to_thread(watcher.prepare_database)
        password = new_secret()[:20]
        await asyncio.to_thread(watcher.add_editor, "demo", password, Role.ADMIN)

        def ready(service: Service) -> None:
            console.print(
                f"[bold]watcher demo[/bold]: NASA replayed at {emulator.base_url}; "
                f"watcher at {service.url}/healthz\n"
                f"  editor: {service.url}/editor  name: demo  password: {password}\n"
                f"  public list: {service.url}/ (published a few seconds after each approval)\n"
                f"  new Perseverance images arrive every few seconds; from another terminal:\n"
                f"  .venv/bin/watcher --config {config_path} queue\n"
                f"  .venv/bin/watcher --config {config_path} sources\n"
                f"  Ctrl-C stops the demo."
            )

        service = Service(watcher, on_ready=ready)
        summary = asyncio.create_task(_summarise(watcher, console))
        stopper = (
            asyncio.get_running_loop().call_later(duration, service.stop) if duration else None
        )
        try:
            await service.run()
        finally:
            summary.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await summary
            if stopper:
                stopper.cancel()
            await watcher.aclose()
    console.print("demo stopped")


def _prepare(emulator: NasaEmulator, data_dir: Path, port: int) -> Path:
    """A fresh database and a config file pointing at this emulator."""
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    for stale in data_dir.glob("watcher.db*"):
        stale.unlink()
    # The site belongs to the old database: its editions start again from 1.
    for name in ("site", ".site-versions", "cache"):
        path = data_dir / name
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path)
    config_path = data_dir / "watcher.toml"
    config_path.write_text(demo_config(emulator, data_dir, port), encoding="utf-8")
    return config_path


def _prerender(emulator: NasaEmulator) -> None:
    """Render the special scenes' thumbnails in the background (well under a second), so
    the first editor page that shows them does not wait for the drawing."""

    def work() -> None:
        try:
            emulator.pictures.prerender(size="small")
        except Exception:  # a cache warm-up: the pictures are drawn on request anyway
            logger.exception("pre-rendering the demo's pictures failed")

    threading.Thread(target=work, name="demo-pictures", daemon=True).start()


async def _summarise(watcher: Watcher, console: Console) -> None:
    """Print the queue's size now and then, so arrivals are visible without another terminal."""
    while True:
        await asyncio.sleep(SUMMARY_EVERY_SECONDS)
        with contextlib.suppress(Exception):
            counts = await asyncio.to_thread(watcher.store.candidate_counts_by_source)
            total = sum(counts.values())
            parts = ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
            console.print(f"queue: {total} candidates ({parts})")
