"""Shared output for benchmarks: one JSON object on stdout, then a short table on stderr."""

from __future__ import annotations

import json
import sys
from typing import Any


def report(name: str, results: dict[str, Any]) -> None:
    print(json.dumps({"benchmark": name, **results}))
    width = max(len(key) for key in results)
    print(f"\n{name}", file=sys.stderr)
    for key, value in results.items():
        shown = f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else value
        print(f"  {key:<{width}}  {shown}", file=sys.stderr)
