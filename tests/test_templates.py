"""Templates: shipped from the top-level ``templates/`` in every wheel, and overridable file
by file through ``[publish] templates_dir`` for the site, the web app and the mail."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from watcher.config import load_settings
from watcher.core import make_watcher
from watcher.deliver import dispatch
from watcher.deliver.channels import email
from watcher.exceptions import ConfigError
from watcher.publish.cache import SiteBuilder
from watcher.publish.render import fingerprint, render_site
from watcher.template_dirs import shipped
from watcher.types import Actor, DeliveryChannel, EntryDraft, Role, SubscriberStatus
from watcher.web import create_app

from .conftest import ROOT, Clock, build_settings, run, seed_candidate
from .deliver_support import html_of, smtp_server, text_of
from .test_deliver_rules import EDITION, context, delivery
from .test_deliver_rules import entry as mail_entry
from .test_publish_render import content, entry

TEMPLATES = ROOT / "templates"
PACKAGE = ROOT / "watcher"
ALICE = Actor("alice", Role.EDITOR)


def theme(root: Path, files: dict[str, str]) -> Path:
    """An operator's templates folder holding ``files`` (path -> text)."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def marked(name: str, before: str, mark: str) -> str:
    """A shipped template with ``mark`` inserted before the first ``before``, as an operator
    restyles a page: copy it, change a line."""
    text = (TEMPLATES / name).read_text()
    assert before in text, f"{name} has no {before!r}"
    return text.replace(before, mark + before, 1)


# -- shipping ---------------------------------------------------------------------------


