"""Curation's scores and groups, wired: stored (SQLite and PostgreSQL) and listed by score
and one card per group; computed by the curation job from the emulator's pictures; shown
by ``watcher queue --json`` (``--sort score``, ``--grouped``) and the JSON API."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from watcher.cli import app
from watcher.config import CurateConfig
from watcher.core import make_watcher
from watcher.curate.grouper import curation_plan
from watcher.db import Store
from watcher.demo import NasaEmulator, RecordedRawImages
from watcher.demo.packaged import demo_scenes
from watcher.plans import CurationPlan, GroupRow, ScoreRow
from watcher.types import CandidateData, CandidateFilter, CandidateStatus, Role, TokenScope

from .conftest import PASSWORD, Clock, WebApp, build_settings, raw_toml, write_config

pytestmark = pytest.mark.timeout(110)

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
runner = CliRunner()


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    store.upgrade()
    yield store
    store.close()


def seed(store: Store, count: int) -> list[int]:
    """``count`` new candidates of one sol, oldest first; their ids."""
    records = [
        CandidateData(
            source="perseverance",
            external_id=f"NLF_1965_{number:04d}",
            title=f"frame {number}",
            camera="NAVCAM_LEFT",
            sol=1965,
            taken_at=NOW + timedelta(seconds=number),
        )
        for number in range(count)
    ]
    store.add_candidates(records, NOW)
    return [c.id for c in reversed(store.list_candidates(limit=None))]


def scored(ids: list[int], values: list[float | None]) -> CurationPlan:
    return CurationPlan(
        scores=tuple(
            ScoreRow(i, value, ("colour camera",), f"d{i}")
            for i, value in zip(ids, values, strict=True)
            if value is not None
        )
    )


def test_scores_and_groups_are_stored_and_listed_by_score_then_newest_unscored(
    store: Store,
) -> None:
    ids = seed(store, 6)
    store.save_curation(scored(ids, [40.0, 90.0, None, 40.0, 10.5, None]))
    wanted = CandidateFilter()
    every = store.list_cards(wanted, by_score=True, grouped=False, limit=10)
    assert [c.id for c in every] == [ids[1], ids[3], ids[0], ids[4], ids[5], ids[2]]
    assert every[0].score == 90.0 and every[0].score_reasons == ("colour camera",)
    pages, before = [], None
    while True:
        page = store.list_cards(wanted, by_score=True, grouped=False, limit=2, before_id=before)
        pages += [c.id for c in page]
        if len(page) < 2:
            break
        before = page[-1].id
    assert pages == [c.id for c in every]
    assert store.score_digests(ids[:3]) == {
        ids[0]: f"d{ids[0]}",
        ids[1]: f"d{ids[1]}",
        ids[2]: None,
    }


def test_a_grouped_listing_shows_each_groups_hero_and_the_frames_alone(store: Store) -> None:
    ids = seed(store, 5)
    leader = ids[0]
    rows = [GroupRow(i, leader, "similar", 3, i == ids[2]) for i in ids[:3]]
    store.save_curation(
        CurationPlan(scores=scored(ids, [50.0, 20.0, 80.0, 60.0, None]).scores, groups=tuple(rows))
    )
    wanted = CandidateFilter()
    cards = store.list_cards(wanted, by_score=True, grouped=True, limit=10)
    assert [c.id for c in cards] == [ids[2], ids[3], ids[4]]
    assert (cards[0].group, cards[0].group_size, cards[0].group_kind) == (leader, 3, "similar")
    assert (cards[1].group, cards[1].group_size, cards[1].kind) == (None, 1, "frame")
    newest = store.list_cards(wanted, by_score=False, grouped=True, limit=10)
    assert [c.id for c in newest] == [ids[4], ids[3], ids[2]]
    members = store.group_members([leader])
    assert [m.id for m in members[leader]] == ids[:3]
    approved = store.list_cards(
        CandidateFilter(status=CandidateStatus.APPROVED), by_score=True, grouped=True
    )
    assert approved == []


# -- the job, the CLI and the API on the emulator's pictures -------------------------------


def queue(config: str, *args: str) -> list[dict[str, Any]]:
    result = runner.invoke(app, ["-c", config, "queue", "--json", "--limit", "0", *args])
    assert result.exit_code == 0, result.output
    items: list[dict[str, Any]] = json.loads(result.stdout)
    return items


@pytest.fixture(scope="module")
def curated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Any]]]:
    """The demo's hand-made scenes polled and curated once: (config path, the report)."""
    tmp_path = tmp_path_factory.mktemp("curated")
    scenes = demo_scenes()
    dataset = RecordedRawImages(scenes.perseverance)
    with NasaEmulator(
        raw_images={"mars2020": dataset}, rewrite_images=True, scenes=scenes.shots
    ) as nasa:
        config = str(write_config(tmp_path, raw_toml(nasa.raw_images_url)))
        polled = runner.invoke(app, ["-c", config, "poll", "--once"])
        assert polled.exit_code == 0, polled.output
        done = runner.invoke(app, ["-c", config, "curate", "--once", "--limit", "500", "--json"])
        assert done.exit_code == 0, done.output
        yield config, json.loads(done.stdout)


