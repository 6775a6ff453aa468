"""Hand-made scenes in the demo's datasets, for the curation features to come.

Each scene is a handful of raw-image records shaped exactly like NASA's (built by
``RecordFactory`` with a forced camera) plus the ``Shot`` that ``pictures`` draws for each:

- a dust devil crossing a Navcam sequence (NAVCAM_LEFT, one pointing, seconds apart);
- Ingenuity's shadow growing and moving across a HELI_NAV sequence (a descent);
- stereo twins: Navcam and Mastcam-Z left/right pairs of one exposure (one sclk, ids that
  differ only in the camera letter), the same scene a few pixels apart;
- near-identical repeats: Hazcam frames seconds apart, only noise and gain differ;
- the real capture's three tiles of one Navcam frame: left, middle and right of one scene.

The records are received a few hours before the newest record of their category, so a
first poll (what arrived in the 24 hours before NASA's latest) and a backfill of their
sol both find them. A sequence shares its sequence number, drive and pointing, as a real
one does: the salts are chosen so the factory's arithmetic gives the same fields.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from watcher.demo.pictures import Shot, default_shot
from watcher.demo.records import INGENUITY_CAMERAS, PERSEVERANCE_CAMERAS, Camera, RecordFactory

__all__ = ["DemoScenes", "build_scenes", "tile_shots"]

RECEIVED_BEFORE_NEWEST_S = 3 * 3600  # scenes arrive this long before the newest record
_RECEIVED_STEP_S = 7
_HOUR_MS = 3_600_000
_CAMERAS = {camera.instrument: camera for camera in PERSEVERANCE_CAMERAS + INGENUITY_CAMERAS}
_RECT = re.compile(r"^\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\)$")
DUST_DEVIL_FRAMES = 10
SHADOW_FRAMES = 10
REPEAT_FRAMES = 4
STEREO_SHIFT = 6  # per-mille of the frame width between the left and the right eye
_EYES = (-1, 1)  # the left eye's view moves left, the right eye's right


@dataclass(frozen=True, slots=True)
class DemoScenes:
    """The scene records by category, what to draw for each, and the ids by scene."""

    perseverance: tuple[dict[str, Any], ...]
    ingenuity: tuple[dict[str, Any], ...]
    shots: Mapping[str, Shot]
    dust_devil: tuple[str, ...]
    shadow: tuple[str, ...]
    stereo: tuple[tuple[str, str], ...]
    repeats: tuple[str, ...]
    tiles: tuple[str, ...]


def build_scenes(
    *,
    perseverance_sol: int,
    perseverance_newest_s: int,
    ingenuity_sol: int,
    ingenuity_newest_s: int,
    tiles: Iterable[Mapping[str, Any]] = (),
    perseverance_seed: int = 2020,
    ingenuity_seed: int = 2021,
) -> DemoScenes:
    """Every scene; ``*_newest_s`` is the latest ``date_received`` (Unix seconds) of the
    category's dataset, ``tiles`` the records of one tiled frame (the real capture)."""
    rover = _Builder(RecordFactory("mars2020", perseverance_seed), perseverance_newest_s)
    heli = _Builder(RecordFactory("ingenuity", ingenuity_seed), ingenuity_newest_s)
    sol = perseverance_sol
    # The rover's scenes in this order: each frame is received after the one before.
    devil, devil_shots = _dust_devil(rover, sol)
    twins, stereo, stereo_shots = _stereo_twins(rover, sol)
    repeats, repeat_shots = _repeats(rover, sol)
    shadow, shadow_shots = _shadow(heli, ingenuity_sol)
    tile_records = list(tiles)
    shots = {**devil_shots, **stereo_shots, **repeat_shots, **shadow_shots}
    shots.update(tile_shots(tile_records))
    return DemoScenes(
        perseverance=(*devil, *twins, *repeats),
        ingenuity=tuple(shadow),
        shots=shots,
        dust_devil=tuple(r["imageid"] for r in devil),
        shadow=tuple(r["imageid"] for r in shadow),
        stereo=tuple(stereo),
        repeats=tuple(r["imageid"] for r in repeats),
        tiles=tuple(str(r["imageid"]) for r in tile_records if str(r["imageid"]) in shots),
    )


_Scene = tuple[list[dict[str, Any]], dict[str, Shot]]  # the records and what each shows