def files_under(root: Path) -> set[str]:
    return {
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_a_checkout_uses_the_top_level_templates_folder() -> None:
    assert shipped() == TEMPLATES
    assert {"site", "editor", "email"} <= {p.name for p in TEMPLATES.iterdir()}
    assert not (PACKAGE / "templates").exists()  # one copy, at the top, in the repository


@pytest.mark.slow
def test_the_wheel_carries_every_template_and_renders_from_its_own_copy(tmp_path: Path) -> None:
    """Builds the wheel from a copy of the sources (nothing written into the checkout) and
    runs the site's renderer from the unpacked wheel, outside the repository."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("watcher", "templates"):
        shutil.copytree(ROOT / folder, source / folder, ignore=ignore)
    built = tmp_path / "wheel"
    pip = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
    subprocess.run([*pip, "--wheel-dir", str(built), str(source)], check=True, timeout=90)
    [wheel] = built.glob("watcher-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        inside = set(archive.namelist())
        archive.extractall(tmp_path / "installed")
    templates = {f"watcher/templates/{name}" for name in files_under(TEMPLATES)}
    assert "watcher/templates/site/index.html" in templates
    assert not templates - inside, f"not in the wheel: {sorted(templates - inside)}"
    package = {f"watcher/{name}" for name in files_under(PACKAGE)}
    assert not package - inside, f"pyproject.toml's packages miss {sorted(package - inside)}"
    code = (
        "import sys, watcher, watcher.publish.render as r, watcher.template_dirs as t\n"
        "from datetime import datetime, UTC\n"
        "from watcher.publish.model import SiteContent\n"
        "assert watcher.__file__.startswith(sys.argv[1]), watcher.__file__\n"
        "assert t.shipped().is_relative_to(sys.argv[1]), t.shipped()\n"
        "site = SiteContent(title='Installed', intro='', base_url='https://x', entries=(),\n"
        "                   edition=1, updated=datetime(2026, 1, 1, tzinfo=UTC))\n"
        "assert '<h1>Installed</h1>' in r.render_site(site)['index.html'].decode()\n"
    )
    installed = tmp_path / "installed"
    subprocess.run(
        [sys.executable, "-c", code, str(installed)],
        check=True,
        timeout=20,
        cwd=tmp_path,
        env={"PYTHONPATH": str(installed), "PATH": "/usr/bin:/bin"},
    )


# -- the operator's templates -------------------------------------------------------------


def test_an_overridden_index_restyles_the_published_list_and_the_rest_stays_shipped(
    watcher_for: Any, tmp_path: Path
) -> None:
    own = theme(
        tmp_path / "look",
        {"site/index.html": marked("site/index.html", "<main", '<p class="ours">Restyled</p>\n')},
    )
    watcher = watcher_for([], publish={"debounce": 0, "templates_dir": str(own)})
    [candidate] = seed_candidate(watcher)
    published = watcher.approve([candidate], EntryDraft(heading="A dust devil"), ALICE)
    assert run(watcher.publish()).edition is not None
    site = watcher.settings.site_dir
    page = (site / "index.html").read_text()
    assert '<p class="ours">Restyled</p>' in page
    assert "A dust devil" in page and "feed.atom" in page  # the shipped base.html around it
    entry_page = (site / f"entries/{published.id}.html").read_text()
    assert "A dust devil" in entry_page and "Restyled" not in entry_page


def test_a_changed_override_renders_again_instead_of_reusing_cached_pieces(
    tmp_path: Path,
) -> None:
    """Rendered articles are cached across restarts under the render fingerprint; a
    different override must change it, or the old look would be served from the cache."""
    site, cache = tmp_path / "site", tmp_path / "cache"
    first = theme(tmp_path / "one", {"site/_article.html": "<article>first look</article>"})
    second = theme(tmp_path / "two", {"site/_article.html": "<article>second look</article>"})
    same = theme(tmp_path / "same", {"site/_article.html": "<article>first look</article>"})
    assert fingerprint(first) == fingerprint(same)  # what the files say counts, not where
    assert len({fingerprint(None), fingerprint(first), fingerprint(second)}) == 3
    SiteBuilder(site, cache).build(content(entry(1), templates_dir=first), {})
    assert "first look" in (site / "index.html").read_text()
    SiteBuilder(site, cache).build(content(entry(1), templates_dir=second), {})
    page = (site / "index.html").read_text()
    assert "second look" in page and "first look" not in page


def test_the_override_applies_only_to_renders_that_name_it(tmp_path: Path) -> None:
    own = theme(tmp_path / "look", {"site/index.html": "<p>only this</p>"})
    assert render_site(content(entry(1), templates_dir=own))["index.html"] == b"<p>only this</p>"
    page = render_site(content(entry(1)))["index.html"].decode()
    assert "only this" not in page and "Heading 1" in page


def test_editor_pages_use_the_override_and_fall_back_to_the_shipped_pages(
    tmp_path: Path, clock: Clock
) -> None:
    own = theme(
        tmp_path / "look",
        {"editor/base.html": marked("editor/base.html", "</body>", "<p>Mars desk</p>\n")},
    )
    settings = build_settings(
        tmp_path, f"sqlite:///{tmp_path / 'watcher.db'}", publish={"templates_dir": str(own)}
    )
    watcher = make_watcher(settings, clock=clock, rand=lambda: 0.0)
    watcher.prepare_database()
    try:
        client = TestClient(create_app(watcher))
        login = client.get("/editor/login")
        assert login.status_code == 200
        assert "<p>Mars desk</p>" in login.text  # the operator's base.html
        assert 'name="form_token"' in login.text  # around the shipped login.html
        docs = client.get("/api/v1/docs")
        assert docs.status_code == 200 and "Mars desk" not in docs.text
    finally:
        run(watcher.aclose())


def test_an_edition_mail_uses_the_overridden_text_and_the_shipped_html(tmp_path: Path) -> None:
    own = theme(
        tmp_path / "look",
        {"email/edition.txt": marked("email/edition.txt", "--\n", "Sent by the Mars desk\n")},
    )
    ctx = replace(context(a=SubscriberStatus.CONFIRMED), templates_dir=own)
    cache = dispatch.new_cache()
    [job] = dispatch.plan([delivery(DeliveryChannel.EMAIL, "a@example.org")], ctx, cache)
    assert job.skip is None
    mail = cache.mails[EDITION.number]
    plain = email.render_edition(EDITION, [mail_entry(5, "A")], title="Mars", base_url="https://s")
    assert "Sent by the Mars desk" in mail.text and "Mars desk" not in plain.text
    assert mail.html == plain.html  # not overridden: the shipped edition.html


def test_the_service_mails_the_operators_confirmation(watcher_for: Any, tmp_path: Path) -> None:
    own = theme(tmp_path / "look", {"email/confirm.txt": "Confirm here: {{ confirm_url }}\n"})
    with smtp_server() as (sink, port):
        watcher = watcher_for(
            [],
            server={"public_url": "https://mars.example.org"},
            email={"enabled": True, "smtp_port": port, "security": "none", "timeout": "5s"},
            publish={"templates_dir": str(own)},
        )
        watcher.subscribe("reader@example.org", client="203.0.113.9")
        assert run(watcher.deliver_pending()).sent == 1
    [mail] = sink.messages
    assert text_of(mail).startswith("Confirm here: https://mars.example.org/confirm?token=")
    assert "Confirm here" not in html_of(mail)  # the shipped confirm.html
    assert "https://mars.example.org/confirm?token=" in html_of(mail)


# -- configuration ------------------------------------------------------------------------


def config(tmp_path: Path, templates_dir: str) -> Path:
    path = tmp_path / "watcher.toml"
    path.write_text(f'[publish]\ntemplates_dir = "{templates_dir}"\n')
    return path


def test_templates_dir_from_the_file_or_the_environment(tmp_path: Path) -> None:
    own = theme(tmp_path / "look", {"site/index.html": "x"})
    other = theme(tmp_path / "other", {"email/edition.txt": "y"})
    path = config(tmp_path, str(own))
    assert load_settings(path, env={}).publish.templates_dir == own
    overridden = load_settings(path, env={"WATCHER_TEMPLATES_DIR": str(other)})
    assert overridden.publish.templates_dir == other


@pytest.mark.parametrize(
    ("folder", "fragment"),
    [
        ("missing", "is not a directory"),
        ("look/site", "holds none of the template folders (api/, editor/, email/"),
    ],
)
def test_a_bad_templates_dir_names_the_file_and_the_key(
    tmp_path: Path, folder: str, fragment: str
) -> None:
    theme(tmp_path / "look", {"site/index.html": "x"})
    path = config(tmp_path, str(tmp_path / folder))
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    message = str(caught.value)
    assert message.startswith(f"{path}: publish.templates_dir: ") and fragment in message
    assert caught.value.key == "publish.templates_dir"


def test_a_bad_templates_dir_in_the_environment_names_the_variable(tmp_path: Path) -> None:
    path = tmp_path / "watcher.toml"
    path.write_text("")
    with pytest.raises(ConfigError, match=r"^WATCHER_TEMPLATES_DIR: .* is not a directory"):
        load_settings(path, env={"WATCHER_TEMPLATES_DIR": str(tmp_path / "missing")})
