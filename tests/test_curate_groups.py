"""Groups: stereo twins paired from real NASA ids, near-duplicates linked to a leader (never
in a chain), and a busy sol of the demo's pictures folded five-fold without hiding a view."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import timedelta
from functools import cache
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watcher.cameras import camera_eye, camera_family, stereo_pair
from watcher.curate.frames import CurateFrame, GroupRules, frame_of
from watcher.curate.groups import by_score, group, group_of
from watcher.curate.sequences import change
from watcher.demo.busy import BusySol, busy_sol
from watcher.types import Group, GroupKind, hamming

from .curate_support import bits, candidate, frames_of, made_frame

pytestmark = pytest.mark.timeout(110)

RULES = GroupRules()
CAPTURE = "m2020_raw_images_sol1965_navcam_right_p0.json"


def kinds_and_members(groups: list[Group]) -> list[tuple[str, list[int]]]:
    return [(str(made.kind), list(made.members)) for made in groups]


# -- camera facts ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "family", "eye"),
    [
        ("NAVCAM_LEFT", "NAVCAM", "left"),
        ("NAVCAM_RIGHT", "NAVCAM", "right"),
        ("MCZ_RIGHT", "MCZ", "right"),
        ("FRONT_HAZCAM_LEFT_A", "FRONT_HAZCAM", "left"),
        ("FRONT_HAZCAM_RIGHT_B", "FRONT_HAZCAM", "right"),
        ("REAR_HAZCAM_LEFT", "REAR_HAZCAM", "left"),
        ("HELI_NAV", "HELI_NAV", None),
        ("HELI_RTE", "HELI_RTE", None),
        ("SHERLOC_WATSON", "SHERLOC_WATSON", None),
        ("navcam_left", "NAVCAM", "left"),
        ("SOME_NEW_CAM_RIGHT", "SOME_NEW_CAM", "right"),
        ("", None, None),
        (None, None, None),
    ],
)
def test_a_camera_code_names_its_family_and_eye(
    code: str | None, family: str | None, eye: str | None
) -> None:
    assert (camera_family(code), camera_eye(code)) == (family, eye)


def test_stereo_twins_pair_from_real_nasa_ids(nasa_fixtures: Path) -> None:
    """The capture's three tiles of one Navcam right frame: each pairs with the left eye's
    id of the same exposure and tile (the id with ``NL`` for ``NR``), never with each other
    or with another exposure."""
    records = json.loads((nasa_fixtures / CAPTURE).read_text())["images"]
    rights = [(r["camera"]["instrument"], r["imageid"]) for r in records]
    assert {code for code, _ in rights} == {"NAVCAM_RIGHT"}
    keys = [stereo_pair(code, imageid) for code, imageid in rights]
    assert None not in keys and len(set(keys)) == 3  # three tiles, three pairs
    for (_, imageid), key in zip(rights, keys, strict=True):
        assert imageid.startswith("NRF_1965_")
        left = "NL" + imageid[2:]
        assert stereo_pair("NAVCAM_LEFT", left) == key
        assert stereo_pair("MCZ_LEFT", "ZL" + imageid[2:]) != key  # another camera
        later = left.replace("_0841393386_", "_0841393391_")
        assert stereo_pair("NAVCAM_LEFT", later) != key  # another exposure
        assert stereo_pair("NAVCAM_LEFT", imageid) is None  # the id says right
        assert stereo_pair("HELI_NAV", imageid) is None  # a camera without eyes


def test_a_frame_reads_family_eye_and_pair_from_its_candidate(nasa_fixtures: Path) -> None:
    record = json.loads((nasa_fixtures / CAPTURE).read_text())["images"][0]
    frame = frame_of(candidate(7, record))
    assert (frame.candidate_id, frame.camera, frame.family, frame.eye) == (
        7,
        "NAVCAM_RIGHT",
        "NAVCAM",
        "right",
    )
    assert frame.pair == stereo_pair("NAVCAM_RIGHT", record["imageid"])
    assert frame.sol == 1965 and frame.taken_at is not None and frame.fingerprint is None


# -- the rules on hand-made frames -----------------------------------------------------


def test_near_duplicates_link_to_the_leader_not_in_a_chain() -> None:
    """A~B and B~C within the threshold, A and C beyond it: C is not in A's group."""
    a = made_frame(1, seconds=0, phash=0)
    b = made_frame(2, seconds=10, phash=bits(6))
    c = made_frame(3, seconds=20, phash=bits(12))
    d = made_frame(4, seconds=30, phash=bits(12) ^ bits(3))
    assert hamming(0, bits(6)) <= 10 and hamming(bits(6), bits(12)) <= 10
    assert kinds_and_members(group([c, a, d, b])) == [("similar", [1, 2]), ("similar", [3, 4])]


