"""Sequences: frames of one camera whose scene moves, found on the demo's own pictures (its
dust devil and Ingenuity's shadow) and never among its repeats or ordinary frames."""

from __future__ import annotations

from functools import cache
from itertools import pairwise

import pytest

from watcher.curate.frames import CurateFrame, GroupRules
from watcher.curate.sequences import change, find_sequences
from watcher.demo import DemoScenes, SyntheticRawImages, demo_scenes
from watcher.demo.busy import busy_sol

from .curate_support import bits, frames_of, made_frame

pytestmark = pytest.mark.timeout(110)

RULES = GroupRules()


@cache
def scenes() -> DemoScenes:
    return demo_scenes()


@cache
def scene_frames() -> tuple[CurateFrame, ...]:
    """The demo's hand-made scenes (dust devil, stereo twins, repeats, shadow)."""
    made = scenes()
    return tuple(frames_of([*made.perseverance, *made.ingenuity], made.shots))


@cache
def ordinary_frames() -> tuple[CurateFrame, ...]:
    """A busy stretch of ordinary frames: 240 records 48 s apart, so one camera's frames
    often follow each other within ``sequence_gap``."""
    data = SyntheticRawImages(240, start_sol=1965, per_sol=600, seed=7)
    return tuple(frames_of([data.record(i) for i in range(240)], {}, first_id=1000))


def ids(found: list[tuple[CurateFrame, ...]]) -> list[tuple[str, ...]]:
    return [tuple(frame.external_id for frame in sequence) for sequence in found]


def test_the_demo_dust_devil_and_ingenuity_shadow_are_found_exactly() -> None:
    found = find_sequences([*scene_frames(), *ordinary_frames()], RULES)
    assert sorted(ids(found)) == sorted([scenes().dust_devil, scenes().shadow])


def test_ordinary_frames_repeats_and_stereo_twins_are_not_sequences() -> None:
    planted = {*scenes().dust_devil, *scenes().shadow}
    others = [frame for frame in scene_frames() if frame.external_id not in planted]
    assert find_sequences([*others, *ordinary_frames()], RULES) == []


def test_a_busy_sols_repeated_views_are_not_sequences() -> None:
    sol = busy_sol(views=24, lone=0)
    planted = {imageid for sequence in sol.sequences for imageid in sequence}
    records = [record for record in sol.records if record["imageid"] not in planted]
    assert find_sequences(frames_of(records, sol.shots, first_id=3000), RULES) == []


def test_the_calibrated_thresholds_separate_motion_from_repeats_and_other_scenes() -> None:
    """What the defaults were chosen on: each step of the planted sequences moves by at
    most ``sequence_max_change`` and their ends differ by twice ``sequence_min_change``;
    the planted repeats stay below it; consecutive ordinary frames of one camera differ by
    more than the maximum (another scene)."""
    by_id = {frame.external_id: frame for frame in scene_frames()}
    for planted in (scenes().dust_devil, scenes().shadow):
        shots = [by_id[imageid].fingerprint for imageid in planted]
        steps = [change(a, b) for a, b in pairwise(shots) if a and b]
        assert len(steps) == len(planted) - 1
        assert max(steps) <= RULES.sequence_max_change
        assert sum(step >= RULES.sequence_min_change for step in steps) >= len(steps) - 1
        assert shots[0] and shots[-1]
        assert change(shots[0], shots[-1]) >= 2 * RULES.sequence_min_change
    repeats = [by_id[imageid].fingerprint for imageid in scenes().repeats]
    assert all(change(a, b) < RULES.sequence_min_change for a, b in pairwise(repeats) if a and b)
    cameras: dict[str | None, list[CurateFrame]] = {}
    for frame in ordinary_frames():
        cameras.setdefault(frame.camera, []).append(frame)
    unrelated = [
        change(a.fingerprint, b.fingerprint)
        for frames in cameras.values()
        for a, b in pairwise(frames)
        if a.fingerprint and b.fingerprint
    ]
    assert len(unrelated) > 200
    assert sum(step > RULES.sequence_max_change for step in unrelated) / len(unrelated) > 0.97


