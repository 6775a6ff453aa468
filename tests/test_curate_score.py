"""The curation score: colour cameras, full frames, detail, colour, novelty, golden hour and
sequences order the queue, each with a short reason; the score stays in 0..100, never fails
without a fingerprint, and its digest tells a stale score from a current one."""

from __future__ import annotations

import io
import math
import statistics
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFilter, ImageStat

from watcher.cameras import CAMERA_NAMES, CAMERA_SENSORS, camera_sensor
from watcher.curate.score import (
    ScoreContext,
    ScoreWeights,
    golden_hour,
    score,
    score_inputs_digest,
)
from watcher.demo import demo_scenes
from watcher.demo.pictures import Pictures
from watcher.demo.records import INGENUITY_CAMERAS, PERSEVERANCE_CAMERAS, RecordFactory
from watcher.types import (
    Candidate,
    CandidateStatus,
    Fingerprint,
    Group,
    GroupKind,
    Tile,
)

pytestmark = pytest.mark.timeout(110)

NOW = datetime(2026, 8, 31, 3, 0, tzinfo=UTC)
# Round weights the magnitudes below are worked out with (points = weight x part); the
# shipped defaults have their own test.
DEFAULT = ScoreWeights(
    weight_colour=25, weight_full_frame=10, weight_detail=15, weight_colourfulness=15,
    weight_novelty=15, weight_golden_hour=10, weight_sequence=10,
)  # fmt: skip
SHIPPED = ScoreWeights()
EMPTY = ScoreContext()
CAMERAS = {camera.instrument: camera for camera in (*PERSEVERANCE_CAMERAS, *INGENUITY_CAMERAS)}
SIZES = {"MCZ_LEFT": (1648, 1200), "NAVCAM_LEFT": (1280, 960), "HELI_NAV": (640, 480)}


def candidate(camera: str | None = "MCZ_LEFT", **changes: Any) -> Candidate:
    """A raw frame of ``camera`` as NASA sends a whole one (Navcams binned by 4), at noon."""
    width, height = SIZES.get(camera or "", (1648, 1200))
    scale = 4 if (camera or "").startswith("NAVCAM") else 1
    rect = f"(1,1,{width * scale},{height * scale})"
    candidate_id = changes.pop("id", 1)
    made = Candidate(
        id=candidate_id,
        source="perseverance",
        external_id=f"{camera}_{candidate_id}",
        camera=camera,
        sol=1965,
        mars_local_time="12:00:00",
        width=width,
        height=height,
        raw={"extended": {"scaleFactor": str(scale), "subframeRect": rect}},
        status=CandidateStatus.NEW,
        first_seen_at=NOW,
    )
    return replace(made, **changes)


def fingerprint(candidate_id: int = 1, **changes: Any) -> Fingerprint:
    values: dict[str, Any] = {
        "phash": 0,
        "dhash": 0,
        "width": 320,
        "height": 240,
        "colourfulness": 0.38,
        "entropy": 0.85,
        "sharpness": 0.5,
        "brightness": 0.45,
        "black": 0.0,
    }
    return Fingerprint(candidate_id=candidate_id, computed_at=NOW, **(values | changes))


# -- fingerprints of the demo's pictures, measured here with Pillow ----------------------


def _phash(image: Image.Image) -> int:
    """DCT pHash: the 8 x 8 lowest frequencies of a 32 x 32 thumbnail against their median."""
    n = 32
    grey = image.convert("L").resize((n, n), Image.Resampling.LANCZOS).tobytes()
    rows = [grey[y * n : (y + 1) * n] for y in range(n)]
    cos = [[math.cos(math.pi * (2 * x + 1) * u / (2 * n)) for x in range(n)] for u in range(8)]
    across = [
        [sum(c * v for c, v in zip(cos[u], row, strict=True)) for u in range(8)] for row in rows
    ]
    low = [sum(cos[v][y] * across[y][u] for y in range(n)) for v in range(8) for u in range(8)]
    median = sorted(low[1:])[31]
    return sum(1 << (63 - i) for i, value in enumerate(low) if value > median)


