"""Groups: the frames the queue shows as one card, so a busy sol reads in minutes.

``group`` takes a day's frames and finds, in this order:

1. sequences (``sequences.find_sequences``): their frames are taken out first;
2. stereo twins: the left and right eye of one exposure (``CurateFrame.pair``), known
   from the record alone, so twins are a group even before their pictures are measured;
3. near-duplicates, by complete linkage against a leader: frames are taken in taken order
   (time, then candidate id) and each joins the open group whose leader is nearest, if
   its pHash is within ``similar_distance`` of that leader's, it was taken within
   ``similar_window`` after it and it is of the same camera family; otherwise it leads a
   new group. Members are compared with the leader only, never with each other, so a
   chain of small steps (A~B~C) never pulls in a frame far from the leader (C).

Stereo twins enter step 3 as one unit: both eyes join a group together, when both are
near its leader (the same view shot three times in stereo is one card of six frames),
and a pair whose eyes differ beyond the threshold stays a stereo group of its own. Frames
without a fingerprint, a time or a camera are never near-duplicates.

Only groups of two or more frames are returned: a frame in no group is a card of its own.
Each group's ``hero`` is its best frame by ``best`` (the sharpest, most detailed one
unless the caller passes scores), the earliest one on a tie.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from watcher.curate.frames import CurateFrame, GroupRules
from watcher.curate.sequences import find_sequences
from watcher.types import Group, GroupKind, hamming

Best = Callable[[CurateFrame], float]
_Unit = tuple[CurateFrame, ...]  # a frame alone, or the two eyes of one stereo exposure


def sharpest(frame: CurateFrame) -> float:
    """The default choice of a group's hero: sharp, detailed and not black."""
    found = frame.fingerprint
    if found is None:
        return -1.0
    return found.sharpness + found.entropy - found.black


def by_score(scores: Mapping[int, float]) -> Best:
    """Heroes by score (candidate id -> score); a frame without a score comes last."""
    return lambda frame: scores.get(frame.candidate_id, -1.0)


def group(
    frames: Iterable[CurateFrame], rules: GroupRules | None = None, best: Best = sharpest
) -> list[Group]:
    """The groups of ``frames`` (see the module docstring), ordered by their first frame.

    Every frame is in at most one group; members are in taken order.
    """
    rules = rules or GroupRules()
    unique = {frame.candidate_id: frame for frame in reversed(list(frames))}
    ordered = sorted(unique.values(), key=lambda frame: frame.order)
    sequences = find_sequences(ordered, rules)
    taken = {frame.candidate_id for sequence in sequences for frame in sequence}
    rest = [frame for frame in ordered if frame.candidate_id not in taken]
    found = [(GroupKind.SEQUENCE, sequence) for sequence in sequences]
    found += _near_duplicates(_units(rest), rules)
    found.sort(key=lambda kind_members: kind_members[1][0].order)
    return [_group(kind, members, best) for kind, members in found]


def group_of(groups: Iterable[Group]) -> dict[int, Group]:
    """Each grouped candidate's group, by candidate id."""
    return {member: made for made in groups for member in made.members}


def _units(frames: Sequence[CurateFrame]) -> list[_Unit]:
    """``frames`` (in taken order) as units: stereo twins together, other frames alone."""
    eyes: dict[str, dict[str, CurateFrame]] = {}
    for frame in frames:
        if frame.pair is not None and frame.eye is not None:
            eyes.setdefault(frame.pair, {}).setdefault(frame.eye, frame)
    twins: dict[int, _Unit] = {}
    for both in eyes.values():
        if len(both) == 2:
            pair = tuple(sorted(both.values(), key=lambda frame: frame.order))
            twins |= {frame.candidate_id: pair for frame in pair}
    units: list[_Unit] = []
    placed: set[int] = set()
    for frame in frames:
        if frame.candidate_id not in placed:
            unit = twins.get(frame.candidate_id, (frame,))
            placed.update(member.candidate_id for member in unit)
            units.append(unit)
    return units


@dataclass(slots=True)
class _Open:
    """A near-duplicate group being gathered: its leader's pHash, time and family."""

    phash: int
    taken_at: datetime
    family: str
    units: list[_Unit] = field(default_factory=list)


def _near_duplicates(units: Sequence[_Unit], rules: GroupRules) -> list[tuple[GroupKind, _Unit]]:
    """Units (in taken order) gathered around leaders; stereo pairs that cannot be."""
    gathered: list[_Open] = []
    open_by_family: dict[str, list[_Open]] = {}
    found: list[tuple[GroupKind, _Unit]] = []
    for unit in units:
        leader = unit[0]
        if not _linkable(unit, rules) or leader.family is None or leader.taken_at is None:
            if len(unit) > 1:
                found.append((GroupKind.STEREO, unit))
            continue
        taken_at = leader.taken_at
        candidates = [
            each
            for each in open_by_family.get(leader.family, [])
            if taken_at - each.taken_at <= rules.similar_window
        ]
        open_by_family[leader.family] = candidates
        nearest = _nearest(candidates, unit, rules)
        if nearest is None:
            assert leader.fingerprint is not None
            nearest = _Open(leader.fingerprint.phash, taken_at, leader.family)
            gathered.append(nearest)
            candidates.append(nearest)
        nearest.units.append(unit)
    for made in gathered:
        members = tuple(frame for unit in made.units for frame in unit)
        if len(members) > 1:
            kind = GroupKind.STEREO if len(made.units) == 1 else GroupKind.SIMILAR
            found.append((kind, members))
    return found


def _linkable(unit: _Unit, rules: GroupRules) -> bool:
    """Whether a unit can lead or join a near-duplicate group: measured, timed, of one
    family, and (twins) both eyes within the thresholds of the first."""
    first, taken_at = unit[0].fingerprint, unit[0].taken_at
    return (
        first is not None
        and taken_at is not None
        and all(
            frame.fingerprint is not None
            and frame.taken_at is not None
            and frame.family is not None
            and frame.family == unit[0].family
            and hamming(frame.fingerprint.phash, first.phash) <= rules.similar_distance
            and frame.taken_at - taken_at <= rules.similar_window
            for frame in unit
        )
    )


def _nearest(candidates: Sequence[_Open], unit: _Unit, rules: GroupRules) -> _Open | None:
    """The open group whose leader is nearest to every frame of ``unit``, if any is near
    enough (the earliest on a tie)."""
    chosen: _Open | None = None
    chosen_distance = rules.similar_distance + 1
    for candidate in candidates:
        distance = max(
            hamming(frame.fingerprint.phash, candidate.phash) if frame.fingerprint else 65
            for frame in unit
        )
        late = max(frame.taken_at or candidate.taken_at for frame in unit) - candidate.taken_at
        if distance < chosen_distance and late <= rules.similar_window:
            chosen, chosen_distance = candidate, distance
    return chosen


def _group(kind: GroupKind, members: _Unit, best: Best) -> Group:
    ordered = sorted(members, key=lambda frame: frame.order)
    hero = ordered[0]
    for frame in ordered[1:]:
        if best(frame) > best(hero):
            hero = frame
    return Group(
        kind=kind,
        members=tuple(frame.candidate_id for frame in ordered),
        leader=members[0].candidate_id,
        hero=hero.candidate_id,
    )
