"""Raster pictures for the offline demo: a deterministic Mars scene per imageid and size.

The demo rewrites image URLs to the emulator (``/img/<imageid>_<size>.jpg|.png``) so the
editor grid, the published list and its animations show real pixels without the network.
NASA's renditions are JPEG (``_320.jpg``, ``_800.jpg``, ``_1200.jpg``) and a PNG full file;
the sizes here follow them by width. Navcams, Hazcams and Ingenuity's navigation camera
are greyscale (mode ``L``), the other cameras colour.

Everything is a pure function of a ``Shot`` (what the picture shows, drawn by ``terrain``)
and the size, and the encoders' parameters are pinned, so one name gives the same bytes on
every run. ``scenes`` hands special shots (a dust
devil crossing a Navcam sequence, Ingenuity's shadow, stereo twins, tiles) to
``Pictures``; any other name gets an ordinary frame of the camera its prefix names.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from pathlib import Path

from PIL import Image

from watcher.demo.terrain import Shot, expose, paint
from watcher.files import write_atomic

__all__ = ["NAME", "SIZES", "Pictures", "Shot", "content_type", "default_shot", "render"]

logger = logging.getLogger("watcher.demo")

RENDER_VERSION = 1  # part of every cache file name: bump when the drawing changes
SIZES = {
    "small": (320, 240),
    "medium": (800, 600),
    "large": (1200, 900),
    "full_res": (1600, 1200),
}
EXTENSIONS = {"small": "jpg", "medium": "jpg", "large": "jpg", "full_res": "png"}
NAME = re.compile(
    r"^(?P<imageid>[A-Za-z0-9][A-Za-z0-9_.-]{0,159})"
    r"_(?P<size>small|medium|large|full_res)\.(?P<ext>jpg|png)$"
)
GREY_CAMERAS = frozenset({"NL", "NR", "FL", "RR", "HN"})
_GROUND_VIEW = frozenset({"HN", "SI", "LR"})  # looking down, or close up at rock and soil
_HORIZONS = {"NL": 380, "NR": 380, "FL": 230, "RR": 230, "ZL": 420, "ZR": 420, "HS": 140}
_WHEELS = {"FL": 1, "RR": 2}
_JPEG = {"quality": 85, "optimize": False, "progressive": False, "subsampling": 2}
_PNG = {"compress_level": 1, "optimize": False}


def content_type(size: str) -> str:
    return "image/png" if EXTENSIONS[size] == "png" else "image/jpeg"


def default_shot(imageid: str) -> Shot:
    """An ordinary frame of the camera named by the imageid's first two letters."""
    camera = imageid[:2]
    seed = zlib.crc32(imageid.encode())
    horizon = _HORIZONS.get(camera, 400) + (seed % 9 - 4) * 12
    return Shot(
        seed=seed,
        colour=camera not in GREY_CAMERAS,
        ground=camera in _GROUND_VIEW,
        horizon=horizon,
        wheel=_WHEELS.get(camera, 0),
        grain=seed,
    )


def render(shot: Shot, size: str) -> bytes:
    """The encoded picture: JPEG for the three browse sizes, PNG for ``full_res``."""
    width, height = SIZES[size]
    left, part, total, tall = shot.window
    canvas_w = max(width, round(height * total / tall))
    image = paint(shot, canvas_w, height)
    if (canvas_w, part) != (width, total):
        box = (canvas_w * left / total, 0.0, canvas_w * (left + part) / total, float(height))
        image = image.resize((width, height), Image.Resampling.BICUBIC, box=box)
    image = expose(image, shot)
    out = io.BytesIO()
    if EXTENSIONS[size] == "png":
        image.save(out, "PNG", **_PNG)
    else:
        image.save(out, "JPEG", **_JPEG)
    return out.getvalue()


class Pictures:
    """Renders pictures on demand and keeps them: in ``directory`` (files written to a
    temporary name and renamed, so a reader never sees half a picture) or, without one,
    in memory up to ``memory_bytes``. ``shots`` are the special scenes by imageid."""

    def __init__(
        self,
        directory: Path | None = None,
        shots: Mapping[str, Shot] | None = None,
        *,
        memory_bytes: int = 48 << 20,
    ) -> None:
        self.directory = directory
        self.shots: dict[str, Shot] = dict(shots or {})
        self.memory_bytes = memory_bytes
        self._memory: OrderedDict[str, bytes] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()

    def shot(self, imageid: str) -> Shot:
        return self.shots.get(imageid) or default_shot(imageid)

    def path(self, imageid: str, size: str) -> Path | None:
        """Where the picture is cached on disk (None when memory-only)."""
        if self.directory is None:
            return None
        return self.directory / self._file_name(imageid, size)

    def get(self, imageid: str, size: str) -> bytes:
        """The picture of ``imageid`` (already validated by ``NAME``) at ``size``."""
        if size not in SIZES or NAME.match(f"{imageid}_{size}.{EXTENSIONS[size]}") is None:
            raise ValueError(f"not a picture name: {imageid!r} {size!r}")
        name = self._file_name(imageid, size)
        if self.directory is None:
            with self._lock:
                held = self._memory.get(name)
                if held is not None:
                    self._memory.move_to_end(name)
                    return held
            data = render(self.shot(imageid), size)
            self._remember(name, data)
            return data
        target = self.directory / name
        try:
            return target.read_bytes()
        except OSError:
            pass
        data = render(self.shot(imageid), size)
        try:
            self._write(target, data)
        except OSError as exc:  # a cache: serving goes on without it
            logger.warning("could not keep picture %s: %s", target, exc)
        return data

    def prerender(self, imageids: Iterable[str] | None = None, size: str = "small") -> int:
        """Render (and cache) ``size`` of ``imageids`` (default: the special scenes)."""
        count = 0
        for imageid in sorted(self.shots) if imageids is None else imageids:
            self.get(imageid, size)
            count += 1
        return count

    def _file_name(self, imageid: str, size: str) -> str:
        key = repr((RENDER_VERSION, self.shot(imageid))).encode()
        digest = hashlib.blake2b(key, digest_size=6).hexdigest()
        return f"{imageid}_{size}-{digest}.{EXTENSIONS[size]}"

    def _write(self, target: Path, data: bytes) -> None:
        write_atomic(target, data)

    def _remember(self, name: str, data: bytes) -> None:
        with self._lock:
            if name in self._memory:
                return
            self._memory[name] = data
            self._held += len(data)
            while self._held > self.memory_bytes and len(self._memory) > 1:
                _, dropped = self._memory.popitem(last=False)
                self._held -= len(dropped)
