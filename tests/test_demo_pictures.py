"""The demo's raster pictures: right format, size and colour, deterministic, cached on disk,
served by the emulator; the hand-made scenes in its datasets; and a dust devil backfilled,
approved and published as an animation, everything on 127.0.0.1."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageChops, ImageFilter, ImageStat

from watcher.core import Watcher
from watcher.demo import DemoScenes, NasaEmulator, Pictures, demo_emulator, demo_scenes
from watcher.demo.pictures import SIZES, default_shot, render
from watcher.demo.records import RecordFactory
from watcher.types import Actor, EntryDraft, Role

from .conftest import raw_source, run

ALICE = Actor("alice", Role.EDITOR)
NAVCAM = "NLF_1965_0841384000_000ECM_N1040705NCAM00001_01_001J"  # no scene: an ordinary frame
RAW = "feed=raw_images&feedtype=json&num=100"


@cache
def scenes() -> DemoScenes:
    return demo_scenes()


@pytest.fixture(scope="module")
def nasa() -> Iterator[NasaEmulator]:
    with demo_emulator(release_every=0) as emulator:
        yield emulator


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as made:
        yield made


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def picture(imageid: str, size: str = "medium") -> Image.Image:
    return decoded(Pictures(shots=scenes().shots).get(imageid, size))


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / len(a.getbands())


def sol_records(client: httpx.Client, nasa: NasaEmulator, category: str, sol: int) -> list[Any]:
    answer = client.get(
        f"{nasa.raw_images_url}?{RAW}&category={category}&condition_2={sol}:sol:gte&order=sol+asc"
    )
    assert answer.status_code == 200, answer.text
    images: list[Any] = answer.json()["images"]
    return images


def summary(client: httpx.Client, nasa: NasaEmulator, category: str) -> dict[str, Any]:
    """NASA's summary of the category's newest downlink (``latest=true``)."""
    answer = client.get(f"{nasa.raw_images_url}?{RAW}&category={category}&latest=true")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def stamp(value: str) -> datetime:
    """NASA's ``date_received`` (``...Z``) or ``date_taken_utc`` (no zone, UTC)."""
    return datetime.fromisoformat(value.removesuffix("Z")).replace(tzinfo=UTC)


# -- pictures -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", list(SIZES))
def test_pictures_are_jpeg_at_browse_sizes_and_png_at_full_size(size: str) -> None:
    image = decoded(render(default_shot(NAVCAM), size))
    assert image.format == ("PNG" if size == "full_res" else "JPEG")
    assert image.size == SIZES[size]


@pytest.mark.parametrize("prefix", ["NLF", "NRF", "FLF", "RRF", "HNF"])
def test_navcam_hazcam_and_helicopter_navcam_pictures_are_greyscale(prefix: str) -> None:
    image = decoded(render(default_shot(f"{prefix}_1965_0841384963_480ECM"), "small"))
    assert image.mode == "L"
    red, green, blue = image.convert("RGB").split()
    assert ImageChops.difference(red, green).getbbox() is None
    assert ImageChops.difference(green, blue).getbbox() is None
    assert ImageStat.Stat(image).stddev[0] > 10  # a scene, not a flat grey


@pytest.mark.parametrize("prefix", ["ZLF", "ZRF", "SIF", "HSF"])
def test_mastcam_z_watson_and_helicopter_colour_pictures_are_mars_coloured(prefix: str) -> None:
    image = decoded(render(default_shot(f"{prefix}_1965_0841388261_727ECM"), "small"))
    assert image.mode == "RGB"
    red, green, blue = ImageStat.Stat(image).mean
    assert red > green + 15 and green > blue + 10  # rust and butterscotch, not grey


def test_any_other_name_gets_a_seeded_colour_scene() -> None:
    first, second = render(default_shot("PIA23764"), "small"), render(default_shot("x"), "small")
    assert decoded(first).mode == "RGB" and first != second


def test_one_name_gives_the_same_bytes_in_another_process() -> None:
    here = hashlib.sha256(render(default_shot(NAVCAM), "medium")).hexdigest()
    code = (
        "import hashlib\n"
        "from watcher.demo.pictures import default_shot, render\n"
        f"print(hashlib.sha256(render(default_shot({NAVCAM!r}), 'medium')).hexdigest())\n"
    )
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert other.stdout.strip() == here