def test_the_job_groups_and_scores_what_it_fingerprinted(
    curated: tuple[str, dict[str, Any]],
) -> None:
    config, report = curated
    frames = queue(config)
    assert report["fingerprinted"] == len(frames) > 0
    assert report["scored"] == len(frames) and report["groups"] >= 3
    assert all(isinstance(item["score"], float) and item["score_reasons"] for item in frames)
    assert all(0 <= item["score"] <= 100 for item in frames)
    grouped = [item for item in frames if item["group"] is not None]
    assert grouped and all(item["group_size"] >= 2 for item in grouped)
    assert all(item["group_size"] == 1 for item in frames if item["group"] is None)


def test_queue_sorts_by_score_and_lists_one_item_per_group_with_its_members(
    curated: tuple[str, dict[str, Any]],
) -> None:
    config, _ = curated
    frames = queue(config)
    by_score = queue(config, "--sort", "score")
    assert sorted(c["id"] for c in by_score) == sorted(c["id"] for c in frames)
    values = [c["score"] for c in by_score]
    assert values == sorted(values, reverse=True)
    cards = queue(config, "--grouped", "--sort", "score")
    assert len(cards) < len(frames)
    members = [m for card in cards for m in card["members"]]
    assert sorted(members) == sorted(c["id"] for c in frames)
    sequence = [card for card in cards if card["kind"] == "sequence"]
    assert sequence, "the dust devil is offered as a sequence"
    taken = {c["id"]: c["taken_at"] for c in frames}
    for card in sequence:
        assert card["id"] in card["members"] and card["group_size"] == len(card["members"])
        assert [taken[m] for m in card["members"]] == sorted(taken[m] for m in card["members"])
    text = runner.invoke(app, ["-c", config, "queue", "--grouped", "--sort", "score"])
    assert text.exit_code == 0, text.output
    assert f"{len(cards)} card(s) of {len(frames)} candidate(s)" in text.stdout
    header = text.stdout.splitlines()[0]
    assert header.split()[:3] == ["id", "score", "group"]
    hero = cards[0]
    row = next(line for line in text.stdout.splitlines() if line.startswith(f"{hero['id']} "))
    assert row.split()[1] == str(round(hero["score"]))
    assert f"sequence · {sequence[0]['group_size']} frames" in text.stdout


def test_the_queue_table_by_time_keeps_its_columns(curated: tuple[str, dict[str, Any]]) -> None:
    config, _ = curated
    text = runner.invoke(app, ["-c", config, "queue"])
    assert text.exit_code == 0, text.output
    assert "score" not in text.stdout.splitlines()[0]
    assert f"{len(queue(config))} candidate(s)" in text.stdout


def test_the_api_lists_by_score_and_by_group_as_the_cli_does(web: WebApp) -> None:
    ids = web.seed(5)
    group = tuple(GroupRow(i, ids[0], "sequence", 3, i == ids[1]) for i in ids[:3])
    plan = scored(ids, [30.0, 70.0, 10.0, 50.0, None])
    web.watcher.store.save_curation(CurationPlan(scores=plan.scores, groups=group))
    _, secret = web.watcher.create_api_token("bot", TokenScope.READ)
    read = {"Authorization": f"Bearer {secret}"}
    with TestClient(web.app, base_url="http://127.0.0.1:8000") as client:
        listed = client.get("/api/v1/candidates?sort=score&limit=2", headers=read)
        assert listed.status_code == 200, listed.text
        first = listed.json()
        assert [c["id"] for c in first["items"]] == [ids[1], ids[3]]
        assert "members" not in first["items"][0]
        after = client.get(first["next"], headers=read).json()
        assert [c["id"] for c in after["items"]] == [ids[0], ids[2]]
        cards = client.get("/api/v1/candidates?sort=score&grouped=true", headers=read).json()
        schema = client.get("/api/v1/openapi.json").json()
    hero = cards["items"][0]
    assert [c["id"] for c in cards["items"]] == [ids[1], ids[3], ids[4]]
    assert (hero["kind"], hero["group"], hero["members"]) == ("sequence", ids[0], ids[:3])
    assert (hero["score"], hero["score_reasons"], hero["group_size"]) == (
        70.0,
        ["colour camera"],
        3,
    )
    assert cards["items"][2]["members"] == [ids[4]] and cards["items"][2]["score"] is None
    names = {p["name"] for p in schema["paths"]["/api/v1/candidates"]["get"]["parameters"]}
    assert {"sort", "grouped"} <= names


