"""A picture's fingerprint: bytes in, ``Fingerprint`` out, nothing else (no I/O, no clock).

The two hashes are ``imagehash``'s, the library's standard definitions, so they compare with
any other tool's: ``phash`` (the luminance at 32x32, its DCT's top-left 8x8 against their
median) survives scaling, JPEG noise and small changes of brightness; ``dhash`` (each
pixel of a 9x8 luminance brighter than its right neighbour?) moves bit by bit as a scene
moves, which is what sequences measure. Both are 64-bit unsigned ints, first row's bit
first (the order ``imagehash`` prints them in).

The statistics are measured on the picture fitted into ``STATS_SIDE`` pixels, so a
thumbnail and a larger rendition of one frame measure alike; each is in 0..1 (see
``Fingerprint``). Scales chosen for Mars pictures: colourfulness is Hasler and Süsstrunk's
M over ``COLOURFUL_M`` (their "extremely colourful" is ~109; Mastcam-Z's Jezero is 10-40),
sharpness the Laplacian's variance ``v`` as ``v / (v + SHARPNESS_HALF)``, black the share
of pixels whose luminance is below ``BLACK_LEVEL`` (of 255).

Untrusted bytes: the header is read first and a picture of more than ``MAX_PIXELS`` is
refused before any pixel is decoded (a decompression bomb); JPEGs are decoded at the
smallest scale that still covers what is measured (``draft``), so a large rendition costs
little more than a thumbnail.
"""

from __future__ import annotations

import io
import math
from datetime import datetime

import imagehash
import numpy as np
from numpy.typing import NDArray
from PIL import Image, UnidentifiedImageError

from watcher.types import Fingerprint

MAX_PIXELS = 40_000_000
STATS_SIDE = 256
HASH_SIDE = 64  # what the hashes need at least (phash reads 32x32)
COLOURFUL_M = 100.0
SHARPNESS_HALF = 500.0
BLACK_LEVEL = 16


class PictureError(ValueError):
    """The bytes are not a picture that can be read (``problem`` says why, in words)."""

    def __init__(self, problem: str):
        self.problem = problem
        super().__init__(problem)


def fingerprint(candidate_id: int, data: bytes, computed_at: datetime) -> Fingerprint:
    """Measure one picture (any format Pillow reads). Raises PictureError."""
    image, width, height = _decoded(data)
    phash = _bits(imagehash.phash(image))
    dhash = _bits(imagehash.dhash(image))
    image.thumbnail((STATS_SIDE, STATS_SIDE), Image.Resampling.BOX)
    rgb = np.asarray(image, dtype=np.float32)
    luma = np.asarray(image.convert("L"), dtype=np.float32)
    return Fingerprint(
        candidate_id=candidate_id,
        phash=phash,
        dhash=dhash,
        width=width,
        height=height,
        colourfulness=colourfulness(rgb),
        entropy=entropy(luma),
        sharpness=sharpness(luma),
        brightness=_unit(float(luma.mean()) / 255.0),
        black=_unit(float((luma < BLACK_LEVEL).mean())),
        computed_at=computed_at,
    )


def _decoded(data: bytes) -> tuple[Image.Image, int, int]:
    """The picture as RGB (JPEGs decoded at a reduced scale) and its full width and height."""
    try:
        with Image.open(io.BytesIO(data)) as opened:
            width, height = opened.size
            if width < 1 or height < 1:
                raise PictureError("has no pixels")
            if width * height > MAX_PIXELS:
                raise PictureError(f"is too large a picture to read ({width}x{height})")
            if opened.format == "JPEG":
                opened.draft("RGB", (max(STATS_SIDE, HASH_SIDE), max(STATS_SIDE, HASH_SIDE)))
            return opened.convert("RGB"), width, height
    except PictureError:
        raise
    except UnidentifiedImageError as exc:
        raise PictureError("is not a picture") from exc
    except Image.DecompressionBombError as exc:
        raise PictureError("is too large a picture to read") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise PictureError(f"could not be decoded ({exc})") from exc


def _bits(value: imagehash.ImageHash) -> int:
    """The hash's 64 bits as an unsigned int, first row's first bit highest."""
    return int("".join("1" if bit else "0" for bit in value.hash.flatten()), 2)


def _unit(value: float) -> float:
    return min(1.0, max(0.0, value)) if math.isfinite(value) else 0.0


def colourfulness(rgb: NDArray[np.float32]) -> float:
    """Hasler and Süsstrunk's M (2003) of an RGB array, over ``COLOURFUL_M``, capped at 1."""
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    rg = red - green
    yb = 0.5 * (red + green) - blue
    spread = math.hypot(float(rg.std()), float(yb.std()))
    mean = math.hypot(float(rg.mean()), float(yb.mean()))
    return _unit((spread + 0.3 * mean) / COLOURFUL_M)


def entropy(luma: NDArray[np.float32]) -> float:
    """The luminance histogram's Shannon entropy in bits, over 8 (its most for 256 levels)."""
    counts = np.bincount(luma.astype(np.uint8).ravel(), minlength=256).astype(np.float64)
    shares = counts[counts > 0] / counts.sum()
    return _unit(float(-(shares * np.log2(shares)).sum()) / 8.0)


def sharpness(luma: NDArray[np.float32]) -> float:
    """The variance of the 4-neighbour Laplacian, ``v / (v + SHARPNESS_HALF)``."""
    if luma.shape[0] < 3 or luma.shape[1] < 3:
        return 0.0
    centre = luma[1:-1, 1:-1]
    laplacian = luma[:-2, 1:-1] + luma[2:, 1:-1] + luma[1:-1, :-2] + luma[1:-1, 2:] - 4.0 * centre
    variance = float(laplacian.var())
    return _unit(variance / (variance + SHARPNESS_HALF))