def test_pictures_are_cached_on_disk_and_read_back(tmp_path: Path) -> None:
    pictures = Pictures(tmp_path / "pictures", scenes().shots)
    first = pictures.get(NAVCAM, "small")
    assert pictures.get(NAVCAM, "small") == first == Pictures().get(NAVCAM, "small")
    path = pictures.path(NAVCAM, "small")
    assert path is not None and path.read_bytes() == first
    assert [p.name for p in (tmp_path / "pictures").iterdir()] == [path.name]  # no temp left
    path.write_bytes(b"from the cache")
    assert Pictures(tmp_path / "pictures", scenes().shots).get(NAVCAM, "small") == (
        b"from the cache"
    )
    with pytest.raises(ValueError):
        pictures.get("../escape", "small")


def test_stereo_twins_show_one_scene_a_few_pixels_apart() -> None:
    for left_id, right_id in scenes().stereo:
        assert left_id[1] == "L" and right_id[1] == "R" and left_id[2:] == right_id[2:]
        # Blurred, so the sensor grain (different in each eye) does not hide the scene.
        left, right = (picture(i).filter(ImageFilter.GaussianBlur(2)) for i in (left_id, right_id))
        width, height = left.size
        errors = {
            shift: mean_difference(
                left.crop((40 + shift, 0, width - 40 + shift, height)),
                right.crop((40, 0, width - 40, height)),
            )
            for shift in range(-20, 21)
        }
        best = min(errors, key=errors.__getitem__)
        assert 4 <= abs(best) <= 16, errors
        assert errors[0] > 2 * errors[best] and errors[best] < 2


def test_dust_devil_moves_across_the_navcam_frames() -> None:
    ids = scenes().dust_devil
    assert 8 <= len(ids) <= 12
    centres = []
    for imageid in ids:
        shot = scenes().shots[imageid]
        frame = decoded(render(shot, "medium"))
        clear = decoded(render(replace(shot, devil=None), "medium"))
        box = ImageChops.difference(frame, clear).point(lambda v: 255 if v > 24 else 0).getbbox()
        assert box is not None, imageid
        centres.append((box[0] + box[2]) / 2)
    assert all(b - a > 20 for a, b in itertools.pairwise(centres)), centres
    assert centres[0] < 200 and centres[-1] > 600


def test_ingenuity_shadow_grows_and_moves_across_the_frames() -> None:
    ids = scenes().shadow
    assert 8 <= len(ids) <= 12
    areas, places = [], []
    for imageid in ids:
        shot = scenes().shots[imageid]
        frame = decoded(render(shot, "small"))
        bare = decoded(render(replace(shot, shadow=None), "small"))
        dark = ImageChops.subtract(bare, frame).point(lambda v: 255 if v > 40 else 0)
        areas.append(sum(ImageStat.Stat(dark).sum) / 255)
        box = dark.getbbox()
        assert box is not None and frame.mode == "L"
        places.append(box)
    assert areas[-1] > 2 * areas[0], areas
    assert all(b > 0.95 * a for a, b in itertools.pairwise(areas)), areas  # blades turn
    assert places[-1][0] > places[0][0] and places[-1][1] < places[0][1]


def test_near_identical_repeats_differ_only_a_little() -> None:
    first, *others = (picture(imageid) for imageid in scenes().repeats)
    other_scene = picture(scenes().dust_devil[0])
    for frame in others:
        assert 0 < mean_difference(first, frame) < 4
    assert mean_difference(first, other_scene) > 10


def test_the_real_captures_three_tiles_line_up_into_one_frame() -> None:
    left, middle, right = (picture(imageid, "large") for imageid in scenes().tiles)
    width, height = left.size
    overlap = round(15 * width / 1288)  # the capture's tiles share 16 sensor columns

    def edge(image: Image.Image, start: int) -> Image.Image:
        return image.crop((start, 0, start + overlap - 1, height))

    joined = mean_difference(edge(left, width - overlap), edge(middle, 0))
    joined_too = mean_difference(edge(middle, width - overlap), edge(right, 0))
    unrelated = mean_difference(edge(left, width - overlap), edge(right, 0))
    assert joined < 6 and joined_too < 6 and unrelated > 2 * max(joined, joined_too)


