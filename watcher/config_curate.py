"""Reading the ``[curate]`` table: the fingerprinting job's pace, the grouping thresholds and
the score's weights. Apart from ``watcher.config_reader`` (which calls ``read_curate``) so
that module stays about the service's own tables; the checks are the same ones."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace
from typing import TYPE_CHECKING

from watcher.config import CurateConfig
from watcher.config_checks import boolean, byte_size, int_range, parse_duration

if TYPE_CHECKING:
    from watcher.config_reader import Section

KEYS = tuple(field.name for field in fields(CurateConfig))
WEIGHTS = tuple(key for key in KEYS if key.startswith("weight_"))
WEIGHTS_TOTAL = 100
_HASH_DISTANCE = int_range(0, 64)  # bits of a 64-bit hash
CHECKS: dict[str, Callable[[object], object]] = {
    "enabled": boolean,
    "interval": parse_duration,
    "batch": int_range(1, 1000),
    "backfilled": boolean,
    "retry_after": parse_duration,
    "max_picture_bytes": byte_size(1024, 2**31),
    "similar_distance": _HASH_DISTANCE,
    "similar_window": parse_duration,
    "sequence_gap": parse_duration,
    "sequence_min_frames": int_range(2, 500),
    "sequence_min_change": _HASH_DISTANCE,
    "sequence_max_change": _HASH_DISTANCE,
    **{key: int_range(0, WEIGHTS_TOTAL) for key in WEIGHTS},
}


def read_curate(section: Section) -> CurateConfig:
    """[curate]: every key optional; the change range in order, the weights adding up to
    100 (so a score reads as a percentage whatever the operator's taste)."""
    default = CurateConfig()
    curate = replace(
        default,
        **{key: section.get(key, check, getattr(default, key)) for key, check in CHECKS.items()},
    )
    if curate.sequence_min_change > curate.sequence_max_change:
        raise section.error(
            "sequence_min_change",
            f"{curate.sequence_min_change} is above sequence_max_change "
            f"({curate.sequence_max_change})",
        )
    total = sum(getattr(curate, key) for key in WEIGHTS)
    if total != WEIGHTS_TOTAL:
        named = [key for key in WEIGHTS if key in section.values] or list(WEIGHTS)
        raise section.error(
            named[-1], f"the weight_* keys add up to {total}; they must add up to {WEIGHTS_TOTAL}"
        )
    return curate
