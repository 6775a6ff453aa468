"""``watcher check``: the requests a first poll makes, their answers held strictly to the
shapes watcher expects, against NASA's feeds replayed on 127.0.0.1."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from watcher.cli import app
from watcher.config import MISSION_KEYWORDS, OFF_TOPIC
from watcher.demo import Fault, NasaEmulator, SyntheticRawImages, demo_emulator
from watcher.polling.sources import shapes
from watcher.polling.sources.image_library import ImageLibraryAdapter
from watcher.polling.sources.raw_images import RawImagesAdapter
from watcher.polling.sources.rss import RssAdapter
from watcher.types import CandidateData, PollState

from .conftest import build_settings, free_port, raw_toml, write_config

runner = CliRunner()
SHIPPED = ("perseverance", "ingenuity", "image_library", "nasa_rss")


@pytest.fixture(scope="module")
def emulator() -> Iterator[NasaEmulator]:
    with demo_emulator(release_every=0, rewrite_images=False) as running:
        yield running


@pytest.fixture
def nasa(emulator: NasaEmulator) -> Iterator[NasaEmulator]:
    """The module's emulator, with no fault left over and its request log emptied."""
    emulator.clear_faults()
    emulator.clear_requests()
    yield emulator
    emulator.clear_faults()


def shipped_sources(nasa: NasaEmulator) -> str:
    """The four shipped sources, as config/watcher.toml has them, pointed at ``nasa``."""
    return (
        raw_toml(nasa.raw_images_url, "perseverance", "mars2020")
        + raw_toml(nasa.raw_images_url, "ingenuity", "ingenuity")
        + f"""
[[sources]]
name = "image_library"
kind = "image_library"
url = "{nasa.image_library_url}"
queries = ["Perseverance", "Ingenuity"]
keywords = {json.dumps(list(MISSION_KEYWORDS))}
exclude = {json.dumps(list(OFF_TOPIC))}
interval = "1h"

[[sources]]
name = "nasa_rss"
kind = "rss"
url = "{nasa.rss_url()}"
keywords = {json.dumps(list(MISSION_KEYWORDS))}
exclude = {json.dumps(list(OFF_TOPIC))}
interval = "1h"
"""
    )


def check(config: Path, *args: str) -> Any:
    return runner.invoke(app, ["--config", str(config), "check", *args])


def check_json(config: Path, *args: str) -> tuple[int, dict[str, dict[str, Any]]]:
    result = check(config, "--json", *args)
    return result.exit_code, {row["source"]: row for row in json.loads(result.stdout)}


def test_every_source_answering_as_expected_is_ok_and_exits_0(
    tmp_path: Path, nasa: NasaEmulator
) -> None:
    config = write_config(tmp_path, shipped_sources(nasa))
    table = check(config)
    assert table.exit_code == 0, table.output
    lines = {line.split()[0]: line.split() for line in table.stdout.splitlines() if line.strip()}
    host = nasa.base_url.split("//")[1]
    assert lines["perseverance"] == ["perseverance", "raw_images", host, "2", "ok"]
    assert lines["ingenuity"] == ["ingenuity", "raw_images", host, "2", "ok"]
    assert lines["image_library"] == ["image_library", "image_library", host, "2", "ok"]
    assert lines["nasa_rss"] == ["nasa_rss", "rss", host, "1", "ok"]

    code, rows = check_json(config)
    assert code == 0
    assert list(rows) == list(SHIPPED)
    requests = {name: row["requests"] for name, row in rows.items()}
    assert requests == {"perseverance": 2, "ingenuity": 2, "image_library": 2, "nasa_rss": 1}
    assert {row["result"] for row in rows.values()} == {"ok"}
    assert all(row["ok"] and not row["problems"] for row in rows.values())
    perseverance = rows["perseverance"]["checked"]
    assert [r["what"] for r in perseverance] == ["latest=true summary", "listing"]
    assert "latest=true" in perseverance[0]["url"] and "condition_2=" in perseverance[1]["url"]
    library = rows["image_library"]["checked"]
    assert [r["what"] for r in library] == ["search", "asset manifest"]
    assert library[1]["url"].endswith("/collection.json") and library[1]["status"] == 200


def test_a_raw_images_summary_whose_shape_changed_exits_1_naming_the_problem(
    tmp_path: Path, nasa: NasaEmulator
) -> None:
    config = write_config(tmp_path, shipped_sources(nasa))
    changed = Fault.respond(200, b'{"latest": 5}', content_type="application/json")
    nasa.inject(changed, path_prefix="/rss/api/")
    code, rows = check_json(config, "--source", "perseverance")
    assert code == 1
    row = rows["perseverance"]
    assert (row["result"], row["ok"], row["requests"]) == ("changed", False, 1)
    assert row["problems"][0] == "latest=true summary: 'latest' is not a timestamp: 5"
    assert any("polls fail on it" in problem for problem in row["problems"])

    nasa.inject(changed, path_prefix="/rss/api/")
    table = check(config, "--source", "perseverance")
    assert table.exit_code == 1
    assert "changed: latest=true summary: 'latest' is not a" in " ".join(table.stdout.split())


