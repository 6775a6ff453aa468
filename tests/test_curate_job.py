"""The fingerprinting job against the NASA emulator on loopback: what it measures and skips,
what it records when a picture cannot be had (and when it tries again), what it refuses,
its disk cache, its manners towards polls, ``watcher curate --once`` and the service's
loop; and the ``[curate]`` table it reads."""

from __future__ import annotations

import asyncio
import json
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from watcher.cli import app
from watcher.config import CurateConfig, FetchConfig, settings_from_dict
from watcher.core import Watcher, make_watcher
from watcher.curate.frames import GroupRules
from watcher.curate.score import ScoreWeights
from watcher.demo import Fault, NasaEmulator, SyntheticRawImages
from watcher.exceptions import ConfigError, Preempted
from watcher.fetch import Fetcher
from watcher.polling.decide import new_backfill
from watcher.service import Service
from watcher.types import CandidateData, CurateReport, PageRequest

from .conftest import Clock, build_settings, raw_toml, write_config

pytestmark = pytest.mark.timeout(110)

NAVCAM = "NLF_1965_0841393386_123ECM_N0123456NCAM00100_01_295J"
MASTCAM = "ZLF_1965_0841393386_123ECM_N0123456ZCAM00100_01_295J"
HAZCAM = "FLF_1965_0841393386_123ECM_N0123456FHAZ00100_01_295J"
ARCHIVED = "NRF_1900_0831393386_123ECM_N0123456NCAM00100_01_295J"


# -- the [curate] table --------------------------------------------------------------------


def test_the_curate_table_reads_sizes_and_durations_and_has_the_agreed_defaults() -> None:
    default = settings_from_dict({}).curate
    assert default == CurateConfig()
    assert (default.interval, default.batch, default.retry_after) == (20.0, 40, 1800.0)
    assert (default.max_picture_bytes, default.similar_distance) == (4_000_000, 10)
    weights = [getattr(default, name) for name in dir(default) if name.startswith("weight_")]
    assert sum(weights) == 100 and len(weights) == 7
    read = settings_from_dict({"curate": {"max_picture_bytes": "512KiB", "interval": "1m"}})
    assert (read.curate.max_picture_bytes, read.curate.interval) == (524_288, 60.0)


@pytest.mark.parametrize(
    "values, key, words",
    [
        ({"intervall": "20s"}, "curate.intervall", "did you mean 'interval'"),
        ({"max_picture_bytes": "4 parsecs"}, "curate.max_picture_bytes", "not a size"),
        ({"batch": 0}, "curate.batch", "outside 1..1000"),
        ({"similar_distance": 65}, "curate.similar_distance", "outside 0..64"),
        ({"sequence_min_change": 30}, "curate.sequence_min_change", "above sequence_max_change"),
        ({"weight_colour": 30}, "curate.weight_colour", "add up to 110"),
        ({"enabled": "yes"}, "curate.enabled", "not true or false"),
    ],
)
def test_a_bad_curate_value_names_the_file_and_the_key(
    tmp_path: Path, values: dict[str, Any], key: str, words: str
) -> None:
    with pytest.raises(ConfigError) as info:
        settings_from_dict({"curate": values}, path=tmp_path / "watcher.toml")
    assert str(info.value).startswith(f"{tmp_path / 'watcher.toml'}: {key}: ")
    assert words in str(info.value)


def test_the_shipped_config_documents_every_curate_key() -> None:
    shipped = Path(__file__).resolve().parent.parent / "config" / "watcher.toml"
    text = shipped.read_text()
    table = text[text.index("[curate]") :]
    for name in CurateConfig.__dataclass_fields__:
        assert f"\n{name} = " in table, name


# -- low priority at the fetcher -----------------------------------------------------------


def fetch_config() -> FetchConfig:
    return FetchConfig(contact="https://example.org/t", connect_timeout=2.0, read_timeout=5.0)


