"""Sequences: frames of one camera taken seconds to minutes apart whose scene moves (a dust
devil crossing, Ingenuity's shadow, a sundial), offered as one animation.

A camera's frames in taken order are cut into runs wherever two consecutive frames are
more than ``sequence_gap`` apart or show another scene (their change is above
``sequence_max_change``). Within a run a step *moves* when its change reaches
``sequence_min_change``; a sequence is a stretch from a moving step to the last one before
two still steps in a row (a repeat is not motion), of at least ``sequence_min_frames``
frames, whose last frame differs from its first by at least twice ``sequence_min_change``
(motion adds up over a sequence, a repeat's noise does not). One still step inside a
sequence does not end it: a shadow growing slowly can move less than the threshold from
one frame to the next.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from itertools import pairwise
from typing import NamedTuple

from watcher.curate.frames import CurateFrame, GroupRules
from watcher.types import Fingerprint, hamming


class _Shot(NamedTuple):
    frame: CurateFrame
    taken_at: datetime
    fingerprint: Fingerprint


def change(a: Fingerprint, b: Fingerprint) -> float:
    """How much the picture changed from ``a`` to ``b``: the mean of their dHash and pHash
    distances in bits (0..64). Either hash alone tells a moving scene from a repeat or from
    another scene less well than both: dHash misses a small shadow, pHash the noise."""
    return (hamming(a.dhash, b.dhash) + hamming(a.phash, b.phash)) / 2


def find_sequences(
    frames: Iterable[CurateFrame], rules: GroupRules
) -> list[tuple[CurateFrame, ...]]:
    """Every sequence among ``frames``, each in taken order, ordered by their first frame.

    Frames of one camera and eye only; a frame without a camera, a time or a fingerprint
    is never part of one.
    """
    cameras: dict[tuple[str, str | None], list[_Shot]] = {}
    for frame in frames:
        if frame.family and frame.taken_at is not None and frame.fingerprint is not None:
            shot = _Shot(frame, frame.taken_at, frame.fingerprint)
            cameras.setdefault((frame.family, frame.eye), []).append(shot)
    found: list[tuple[CurateFrame, ...]] = []
    for shots in cameras.values():
        shots.sort(key=lambda shot: shot.frame.order)
        for run in _runs(shots, rules):
            found.extend(_moving(run, rules))
    found.sort(key=lambda sequence: sequence[0].order)
    return found


def _runs(shots: Sequence[_Shot], rules: GroupRules) -> list[list[_Shot]]:
    """``shots`` cut wherever consecutive frames are too far apart in time or in scene."""
    runs: list[list[_Shot]] = []
    for shot in shots:
        before = runs[-1][-1] if runs else None
        if (
            before is not None
            and shot.taken_at - before.taken_at <= rules.sequence_gap
            and change(before.fingerprint, shot.fingerprint) <= rules.sequence_max_change
        ):
            runs[-1].append(shot)
        else:
            runs.append([shot])
    return runs


def _moving(run: Sequence[_Shot], rules: GroupRules) -> list[tuple[CurateFrame, ...]]:
    """The stretches of one run that move (see the module docstring)."""
    moved = [
        change(a.fingerprint, b.fingerprint) >= rules.sequence_min_change for a, b in pairwise(run)
    ]
    stretches: list[Sequence[_Shot]] = []
    start: int | None = None
    last = 0  # the last moving step; step i goes from frame i to frame i + 1
    for step, moving in enumerate(moved):
        if moving:
            start = step if start is None else start
            last = step
        elif start is not None and step - last >= 2:
            stretches.append(run[start : last + 2])
            start = None
    if start is not None:
        stretches.append(run[start : last + 2])
    return [
        tuple(shot.frame for shot in stretch)
        for stretch in stretches
        if len(stretch) >= rules.sequence_min_frames
        and change(stretch[0].fingerprint, stretch[-1].fingerprint) >= 2 * rules.sequence_min_change
    ]
