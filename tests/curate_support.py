"""Fingerprints and frames for curation's tests, from the demo's own pictures, measured
by the fingerprinting job's own code, so the thresholds the tests check are the ones the
job's hashes meet."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from watcher.curate.fingerprint import fingerprint as measure
from watcher.curate.frames import CurateFrame, frame_of
from watcher.demo import Pictures, Shot
from watcher.types import Candidate, CandidateStatus, Fingerprint

EPOCH = datetime(2026, 8, 31, tzinfo=UTC)


def fingerprint(candidate_id: int, data: bytes) -> Fingerprint:
    """What the fingerprinting job measures (``watcher.curate.fingerprint``)."""
    return measure(candidate_id, data, EPOCH)


def candidate(candidate_id: int, record: Mapping[str, Any]) -> Candidate:
    """A stored candidate as the raw-image source makes one of ``record`` (the fields
    curation reads)."""
    taken = datetime.fromisoformat(str(record["date_taken_utc"])).replace(tzinfo=UTC)
    return Candidate(
        id=candidate_id,
        status=CandidateStatus.NEW,
        first_seen_at=EPOCH,
        source="mars2020",
        external_id=str(record["imageid"]),
        camera=str(record["camera"]["instrument"]),
        sol=int(record["sol"]),
        taken_at=taken,
    )


@cache
def _picture_fingerprint(imageid: str, shot: Shot | None) -> Fingerprint:
    pictures = Pictures(shots={imageid: shot} if shot else None)
    return fingerprint(0, pictures.get(imageid, "small"))


def frames_of(
    records: Iterable[Mapping[str, Any]], shots: Mapping[str, Shot], first_id: int = 1
) -> list[CurateFrame]:
    """The records as frames with ids from ``first_id``, fingerprinted from the demo's
    ``small`` pictures (the rendition the fingerprinting job measures)."""
    frames = []
    for number, record in enumerate(records, start=first_id):
        imageid = str(record["imageid"])
        measured = _picture_fingerprint(imageid, shots.get(imageid))
        frames.append(frame_of(candidate(number, record), replace(measured, candidate_id=number)))
    return frames


def made_frame(
    candidate_id: int,
    *,
    seconds: float | None = 0.0,
    camera: str | None = "NAVCAM_LEFT",
    phash: int | None = 0,
    dhash: int = 0,
    imageid: str | None = None,
) -> CurateFrame:
    """A hand-made frame: taken ``seconds`` after ``EPOCH`` (None: no time), with the
    given hashes (``phash=None``: not fingerprinted yet)."""
    external_id = imageid or f"X{candidate_id:04d}"
    fingerprint = None
    if phash is not None:
        fingerprint = Fingerprint(
            candidate_id=candidate_id,
            phash=phash,
            dhash=dhash,
            width=320,
            height=240,
            colourfulness=0.0,
            entropy=0.5,
            sharpness=0.5,
            brightness=0.5,
            black=0.0,
            computed_at=EPOCH,
        )
    taken = None if seconds is None else EPOCH + timedelta(seconds=seconds)
    made = Candidate(
        id=candidate_id,
        status=CandidateStatus.NEW,
        first_seen_at=EPOCH,
        source="mars2020",
        external_id=external_id,
        camera=camera,
        sol=1965,
        taken_at=taken,
    )
    return frame_of(made, fingerprint)


def bits(count: int, start: int = 0) -> int:
    """``count`` one bits from bit ``start``: a hash that far from another."""
    return ((1 << count) - 1) << start
