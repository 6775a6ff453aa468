"""A command imports only what it uses, so ``watcher --version`` and ``watcher queue`` start
fast (bench/startup.py times them; nothing here is timed). Each command runs in a fresh
interpreter and reports which heavy packages ended up in ``sys.modules``."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from tests.conftest import build_settings, raw_toml, seed_candidate, write_config
from watcher.core import make_watcher
from watcher.db import migrate

pytestmark = pytest.mark.timeout(90)

HEAVY = {
    "alembic", "apprise", "argon2", "fastapi", "feedparser", "httpx", "imagehash", "jinja2",
    "numpy", "PIL", "pydantic", "pygments", "sqlalchemy", "starlette", "uvicorn",
}  # fmt: skip

# Runs the command in this interpreter as the console script does, then prints the heavy
# packages it imported and how it exited.
PROBE = """
import contextlib, io, json, sys
from watcher.cli import main
args, watched = json.loads(sys.argv[1]), set(json.loads(sys.argv[2]))
sys.argv = ["watcher", *args]
out = io.StringIO()
code = 0
try:
    with contextlib.redirect_stdout(out):
        main()
except SystemExit as exc:
    code = exc.code or 0
heavy = sorted({name.split(".")[0] for name in sys.modules} & watched)
print(json.dumps({"code": code, "heavy": heavy, "out": out.getvalue()}))
"""


def imported_by(*args: str) -> tuple[set[str], str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args), json.dumps(sorted(HEAVY))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.splitlines()[-1])
    assert found["code"] == 0, done.stderr[-2000:]
    return set(found["heavy"]), found["out"]


def test_version_imports_no_database_web_or_picture_stack() -> None:
    heavy, out = imported_by("--version")
    assert out.strip() == "watcher 0.1.0"
    assert heavy == set()


def test_help_lists_every_command_without_the_database_or_web_stack() -> None:
    heavy, out = imported_by("--help")
    assert "queue" in out and "editors" in out and "publish" in out
    # Typer's own help renders with rich, which brings pygments; nothing of watcher's.
    assert heavy <= {"pygments"}


def test_queue_reads_the_database_without_alembic_the_web_stack_argon2_or_pillow(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path, raw_toml("https://mars.nasa.gov/rss/api/"))
    watcher = make_watcher(build_settings(tmp_path, f"sqlite:///{tmp_path / 'watcher.db'}"))
    watcher.prepare_database()
    seed_candidate(watcher)
    watcher.store.close()

    heavy, out = imported_by("--config", str(config), "queue")

    assert "Navcam left" in out and "1 candidate(s)" in out
    assert heavy <= {"sqlalchemy", "pydantic"}, heavy


def test_the_newest_revision_read_from_the_folder_is_alembics_head() -> None:
    config = Config()
    config.set_main_option("script_location", str(Path(migrate.__file__).parent / "migrations"))
    assert migrate.head_revision() == ScriptDirectory.from_config(config).get_current_head()


def test_a_current_schema_is_checked_and_upgraded_without_importing_alembic(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'watcher.db'}"
    watcher = make_watcher(build_settings(tmp_path, url))
    watcher.prepare_database()
    watcher.store.close()
    code = (
        "import sys\n"
        "from watcher.db import Store\n"
        f"store = Store({url!r})\n"
        "before, after = store.upgrade()\n"
        "store.check_schema()\n"
        "assert before == after, (before, after)\n"
        "print(before, 'alembic' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == [migrate.head_revision(), "False"]


def test_an_empty_database_is_still_migrated_to_the_newest_revision(tmp_path: Path) -> None:
    watcher = make_watcher(build_settings(tmp_path, f"sqlite:///{tmp_path / 'watcher.db'}"))
    before, after = watcher.store.upgrade()
    assert (before, after) == (None, migrate.head_revision())
    watcher.store.check_schema()
    watcher.store.close()


def test_threads_that_first_use_a_part_together_share_one(tmp_path: Path) -> None:
    watcher = make_watcher(build_settings(tmp_path, f"sqlite:///{tmp_path / 'watcher.db'}"))
    start = threading.Barrier(8)
    seen: list[object] = []

    def use() -> None:
        start.wait()
        seen.append(watcher.publishing)
        seen.append(watcher.delivery)

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    publishers = {id(part) for part in seen[::2]}
    deliverers = {id(part) for part in seen[1::2]}
    assert len(publishers) == 1 and len(deliverers) == 1
    # The publisher's audience is the one deliverer the facade offers.
    assert watcher.publishing.audience is watcher.delivery
    watcher.store.close()


def test_the_facade_offers_each_parts_own_method(tmp_path: Path) -> None:
    watcher = make_watcher(build_settings(tmp_path, f"sqlite:///{tmp_path / 'watcher.db'}"))
    watcher.prepare_database()
    assert watcher.list_candidates.__doc__ == watcher.review.list_candidates.__doc__
    assert watcher.list_candidates.__self__ is watcher.review  # type: ignore[attr-defined]
    assert watcher.animation_file.__self__ is watcher.publishing.animator  # type: ignore[attr-defined]
    ids = seed_candidate(watcher)
    assert [c.id for c in watcher.list_candidates(limit=None)] == ids
    assert watcher.get_candidate(ids[0]).first_seen_at == datetime(2026, 8, 2, tzinfo=UTC)
    watcher.store.close()