def test_a_frame_joins_the_nearest_open_leader() -> None:
    frames = [
        made_frame(1, seconds=0, phash=0),
        made_frame(2, seconds=5, phash=bits(12, 20)),  # 12 from frame 1: a leader
        made_frame(3, seconds=10, phash=bits(10, 20)),  # 10 from frame 1, 2 from frame 2
    ]
    assert kinds_and_members(group(frames)) == [("similar", [2, 3])]


def test_near_duplicates_share_a_family_and_the_window() -> None:
    window = RULES.similar_window.total_seconds()
    frames = [
        made_frame(1, seconds=0, phash=0, camera="NAVCAM_LEFT"),
        made_frame(2, seconds=1, phash=0, camera="MCZ_LEFT"),
        made_frame(3, seconds=2, phash=1, camera="NAVCAM_RIGHT"),  # a Navcam too
        made_frame(4, seconds=window + 1, phash=0, camera="NAVCAM_LEFT"),
        made_frame(5, seconds=3, phash=0, camera=None),
        made_frame(6, seconds=None, phash=0, camera="NAVCAM_LEFT"),
        made_frame(7, seconds=4, phash=None, camera="NAVCAM_LEFT"),
    ]
    assert kinds_and_members(group(frames)) == [("similar", [1, 3])]
    wider = GroupRules(similar_window=timedelta(seconds=window + 1))
    assert kinds_and_members(group(frames, wider)) == [("similar", [1, 3, 4])]


def twins(
    left_id: int, seconds: float, phash: int | None, right: int | None = None, clock: int = 0
) -> list[CurateFrame]:
    """The two eyes of one Navcam exposure (``right``: the right eye's pHash, if another)."""
    imageid = f"N*F_1965_{841393386 + clock:010d}_816ECM_N0910806NCAM03965_01_095J"
    eyes = (("NAVCAM_LEFT", "L", phash), ("NAVCAM_RIGHT", "R", phash if right is None else right))
    return [
        made_frame(left_id + k, seconds=seconds, camera=code, phash=hashed,
                   imageid=imageid.replace("*", letter))
        for k, (code, letter, hashed) in enumerate(eyes)
    ]  # fmt: skip


def test_stereo_twins_are_one_group_even_before_they_are_measured() -> None:
    assert kinds_and_members(group(twins(1, 0, None))) == [("stereo", [1, 2])]
    apart = twins(1, 0, 0, right=bits(30))  # a close-up: the eyes see it differently
    assert kinds_and_members(group(apart)) == [("stereo", [1, 2])]


def test_a_view_shot_again_in_stereo_is_one_similar_group_of_both_eyes() -> None:
    frames = [*twins(1, 0, 0, bits(4)), *twins(3, 5, bits(2), bits(5), clock=5)]
    frames += twins(5, 9, bits(30, 30), clock=9)  # another view: its own pair
    assert kinds_and_members(group(frames)) == [("similar", [1, 2, 3, 4]), ("stereo", [5, 6])]


def test_a_pair_whose_eyes_differ_does_not_join_a_group() -> None:
    frames = [made_frame(1, seconds=0, phash=0), *twins(2, 5, 0, right=bits(20))]
    assert kinds_and_members(group(frames)) == [("stereo", [2, 3])]


def test_the_hero_is_the_best_frame_and_the_earliest_on_a_tie() -> None:
    frames = [made_frame(n, seconds=n, phash=bits(n)) for n in range(1, 5)]
    [made] = group(frames, best=by_score({3: 80.0, 2: 40.0}))
    assert (made.leader, made.hero, made.members) == (1, 3, (1, 2, 3, 4))
    [tied] = group(frames, best=lambda frame: 1.0)
    assert tied.hero == 1
    assert group_of([made]) == {1: made, 2: made, 3: made, 4: made}


# -- properties ------------------------------------------------------------------------

CAMERAS = ("NAVCAM_LEFT", "NAVCAM_RIGHT", "MCZ_LEFT", "HELI_NAV", None)
BASES = (0, bits(32), bits(32, 32), 0x5555_5555_5555_5555)
MASKS = (0, bits(8), bits(16, 8), (1 << 64) - 1)  # where the dHash may differ from the pHash