def _dust_devil(rover: _Builder, sol: int) -> _Scene:
    """A Navcam sequence with a dust devil crossing the frame from left to right."""
    devil = rover.sequence("NAVCAM_LEFT", sol, _lmst(13, 12), 4_000, DUST_DEVIL_FRAMES, 4242)
    seed = _seed("dust devil", sol)
    return devil, _shots(
        devil, seed, lambda k: {"horizon": 400, "devil": 120 + 760 * k // (DUST_DEVIL_FRAMES - 1)}
    )


def _stereo_twins(
    rover: _Builder, sol: int
) -> tuple[list[dict[str, Any]], list[tuple[str, str]], dict[str, Shot]]:
    """Navcam and Mastcam-Z left/right pairs: one scene, each eye a few pixels aside."""
    twins: list[dict[str, Any]] = []
    stereo: list[tuple[str, str]] = []
    shots: dict[str, Shot] = {}
    for left, right, lmst, sequence in (
        ("NAVCAM_LEFT", "NAVCAM_RIGHT", _lmst(13, 40), 4250),
        ("MCZ_LEFT", "MCZ_RIGHT", _lmst(14, 5, 30), 4260),
    ):
        pair = [rover.sequence(name, sol, lmst, 0, 1, sequence)[0] for name in (left, right)]
        shots |= _shots(
            pair,
            _seed(f"stereo {left}", sol),
            lambda k: {"horizon": 410, "window": (50 + _EYES[k] * STEREO_SHIFT, 1000, 1100, 750)},
        )
        stereo.append((pair[0]["imageid"], pair[1]["imageid"]))
        twins += pair
    return twins, stereo, shots


def _repeats(rover: _Builder, sol: int) -> _Scene:
    """Hazcam frames seconds apart that differ only in noise and gain."""
    repeats = rover.sequence("FRONT_HAZCAM_LEFT_A", sol, _lmst(14, 31), 2_000, REPEAT_FRAMES, 4270)
    seed = _seed("repeats", sol)
    return repeats, _shots(
        repeats, seed, lambda k: {"horizon": 240, "wheel": 1, "gain": 1000 + (0, 6, -5, 3)[k % 4]}
    )


def _shadow(heli: _Builder, sol: int) -> _Scene:
    """Ingenuity's descent: its shadow grows and moves across the navigation camera's view."""
    shadow = heli.sequence("HELI_NAV", sol, _lmst(12, 2), 1_500, SHADOW_FRAMES, 4833)

    def drawn(k: int) -> dict[str, Any]:
        t = k / (SHADOW_FRAMES - 1)
        where = (round(260 + 280 * t), round(690 - 200 * t), round(300 + 320 * t), 20 + 47 * k)
        return {"ground": True, "shadow": where}

    return shadow, _shots(shadow, _seed("ingenuity shadow", sol), drawn)


def tile_shots(records: Iterable[Mapping[str, Any]]) -> dict[str, Shot]:
    """Shots for the tiles of one frame: each shows its ``extended.subframeRect`` of one
    scene (NASA's rect is ``(x, y, width, height)``, 1-based), so the tiles line up."""
    rects: dict[str, tuple[int, int, int, int]] = {}
    for record in records:
        extended = record.get("extended")
        found = _RECT.match(str(extended.get("subframeRect", ""))) if extended else None
        if found and isinstance(record.get("imageid"), str):
            x, y, width, height = (int(part) for part in found.groups())
            rects[record["imageid"]] = (x, y, width, height)
    if not rects:
        return {}
    total = max(x - 1 + width for x, _, width, _ in rects.values())
    tall = max(height for *_, height in rects.values())
    frame = min(rects).rsplit("_", 2)[0]  # the id without its tile number and version
    seed = _seed("tiles", zlib.crc32(frame.encode()))
    base = default_shot(frame)
    return {
        imageid: Shot(
            seed=seed,
            colour=base.colour,
            horizon=380,
            window=(x - 1, width, total, tall),
            grain=zlib.crc32(imageid.encode()),
        )
        for imageid, (x, _, width, _) in rects.items()
    }


class _Builder:
    """Records of one category, received one after another before its newest record."""

    def __init__(self, factory: RecordFactory, newest_s: int) -> None:
        self.factory = factory
        self.received = newest_s - RECEIVED_BEFORE_NEWEST_S

    def sequence(
        self, instrument: str, sol: int, lmst_ms: int, step_ms: int, count: int, number: int
    ) -> list[dict[str, Any]]:
        """``count`` frames of one camera, ``step_ms`` (LMST) apart, one pointing.

        Salt ``3 * (number + 700_000 * k)`` keeps the factory's sequence number
        (``salt // 3 % 100_000``) and drive (``salt % 7``) the same for every frame.
        """
        camera: Camera = _CAMERAS[instrument]
        records = []
        for k in range(count):
            record = self.factory.make(
                sol=sol,
                lmst_ms=lmst_ms + k * step_ms,
                received_s=self.received,
                salt=3 * (number + 700_000 * (k + 1)),
                frame=1,
                camera=camera,
            )
            self.received += _RECEIVED_STEP_S
            records.append(record)
        first = records[0]
        for record in records[1:]:
            for key in ("mastAz", "mastEl"):
                record["extended"][key] = first["extended"][key]
            record["camera"]["camera_vector"] = first["camera"]["camera_vector"]
        return records


def _shots(
    records: Sequence[Mapping[str, Any]], seed: int, drawn: Callable[[int], dict[str, Any]]
) -> dict[str, Shot]:
    """The shots of one scene's frames: one scene (``seed``), frame ``k`` drawn as
    ``drawn(k)`` says, each with its own grain."""
    return {
        str(record["imageid"]): _shot(record, seed, **drawn(k)) for k, record in enumerate(records)
    }


def _shot(record: Mapping[str, Any], seed: int, **drawn: Any) -> Shot:
    imageid = str(record["imageid"])
    base = default_shot(imageid)
    return Shot(seed=seed, colour=base.colour, grain=zlib.crc32(imageid.encode()), **drawn)


def _seed(name: str, number: int) -> int:
    return zlib.crc32(f"{name}:{number}".encode())


def _lmst(hours: int, minutes: int, seconds: int = 0) -> int:
    return hours * _HOUR_MS + minutes * 60_000 + seconds * 1000
