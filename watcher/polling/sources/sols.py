"""Which sols a raw-image request asked for, to check every record's sol against it.

NASA's raw-image API answers other sols' images when the sol asked for has none, so a
record whose sol does not fit the request is skipped and counted, never the page. The
request's own params say what was asked: ``sol=N``, or ``condition_N=<value>:sol:<op>``
with ``op`` one of ``gte``, ``gt``, ``lte``, ``lt``, ``eq`` or ``in`` (a comma list).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass

from watcher.polling.sources.common import to_int

_SOL_TESTS: dict[str, Callable[[int, int], bool]] = {
    "gte": operator.ge,
    "gt": operator.gt,
    "lte": operator.le,
    "lt": operator.lt,
    "eq": operator.eq,
}


@dataclass(frozen=True, slots=True)
class SolsAsked:
    """What a request asks of a record's sol: bounds (``op``, ``sol``) and sets of sols."""

    bounds: tuple[tuple[str, int], ...] = ()
    sets: tuple[frozenset[int], ...] = ()

    def __call__(self, sol: int | None) -> bool:
        """A record without a sol never passes a sol test."""
        if sol is None:
            return False
        return all(_SOL_TESTS[op](sol, bound) for op, bound in self.bounds) and all(
            sol in allowed for allowed in self.sets
        )


def sols_asked(params: tuple[tuple[str, str], ...]) -> SolsAsked | None:
    """What a request asks of a record's sol (``sol=N`` or ``condition_N=<v>:sol:<op>``),
    or None when it asks nothing of it. ``condition_1`` is left out: NASA ignores ranges
    there."""
    bounds: list[tuple[str, int]] = []
    sets: list[frozenset[int]] = []
    for key, value in params:
        if key == "sol":
            if (wanted := to_int(value)) is not None:
                bounds.append(("eq", wanted))
        elif key.startswith("condition_") and key != "condition_1":
            raw, _, rest = value.partition(":")
            field, _, op = rest.partition(":")
            if field != "sol":
                continue
            if op == "in":
                sets.append(
                    frozenset(n for part in raw.split(",") if (n := to_int(part)) is not None)
                )
            elif op in _SOL_TESTS and (bound := to_int(raw)) is not None:
                bounds.append((op, bound))
    if not bounds and not sets:
        return None
    return SolsAsked(tuple(bounds), tuple(sets))
