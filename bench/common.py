"""Shared output for benchmarks: one JSON object on stdout, then a short table on stderr.

A script may add ``rows``: its figures as ``bench/run.py`` tabulates them and writes them
to ``bench/results.json``, each made by ``result`` (name, value, unit, target, whether it
is met, detail, and which way is better, for the regression guard). A script without rows
gets them from its adapter in ``bench/adapters.py``.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Literal

Better = Literal["higher", "lower"]


def result(
    name: str,
    value: float | int | None,
    unit: str,
    *,
    target: str | None = None,
    met: bool | None = None,
    detail: str = "",
    better: Better | None = None,
) -> dict[str, Any]:
    """One row of the results table. ``target`` as a reader says it ("<= 0.3 s"), None for
    a figure that is a limit or context rather than a goal (``met`` is None then too).
    ``better``: which way is an improvement; None leaves the figure out of the regression
    guard (counts, sizes of the run)."""
    return {
        "name": name,
        "value": value,
        "unit": unit,
        "target": target,
        "met": met,
        "detail": detail,
        "better": better,
    }


def report(name: str, results: dict[str, Any], rows: list[dict[str, Any]] | None = None) -> None:
    payload = {"benchmark": name, **results}
    if rows is not None:
        payload["rows"] = rows
    print(json.dumps(payload), flush=True)
    width = max(len(key) for key in results)
    print(f"\n{name}", file=sys.stderr)
    for key, value in results.items():
        shown = f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else value
        print(f"  {key:<{width}}  {shown}", file=sys.stderr)
