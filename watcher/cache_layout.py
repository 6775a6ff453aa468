"""Where files live under ``[publish] cache_dir``, written down once for those who write
them (the curator's pictures, the animator's failure records) and for the pruner, which
must know which files are whose and must never touch anything else.

- ``pictures/<2 hex>/<sha256 of the URL>``: a picture fetched for fingerprinting, by the
  URL it was fetched from (the one ``urls.clean_url`` returned);
- ``animations/<key>.failed.json``: why the animation ``key`` (32 hex digits, see
  ``publish.animate.animation_key``) could not be made, beside the animations themselves.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

PICTURES = "pictures"
ANIMATIONS = "animations"
FAILED_SUFFIX = ".failed.json"
PICTURE_NAME = re.compile(r"[0-9a-f]{64}")
FAILURE_NAME = re.compile(r"[0-9a-f]{32}" + re.escape(FAILED_SUFFIX))


def picture_name(url: str) -> str:
    """The file name a picture fetched from ``url`` is kept under."""
    return hashlib.sha256(url.encode()).hexdigest()


def picture_path(cache_dir: Path, url: str) -> Path:
    """Where the picture at ``url`` is kept: its URL's SHA-256, fanned out by two hex digits."""
    name = picture_name(url)
    return cache_dir / PICTURES / name[:2] / name


def failure_path(cache_dir: Path, key: str) -> Path:
    """Where the failure record of the animation ``key`` is kept."""
    return cache_dir / ANIMATIONS / f"{key}{FAILED_SUFFIX}"