def test_a_picture_download_gives_way_to_a_poll_at_once() -> None:
    with NasaEmulator(raw_images={"mars2020": SyntheticRawImages(5)}) as nasa:
        nasa.inject(Fault.delay(3.0), path_prefix="/img/")
        picture = PageRequest(f"{nasa.base_url}/img/{NAVCAM}_small.jpg")
        poll = PageRequest(nasa.raw_images_url, (("feed", "raw_images"), ("category", "mars2020")))

        async def scenario() -> tuple[BaseException | None, float]:
            async with Fetcher(fetch_config()) as fetcher:
                download = asyncio.create_task(fetcher.get(picture, low_priority=True))
                await asyncio.sleep(0.3)  # the download holds the host's only slot
                started = time.monotonic()
                await fetcher.get(poll)
                waited = time.monotonic() - started
                outcome = await asyncio.gather(download, return_exceptions=True)
                return (outcome[0] if isinstance(outcome[0], BaseException) else None), waited

        error, waited = asyncio.run(scenario())
    assert isinstance(error, Preempted) and error.url == picture.url
    assert waited < 1.5  # not the 3 s the picture would have taken


def test_a_picture_download_waits_while_a_poll_holds_the_slot() -> None:
    with NasaEmulator(raw_images={"mars2020": SyntheticRawImages(5)}, latency=0.3) as nasa:
        picture = PageRequest(f"{nasa.base_url}/img/{NAVCAM}_small.jpg")
        poll = PageRequest(nasa.raw_images_url, (("feed", "raw_images"), ("category", "mars2020")))

        async def scenario() -> list[str]:
            finished: list[str] = []

            async def get(name: str, request: PageRequest, low: bool) -> None:
                await fetcher.get(request, low_priority=low)
                finished.append(name)

            async with Fetcher(fetch_config()) as fetcher:
                first = asyncio.create_task(get("poll", poll, False))
                await asyncio.sleep(0.05)
                await asyncio.gather(first, get("picture", picture, True))
            return finished

        assert asyncio.run(scenario()) == ["poll", "picture"]
        assert nasa.max_in_flight == 1


def test_a_cancelled_download_frees_the_hosts_slot() -> None:
    with NasaEmulator(raw_images={"mars2020": SyntheticRawImages(5)}) as nasa:
        nasa.inject(Fault.delay(3.0), path_prefix="/img/", times=2)
        picture = PageRequest(f"{nasa.base_url}/img/{NAVCAM}_small.jpg")
        poll = PageRequest(nasa.raw_images_url, (("feed", "raw_images"), ("category", "mars2020")))

        async def scenario() -> float:
            async with Fetcher(fetch_config()) as fetcher:
                for low in (True, False):  # a service stopping mid-download, either priority
                    download = asyncio.create_task(fetcher.get(picture, low_priority=low))
                    await asyncio.sleep(0.3)
                    download.cancel()
                    with pytest.raises(asyncio.CancelledError):
                        await download
                started = time.monotonic()
                await asyncio.wait_for(fetcher.get(poll), timeout=2)
                return time.monotonic() - started

        assert asyncio.run(scenario()) < 1.5


# -- the job -------------------------------------------------------------------------------


@dataclass
class Curating:
    nasa: NasaEmulator
    watcher: Watcher
    clock: Clock

    def picture(self, imageid: str, *, host: str | None = None) -> str:
        base = self.nasa.base_url if host is None else f"http://{host}:{self.nasa.port}"
        return f"{base}/img/{imageid}_small.jpg"

    def add(self, *names: str, backfilled: bool = False, url: str | None = None) -> None:
        items = [
            CandidateData(
                source="perseverance",
                external_id=f"{name}-{index}",
                camera=name[:2],
                thumbnail_url=url or self.picture(name),
            )
            for index, name in enumerate(names)
        ]
        store = self.watcher.store
        if backfilled:
            first = PageRequest(self.nasa.raw_images_url)
            store.save_backfill_page(items, new_backfill("perseverance", 1, 1, first, self.clock()))
        else:
            store.add_candidates(items, self.clock())

    def ids(self) -> dict[str, int]:
        found = self.watcher.list_candidates(status=None, limit=None)
        return {c.external_id: c.id for c in found}

    def round(self, **options: Any) -> CurateReport:
        return asyncio.run(self.watcher.curate_once(**options))


@pytest.fixture
def curating(tmp_path: Path, clock: Clock) -> Iterator[Curating]:
    with NasaEmulator(rss={"": b"<rss version='2.0'></rss>"}) as nasa:
        settings = build_settings(
            tmp_path, f"sqlite:///{tmp_path / 'watcher.db'}", curate={"enabled": True}
        )
        watcher = make_watcher(settings, clock=clock)
        watcher.prepare_database()
        yield Curating(nasa, watcher, clock)
        asyncio.run(watcher.aclose())