def test_forcing_the_camera_the_factory_would_pick_changes_nothing() -> None:
    factory = RecordFactory("mars2020", seed=2020)
    for salt in range(30):
        made = dict(sol=1965, lmst_ms=50_000_000, received_s=1_800_000_000, salt=salt)
        assert factory.make(**made) == factory.make(**made, camera=factory.camera_for(salt))


# -- served over HTTP ---------------------------------------------------------------------


def test_the_emulator_serves_jpeg_and_png_cached_for_a_day(
    tmp_path: Path, client: httpx.Client
) -> None:
    emulator = demo_emulator(release_every=0, picture_dir=tmp_path / "pictures")
    with emulator as nasa:
        [record] = [
            r
            for r in sol_records(client, nasa, "mars2020", 1965)
            if r["imageid"] == scenes().dust_devil[0]
        ]
        files = record["image_files"]
        for size, kind, mode in (("small", "image/jpeg", "L"), ("full_res", "image/png", "L")):
            answer = client.get(files[size])
            assert answer.status_code == 200, files[size]
            assert answer.headers["Content-Type"] == kind
            assert answer.headers["Cache-Control"] == "public, max-age=86400"
            image = decoded(answer.content)
            assert image.size == SIZES[size] and image.mode == mode
        assert {p.suffix for p in (tmp_path / "pictures").iterdir()} == {".jpg", ".png"}
        search = client.get(nasa.image_library_url, params={"q": "mars"}).json()["collection"]
        preview = next(
            lk["href"] for i in search["items"] for lk in i["links"] if lk.get("rel") == "preview"
        )
        assert preview.endswith("~thumb.jpg") and client.get(preview).status_code == 200
        manifest = client.get(search["items"][1]["href"]).json()
        renditions = {url.rpartition("~")[2]: url for url in manifest}
        assert renditions.keys() >= {"orig.png", "large.jpg", "medium.jpg", "thumb.jpg"}
        original = client.get(renditions["orig.png"])
        assert original.headers["Content-Type"] == "image/png"
        assert decoded(original.content).size == SIZES["full_res"]


@pytest.mark.parametrize(
    "name",
    [
        "%3Cscript%3E_small.jpg",
        "..%2F..%2Fetc%2Fpasswd_small.jpg",
        ".hidden_small.jpg",
        "NLF_1965_small.png",
        "NLF_1965_full_res.jpg",
        "NLF_1965_huge.jpg",
        "NLF_1965_small.jpg%00",
        "NLF_1965_small.jpg/more",
        "NLF_1965_small.gif",
        "A" * 200 + "_small.jpg",
    ],
)
def test_hostile_or_malformed_picture_names_get_404(
    nasa: NasaEmulator, client: httpx.Client, name: str
) -> None:
    answer = client.get(f"{nasa.base_url}/img/{name}")
    assert answer.status_code == 404 and answer.headers["Content-Type"] == "text/plain"


# -- the scenes in the demo's datasets ----------------------------------------------------


def test_scene_records_are_in_the_demo_datasets_with_nasas_shape(
    nasa: NasaEmulator, client: httpx.Client, nasa_fixtures: Path
) -> None:
    real = json.loads((nasa_fixtures / "m2020_raw_images_sol1965_navcam_right_p0.json").read_text())
    shape = real["images"][0]
    last_sol = summary(client, nasa, "ingenuity")["latest_sol"]
    served = {r["imageid"]: r for r in sol_records(client, nasa, "mars2020", 1965)}
    served |= {r["imageid"]: r for r in sol_records(client, nasa, "ingenuity", last_sol)}

    def unrewritten(record: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in record.items() if key != "image_files"}

    for record in scenes().perseverance + scenes().ingenuity:
        assert unrewritten(served[record["imageid"]]) == unrewritten(record)
        assert list(record) == list(shape) and list(record["extended"]) == list(shape["extended"])
        assert list(record["camera"]) == list(shape["camera"])
        assert list(record["image_files"]) == list(shape["image_files"])
    assert {served[i]["camera"]["instrument"] for i in scenes().dust_devil} == {"NAVCAM_LEFT"}
    assert {served[i]["camera"]["instrument"] for i in scenes().shadow} == {"HELI_NAV"}
    assert {served[i]["sol"] for i in scenes().dust_devil} == {1965}
    assert {served[i]["sol"] for i in scenes().shadow} == {last_sol}
    for left, right in scenes().stereo:
        assert served[left]["extended"]["sclk"] == served[right]["extended"]["sclk"]
        assert served[left]["camera"]["instrument"].endswith("LEFT")
        assert served[right]["camera"]["instrument"].endswith("RIGHT")