def measured(imageid: str, candidate_id: int, pictures: Pictures) -> Fingerprint:
    """The fingerprint the background job would keep, as Fingerprint's docstring defines it."""
    image = Image.open(io.BytesIO(pictures.get(imageid, "small"))).convert("RGB")
    small = image.resize((160, 120))
    red, green, blue = (list(band.tobytes()) for band in small.split())
    rg = [r - g for r, g in zip(red, green, strict=True)]
    yb = [(r + g) / 2 - b for r, g, b in zip(red, green, blue, strict=True)]
    spread = math.hypot(statistics.pstdev(rg), statistics.pstdev(yb))
    mean = math.hypot(sum(rg) / len(rg), sum(yb) / len(yb))
    grey = image.convert("L")
    histogram = grey.histogram()
    total = sum(histogram)
    entropy = -sum(c / total * math.log2(c / total) for c in histogram if c) / 8
    edges = grey.filter(ImageFilter.Kernel((3, 3), [0, 1, 0, 1, -4, 1, 0, 1, 0], 1, 128))
    variance = ImageStat.Stat(edges).var[0]
    return Fingerprint(
        candidate_id=candidate_id,
        phash=_phash(image),
        dhash=0,
        width=image.width,
        height=image.height,
        colourfulness=min(1.0, (spread + 0.3 * mean) / 100),
        entropy=entropy,
        sharpness=variance / (variance + 500),
        brightness=ImageStat.Stat(grey).mean[0] / 255,
        black=sum(histogram[:16]) / total,
        computed_at=NOW,
    )


@cache
def demo() -> tuple[Any, Pictures]:
    scenes = demo_scenes()
    return scenes, Pictures(shots=scenes.shots)


def demo_frame(instrument: str, salt: int) -> str:
    record = RecordFactory("mars2020").make(
        sol=1965, lmst_ms=12 * 3_600_000, received_s=0, salt=salt, camera=CAMERAS[instrument]
    )
    return str(record["imageid"])


# -- colour cameras -----------------------------------------------------------------------


def test_a_colour_mastcam_z_frame_outscores_a_navcam_frame_with_equal_stats() -> None:
    grey_stats = fingerprint(colourfulness=0.0)
    mastcam = score(candidate("MCZ_LEFT"), grey_stats, EMPTY, DEFAULT)
    navcam = score(candidate("NAVCAM_LEFT"), grey_stats, EMPTY, DEFAULT)
    assert mastcam.value > navcam.value
    assert "greyscale" in navcam.reasons and "colour camera" not in navcam.reasons


def test_demo_mastcam_z_pictures_outscore_demo_navcam_pictures_and_say_why() -> None:
    _, pictures = demo()
    mastcam = [
        score(
            candidate("MCZ_LEFT", id=n),
            measured(demo_frame("MCZ_LEFT", n), n, pictures),
            EMPTY,
            DEFAULT,
        )
        for n in (1, 2, 3)
    ]
    navcam = [
        score(
            candidate("NAVCAM_LEFT", id=n),
            measured(demo_frame("NAVCAM_LEFT", n), n, pictures),
            EMPTY,
            DEFAULT,
        )
        for n in (4, 5, 6)
    ]
    assert min(s.value for s in mastcam) > max(s.value for s in navcam)
    for colour in mastcam:
        assert colour.reasons[0] == "colour camera", colour.reasons
        assert "colourful" in colour.reasons
    for grey in navcam:
        assert "greyscale" in grey.reasons and "colourful" not in grey.reasons


def test_a_colour_cameras_grey_frame_scores_below_its_colour_frames() -> None:
    grey = score(candidate(), fingerprint(colourfulness=0.0), EMPTY, DEFAULT)
    colour = score(candidate(), fingerprint(), EMPTY, DEFAULT)
    assert grey.value < colour.value
    assert "looks greyscale" in grey.reasons and "colour camera" not in grey.reasons