def test_new_candidates_are_fingerprinted_and_the_archive_only_when_asked(
    curating: Curating,
) -> None:
    curating.add(NAVCAM, MASTCAM)
    curating.add(ARCHIVED, backfilled=True)
    report = curating.round()
    assert (report.fingerprinted, report.failed, report.waiting) == (2, 0, 0)
    assert report.requests == 2 and curating.nasa.request_count("/img/") == 2
    ids = curating.ids()
    found = curating.watcher.fingerprints_for(list(ids.values()))
    assert set(found) == {ids[f"{NAVCAM}-0"], ids[f"{MASTCAM}-1"]}
    assert found[ids[f"{NAVCAM}-0"]].colourfulness < 0.02 < found[ids[f"{MASTCAM}-1"]].colourfulness
    assert curating.round() == CurateReport()
    archive = curating.round(backfilled=True)
    assert (archive.fingerprinted, archive.waiting) == (1, 0)
    assert ids[f"{ARCHIVED}-0"] in curating.watcher.fingerprints_for([ids[f"{ARCHIVED}-0"]])


def test_a_broken_picture_is_recorded_and_tried_again_only_after_retry_after(
    curating: Curating,
) -> None:
    nasa = curating.nasa
    nasa.inject(Fault.respond(404, b"Not Found"), path_prefix=f"/img/{NAVCAM}", times=1)
    nasa.inject(Fault.html_page(), path_prefix=f"/img/{HAZCAM}", times=None)
    curating.add(NAVCAM, HAZCAM, MASTCAM)
    first = curating.round()
    assert (first.fingerprinted, first.failed, first.retrying) == (1, 2, 2)
    why = dict(first.failures)
    ids = curating.ids()
    assert "HTTP 404" in why[ids[f"{NAVCAM}-0"]]
    assert "is not a picture" in why[ids[f"{HAZCAM}-1"]]
    asked = nasa.request_count("/img/")
    curating.clock.advance(29 * 60)
    assert curating.round() == CurateReport(retrying=2)
    assert nasa.request_count("/img/") == asked
    curating.clock.advance(2 * 60)
    again = curating.round()
    assert (again.fingerprinted, again.failed, again.retrying) == (1, 1, 1)
    assert nasa.request_count("/img/") == asked + 2
    failure = curating.watcher.store.picture_failure(ids[f"{HAZCAM}-1"])
    assert failure is not None and failure.attempts == 2
    assert failure.retry_at - failure.failed_at == timedelta(hours=1)  # the wait doubled


def test_a_picture_over_the_size_cap_is_refused(tmp_path: Path, clock: Clock) -> None:
    with NasaEmulator() as nasa:
        settings = build_settings(
            tmp_path, f"sqlite:///{tmp_path / 'w.db'}", curate={"max_picture_bytes": 2048}
        )
        watcher = make_watcher(settings, clock=clock)
        watcher.prepare_database()
        curating = Curating(nasa, watcher, clock)
        curating.add(MASTCAM)
        report = curating.round()
        asyncio.run(watcher.aclose())
    assert (report.fingerprinted, report.failed) == (0, 1)
    assert "is larger than 2,048 bytes" in report.failures[0][1]


def test_the_disk_cache_answers_a_picture_seen_before(curating: Curating) -> None:
    curating.add(MASTCAM, MASTCAM)  # one picture, two candidates (seen by two sources)
    report = curating.round()
    assert (report.fingerprinted, report.requests, report.cached) == (2, 1, 1)
    assert curating.nasa.request_count("/img/") == 1
    cache = curating.watcher.settings.publish.cache_dir / "pictures"
    assert len([p for p in cache.rglob("*") if p.is_file()]) == 1


def test_a_picture_off_the_allowed_hosts_is_never_fetched(curating: Curating) -> None:
    curating.add(NAVCAM, url=curating.picture(NAVCAM, host="localhost"))
    elsewhere = f"http://localhost:{curating.nasa.port}/img/{HAZCAM}_small.jpg"
    moved = Fault.respond(302, headers=(("Location", elsewhere),))
    curating.nasa.inject(moved, path_prefix=f"/img/{MASTCAM}", times=None)
    curating.add(MASTCAM)
    report = curating.round()
    why = dict(report.failures)
    ids = curating.ids()
    assert (report.fingerprinted, report.failed) == (0, 2)
    assert why[ids[f"{NAVCAM}-0"]] == "has no picture on an allowed host"
    redirected = why[ids[f"{MASTCAM}-0"]]
    assert redirected.endswith("was redirected off the allowed image hosts, to " + elsewhere)
    assert curating.nasa.request_count(f"/img/{NAVCAM}") == 0