def test_a_listing_whose_records_lost_a_field_is_a_changed_shape(
    tmp_path: Path, nasa: NasaEmulator
) -> None:
    config = write_config(tmp_path, shipped_sources(nasa))
    _, rows = check_json(config, "--source", "perseverance")
    listing = orjson.loads(httpx.get(rows["perseverance"]["checked"][1]["url"]).content)
    assert listing["images"]
    for record in listing["images"]:
        del record["date_taken_utc"]
    nasa.inject(Fault.delay(0), path_prefix="/rss/api/")  # the summary answers as usual
    nasa.inject(
        Fault.respond(200, orjson.dumps(listing), content_type="application/json"),
        path_prefix="/rss/api/",
    )
    code, rows = check_json(config, "--source", "perseverance")
    assert code == 1
    summary, page = rows["perseverance"]["checked"]
    assert summary["problems"] == []
    assert page["problems"]
    assert all(p.endswith("'date_taken_utc' is not a timestamp: None") for p in page["problems"])
    assert rows["perseverance"]["problems"][0].startswith("listing: ")


def test_latest_answered_with_images_is_ok_with_a_note(tmp_path: Path) -> None:
    data = SyntheticRawImages(250, per_sol=100)
    with NasaEmulator(raw_images={"mars2020": data}, latest_images=True) as nasa:
        config = write_config(tmp_path, raw_toml(nasa.raw_images_url, "perseverance", "mars2020"))
        code, rows = check_json(config)
        table = check(config)
    assert code == 0
    row = rows["perseverance"]
    assert (row["result"], row["requests"]) == ("ok", 2)
    assert row["notes"] == [f"latest=true summary: {shapes.SUMMARY_AS_IMAGES}"]
    assert table.exit_code == 0
    assert "perseverance: note: latest=true summary: latest=true answered" in table.stdout


def test_an_rss_answer_that_is_an_html_page_is_a_changed_shape(
    tmp_path: Path, nasa: NasaEmulator
) -> None:
    config = write_config(tmp_path, shipped_sources(nasa))
    nasa.inject(Fault.html_page(), path_prefix="/feed/")
    code, rows = check_json(config, "--source", "nasa_rss")
    assert code == 1
    problems = rows["nasa_rss"]["problems"]
    assert problems[0].startswith("feed: not an RSS or Atom feed: '<!DOCTYPE html>")
    assert problems[1].startswith("feed: polls fail on it: rss: not an RSS or Atom feed")


def test_a_feed_whose_items_have_no_picture_is_a_changed_shape(tmp_path: Path) -> None:
    items = "".join(
        f"<item><title>Perseverance news {n}</title><link>https://www.nasa.gov/news/{n}/</link>"
        f"<description>Words only.</description></item>"
        for n in range(3)
    )
    feed = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
    )
    with NasaEmulator(rss={"": feed.encode()}) as nasa:
        config = write_config(
            tmp_path, f'[[sources]]\nname = "news"\nkind = "rss"\nurl = "{nasa.rss_url()}"\n'
        )
        code, rows = check_json(config)
    assert code == 1
    assert rows["news"]["problems"] == [
        "feed: none of its 3 items has a picture watcher can use "
        "(entry 2: https://www.nasa.gov/news/2/: no usable image URL)"
    ]


def test_a_404_is_a_changed_shape_with_its_status(tmp_path: Path, nasa: NasaEmulator) -> None:
    config = write_config(tmp_path, shipped_sources(nasa))
    missing = Fault.respond(404, b'{"reason": "Not Found"}', content_type="application/json")
    nasa.inject(missing, path_prefix="/search")
    code, rows = check_json(config, "--source", "image_library")
    assert code == 1
    row = rows["image_library"]
    assert (row["result"], row["requests"], row["checked"][0]["status"]) == ("changed", 1, 404)
    assert row["problems"][0].startswith("search: HTTP 404 Not Found")