def test_every_camera_the_emulator_sends_has_sensor_facts_that_fit_its_frames() -> None:
    assert set(CAMERA_SENSORS) == set(CAMERA_NAMES)
    for camera in CAMERAS.values():
        sensor = camera_sensor(camera.instrument.lower())
        assert sensor is not None, camera.instrument
        assert sensor.colour == (
            camera.instrument
            in {"MCZ_LEFT", "MCZ_RIGHT", "SHERLOC_WATSON", "SUPERCAM_RMI", "HELI_RTE"}
        )
        assert sensor.width and sensor.height and camera.width <= sensor.width + 8
    assert camera_sensor(None) is None and camera_sensor("SOME_NEW_CAM") is None


# -- full frames ----------------------------------------------------------------------------


def test_a_full_frame_outscores_a_subframe_of_it() -> None:
    stats = fingerprint()
    full = score(candidate(), stats, EMPTY, DEFAULT)
    window = candidate(
        width=800, height=600, raw={"extended": {"subframeRect": "(401,301,800,600)"}}
    )
    part = score(window, stats, EMPTY, DEFAULT)
    assert full.value > part.value
    assert "full frame" in full.reasons and "subframe" in part.reasons


def test_a_binned_navcam_frame_is_full_and_an_unbinned_tile_of_it_is_not() -> None:
    binned = score(candidate("NAVCAM_LEFT"), None, EMPTY, DEFAULT)
    tile = candidate(
        "NAVCAM_LEFT",
        width=1288,
        height=968,
        raw={"extended": {"scaleFactor": "1", "subframeRect": "(1,1,1288,968)"}},
    )
    assert "full frame" in binned.reasons
    assert "subframe" in score(tile, None, EMPTY, DEFAULT).reasons


def test_a_frame_joined_from_three_of_its_tiles_is_a_subframe_of_the_navcam_sensor() -> None:
    rects = ((1, 1, 1288, 968), (1273, 1, 1296, 968), (2553, 1, 1296, 968))  # the real capture
    tiles = tuple(
        Tile(imageid=f"t{n}", left=left, top=top, width=width, height=height)
        for n, (left, top, width, height) in enumerate(rects)
    )
    joined = candidate("NAVCAM_RIGHT", width=1288, height=968, tiles=tiles)
    complete = tuple(
        Tile(imageid=f"t{x}{y}", left=1 + 1280 * x, top=1 + 960 * y, width=1280, height=960)
        for x in range(4)
        for y in range(4)
    )
    whole = candidate("NAVCAM_RIGHT", width=1280, height=960, tiles=complete)
    assert "subframe" in score(joined, None, EMPTY, DEFAULT).reasons
    assert "full frame" in score(whole, None, EMPTY, DEFAULT).reasons


def test_a_mostly_black_frame_scores_lower_and_says_so() -> None:
    dark = score(candidate(), fingerprint(black=0.7), EMPTY, DEFAULT)
    assert dark.value < score(candidate(), fingerprint(), EMPTY, DEFAULT).value
    assert "mostly black" in dark.reasons


def test_a_picture_without_camera_or_size_is_neither_full_frame_nor_subframe() -> None:
    news = candidate(camera=None, width=None, height=None, raw={}, mars_local_time=None)
    reasons = score(news, fingerprint(), EMPTY, DEFAULT).reasons
    assert not {"full frame", "subframe", "colour camera", "engineering camera"} & set(reasons)
    assert "colour frame" in reasons


# -- golden hour ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clock", "golden"), [("17:40:12", True), ("06:20:00", True), ("12:00:00", False)]
)
def test_golden_hour_adds_to_the_score_near_sunrise_and_sunset(clock: str, golden: bool) -> None:
    noon = score(candidate(), fingerprint(), EMPTY, DEFAULT)
    at = score(candidate(mars_local_time=clock), fingerprint(), EMPTY, DEFAULT)
    assert ("golden hour" in at.reasons) is golden
    assert (at.value > noon.value) is golden


