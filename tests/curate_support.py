"""Fingerprints and frames for curation's tests, from the demo's own pictures.

``phash`` and ``dhash`` are the standard definitions, computed with Pillow alone, so the
fingerprinting job's hashes can be checked against them:

- dHash: the picture in greyscale (``convert("L")``), resized to 9 x 8 with Lanczos; bit
  ``(row, x)`` is 1 when pixel ``x`` is darker than pixel ``x + 1``; 64 bits row by row,
  the first bit the most significant.
- pHash: greyscale, resized to 32 x 32 with Lanczos; the 2-D DCT-II of it; the 8 x 8
  coefficients of rows and columns 1..8 (the DC row and column left out); bit 1 where a
  coefficient is above their median; 64 bits row by row, the first the most significant.

The other statistics are stand-ins (entropy and brightness measured, the rest 0): the
grouping rules read the hashes, and tests that choose a hero pass their own ``best``.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from PIL import Image, ImageStat

from watcher.curate.frames import CurateFrame, frame_of
from watcher.demo import Pictures, Shot
from watcher.types import Candidate, CandidateStatus, Fingerprint

_COSINES = [[math.cos(math.pi * (2 * x + 1) * u / 64) for x in range(32)] for u in range(9)]
EPOCH = datetime(2026, 8, 31, tzinfo=UTC)


def dhash(image: Image.Image) -> int:
    pixels = list(image.convert("L").resize((9, 8), Image.Resampling.LANCZOS).tobytes())
    bits = 0
    for row in range(8):
        for x in range(8):
            bits = bits << 1 | (pixels[row * 9 + x] < pixels[row * 9 + x + 1])
    return bits


def phash(image: Image.Image) -> int:
    pixels = list(image.convert("L").resize((32, 32), Image.Resampling.LANCZOS).tobytes())
    # Separable DCT-II, only the coefficients 1..8 of each axis (constant factors dropped:
    # they scale every coefficient alike and the bits compare with the median).
    rows = [
        [sum(pixels[y * 32 + x] * _COSINES[v][x] for x in range(32)) for v in range(1, 9)]
        for y in range(32)
    ]
    coefficients = [
        sum(rows[y][v] * _COSINES[u][y] for y in range(32)) for u in range(1, 9) for v in range(8)
    ]
    middle = sorted(coefficients)[31:33]
    median = (middle[0] + middle[1]) / 2
    bits = 0
    for coefficient in coefficients:
        bits = bits << 1 | (coefficient > median)
    return bits


def fingerprint(candidate_id: int, data: bytes) -> Fingerprint:
    image = Image.open(io.BytesIO(data))
    grey = image.convert("L")
    histogram = grey.histogram()
    total = sum(histogram)
    entropy = -sum(n / total * math.log2(n / total) for n in histogram if n)
    return Fingerprint(
        candidate_id=candidate_id,
        phash=phash(image),
        dhash=dhash(image),
        width=image.width,
        height=image.height,
        colourfulness=0.0,
        entropy=entropy / 8,
        sharpness=0.0,
        brightness=ImageStat.Stat(grey).mean[0] / 255,
        black=0.0,
        computed_at=EPOCH,
    )


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