def at(candidate_id: int, seconds: float, level: int, camera: str = "NAVCAM_LEFT") -> CurateFrame:
    """A frame whose hashes are ``level`` one bits: frames ``n`` levels apart change by ``n``."""
    return made_frame(
        candidate_id, seconds=seconds, camera=camera, phash=bits(level), dhash=bits(level)
    )


def walk(levels: list[int], *, every: float = 4.0) -> list[CurateFrame]:
    """Frames 1, 2, ... of one camera, ``every`` seconds apart, at these levels."""
    return [at(k + 1, k * every, level) for k, level in enumerate(levels)]


def found_ids(frames: list[CurateFrame], rules: GroupRules = RULES) -> list[list[int]]:
    return [[frame.candidate_id for frame in found] for found in find_sequences(frames, rules)]


def test_steps_within_the_change_range_make_a_sequence_of_enough_frames() -> None:
    assert found_ids(walk([0, 8, 16, 24])) == [[1, 2, 3, 4]]
    assert found_ids(walk([0, 8, 16])) == []  # fewer than sequence_min_frames
    assert found_ids(walk([0, 8, 16], every=4), GroupRules(sequence_min_frames=3)) == [[1, 2, 3]]


def test_a_gap_longer_than_sequence_gap_cuts_a_sequence() -> None:
    gap = RULES.sequence_gap.total_seconds()
    frames = [at(1, 0, 0), at(2, 4, 8), at(3, 8, 16)]
    frames += [at(4 + k, 10 + gap + 4 * k, 24 + 8 * k) for k in range(5)]
    assert found_ids(frames) == [[4, 5, 6, 7, 8]]


def test_one_still_step_stays_in_a_sequence_and_two_in_a_row_end_it() -> None:
    assert found_ids(walk([0, 8, 16, 16, 24, 32])) == [[1, 2, 3, 4, 5, 6]]
    assert found_ids(walk([0, 8, 16, 24, 24, 24, 32, 40, 48, 56])) == [
        [1, 2, 3, 4],
        [6, 7, 8, 9, 10],
    ]


def test_repeats_are_not_a_sequence_even_with_a_step_of_noise() -> None:
    assert found_ids(walk([0, 0, 0, 0, 0, 0])) == []
    noisy = [0, 3, 0, 3, 0, 3]  # every other step at the minimum, the ends alike
    assert found_ids(walk(noisy)) == []


def test_another_scene_cuts_a_sequence() -> None:
    frames = walk([0, 8, 16, 24, 32])
    elsewhere = made_frame(6, seconds=20, phash=bits(32, 32), dhash=bits(32, 32))
    frames += [elsewhere, *(at(7 + k, 24 + 4 * k, 40 + 8 * k) for k in range(4))]
    assert found_ids(frames) == [[1, 2, 3, 4, 5], [7, 8, 9, 10]]


def test_other_cameras_in_between_neither_break_nor_join_a_sequence() -> None:
    frames = walk([0, 8, 16, 24, 32])
    frames += [at(10 + k, 4 * k + 1, 60 - k, camera="MCZ_LEFT") for k in range(5)]
    frames += [at(20 + k, 4 * k + 2, 8 * k, camera="NAVCAM_RIGHT") for k in range(2)]
    assert found_ids(frames) == [[1, 2, 3, 4, 5]]


def test_a_frame_without_fingerprint_or_time_is_left_out() -> None:
    frames = walk([0, 8, 16, 24, 32])
    unmeasured = made_frame(3, seconds=8, phash=None)
    untimed = made_frame(4, seconds=None, phash=bits(24), dhash=bits(24))
    assert found_ids([*frames[:2], unmeasured, untimed, frames[4]]) == []
    assert found_ids([*frames[:2], unmeasured, *frames[3:]]) == [[1, 2, 4, 5]]