@pytest.mark.parametrize("which", ["dust_devil", "shadow", "repeats"])
def test_a_sequence_is_one_camera_one_pointing_seconds_apart(which: str) -> None:
    records = {r["imageid"]: r for r in scenes().perseverance + scenes().ingenuity}
    frames = [records[imageid] for imageid in getattr(scenes(), which)]
    taken = [stamp(r["date_taken_utc"]) for r in frames]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(taken)]
    assert all(0.5 < gap < 10 for gap in gaps), gaps
    sclk = [float(r["extended"]["sclk"]) for r in frames]
    assert all(0.5 < b - a < 10 for a, b in itertools.pairwise(sclk))
    assert sorted(r["date_taken_mars"] for r in frames) == [r["date_taken_mars"] for r in frames]
    assert len({r["camera"]["instrument"] for r in frames}) == 1
    assert len({(r["extended"]["mastAz"], r["extended"]["mastEl"]) for r in frames}) == 1
    assert len({r["imageid"].split("_")[4] for r in frames}) == 1  # one sequence number


def test_scenes_arrive_within_the_day_before_their_categorys_newest_record(
    nasa: NasaEmulator, client: httpx.Client
) -> None:
    for category, records in (
        ("mars2020", scenes().perseverance),
        ("ingenuity", scenes().ingenuity),
    ):
        newest = stamp(summary(client, nasa, category)["latest"])
        for record in records:
            received = stamp(record["date_received"])
            assert 0 < (newest - received).total_seconds() < 24 * 3600, record["imageid"]
            assert received > stamp(record["date_taken_utc"])


# -- the whole loop -------------------------------------------------------------------------


def test_backfilled_dust_devil_frames_publish_as_one_animation(
    watcher_for: Any, tmp_path: Path
) -> None:
    with demo_emulator(release_every=0) as nasa:
        watcher: Watcher = watcher_for(
            [raw_source(nasa.raw_images_url)], publish={"cache_dir": str(tmp_path / "cache")}
        )
        done = run(watcher.backfill("perseverance", from_sol=1965, to_sol=1965))
        assert done.done and done.inserted >= len(scenes().dust_devil)
        by_id = {c.external_id: c for c in watcher.list_candidates(limit=None)}
        frames = [by_id[imageid] for imageid in scenes().dust_devil]
        assert all(c.medium_url and c.medium_url.startswith(nasa.base_url) for c in frames)
        entry = watcher.approve(
            [c.id for c in frames],
            EntryDraft(heading="A dust devil crosses Jezero", body="Ten Navcam frames."),
            ALICE,
        )
        report = run(watcher.publish())
        assert report.animations_built == 1 and report.animations_failed == 0
        assert nasa.request_count("/img/") == len(frames)
    site = watcher.settings.site_dir
    [webp] = list((site / "animations").glob("*.webp"))
    [gif] = list((site / "animations").glob("*.gif"))
    for path, kind in ((webp, "WEBP"), (gif, "GIF")):
        with Image.open(path) as image:
            assert image.format == kind and image.n_frames == len(frames)
            assert image.size == SIZES["medium"]
    page = (site / "index.html").read_text()
    assert "A dust devil crosses Jezero" in page and "Ten Navcam frames." in page
    assert f'id="entry-{entry.id}"' in page and webp.name in page
