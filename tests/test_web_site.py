"""The published site served at ``/`` from ``site_dir`` (a symlink swapped per edition)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from starlette.testclient import TestClient

from .conftest import WebApp


def version(root: Path, name: str, files: dict[str, str]) -> Path:
    folder = root / name
    for path, text in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text)
    return folder


def point(site: Path, target: Path) -> None:
    temporary = site.with_name(site.name + ".new")
    os.symlink(target, temporary)
    os.replace(temporary, site)


def test_before_the_first_publish_the_root_says_so(web: WebApp) -> None:
    client = TestClient(web.app)
    page = client.get("/")
    assert page.status_code == 200 and "Nothing published yet" in page.text
    assert client.get("/feed.atom").status_code == 404


def test_files_follow_the_symlink_with_etags_and_304(web: WebApp, tmp_path: Path) -> None:
    site = web.watcher.settings.site_dir
    site.parent.mkdir(parents=True, exist_ok=True)
    point(
        site,
        version(
            tmp_path,
            "v1",
            {"index.html": "<h1>Edition 1</h1>", "entries/7/index.html": "<h1>Seven</h1>"},
        ),
    )
    client = TestClient(web.app)
    first = client.get("/")
    assert first.text == "<h1>Edition 1</h1>" and first.headers["cache-control"].startswith(
        "public"
    )
    assert client.get("/", headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    assert client.get("/entries/7/").text == "<h1>Seven</h1>"
    point(site, version(tmp_path, "v2", {"index.html": "<h1>Edition 2</h1>"}))
    assert client.get("/").text == "<h1>Edition 2</h1>"
    assert client.get("/entries/7/").status_code == 404


def test_the_site_never_serves_files_outside_it(web: WebApp, tmp_path: Path) -> None:
    site = web.watcher.settings.site_dir
    site.parent.mkdir(parents=True, exist_ok=True)
    point(site, version(tmp_path, "v1", {"index.html": "ok"}))
    (tmp_path / "secret.txt").write_text("secret")
    client = TestClient(web.app)
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt"):
        response = client.get(path)
        assert response.status_code == 404 and "secret" not in response.text, path


def test_unknown_api_paths_are_problems_not_site_files(web: WebApp) -> None:
    response = TestClient(web.app).get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_the_icon_is_served_before_any_publish_and_linked_from_the_apps_pages(
    web: WebApp,
) -> None:
    client = TestClient(web.app)
    ico = client.get("/favicon.ico")
    assert ico.status_code == 200 and ico.headers["content-type"] == "image/x-icon"
    assert ico.content[:4] == b"\0\0\1\0"  # an ICO file, not a page saying "not found"
    for path in ("/editor/login", "/subscribe", "/confirm?token=x", "/api/v1/docs"):
        page = client.get(path).text
        found = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page)
        assert found is not None, path
        icon = client.get(found[1])
        assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
        assert icon.text.startswith("<svg")
