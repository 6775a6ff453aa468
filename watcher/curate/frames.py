"""What the grouping rules read of a candidate (``CurateFrame``) and the rules' thresholds
(``GroupRules``): plain values, so the rules are pure functions of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from watcher.cameras import camera_eye, camera_family, stereo_pair
from watcher.types import Candidate, Fingerprint


@dataclass(frozen=True, slots=True, kw_only=True)
class CurateFrame:
    """One candidate as curation sees it.

    ``family`` is the camera without its eye (``NAVCAM`` for both Navcams): only frames of
    one family can be near-duplicates. ``eye`` is ``left``, ``right`` or None; ``pair`` is
    what the two eyes of one stereo exposure share (None for a single camera).
    ``fingerprint`` is None until the picture has been measured: such a frame is grouped
    only by what its record says (a stereo twin), never by its pixels.
    """

    candidate_id: int
    external_id: str
    camera: str | None
    family: str | None
    eye: str | None
    pair: str | None
    sol: int | None
    taken_at: datetime | None
    fingerprint: Fingerprint | None = None

    @property
    def order(self) -> tuple[bool, datetime, int]:
        """Taken order: by time taken, then candidate id; frames without a time last."""
        return (self.taken_at is None, self.taken_at or datetime.min, self.candidate_id)


def frame_of(candidate: Candidate, fingerprint: Fingerprint | None = None) -> CurateFrame:
    """The frame curation reads of a stored candidate and its fingerprint (if any)."""
    return CurateFrame(
        candidate_id=candidate.id,
        external_id=candidate.external_id,
        camera=candidate.camera,
        family=camera_family(candidate.camera),
        eye=camera_eye(candidate.camera),
        pair=stereo_pair(candidate.camera, candidate.external_id),
        sol=candidate.sol,
        taken_at=candidate.taken_at,
        fingerprint=fingerprint,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupRules:
    """The thresholds of grouping, the ``[curate]`` config keys of the same names.

    - ``similar_distance``: the most a frame's pHash may differ (in bits) from its group
      leader's; ``similar_window``: the longest a member may be taken after its leader.
    - ``sequence_gap``: the longest gap between consecutive frames of a sequence;
      ``sequence_min_frames``: the fewest frames a sequence has.
    - ``sequence_min_change``/``sequence_max_change``: the change between consecutive
      frames (``sequences.change``: the mean of their dHash and pHash distances, in bits)
      that counts as a scene moving: below the minimum the frames are repeats, above the
      maximum they show another scene.

    Calibrated on the demo's pictures (``small`` renditions): consecutive frames of its dust
    devil and Ingenuity shadow sequences change by 2..16, its repeats by at most 2.5, and
    two frames of different scenes by 12 or more (17 or more for 99% of pairs).
    """

    similar_distance: int = 10
    similar_window: timedelta = timedelta(minutes=15)
    sequence_gap: timedelta = timedelta(minutes=3)
    sequence_min_frames: int = 4
    sequence_min_change: int = 3
    sequence_max_change: int = 16

    def __post_init__(self) -> None:
        if not 0 <= self.similar_distance <= 64:
            raise ValueError("similar_distance must be within 0..64")
        if not 0 <= self.sequence_min_change <= self.sequence_max_change <= 64:
            raise ValueError("need 0 <= sequence_min_change <= sequence_max_change <= 64")
        if self.sequence_min_frames < 2:
            raise ValueError("sequence_min_frames must be at least 2")
        if self.similar_window < timedelta(0) or self.sequence_gap < timedelta(0):
            raise ValueError("similar_window and sequence_gap must not be negative")