@pytest.mark.parametrize(
    ("clock", "golden"),
    [
        ("05:00:00", True),
        ("07:00:00", True),
        ("07:00:01", False),
        ("19:00:00", True),
        ("19:00:30", False),
        ("4:59", False),
        ("17:01", True),
        (None, False),
        ("", False),
        ("soon", False),
        ("25:00:00", False),
    ],
)
def test_golden_hour_is_within_an_hour_of_six_and_eighteen_local_time(
    clock: str | None, golden: bool
) -> None:
    assert golden_hour(clock) is golden


# -- novelty --------------------------------------------------------------------------------


def test_publishing_a_near_identical_picture_lowers_novelty_and_names_it() -> None:
    scenes, pictures = demo()
    first, second = scenes.repeats[:2]  # Hazcam frames seconds apart: noise and gain differ
    other = demo_frame("FRONT_HAZCAM_LEFT_A", 7)
    frame = candidate("FRONT_HAZCAM_LEFT_A", id=2)
    stats = measured(second, 2, pictures)
    before = score(
        frame, stats, ScoreContext(published=((9, measured(other, 9, pictures).phash),)), DEFAULT
    )
    after = score(
        frame,
        stats,
        ScoreContext(published=((123, measured(first, 123, pictures).phash),)),
        DEFAULT,
    )
    assert after.value <= before.value - 10
    assert "like #123 published" in after.reasons
    assert "new view today" in before.reasons and "new view today" not in after.reasons


def test_near_duplicates_queued_today_are_counted_but_not_the_frames_own_group() -> None:
    today = ((5, 0b111), (6, 0b1), (7, 0), (1, 0))  # id 1 is the frame itself
    alone = score(candidate(), fingerprint(), ScoreContext(today=today), DEFAULT)
    assert "like 3 today" in alone.reasons
    group = Group(kind=GroupKind.SIMILAR, members=(1, 5, 6, 7), leader=1, hero=1)
    grouped = score(candidate(), fingerprint(), ScoreContext(today=today, group=group), DEFAULT)
    assert "new view today" in grouped.reasons and grouped.value > alone.value


def test_a_sequence_member_scores_for_motion_and_a_similar_group_does_not() -> None:
    members = (1, 2, 3, 4)
    sequence = Group(kind=GroupKind.SEQUENCE, members=members, leader=1, hero=2)
    similar = Group(kind=GroupKind.SIMILAR, members=members, leader=1, hero=2)
    moving = score(candidate(), fingerprint(), ScoreContext(group=sequence), DEFAULT)
    still = score(candidate(), fingerprint(), ScoreContext(group=similar), DEFAULT)
    assert "sequence with motion" in moving.reasons and "sequence with motion" not in still.reasons
    assert moving.value == pytest.approx(still.value + 10)


# -- weights --------------------------------------------------------------------------------


def test_weights_from_config_change_the_order() -> None:
    colour_noon = (candidate("MCZ_LEFT", id=1), fingerprint(1))
    grey_sunset_sequence = (
        candidate("NAVCAM_LEFT", id=2, mars_local_time="17:45:00"),
        fingerprint(2, colourfulness=0.0),
    )
    group = Group(kind=GroupKind.SEQUENCE, members=(2, 3, 4, 5), leader=2, hero=2)
    context = ScoreContext(group=group)

    def order(weights: ScoreWeights) -> list[int]:
        scores = [score(c, f, context, weights) for c, f in (colour_noon, grey_sunset_sequence)]
        return [s.candidate_id for s in sorted(scores, key=lambda s: -s.value)]

    assert order(DEFAULT) == [1, 2]
    assert order(replace(DEFAULT, weight_golden_hour=40, weight_sequence=40)) == [2, 1]


