"""Fingerprints: what a picture measures (the demo's own pictures), and how the store keeps
them on SQLite and PostgreSQL (hashes of all 64 bits, the to-do marks, the failures)."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image, ImageEnhance
from sqlalchemy import text

from watcher.curate.fingerprint import MAX_PIXELS, PictureError, fingerprint
from watcher.db import Store
from watcher.db.fingerprints import to_signed, to_unsigned
from watcher.db.migrate import downgrade
from watcher.demo.pictures import Pictures
from watcher.demo.scenes import DemoScenes, build_scenes
from watcher.plans import PictureFailure
from watcher.polling.decide import new_backfill
from watcher.types import CandidateData, Fingerprint, PageRequest, hamming

pytestmark = pytest.mark.timeout(110)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
NAVCAM = "NLF_1965_0841393386_123ECM_N0123456NCAM00100_01_295J"
OTHER_NAVCAM = "NLF_1965_0841399999_123ECM_N0123456NCAM00100_01_295J"
MASTCAM = "ZLF_1965_0841393386_123ECM_N0123456ZCAM00100_01_295J"
SIMILAR = 10  # [curate] similar_distance's default


@pytest.fixture(scope="module")
def scenes() -> DemoScenes:
    return build_scenes(
        perseverance_sol=1965,
        perseverance_newest_s=1_800_000_000,
        ingenuity_sol=1000,
        ingenuity_newest_s=1_700_000_000,
    )


@pytest.fixture(scope="module")
def pictures(scenes: DemoScenes) -> Pictures:
    return Pictures(shots=scenes.shots)


def measure(data: bytes) -> Fingerprint:
    return fingerprint(7, data, NOW)


def encoded(image: Image.Image, kind: str = "PNG") -> bytes:
    out = io.BytesIO()
    image.save(out, kind)
    return out.getvalue()


# -- what a picture measures ---------------------------------------------------------------


def test_a_navcam_frame_is_greyscale_and_a_mastcam_frame_is_colour(pictures: Pictures) -> None:
    grey, colour = measure(pictures.get(NAVCAM, "small")), measure(pictures.get(MASTCAM, "small"))
    assert grey.colourfulness < 0.02 < 0.15 < colour.colourfulness
    assert (grey.width, grey.height) == (320, 240) and grey.candidate_id == 7
    for value in (grey, colour):
        assert 0.5 < value.entropy <= 1 and 0.05 < value.sharpness < 1
        assert 0.2 < value.brightness < 0.8 and value.black < 0.01
        assert value.computed_at == NOW


def test_a_half_black_picture_is_half_black(pictures: Pictures) -> None:
    image = Image.open(io.BytesIO(pictures.get(MASTCAM, "small"))).convert("RGB")
    image.paste((0, 0, 0), (0, 0, image.width // 2, image.height))
    half = measure(encoded(image))
    assert half.black == pytest.approx(0.5, abs=0.02)
    assert half.brightness < measure(pictures.get(MASTCAM, "small")).brightness


def test_the_same_picture_twice_has_the_same_hashes(pictures: Pictures) -> None:
    first, again = measure(pictures.get(NAVCAM, "small")), measure(pictures.get(NAVCAM, "small"))
    assert (first.phash, first.dhash) == (again.phash, again.dhash)
    png = Image.open(io.BytesIO(pictures.get(NAVCAM, "small")))
    assert hamming(first.phash, measure(encoded(png)).phash) <= 2


def test_a_shifted_brightened_copy_is_near_and_another_scene_far(pictures: Pictures) -> None:
    original = measure(pictures.get(NAVCAM, "small"))
    image = ImageEnhance.Brightness(Image.open(io.BytesIO(pictures.get(NAVCAM, "small"))))
    brighter = image.enhance(1.15).convert("RGB")
    shifted = Image.new("RGB", brighter.size)
    shifted.paste(brighter, (4, 0))
    copy = measure(encoded(shifted, "JPEG"))
    other = measure(pictures.get(OTHER_NAVCAM, "small"))
    assert hamming(original.phash, copy.phash) <= SIMILAR // 2
    assert hamming(original.phash, other.phash) > 2 * SIMILAR


def test_different_scenes_of_one_camera_are_never_within_the_threshold(
    pictures: Pictures,
) -> None:
    ids = [f"ZLF_1965_08413{i:05d}_123ECM_N0123456ZCAM00100_01_295J" for i in range(12)]
    found = [measure(pictures.get(imageid, "small")) for imageid in ids]
    closest = min(hamming(a.phash, b.phash) for i, a in enumerate(found) for b in found[i + 1 :])
    assert closest > SIMILAR


def test_the_demos_repeats_and_stereo_twins_are_near_and_its_dust_devil_moves(
    pictures: Pictures, scenes: DemoScenes
) -> None:
    repeats = [measure(pictures.get(imageid, "small")) for imageid in scenes.repeats]
    assert all(hamming(repeats[0].phash, r.phash) <= 2 for r in repeats)
    for left, right in scenes.stereo:
        twins = measure(pictures.get(left, "small")), measure(pictures.get(right, "small"))
        assert hamming(twins[0].phash, twins[1].phash) <= 4
    devil = [measure(pictures.get(imageid, "small")) for imageid in scenes.dust_devil]
    steps = [hamming(a.dhash, b.dhash) for a, b in itertools.pairwise(devil)]
    assert all(step > 0 for step in steps), steps


def test_a_thumbnail_and_a_larger_rendition_measure_alike(pictures: Pictures) -> None:
    small, medium = (
        measure(pictures.get(MASTCAM, "small")),
        measure(pictures.get(MASTCAM, "medium")),
    )
    assert hamming(small.phash, medium.phash) <= 4 and medium.width == 800
    assert small.entropy == pytest.approx(medium.entropy, abs=0.05)
    assert small.brightness == pytest.approx(medium.brightness, abs=0.05)
    assert small.colourfulness == pytest.approx(medium.colourfulness, abs=0.05)


def test_what_is_not_a_readable_picture_says_why() -> None:
    with pytest.raises(PictureError, match="is not a picture"):
        measure(b"<html>Not Found</html>")
    with pytest.raises(PictureError):
        measure(encoded(Image.new("RGB", (64, 48), "red"), "JPEG")[:200])
    side = int(MAX_PIXELS**0.5) + 10
    bomb = encoded(Image.new("1", (side, side)))  # a few kB that would decode to 40M pixels
    assert len(bomb) < 200_000
    with pytest.raises(PictureError, match="too large"):
        measure(bomb)


# -- the store -----------------------------------------------------------------------------


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    store.upgrade()
    yield store
    store.close()


def candidate(external_id: str, **fields: object) -> CandidateData:
    values: dict[str, object] = {
        "source": "perseverance",
        "external_id": external_id,
        "thumbnail_url": f"https://mars.nasa.gov/{external_id}_320.jpg",
        "medium_url": f"https://mars.nasa.gov/{external_id}_800.jpg",
        "taken_at": NOW,
    }
    values.update(fields)
    return CandidateData(**values)  # type: ignore[arg-type]


def stored_ids(store: Store) -> dict[str, int]:
    return {c.external_id: c.id for c in store.list_candidates(status=None, limit=None)}


def a_fingerprint(candidate_id: int, phash: int, dhash: int) -> Fingerprint:
    return Fingerprint(
        candidate_id=candidate_id,
        phash=phash,
        dhash=dhash,
        width=320,
        height=240,
        colourfulness=0.25,
        entropy=0.75,
        sharpness=0.5,
        brightness=0.125,
        black=1.0,
        computed_at=NOW,
    )


def test_hashes_of_all_64_bits_round_trip(store: Store) -> None:
    store.add_candidates([candidate(f"N{i}") for i in range(4)], NOW)
    ids = sorted(stored_ids(store).values())
    hashes = [(2**64 - 1, 2**63), (2**63 - 1, 0), (0x8000_0000_0000_0001, 1), (12345, 2**63 + 7)]
    saved = [a_fingerprint(cid, p, d) for cid, (p, d) in zip(ids, hashes, strict=True)]
    store.save_fingerprints([(f, f"https://mars.nasa.gov/{f.candidate_id}.jpg") for f in saved])
    assert store.fingerprints_for([*ids, 99999]) == {f.candidate_id: f for f in saved}
    for value in (0, 1, 2**63 - 1, 2**63, 2**64 - 1):
        assert to_unsigned(to_signed(value)) == value and -(2**63) <= to_signed(value) < 2**63
    with pytest.raises(ValueError):
        to_signed(2**64)


def test_new_candidates_are_due_newest_first_and_the_archive_only_when_asked(
    store: Store,
) -> None:
    store.add_candidates([candidate("OLD"), candidate("NEW")], NOW)
    backfill = new_backfill("perseverance", 1965, 1965, PageRequest("https://mars.nasa.gov"), NOW)
    store.save_backfill_page([candidate("ARCHIVED")], backfill)
    ids = stored_ids(store)
    due = store.pictures_to_fingerprint(NOW, 10)
    assert [p.candidate_id for p in due] == [ids["NEW"], ids["OLD"]]
    assert due[0].urls == (
        "https://mars.nasa.gov/NEW_320.jpg",
        "https://mars.nasa.gov/NEW_800.jpg",
    )
    everything = store.pictures_to_fingerprint(NOW, 10, archive=True)
    assert [(p.candidate_id, p.archive) for p in everything][-1] == (ids["ARCHIVED"], True)
    assert store.fingerprint_backlog(NOW) == (2, 0)
    assert store.fingerprint_backlog(NOW, archive=True) == (3, 0)
    assert [p.candidate_id for p in store.pictures_to_fingerprint(NOW, 1)] == [ids["NEW"]]


def test_a_failure_waits_for_its_retry_and_a_fingerprint_ends_it(store: Store) -> None:
    store.add_candidates([candidate("BROKEN"), candidate("FINE")], NOW)
    ids = stored_ids(store)
    later = NOW + timedelta(minutes=30)
    failure = PictureFailure(ids["BROKEN"], "HTTP 404", 1, False, NOW, later)
    store.record_picture_failures([failure])
    store.save_fingerprints([(a_fingerprint(ids["FINE"], 1, 2), None)])
    assert store.pictures_to_fingerprint(NOW, 10) == []
    assert store.fingerprint_backlog(NOW) == (0, 1)
    assert store.picture_failure(ids["BROKEN"]) == failure
    [retry] = store.pictures_to_fingerprint(later, 10)
    assert (retry.candidate_id, retry.attempts) == (ids["BROKEN"], 1)
    store.save_fingerprints([(a_fingerprint(ids["BROKEN"], 3, 4), None)])
    assert store.picture_failure(ids["BROKEN"]) is None
    assert store.pictures_to_fingerprint(later, 10) == []
    assert set(store.fingerprints_for(list(ids.values()))) == set(ids.values())


def test_the_next_pictures_come_from_the_partial_index(store: Store) -> None:
    query = (
        "SELECT id FROM candidates WHERE fingerprint_due = 1 AND fingerprint_due IS NOT NULL "
        "ORDER BY id DESC LIMIT 40"
    )
    with store.engine.connect() as connection:
        if store.dialect == "sqlite":
            plan = " ".join(
                str(row[-1]) for row in connection.execute(text(f"EXPLAIN QUERY PLAN {query}"))
            )
        else:
            connection.execute(text("SET enable_seqscan = off"))
            plan = " ".join(str(row[0]) for row in connection.execute(text(f"EXPLAIN {query}")))
    assert "ix_candidates_fingerprint_due" in plan, plan


def test_upgrading_makes_the_queue_due_and_decided_candidates_archive(
    database_url: str, tmp_path: Path
) -> None:
    store = Store(database_url)
    store.upgrade()
    store.add_candidates([candidate("WAITING"), candidate("DECIDED")], NOW)
    ids = stored_ids(store)
    store.reject(ids["DECIDED"], None, "dull", "alice", NOW)
    downgrade(store.engine, "0005")
    store.upgrade()
    assert [p.candidate_id for p in store.pictures_to_fingerprint(NOW, 10)] == [ids["WAITING"]]
    everything = store.pictures_to_fingerprint(NOW, 10, archive=True)
    assert [(p.candidate_id, p.archive) for p in everything][-1] == (ids["DECIDED"], True)
    store.close()
