"""Views shot again and again: how a real downlink fills a sol with near-repeats.

Perseverance sends 500-1,000 frames on a busy sol, most of them a view seen again: stereo
twins (both eyes of one shot) and repeats seconds apart that differ only in gain and grain.
``shoot_view`` makes one such view (its records and what each picture shows);
``busy_views`` a sol of them plus a few lone frames; ``ViewReleases`` keeps a demo
running with new views of later sols, received one view at a time, so the queue grows the
way the real one does (and collapses the way curation should make it).
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from watcher.demo.pictures import Shot, default_shot
from watcher.demo.records import PERSEVERANCE_CAMERAS, RecordFactory, mix
from watcher.demo.scenes import STEREO_SHIFT

__all__ = ["DAY_MS", "START_MS", "View", "ViewReleases", "busy_views", "shoot_view"]

_CAMERAS = {camera.instrument: camera for camera in PERSEVERANCE_CAMERAS}
# The views' cameras (both eyes, or one) and how often each is chosen.
_EYES = (
    *((("NAVCAM_LEFT", "NAVCAM_RIGHT"),) * 4),
    *((("MCZ_LEFT", "MCZ_RIGHT"),) * 3),
    *((("FRONT_HAZCAM_LEFT_A",),) * 2),
    ("REAR_HAZCAM_RIGHT",),
)
_LONE = ("SUPERCAM_RMI", "SHERLOC_WATSON", "NAVCAM_RIGHT", "MCZ_LEFT", "FRONT_HAZCAM_LEFT_A")
_GAINS = (0, 6, -5, 3, -2)
DAY_MS = 8 * 3_600_000  # imaging from 09:00 to 17:00 local mean solar time
START_MS = 9 * 3_600_000
_VIEW_SALT = 3_000_000
_LONE_SALT = 5_000_000


@dataclass(frozen=True, slots=True)
class View:
    """Records in taken order and the picture of each (by imageid)."""

    records: tuple[dict[str, Any], ...]
    shots: dict[str, Shot]


def shoot_view(
    factory: RecordFactory,
    h: int,
    *,
    sol: int,
    number: int,
    received_s: int,
    eyes: tuple[str, ...] | None = None,
    lmst_ms: int | None = None,
) -> View:
    """One view: its camera's eyes (chosen by ``h`` unless given), shot 2..5 times a few
    seconds apart from ``lmst_ms`` (a time of day chosen by ``h`` unless given), each shot
    with its own gain and each frame its own grain. Both eyes of one shot share the
    factory's salt and time, so their ids differ in the eye letter only, and see one scene
    a few pixels aside. ``number`` keeps the views of one sol apart in their ids."""
    eyes = eyes or _EYES[h % len(_EYES)]
    count = 2 + (h >> 8) % 4
    step_ms = 2_000 + (h >> 16) % 6_000
    if lmst_ms is None:
        lmst_ms = START_MS + (h >> 24) % DAY_MS
    look = default_shot(f"{_CAMERAS[eyes[0]].prefix}F_{h}")  # the view's colour and horizon
    made: list[dict[str, Any]] = []
    drawn: dict[str, Shot] = {}
    for shot in range(count):
        for eye, instrument in enumerate(eyes):
            record = factory.make(
                sol=sol,
                lmst_ms=lmst_ms + shot * step_ms,
                received_s=received_s,
                salt=_VIEW_SALT + number * 8 + shot,
                frame=1,
                camera=_CAMERAS[instrument],
            )
            imageid = str(record["imageid"])
            aside = (-1, 1)[eye] * STEREO_SHIFT
            made.append(record)
            drawn[imageid] = Shot(
                seed=h & 0xFFFF_FFFF,
                colour=look.colour,
                horizon=look.horizon,
                wheel=look.wheel,
                window=(50 + aside, 1000, 1100, 750) if len(eyes) > 1 else (0, 4, 4, 3),
                gain=1000 + _GAINS[shot],
                grain=zlib.crc32(imageid.encode()),
            )
    return View(tuple(made), drawn)


def lone_frame(factory: RecordFactory, h: int, *, sol: int, k: int, received_s: int) -> View:
    """A frame of its own (SuperCam, WATSON, ...): drawn from its imageid like any other."""
    record = factory.make(
        sol=sol,
        lmst_ms=START_MS + h % DAY_MS,
        received_s=received_s,
        salt=_LONE_SALT + k,
        camera=_CAMERAS[_LONE[k % len(_LONE)]],
    )
    return View((record,), {})


def busy_views(
    factory: RecordFactory, *, sol: int, seed: int, views: int, lone: int, received_s: int
) -> tuple[list[View], list[View]]:
    """``views`` views of ``sol`` received ten seconds apart from ``received_s``, then
    ``lone`` lone frames a second apart: the views and the lone frames."""
    shot = [
        shoot_view(
            factory, mix(seed * 1_000_003 + v), sol=sol, number=v, received_s=received_s + 10 * v
        )
        for v in range(views)
    ]
    alone = [
        lone_frame(
            factory,
            mix(seed * 1_000_033 + k),
            sol=sol,
            k=k,
            received_s=received_s + 10 * views + k,
        )
        for k in range(lone)
    ]
    return shot, alone


@dataclass
class ViewReleases:
    """New views for a running demo: each ``release()`` shoots the next view (sols from
    ``first_sol``, ``per_sol`` views each), draws its pictures into ``shots`` (the
    emulator's) and hands its records to ``add`` (the dataset's), received one second
    after the newest release (starting after ``newest_s``)."""

    factory: RecordFactory
    add: Callable[[dict[str, Any]], None]
    shots: MutableMapping[str, Shot]
    first_sol: int
    newest_s: int
    per_sol: int = 40
    seed: int = 0
    _released: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def release(self) -> int:
        """Release one view; returns the number of frames it added."""
        with self._lock:
            number = self._released
            self._released += 1
            self.newest_s += 1
            received = self.newest_s
        sol = self.first_sol + number // self.per_sol
        view = shoot_view(
            self.factory,
            mix(self.seed * 1_000_039 + number),
            sol=sol,
            number=number % self.per_sol,
            received_s=received,
            lmst_ms=START_MS + (number % self.per_sol) * (DAY_MS // self.per_sol),
        )
        self.shots.update(view.shots)
        for record in view.records:
            self.add(record)
        return len(view.records)