def test_by_default_a_greyscale_sequence_outranks_an_ordinary_colour_frame() -> None:
    """What the list is for: a dust devil on the Navcam beats a plain Mastcam-Z view."""
    colour_noon = score(candidate("MCZ_LEFT", id=1), fingerprint(1), EMPTY, SHIPPED)
    group = Group(kind=GroupKind.SEQUENCE, members=(2, 3, 4, 5), leader=2, hero=2)
    grey_sequence = score(
        candidate("NAVCAM_LEFT", id=2), fingerprint(2, colourfulness=0.0),
        ScoreContext(group=group), SHIPPED,
    )  # fmt: skip
    assert grey_sequence.value > colour_noon.value
    assert grey_sequence.reasons[0] == "sequence with motion"


def test_the_reasons_come_in_order_of_contribution() -> None:
    reasons = score(candidate(mars_local_time="18:10:00"), fingerprint(), EMPTY, DEFAULT).reasons
    assert reasons[0] == "colour camera"  # 25 points
    assert reasons.index("new view today") < reasons.index("golden hour")  # 15 before 10
    heavy = replace(DEFAULT, weight_golden_hour=60)
    assert (
        score(candidate(mars_local_time="18:10:00"), fingerprint(), EMPTY, heavy).reasons[0]
        == "golden hour"
    )


def test_a_part_weighted_zero_gives_no_reason() -> None:
    weights = replace(DEFAULT, weight_golden_hour=0)
    assert (
        "golden hour"
        not in score(candidate(mars_local_time="06:10:00"), fingerprint(), EMPTY, weights).reasons
    )


@pytest.mark.parametrize("bad", [-1, math.nan, math.inf, True, "10"])
def test_weights_must_be_non_negative_numbers(bad: Any) -> None:
    with pytest.raises(ValueError, match="weight_novelty"):
        ScoreWeights(weight_novelty=bad)


def test_all_weights_zero_scores_zero() -> None:
    zero = ScoreWeights(**{name: 0 for name in ScoreWeights.__dataclass_fields__})
    assert score(candidate(), fingerprint(), EMPTY, zero).value == 0.0


# -- without a fingerprint --------------------------------------------------------------------


def test_without_a_fingerprint_the_score_comes_from_camera_and_time_and_says_so() -> None:
    mastcam = score(candidate(mars_local_time="17:30:00"), None, EMPTY, DEFAULT)
    navcam = score(candidate("NAVCAM_LEFT"), None, EMPTY, DEFAULT)
    assert 0 < navcam.value < mastcam.value < 100
    assert mastcam.reasons[-1] == "not yet measured" and navcam.reasons[-1] == "not yet measured"
    assert {"colour camera", "golden hour"} <= set(mastcam.reasons)
    assert "engineering camera" in navcam.reasons
    assert "not yet measured" not in score(candidate(), fingerprint(), EMPTY, DEFAULT).reasons


# -- range, determinism and the digest ----------------------------------------------------------

