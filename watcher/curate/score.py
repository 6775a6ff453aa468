"""The score: a candidate's place in the queue, 0..100, and the short reasons for it.

Pure rules, no I/O: the caller hands in the candidate, its fingerprint (None until the
background job has measured it) and a ``ScoreContext`` it gathered (the pHashes of what is
already published and of what is queued or approved today, and the candidate's group).
The score only orders the queue; it never approves or rejects anything.

Seven parts, each worth 0..1 of its weight (``ScoreWeights``, from ``[curate]``); the score
is their weighted mean, so it stays in 0..100 whatever the weights sum to:

- colour: a colour camera (``cameras.camera_sensor``) over an engineering or greyscale one;
  once measured, half of it is whether the frame really shows colour, so a colour camera's
  grey frame scores lower and an engineering camera's colour frame higher;
- full frame: the share of the camera's sensor the frame covers (NASA's ``subframeRect``,
  its tiles, or its size times ``scaleFactor``), less its near-black share;
- detail: the fingerprint's entropy and sharpness; colourfulness: the fingerprint's;
- novelty: the pHash distance to the nearest picture already published or queued today
  (the frame itself and its own group aside);
- golden hour: within an hour of sunrise or sunset by the Mars local time;
- sequence with motion: the frame belongs to a sequence group.

What cannot be known yet (detail, colourfulness and novelty without a fingerprint) counts
half, so an unmeasured frame sits mid-queue, never fails, and says "not yet measured".

``score_facts`` reduces the inputs to the few facts the score reads (rounded, so a stored
statistic read back from the database gives the same facts); ``facts_digest`` hashes them
with the weights, so the background job can store the digest beside the score and
recompute only the scores whose digest changed. A picture published far from this one
changes neither.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import astuple, dataclass, fields

from watcher.cameras import Sensor, camera_sensor
from watcher.types import Candidate, Fingerprint, Group, GroupKind, Score, hamming

RULES_VERSION = 1  # part of every digest: bump when a rule or a threshold below changes

# Thresholds on the fingerprint's 0..1 statistics. Colourfulness is Hasler and Süsstrunk's
# metric over 100: the demo's colour frames measure about 0.35..0.40, its greyscale ones 0.
LOOKS_COLOUR = 0.10  # a frame this colourful or more shows colour
VIVID = 0.45  # full credit for colourfulness
COLOURFUL = 0.6  # the "colourful" chip, of the part
DETAILED, FLAT = 0.6, 0.3  # the "sharp, detailed" and "little detail" chips, of the part
FULL_FRAME = 0.9  # a frame covering this share of its sensor is a full frame
MOSTLY_BLACK = 0.5  # near-black share from which a frame is "mostly black"
UNMEASURED = 0.5  # what a part the fingerprint would measure counts before it is known
# pHash distances (64 bits). On the demo's pictures: 0..2 between repeats and stereo twins,
# 4..16 between a sequence's consecutive frames, 14..36 between different scenes.
LIKE_BITS = 8  # this close to a published or queued picture: "like #12 published"
NEW_VIEW_BITS = 20  # at least this far from all of them: "new view today"
NOVEL_BITS = 24  # full credit for novelty; distances are capped here
# Golden hour by local mean solar time: sunrise and sunset taken as 06:00 and 18:00 LMST.
# An approximation: at Jezero (18° N) the day's length varies with the season and true solar
# time runs up to about 50 minutes off mean solar time, so the hour is a wide window.
SUNRISE, SUNSET, GOLDEN_MINUTES = 6 * 60, 18 * 60, 60

_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?")
_RECT = re.compile(r"^\(\s*(\d{1,6})\s*,\s*(\d{1,6})\s*,\s*(\d{1,6})\s*,\s*(\d{1,6})\s*\)$")


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoreWeights:
    """How much each part counts (``[curate]``'s ``weight_*`` keys, same names and
    defaults). Any non-negative numbers: the score is normalised by their sum. A sequence
    with motion weighs most: it is what the list is for, and its frames mostly come from
    greyscale engineering cameras that colour and colourfulness would otherwise sink
    (``bench/curate.py``: at a weight of 10 the demo's two planted sequences ranked 42nd
    and 43rd of 101 cards; at 35 they rank 5th and 6th)."""

    weight_colour: float = 20
    weight_full_frame: float = 5
    weight_detail: float = 10
    weight_colourfulness: float = 10
    weight_novelty: float = 10
    weight_golden_hour: float = 10
    weight_sequence: float = 35

    def __post_init__(self) -> None:
        for name in (f.name for f in fields(self)):
            value = getattr(self, name)
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if not number or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a number >= 0, not {value!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoreContext:
    """What the score compares a candidate with, gathered by the caller: ``published`` and
    ``today`` (queued or approved today) as ``(candidate id, pHash)`` pairs, and the group
    the candidate belongs to, if any (a sequence scores; its own members are not counted
    against its novelty)."""

    published: tuple[tuple[int, int], ...] = ()
    today: tuple[tuple[int, int], ...] = ()
    group: Group | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoreFacts:
    """Everything the score reads, reduced and rounded. ``colour_camera`` is None for a
    camera not known; ``coverage`` (the share of the sensor the frame covers) is None when
    the frame's or the sensor's size is not known. The fingerprint's parts are None until
    it is measured: ``looks_colour`` (0..1, how clearly the frame shows colour),
    ``colourfulness``, ``detail`` and ``black`` (0..1) and ``nearest`` (pHash bits to the
    nearest picture compared, capped at ``NOVEL_BITS``); ``like_published`` and
    ``like_today`` are the ids within ``LIKE_BITS`` of it."""

    candidate_id: int
    measured: bool
    colour_camera: bool | None
    looks_colour: float | None
    colourfulness: float | None
    detail: float | None
    black: float | None
    coverage: float | None
    nearest: int | None
    like_published: tuple[int, ...]
    like_today: tuple[int, ...]
    golden_hour: bool
    sequence: bool


@dataclass(frozen=True, slots=True)
class _Chip:
    text: str
    points: float  # points earned (a good reason) or lost (a weak one), out of 100
    good: bool


def score(
    candidate: Candidate,
    fingerprint: Fingerprint | None,
    context: ScoreContext,
    weights: ScoreWeights,
) -> Score:
    """The candidate's score and its reasons (see the module docstring)."""
    return score_from_facts(score_facts(candidate, fingerprint, context), weights)