@st.composite
def frame_sets(draw: st.DrawFn) -> list[CurateFrame]:
    """Frames around a few scenes (hashes a few bits off one of ``BASES``), a few pairs of
    twins, some without a time or a fingerprint, within half an hour; and a walk of one
    camera's frames, each a few bits and seconds from the one before (sequences)."""
    frames: list[CurateFrame] = []
    for number in range(1, draw(st.integers(0, 40)) + 1):
        flips = draw(st.lists(st.integers(0, 63), max_size=12))
        phash = draw(st.sampled_from(BASES))
        for bit in flips:
            phash ^= 1 << bit
        dhash = phash ^ draw(st.integers(0, (1 << 64) - 1)) & draw(st.sampled_from(MASKS))
        measured = draw(st.booleans()) or draw(st.booleans())
        seconds = draw(st.one_of(st.none(), st.integers(0, 1800)))
        camera = draw(st.sampled_from(CAMERAS))
        exposure = draw(st.integers(0, 3))
        eye = {"NAVCAM_LEFT": "L", "NAVCAM_RIGHT": "R"}.get(camera or "", "X")
        imageid = f"N{eye}F_1965_{exposure:010d}_000ECM_N0000000NCAM00000_01_000J"
        frames.append(
            made_frame(
                number,
                seconds=seconds,
                camera=camera,
                phash=phash if measured else None,
                dhash=dhash,
                imageid=imageid if eye != "X" else None,
            )
        )
    walked, seconds, number = draw(st.sampled_from(BASES)), 0, len(frames)
    steps = st.tuples(st.integers(1, 240), st.lists(st.integers(0, 63), max_size=20))
    for gap, flips in draw(st.lists(steps, max_size=12)):
        for bit in flips:
            walked ^= 1 << bit
        seconds, number = seconds + gap, number + 1
        frames.append(made_frame(number, seconds=seconds, phash=walked, dhash=walked))
    return frames


@settings(max_examples=200, deadline=None)
@given(frame_sets(), st.randoms(use_true_random=False))
def test_groups_keep_their_promises(frames: list[CurateFrame], shuffler: random.Random) -> None:
    groups = group(frames)
    by_id = {frame.candidate_id: frame for frame in frames}
    seen = Counter(member for made in groups for member in made.members)
    assert all(count == 1 for count in seen.values()), "a frame in two groups"
    for made in groups:
        members = [by_id[member] for member in made.members]
        assert len(members) >= 2 and made.leader in made.members and made.hero in made.members
        assert [m.order for m in members] == sorted(m.order for m in members)
        assert len({m.family for m in members}) == 1 and None not in {m.family for m in members}
        leader = by_id[made.leader]
        if made.kind is GroupKind.SIMILAR:
            for member in members:
                assert member.fingerprint and leader.fingerprint
                assert hamming(member.fingerprint.phash, leader.fingerprint.phash) <= 10
                assert member.taken_at and leader.taken_at
                assert timedelta(0) <= member.taken_at - leader.taken_at <= RULES.similar_window
        elif made.kind is GroupKind.STEREO:
            assert len(members) == 2 and {m.eye for m in members} == {"left", "right"}
            assert members[0].pair is not None and members[0].pair == members[1].pair
        else:
            assert len({(m.family, m.eye) for m in members}) == 1
            assert len(members) >= RULES.sequence_min_frames
            for before, after in pairwise(members):
                assert before.taken_at and after.taken_at and before.fingerprint
                assert after.taken_at - before.taken_at <= RULES.sequence_gap
                assert after.fingerprint
                assert change(before.fingerprint, after.fingerprint) <= RULES.sequence_max_change
    shuffled = list(frames)
    shuffler.shuffle(shuffled)
    assert group(shuffled) == groups, "the groups depend on the order frames came in"


# -- a busy sol of the demo's pictures -------------------------------------------------


@cache
def busy() -> tuple[BusySol, tuple[CurateFrame, ...]]:
    sol = busy_sol()
    return sol, tuple(frames_of(sol.records, sol.shots))


def test_a_busy_sol_folds_five_fold_and_hides_no_view() -> None:
    """Every view of the busy sol (stereo twins, repeats, a sequence, a lone frame) is one
    card: no card holds two views, no view is split over two cards."""
    sol, frames = busy()
    groups = group(frames)
    scene = {frame.candidate_id: sol.scene_of[frame.external_id] for frame in frames}
    grouped = {member for made in groups for member in made.members}
    cards = [{scene[m] for m in made.members} for made in groups]
    cards += [{scene[frame.candidate_id]} for frame in frames if frame.candidate_id not in grouped]
    assert all(len(views) == 1 for views in cards), "a card hides a distinct view"
    views = Counter(view for views in cards for view in views)
    assert views == Counter(set(scene.values())), "a view is split over cards"
    assert len(frames) >= 300 and len(frames) >= 5 * len(cards)
    sequences = {
        tuple(next(f.external_id for f in frames if f.candidate_id == m) for m in made.members)
        for made in groups
        if made.kind is GroupKind.SEQUENCE
    }
    assert sequences == set(sol.sequences)