unit = st.floats(min_value=-0.5, max_value=1.5) | st.just(math.nan)
weights = st.builds(
    ScoreWeights,
    **{name: st.floats(min_value=0, max_value=1e6) for name in ScoreWeights.__dataclass_fields__},
)
hashes = st.integers(min_value=0, max_value=(1 << 64) - 1)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    camera=st.sampled_from([None, "MCZ_LEFT", "NAVCAM_RIGHT", "HELI_NAV", "SKYCAM", "ODD_CAM"]),
    clock=st.one_of(
        st.none(), st.text(max_size=9), st.times().map(lambda t: t.strftime("%H:%M:%S"))
    ),
    size=st.tuples(st.integers(0, 9000), st.integers(0, 9000)),
    rect=st.text(max_size=20),
    stats=st.one_of(st.none(), st.tuples(hashes, unit, unit, unit, unit)),
    seen=st.lists(st.tuples(st.integers(1, 50), hashes), max_size=6),
    kind=st.one_of(st.none(), st.sampled_from(GroupKind)),
    weighed=weights,
)
def test_the_score_is_always_within_0_and_100_and_deterministic(
    camera: str | None,
    clock: str | None,
    size: tuple[int, int],
    rect: str,
    stats: tuple[int, float, float, float, float] | None,
    seen: list[tuple[int, int]],
    kind: GroupKind | None,
    weighed: ScoreWeights,
) -> None:
    frame = candidate(
        camera=camera,
        mars_local_time=clock,
        width=size[0] or None,
        height=size[1] or None,
        raw={"extended": {"subframeRect": rect}},
    )
    found = None
    if stats is not None:
        phash, colour, entropy, sharpness, black = stats
        found = fingerprint(
            phash=phash, colourfulness=colour, entropy=entropy, sharpness=sharpness, black=black
        )
    group = Group(kind=kind, members=(1, 2), leader=1, hero=1) if kind else None
    context = ScoreContext(published=tuple(seen[:3]), today=tuple(seen[3:]), group=group)
    result = score(frame, found, context, weighed)
    assert 0.0 <= result.value <= 100.0 and result.value == round(result.value, 1)
    assert result == score(frame, found, context, weighed)
    assert all(len(reason) <= 22 for reason in result.reasons), result.reasons
    assert score_inputs_digest(frame, found, context, weighed) == score_inputs_digest(
        frame, found, context, weighed
    )


def test_the_digest_changes_with_every_input_the_score_reads_and_with_nothing_else() -> None:
    frame, stats, context = (
        candidate(),
        fingerprint(phash=0),
        ScoreContext(published=((9, (1 << 40) - 1),)),
    )
    digest = score_inputs_digest(frame, stats, context, DEFAULT)
    assert len(digest) == 16
    unchanged = [
        (
            frame,
            replace(stats, computed_at=datetime(2030, 1, 1, tzinfo=UTC), dhash=77, brightness=0.9),
            context,
            DEFAULT,
        ),
        (
            replace(frame, title="a new title", caption="words", status=CandidateStatus.APPROVED),
            stats,
            context,
            DEFAULT,
        ),
        (
            frame,
            stats,
            ScoreContext(published=(*context.published, (10, (1 << 63) - 1))),
            DEFAULT,
        ),  # far away
        (frame, stats, context, replace(DEFAULT, weight_colour=float(DEFAULT.weight_colour))),
        (
            frame,
            stats,
            ScoreContext(
                published=((9, (1 << 40) - 1),),
                group=Group(kind=GroupKind.SIMILAR, members=(1, 2), leader=1, hero=1),
            ),
            DEFAULT,
        ),
    ]
    for inputs in unchanged:
        assert score_inputs_digest(*inputs) == digest, inputs
    changed = [
        (frame, replace(stats, colourfulness=0.1), context, DEFAULT),
        (frame, replace(stats, sharpness=0.9), context, DEFAULT),
        (frame, replace(stats, phash=1 << 50), ScoreContext(published=((9, 1 << 50),)), DEFAULT),
        (frame, None, context, DEFAULT),
        (replace(frame, mars_local_time="18:30:00"), stats, context, DEFAULT),
        (replace(frame, camera="NAVCAM_LEFT"), stats, context, DEFAULT),
        (
            replace(frame, raw={"extended": {"subframeRect": "(1,1,800,600)"}}),
            stats,
            context,
            DEFAULT,
        ),
        (frame, stats, ScoreContext(published=(*context.published, (10, 0b11))), DEFAULT),  # near
        (frame, stats, ScoreContext(today=((11, 0b1),)), DEFAULT),
        (
            frame,
            stats,
            ScoreContext(
                published=context.published,
                group=Group(kind=GroupKind.SEQUENCE, members=(1, 2), leader=1, hero=1),
            ),
            DEFAULT,
        ),
        (frame, stats, context, replace(DEFAULT, weight_novelty=16)),
    ]
    digests = {score_inputs_digest(*inputs) for inputs in changed}
    assert digest not in digests and len(digests) == len(changed)