def score_inputs_digest(
    candidate: Candidate,
    fingerprint: Fingerprint | None,
    context: ScoreContext,
    weights: ScoreWeights,
) -> str:
    """A short digest of everything the score depends on: equal digests, equal scores."""
    return facts_digest(score_facts(candidate, fingerprint, context), weights)


def score_facts(
    candidate: Candidate, fingerprint: Fingerprint | None, context: ScoreContext
) -> ScoreFacts:
    """The facts the score reads, from the candidate, its fingerprint and the context."""
    sensor = camera_sensor(candidate.camera)
    group = context.group
    in_sequence = (
        group is not None and group.kind == GroupKind.SEQUENCE and candidate.id in group.members
    )
    looks_colour = colourfulness = detail = black = None
    nearest: int | None = None
    like_published: tuple[int, ...] = ()
    like_today: tuple[int, ...] = ()
    if fingerprint is not None:
        colour = _unit(fingerprint.colourfulness)
        looks_colour = _round(min(1.0, colour / LOOKS_COLOUR))
        colourfulness = _round(min(1.0, colour / VIVID))
        detail = _round((_unit(fingerprint.entropy) + _unit(fingerprint.sharpness)) / 2)
        black = _round(_unit(fingerprint.black))
        nearest, like_published, like_today = _novelty(candidate.id, fingerprint.phash, context)
    return ScoreFacts(
        candidate_id=candidate.id,
        measured=fingerprint is not None,
        colour_camera=sensor.colour if sensor is not None else None,
        looks_colour=looks_colour,
        colourfulness=colourfulness,
        detail=detail,
        black=black,
        coverage=_coverage(candidate, sensor),
        nearest=nearest,
        like_published=like_published,
        like_today=like_today,
        golden_hour=golden_hour(candidate.mars_local_time),
        sequence=in_sequence,
    )


