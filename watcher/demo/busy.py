"""A busy sol, for curation's tests and benchmark: hundreds of frames of a few dozen views.

Perseverance sends 500-1,000 frames on a busy sol, most of them a view seen again: stereo
twins, repeats seconds apart that differ only in noise and gain. ``busy_sol`` builds such
a sol from the demo's generator (``RecordFactory`` records, ``Shot`` pictures): views of
the Navcams and Mastcam-Z in stereo and of the Hazcams alone, each shot a few times,
lone frames of other cameras, and the demo's hand-made scenes (``scenes``: the dust devil
and Ingenuity's shadow sequences, stereo twins, Hazcam repeats). It knows which view each
frame shows (``scene_of``), so a test can tell a group that hides a distinct view from
one that folds repeats together.

It also says which views an editor would pick for the running list (``spectacular``):
the two planted sequences (animations) and, when asked for (``golden``), Mastcam-Z colour
views shot in stereo within the hour before sunset by the local time; the benchmark
checks that these come first in the queue.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from watcher.demo.packaged import DEMO_LATEST_SOL, demo_scenes
from watcher.demo.pictures import Shot, default_shot
from watcher.demo.records import PERSEVERANCE_CAMERAS, RecordFactory, mix, sol_start_ms
from watcher.demo.scenes import STEREO_SHIFT

__all__ = ["BusySol", "busy_sol"]

_CAMERAS = {camera.instrument: camera for camera in PERSEVERANCE_CAMERAS}
# The views' cameras (both eyes, or one) and how often each is chosen.
_VIEWS = (
    *((("NAVCAM_LEFT", "NAVCAM_RIGHT"),) * 4),
    *((("MCZ_LEFT", "MCZ_RIGHT"),) * 3),
    *((("FRONT_HAZCAM_LEFT_A",),) * 2),
    ("REAR_HAZCAM_RIGHT",),
)
_LONE = ("SUPERCAM_RMI", "SHERLOC_WATSON", "NAVCAM_RIGHT", "MCZ_LEFT", "FRONT_HAZCAM_LEFT_A")
_GAINS = (0, 6, -5, 3, -2)
_DAY_MS = 8 * 3_600_000  # imaging from 09:00 to 17:00 local mean solar time
_START_MS = 9 * 3_600_000
_GOLDEN_MS = 17 * 3_600_000 + 5 * 60_000  # golden views: from 17:05 to 18:25 LMST
_GOLDEN_SPAN_MS = 80 * 60_000
_SEQUENCES = ("dust devil", "ingenuity shadow")


@dataclass(frozen=True, slots=True)
class BusySol:
    """``records``: raw-image records shaped like NASA's, in taken order (Perseverance's
    and, for the shadow, Ingenuity's); ``shots``: what each picture shows (for
    ``Pictures``); ``scene_of``: the view each imageid shows (stereo twins and repeats share
    one); ``sequences``: the planted sequences' ids, in taken order; ``spectacular``: the
    views (values of ``scene_of``) worth the first screen of the queue."""

    records: tuple[dict[str, Any], ...]
    shots: Mapping[str, Shot]
    scene_of: Mapping[str, str]
    sequences: tuple[tuple[str, ...], ...]
    spectacular: tuple[str, ...] = _SEQUENCES


def busy_sol(
    *, views: int = 48, lone: int = 12, golden: int = 0, seed: int = DEMO_LATEST_SOL
) -> BusySol:
    """The demo's sol ``DEMO_LATEST_SOL`` made busy: its scenes plus ``views`` views shot
    two to five times each, ``lone`` frames of their own (about 7 frames a view) and
    ``golden`` Mastcam-Z stereo views shot at golden hour (named ``golden K``)."""
    scenes = demo_scenes()
    records = [*scenes.perseverance, *scenes.ingenuity]
    shots = dict(scenes.shots)
    scene_of = {imageid: "dust devil" for imageid in scenes.dust_devil}
    scene_of |= {imageid: "ingenuity shadow" for imageid in scenes.shadow}
    scene_of |= {imageid: "hazcam repeats" for imageid in scenes.repeats}
    for k, pair in enumerate(scenes.stereo):
        scene_of |= {imageid: f"stereo twins {k}" for imageid in pair}
    factory = RecordFactory("mars2020", 2020)
    received = sol_start_ms(DEMO_LATEST_SOL) // 1000 + 64_800
    for view in range(views):
        made, drawn = _view(factory, mix(seed * 1_000_003 + view), view, received + 10 * view)
        records += made
        shots |= drawn
        scene_of |= {record["imageid"]: f"view {view}" for record in made}
    for k in range(golden):
        h = mix(seed * 1_000_037 + k)
        lmst_ms = _GOLDEN_MS + (h >> 24) % _GOLDEN_SPAN_MS
        at = received + 10 * (views + k)
        made, drawn = _view(factory, h, views + k, at, ("MCZ_LEFT", "MCZ_RIGHT"), lmst_ms)
        records += made
        shots |= drawn
        scene_of |= {record["imageid"]: f"golden {k}" for record in made}
    for k in range(lone):
        h = mix(seed * 1_000_033 + k)
        record = factory.make(
            sol=DEMO_LATEST_SOL,
            lmst_ms=_START_MS + h % _DAY_MS,
            received_s=received + 10 * (views + golden) + k,
            salt=5_000_000 + k,
            camera=_CAMERAS[_LONE[k % len(_LONE)]],
        )
        records.append(record)
        scene_of[record["imageid"]] = f"lone {k}"
    records.sort(key=lambda record: (record["date_taken_utc"], record["imageid"]))
    return BusySol(
        records=tuple(records),
        shots=shots,
        scene_of=scene_of,
        sequences=(scenes.dust_devil, scenes.shadow),
        spectacular=(*_SEQUENCES, *(f"golden {k}" for k in range(golden))),
    )


def _view(
    factory: RecordFactory,
    h: int,
    view: int,
    received_s: int,
    eyes: tuple[str, ...] | None = None,
    lmst_ms: int | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Shot]]:
    """One view: its camera's eyes (chosen by ``h`` unless given), shot 2..5 times a few
    seconds apart from ``lmst_ms`` (a time of day chosen by ``h`` unless given), each shot
    with its own gain and each frame its own grain. Both eyes of one shot share the
    factory's salt and time, so their ids differ in the eye letter only, and see one scene
    a few pixels aside."""
    eyes = eyes or _VIEWS[h % len(_VIEWS)]
    count = 2 + (h >> 8) % 4
    step_ms = 2_000 + (h >> 16) % 6_000
    if lmst_ms is None:
        lmst_ms = _START_MS + (h >> 24) % _DAY_MS
    look = default_shot(f"{_CAMERAS[eyes[0]].prefix}F_{h}")  # the view's colour and horizon
    made: list[dict[str, Any]] = []
    drawn: dict[str, Shot] = {}
    for shot in range(count):
        for eye, instrument in enumerate(eyes):
            record = factory.make(
                sol=DEMO_LATEST_SOL,
                lmst_ms=lmst_ms + shot * step_ms,
                received_s=received_s,
                salt=3_000_000 + view * 8 + shot,
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
    return made, drawn