# -- the editor's queue page -----------------------------------------------------------------


@pytest.fixture
def curating_web(tmp_path: Path, clock: Clock) -> Iterator[WebApp]:
    """The app with curation on (so the queue is grouped by default), on SQLite."""
    settings = build_settings(tmp_path, f"sqlite:///{tmp_path / 'w.db'}", curate={"enabled": True})
    watcher = make_watcher(settings, clock=clock, rand=lambda: 0.0)
    watcher.prepare_database()
    watcher.add_editor("alice", PASSWORD, Role.EDITOR)
    yield WebApp(watcher)
    asyncio.run(watcher.aclose())


def card_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-card data-id="(\d+)"', html)]


def test_the_queue_shows_one_card_per_group_with_its_badges_and_sorts_by_score(
    curating_web: WebApp,
) -> None:
    web = curating_web
    ids = web.seed(6)
    group = tuple(GroupRow(i, ids[0], "similar", 4, i == ids[2]) for i in ids[:4])
    plan = scored(ids, [30.0, 20.0, 73.4, 10.0, 50.0, None])
    web.watcher.store.save_curation(CurationPlan(scores=plan.scores, groups=group))
    browser = web.browser("alice")
    newest = browser.get("/editor?sort=time").text
    assert card_ids(newest) == [ids[5], ids[4], ids[2]]
    assert 'data-sort="time" aria-current="true"' in newest
    assert '<input type="hidden" name="sort" value="time">' in newest
    hero = newest[newest.index(f'id="card-{ids[2]}"') :]
    hero = hero[: hero.index("</li>\n    <li") if "</li>\n    <li" in hero else len(hero)]
    assert '<li class="badge badge-group">4 similar</li>' in hero
    assert '<li class="badge badge-score">73</li>' in hero
    assert '<li class="chip">colour camera</li>' in hero
    assert f'href="/editor?group={ids[0]}" data-group-link>show all 4</a>' in hero
    assert hero.count("<li><a href=") == 4  # the group's frames as thumbnails
    by_score = browser.get("/editor").text  # the default order
    assert card_ids(by_score) == [ids[2], ids[4], ids[5]]
    assert 'data-sort="score" aria-current="true"' in by_score
    assert 'name="sort"' not in by_score
    assert card_ids(browser.get("/editor?sort=score").text) == card_ids(by_score)
    members = browser.get(f"/editor?group={ids[0]}").text
    assert card_ids(members) == ids[:4] and "data-group-shown" in members
    every = browser.get("/editor?grouped=no&sort=time").text
    assert card_ids(every) == ids[::-1]
    every_by_score = card_ids(browser.get("/editor?grouped=no").text)
    assert every_by_score == [ids[2], ids[4], ids[0], ids[1], ids[3], ids[5]]  # unscored last


def test_deciding_a_groups_hero_makes_its_best_new_member_the_card(store: Store) -> None:
    ids = seed(store, 4)
    group = tuple(GroupRow(i, ids[0], "similar", 3, i == ids[1]) for i in ids[:3])
    plan = scored(ids, [60.0, 90.0, None, 10.0])
    store.save_curation(CurationPlan(scores=plan.scores, groups=group))
    store.reject(ids[1], None, None, "alice", NOW)
    cards = store.list_cards(CandidateFilter(), by_score=True, grouped=True)
    assert [c.id for c in cards] == [ids[0], ids[3]]


def test_a_score_is_rewritten_only_when_its_inputs_changed(store: Store) -> None:
    ids = seed(store, 3)
    window = store.curation_window(ids)
    config = CurateConfig()
    first, _ = curation_plan(config, window, {}, (), (), {})
    assert sorted(row.candidate_id for row in first.scores) == sorted(ids)
    assert all("not yet measured" in row.reasons for row in first.scores)
    digests = {row.candidate_id: row.digest for row in first.scores}
    again, _ = curation_plan(config, window, {}, (), (), digests)
    assert again.scores == ()
    heavier, _ = curation_plan(
        replace(config, weight_colour=35, weight_golden_hour=0), window, {}, (), (), digests
    )
    assert len(heavier.scores) == 3