def score_from_facts(facts: ScoreFacts, weights: ScoreWeights) -> Score:
    """The weighted mean of the parts, 0..100 to one decimal, with the reasons: the good
    ones first, most points first, then the weak ones, most points lost first."""
    parts = (
        (weights.weight_colour, *_colour(facts)),
        (weights.weight_full_frame, *_full_frame(facts)),
        (weights.weight_detail, *_detail(facts)),
        (weights.weight_colourfulness, *_colourfulness(facts)),
        (weights.weight_novelty, *_novelty_part(facts)),
        (weights.weight_golden_hour, *_flag(facts.golden_hour, "golden hour")),
        (weights.weight_sequence, *_flag(facts.sequence, "sequence with motion")),
    )
    total = sum(weight for weight, _, _ in parts)
    if total <= 0:
        value = 0.0
    else:
        value = min(
            100.0, max(0.0, round(100 * sum(w * share for w, share, _ in parts) / total, 1))
        )
    chips: list[_Chip] = []
    for weight, _, found in parts:
        share = 100 * weight / total if total > 0 else 0.0
        chips += [_Chip(text, share * fraction, good) for text, fraction, good in found]
    ranked = sorted(chips, key=lambda chip: (not chip.good, -chip.points))
    reasons = [chip.text for chip in ranked if chip.points > 0]
    if not facts.measured:
        reasons.append("not yet measured")
    return Score(candidate_id=facts.candidate_id, value=value, reasons=tuple(reasons))


def facts_digest(facts: ScoreFacts, weights: ScoreWeights) -> str:
    """16 hex digits over the rules' version, the facts (the candidate's id aside) and the
    weights: what the background job stores to tell a stale score."""
    weighed = tuple(float(getattr(weights, f.name)) for f in fields(weights))
    text = repr((RULES_VERSION, astuple(facts)[1:], weighed))
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def golden_hour(mars_local_time: str | None) -> bool:
    """Whether ``"HH:MM[:SS]"`` local mean solar time is within ``GOLDEN_MINUTES`` of
    sunrise or sunset (see ``SUNRISE``); False when the time is missing or unreadable."""
    found = _CLOCK.match(mars_local_time) if mars_local_time else None
    if found is None:
        return False
    hours, minutes, seconds = (int(part or 0) for part in found.groups())
    if hours > 23 or minutes > 59 or seconds > 59:
        return False
    at = hours * 60 + minutes + seconds / 60
    return any(abs(at - event) <= GOLDEN_MINUTES for event in (SUNRISE, SUNSET))


_Found = list[tuple[str, float, bool]]  # a part's chips: text, share of the part, good


def _good(text: str, fraction: float) -> _Found:
    return [(text, fraction, True)]


def _flag(on: bool, text: str) -> tuple[float, _Found]:
    return (1.0, _good(text, 1.0)) if on else (0.0, [])


def _colour(facts: ScoreFacts) -> tuple[float, _Found]:
    prior = {True: 1.0, False: 0.0, None: 0.5}[facts.colour_camera]
    looks = facts.looks_colour
    share = prior if looks is None else (prior + looks) / 2
    shows = looks is None or looks >= 0.5
    if facts.colour_camera:
        return share, [
            ("colour camera", share, True) if shows else ("looks greyscale", 1 - share, False)
        ]
    if looks is None:
        return share, [
            ("engineering camera", 1 - share, False)
        ] if facts.colour_camera is False else []
    return share, [("colour frame", share, True) if shows else ("greyscale", 1 - share, False)]


def _full_frame(facts: ScoreFacts) -> tuple[float, _Found]:
    coverage = 1.0 if facts.coverage is None else facts.coverage
    black = facts.black or 0.0
    found: _Found = []
    if facts.coverage is not None:
        if coverage >= FULL_FRAME:
            found.append(("full frame", coverage * (1 - black), True))
        else:
            found.append(("subframe", 1 - coverage, False))
    if black >= MOSTLY_BLACK:
        found.append(("mostly black", coverage * black, False))
    return coverage * (1 - black), found