def test_an_unreachable_host_exits_1_saying_which_once(tmp_path: Path, nasa: NasaEmulator) -> None:
    port = free_port()  # nothing listens there once the probe socket is closed
    down = f"http://127.0.0.1:{port}/rss/api/"
    config = write_config(
        tmp_path,
        raw_toml(down, "perseverance", "mars2020")
        + raw_toml(down, "ingenuity", "ingenuity")
        + f'[[sources]]\nname = "nasa_rss"\nkind = "rss"\nurl = "{nasa.rss_url()}"\n',
    )
    result = check(config)
    assert result.exit_code == 1
    reached = [line for line in result.stderr.splitlines() if "could not reach" in line]
    assert len(reached) == 1
    assert reached[0].startswith(f"could not reach 127.0.0.1:{port}: FetchConnectError: ")
    table = " ".join(result.stdout.split())
    for name in ("perseverance", "ingenuity"):
        assert f"{name} raw_images 127.0.0.1:{port} 1 unreachable: FetchConnectError:" in table
    assert f"nasa_rss rss {nasa.base_url.split('//')[1]} 1 ok" in table

    code, rows = check_json(config)
    assert code == 1
    assert {name: row["result"] for name, row in rows.items()} == {
        "perseverance": "unreachable",
        "ingenuity": "unreachable",
        "nasa_rss": "ok",
    }
    assert rows["perseverance"]["checked"][0]["status"] is None
    assert rows["perseverance"]["checked"][0]["error"].startswith("FetchConnectError: ")


def test_source_limits_the_check_to_that_source(tmp_path: Path, nasa: NasaEmulator) -> None:
    config = write_config(tmp_path, shipped_sources(nasa))
    code, rows = check_json(config, "--source", "nasa_rss")
    assert code == 0
    assert list(rows) == ["nasa_rss"]
    assert [r.path for r in nasa.requests] == ["/feed/"]


def test_an_unknown_source_exits_2_naming_the_known_ones(
    tmp_path: Path, nasa: NasaEmulator
) -> None:
    config = write_config(tmp_path, shipped_sources(nasa))
    result = check(config, "--source", "curiosity")
    assert result.exit_code == 2
    assert "no source named 'curiosity'" in result.stderr
    assert "known: perseverance, ingenuity, image_library, nasa_rss" in result.stderr
    assert nasa.requests == []


def test_a_check_writes_nothing_to_the_database(tmp_path: Path, nasa: NasaEmulator) -> None:
    config = write_config(tmp_path, shipped_sources(nasa))
    database = tmp_path / "watcher.db"
    assert check(config, "--source", "nasa_rss").exit_code == 0
    assert not database.exists()

    polled = runner.invoke(app, ["--config", str(config), "poll", "--once"])
    assert polled.exit_code == 0, polled.output

    def rows() -> tuple[list[Any], list[Any]]:
        with sqlite3.connect(database) as connection:
            states = connection.execute("SELECT * FROM poll_state ORDER BY source").fetchall()
            candidates = connection.execute("SELECT * FROM candidates ORDER BY id").fetchall()
        return states, candidates

    before = rows()
    assert len(before[0]) == 4 and before[1]
    assert check(config).exit_code == 0
    assert rows() == before


def test_the_check_that_applies_follows_the_request_the_adapter_made(tmp_path: Path) -> None:
    settings = build_settings(
        tmp_path,
        "sqlite://",
        [
            {"name": "p", "kind": "raw_images", "url": "https://mars.nasa.gov/rss/api/",
             "category": "mars2020", "interval": "10m"},
            {"name": "l", "kind": "image_library", "url": "https://images-api.nasa.gov/search",
             "queries": ["Perseverance"], "interval": "1h"},
        ],
    )  # fmt: skip
    raw = RawImagesAdapter(settings.sources[0], settings.image_hosts)
    library = ImageLibraryAdapter(settings.sources[1], settings.image_hosts)
    item = CandidateData(
        source="l", external_id="PIA1", raw={"href": "https://images-assets.nasa.gov/x.json"}
    )
    detail = library.detail_request(item)
    assert detail is not None
    named = {
        "latest=true summary": ("raw_images", raw.first_request(PollState(source="p"))),
        "listing": ("raw_images", raw.listing_request("2026-08-30T00:00:00Z")),
        "search": ("image_library", library.first_request(PollState(source="l"))),
        "asset manifest": ("image_library", detail),
        "feed": (RssAdapter.kind, raw.first_request(PollState(source="p"))),
    }
    for name, (kind, request) in named.items():
        assert shapes.expected_answer(kind, request).name == name


def test_the_rss_check_names_what_a_feed_lacks() -> None:
    assert shapes.rss_feed(b'{"items": []}')[0].startswith("not an RSS or Atom feed")
    empty = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
    assert shapes.rss_feed(empty) == ["an rss20 feed without items"]
    unnamed = empty.replace(b"</title>", b"</title><item><title>a</title></item>", 1)
    assert shapes.rss_feed(unnamed) == ["1 of 1 items have neither a link nor a guid"]
