"""What curation knows of a candidate's picture, and what it makes of the queue: the values
the fingerprinting job stores and the pure grouping and scoring rules read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from watcher.types.leases import LeaseHolder

HASH_BITS = 64


@dataclass(frozen=True, slots=True, kw_only=True)
class Fingerprint:
    """A candidate's small rendition, measured once: two 64-bit perceptual hashes (unsigned
    ints; ``phash`` from the DCT, ``dhash`` from neighbouring pixels) and a few statistics,
    each in a fixed range so rules can weigh them without knowing the picture's size.

    - ``colourfulness``: Hasler and Süsstrunk's metric scaled to 0..1 (0 is greyscale);
    - ``entropy``: the luminance histogram's entropy in bits over 8, 0..1 (detail);
    - ``sharpness``: the variance of a Laplacian of luminance, squashed to 0..1;
    - ``brightness``: mean luminance, 0..1;
    - ``black``: the share of near-black pixels, 0..1 (a subframe's border, a lens cap).
    """

    candidate_id: int
    phash: int
    dhash: int
    width: int
    height: int
    colourfulness: float
    entropy: float
    sharpness: float
    brightness: float
    black: float
    computed_at: datetime


def hamming(a: int, b: int) -> int:
    """How many of the 64 bits two hashes differ in."""
    return (a ^ b).bit_count()


class GroupKind(StrEnum):
    """Why frames share a card: near-identical pictures, the two eyes of one stereo pair,
    or a sequence whose scene changes (offered as an animation)."""

    SIMILAR = "similar"
    STEREO = "stereo"
    SEQUENCE = "sequence"


def group_label(kind: str | None, size: int) -> str:
    """A card's group in a few words, the same on the editor's card and in ``watcher
    queue``: "12 similar", "stereo pair", "sequence · 10 frames" ("" for a frame alone)."""
    if size < 2:
        return ""
    if kind == GroupKind.SEQUENCE:
        return f"sequence · {size} frames"
    if kind == GroupKind.STEREO:
        return "stereo pair" if size == 2 else f"stereo · {size} frames"
    return f"{size} similar"


@dataclass(frozen=True, slots=True, kw_only=True)
class Group:
    """Frames the queue shows as one card. ``members`` are candidate ids in taken order;
    ``leader`` is the frame the others were compared with (complete linkage: every member
    is within the threshold of it); ``hero`` is the frame the card shows (the best one)."""

    kind: GroupKind
    members: tuple[int, ...]
    leader: int
    hero: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Score:
    """A candidate's place in the queue, 0..100, with the short reasons an editor reads on
    its card ("colour camera", "golden hour"). It orders the queue only: it never approves
    or rejects anything."""

    candidate_id: int
    value: float
    reasons: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True, kw_only=True)
class PictureToDo:
    """A candidate whose picture the curation job measures next: its renditions to try,
    smallest first (thumbnail, medium, large; empty when it has none), the failures in a
    row so far, and whether it is archive (backfilled: fingerprinted only when asked)."""

    candidate_id: int
    urls: tuple[str, ...]
    attempts: int = 0
    archive: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class CurateReport:
    """What one round of the curation job did: pictures measured, failed (tried again
    later) or left for the next round because a poll needed the host (``deferred``);
    ``cached`` of the measured ones came from the disk cache, ``requests`` went to the
    image hosts. ``waiting`` candidates are still due after the round (archive ones only
    when asked) and ``retrying`` failures wait for their retry. ``failures``: candidate id
    and why, for each failure of the round. ``busy``: another watcher was curating, so
    this one did nothing (``held_by``: who, when known). ``groups``: the groups found on
    the sols the round touched; ``scored``: the scores (re)computed because their inputs
    changed."""

    fingerprinted: int = 0
    failed: int = 0
    deferred: int = 0
    cached: int = 0
    requests: int = 0
    waiting: int = 0
    retrying: int = 0
    failures: tuple[tuple[int, str], ...] = ()
    busy: bool = False
    groups: int = 0
    scored: int = 0
    held_by: LeaseHolder | None = None