def _detail(facts: ScoreFacts) -> tuple[float, _Found]:
    if facts.detail is None:
        return UNMEASURED, []
    if facts.detail >= DETAILED:
        return facts.detail, _good("sharp, detailed", facts.detail)
    if facts.detail <= FLAT:
        return facts.detail, [("little detail", 1 - facts.detail, False)]
    return facts.detail, []


def _colourfulness(facts: ScoreFacts) -> tuple[float, _Found]:
    if facts.colourfulness is None:
        return UNMEASURED, []
    found = _good("colourful", facts.colourfulness) if facts.colourfulness >= COLOURFUL else []
    return facts.colourfulness, found


def _novelty_part(facts: ScoreFacts) -> tuple[float, _Found]:
    if facts.nearest is None:
        return UNMEASURED, []
    share = min(1.0, facts.nearest / NOVEL_BITS)
    for ids, where in ((facts.like_published, "published"), (facts.like_today, "today")):
        if ids:
            text = f"like #{ids[0]} {where}" if len(ids) == 1 else f"like {len(ids)} {where}"
            return share, [(text, 1 - share, False)]
    return share, _good("new view today", share) if facts.nearest >= NEW_VIEW_BITS else []


def _novelty(
    candidate_id: int, phash: int, context: ScoreContext
) -> tuple[int, tuple[int, ...], tuple[int, ...]]:
    """The distance to the nearest picture published or queued today (capped at
    NOVEL_BITS) and the ids of each within LIKE_BITS; the candidate itself, and its own
    group among today's, are not compared."""
    own = set(context.group.members) if context.group is not None else set()
    nearest = NOVEL_BITS
    like: list[tuple[int, ...]] = []
    for seen, skip in ((context.published, {candidate_id}), (context.today, own | {candidate_id})):
        near: set[int] = set()
        for other, other_hash in seen:
            if other in skip:
                continue
            distance = hamming(phash, other_hash)
            nearest = min(nearest, distance)
            if distance <= LIKE_BITS:
                near.add(other)
        like.append(tuple(sorted(near)))
    return nearest, like[0], like[1]


def _coverage(candidate: Candidate, sensor: Sensor | None) -> float | None:
    """The share of the sensor the frame covers, or None when either size is unknown."""
    if sensor is None or not sensor.width or not sensor.height:
        return None
    area = _frame_area(candidate)
    if area is None:
        return None
    return _round(min(1.0, area / (sensor.width * sensor.height)))


def _frame_area(candidate: Candidate) -> int | None:
    """The frame's area in sensor pixels: its tiles' (the box they span, or their summed
    areas when pieces are missing), else NASA's ``subframeRect``, else its size times
    ``scaleFactor`` squared."""
    if candidate.tiles:
        tiles = candidate.tiles
        box_w = max(t.left + t.width for t in tiles) - min(t.left for t in tiles)
        box_h = max(t.top + t.height for t in tiles) - min(t.top for t in tiles)
        return min(box_w * box_h, sum(t.width * t.height for t in tiles))
    extended = candidate.raw.get("extended")
    extended = extended if isinstance(extended, Mapping) else {}
    rect = _RECT.match(str(extended.get("subframeRect", "")))
    if rect is not None:
        return int(rect.group(3)) * int(rect.group(4))
    if not candidate.width or not candidate.height:
        return None
    scale = _scale(extended.get("scaleFactor"))
    return candidate.width * candidate.height * scale * scale


def _scale(value: object) -> int:
    try:
        scale = int(str(value).strip())
    except ValueError:
        return 1
    return scale if 1 <= scale <= 64 else 1


def _unit(value: float) -> float:
    """A statistic clamped to 0..1 (a NaN counts as 0)."""
    return min(1.0, max(0.0, value)) if math.isfinite(value) else 0.0


def _round(value: float) -> float:
    return round(value, 3)
