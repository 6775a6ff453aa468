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

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from watcher.demo.downlink import busy_views, shoot_view
from watcher.demo.packaged import DEMO_LATEST_SOL, demo_scenes
from watcher.demo.pictures import Shot
from watcher.demo.records import RecordFactory, mix, sol_start_ms

__all__ = ["BusySol", "busy_sol"]

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
    shot, alone = busy_views(
        factory, sol=DEMO_LATEST_SOL, seed=seed, views=views, lone=lone, received_s=received
    )
    for number, view in enumerate(shot):
        records += view.records
        shots |= view.shots
        scene_of |= {record["imageid"]: f"view {number}" for record in view.records}
    for k, view in enumerate(alone):
        records += view.records
        scene_of |= {record["imageid"]: f"lone {k}" for record in view.records}
    for k in range(golden):
        h = mix(seed * 1_000_037 + k)
        view = shoot_view(
            factory,
            h,
            sol=DEMO_LATEST_SOL,
            number=views + k,
            received_s=received + 10 * (views + k) + lone,
            eyes=("MCZ_LEFT", "MCZ_RIGHT"),
            lmst_ms=_GOLDEN_MS + (h >> 24) % _GOLDEN_SPAN_MS,
        )
        records += view.records
        shots |= view.shots
        scene_of |= {record["imageid"]: f"golden {k}" for record in view.records}
    records.sort(key=lambda record: (record["date_taken_utc"], record["imageid"]))
    return BusySol(
        records=tuple(records),
        shots=shots,
        scene_of=scene_of,
        sequences=(scenes.dust_devil, scenes.shadow),
        spectacular=(*_SEQUENCES, *(f"golden {k}" for k in range(golden))),
    )