def test_a_poll_needing_the_host_ends_the_round_and_costs_the_pictures_nothing(
    curating: Curating,
) -> None:
    curating.nasa.inject(Fault.delay(3.0), path_prefix="/img/")
    curating.add(NAVCAM, MASTCAM)
    poll = PageRequest(f"{curating.nasa.base_url}/feed/")

    async def scenario() -> CurateReport:
        job = asyncio.create_task(curating.watcher.curate_once())
        await asyncio.sleep(0.5)
        await curating.watcher.fetcher.get(poll)
        return await job

    report = asyncio.run(scenario())
    assert (report.fingerprinted, report.failed, report.deferred) == (0, 0, 2)
    assert report.waiting == 2 and report.retrying == 0
    assert curating.round().fingerprinted == 2


# -- the CLI and the service ----------------------------------------------------------------

runner = CliRunner()


def test_curate_once_fingerprints_what_a_poll_brought(tmp_path: Path) -> None:
    with NasaEmulator(raw_images={"mars2020": SyntheticRawImages(5)}, rewrite_images=True) as nasa:
        config = str(write_config(tmp_path, raw_toml(nasa.raw_images_url)))
        assert runner.invoke(app, ["-c", config, "poll", "--once"]).exit_code == 0
        first = runner.invoke(app, ["-c", config, "curate", "--once", "--limit", "3", "--json"])
        assert first.exit_code == 0, first.output
        rest = runner.invoke(app, ["curate", "--once", "-c", config])
        assert rest.exit_code == 0, rest.output
        pictures = nasa.request_count("/img/")
    report = json.loads(first.stdout)
    assert (report["fingerprinted"], report["failed"], report["waiting"]) == (3, 0, 2)
    assert report["failures"] == [] and report["busy"] is False
    assert "2 fingerprinted, 0 failed (tried again later); 0 waiting" in rest.stdout
    assert pictures == 5
    without = runner.invoke(app, ["-c", config, "curate"])
    assert without.exit_code == 2 and "--once" in without.stderr


def test_the_service_fingerprints_in_the_background_and_stops_cleanly(
    tmp_path: Path, clock: Clock
) -> None:
    with NasaEmulator() as nasa:
        settings = build_settings(
            tmp_path,
            f"sqlite:///{tmp_path / 'watcher.db'}",
            curate={"enabled": True, "interval": "0.2s"},
        )
        watcher = make_watcher(settings)
        watcher.prepare_database()
        Curating(nasa, watcher, clock).add(NAVCAM, MASTCAM)

        async def scenario() -> tuple[int, int, float]:
            service = Service(watcher, web=False)
            task = asyncio.create_task(service.run())
            found: dict[int, Any] = {}
            for _ in range(100):
                await asyncio.sleep(0.1)
                found = await asyncio.to_thread(watcher.fingerprints_for, [1, 2])
                if len(found) == 2:
                    break
            started = time.monotonic()
            service.stop()
            await task
            stopped_in = time.monotonic() - started
            await watcher.aclose()
            return len(found), service.curation.errors, stopped_in

        measured, errors, stopped_in = asyncio.run(scenario())
    assert (measured, errors) == (2, 0)
    assert stopped_in < 5


def test_the_rules_defaults_are_the_configs() -> None:
    """The grouping and scoring rules take the ``[curate]`` values as their parameters: the
    defaults of both, and of the shipped config file, are one set of numbers."""
    config = CurateConfig()
    for rules in (GroupRules(), ScoreWeights()):
        for field in fields(rules):
            value = getattr(rules, field.name)
            if isinstance(value, timedelta):
                value = value.total_seconds()
            assert getattr(config, field.name) == value, field.name
    shipped = tomllib.loads((Path(__file__).parents[1] / "config" / "watcher.toml").read_text())
    assert settings_from_dict({"curate": shipped["curate"]}).curate == config
