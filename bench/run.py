"""Run every benchmark, print one table of every figure with its target and whether it is
met, write ``bench/results.json``, and compare with the committed ``bench/baseline.json``.

``make bench`` runs the quick sizes (the whole run within 15 minutes on the 2-core
machine: smaller sizes where a figure is a ratio or hardly depends on the size);
``make bench-full`` the large ones. Each script runs in its own process and prints one
JSON object on stdout (``common.report``); its rows are the object's ``rows`` or, for the
older scripts, what its adapter (``bench/adapters.py``) makes of it.

The regression guard compares each figure that says which way is better with the
baseline's figure of the same name (names carry the sizes that change them), as measured
and normalised by the machine's speed in its own run: ``calibrate`` times a fixed piece
of Python and SQLite work before the first script and after each, and a time is divided
by (a rate multiplied by) the mean of the two timings either side of its script
(``normalised`` in each row).
Ratios measured against a reference in the same run (ingest vs plain ``executemany``),
memory and counts need no normalising. A figure more than 20 % worse both ways is
flagged (see ``regressions``); the exit code stays 0 unless ``--strict``. A script that
fails makes the exit code 1.

    python bench/run.py [--full] [--only NAME ...] [--args NAME ARGS] [--strict]
                        [--write-baseline]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import adapters
from common import result

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"
BASELINE = HERE / "baseline.json"
WORSE = 0.20  # a figure this much worse than the baseline's is flagged


@dataclass(frozen=True)
class Bench:
    """One script: its arguments in the quick and the full run, and, for a script that
    prints no ``rows``, the adapter that makes them."""

    name: str
    quick: tuple[str, ...] = ()
    full: tuple[str, ...] = ()
    adapter: Callable[[dict[str, Any]], list[dict[str, Any]]] | None = None

    @property
    def script(self) -> Path:
        return HERE / f"{self.name}.py"


# One entry a script: a new bench/NAME.py that reports ``rows`` needs only its line here.
BENCHES = (
    Bench("startup", ("--records", "100000"), ("--records", "1000000")),
    Bench("loopback", ("--requests", "2000"), ("--requests", "5000")),
    Bench("ingest", ("--records", "20000"), ("--records", "100000"), adapters.ingest),
    Bench("backfill", ("--records", "100000"), ("--records", "1000000"), adapters.backfill),
    Bench(
        "editor",
        ("--records", "100000", "--requests", "20"),
        ("--records", "1000000"),
        adapters.editor,
    ),
    Bench("status", ("--records", "100000"), ("--records", "1000000"), adapters.status),
    Bench("publish", (), (), adapters.publish),
    Bench("curate", (), (), adapters.curate),
)
# Modules of bench/ that are not benchmarks of their own (mail.py runs inside publish.py).
HELPERS = {"run", "common", "adapters", "mail"}


def calibrate() -> float:
    """Seconds of a fixed piece of work (SQLite inserts and a query, JSON, a Python loop):
    the machine's speed right now, load included (the median of five, not the best: the
    figures beside it are measured under that load too)."""

    def work() -> None:
        connection = sqlite3.connect(":memory:")
        connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, size REAL)")
        connection.execute("CREATE INDEX t_name ON t (name)")
        rows = ((f"image {n:07d}", n * 0.5) for n in range(60_000))
        connection.executemany("INSERT INTO t (name, size) VALUES (?, ?)", rows)
        connection.execute("SELECT count(*), sum(size) FROM t WHERE name LIKE 'image 004%'")
        connection.close()
        text = json.dumps(
            [{"id": n, "title": f"Sol {n}", "tags": ["a", "b"]} for n in range(20_000)]
        )
        assert len(json.loads(text)) == 20_000
        assert sum(n * n % 7 for n in range(300_000)) > 0

    timings = []
    for _ in range(5):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def machine(full: bool, started: datetime) -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = "unknown"
    memory_gib = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gib = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    commit = subprocess.run(
        ["git", "-C", str(HERE), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "date": started.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "mode": "full" if full else "quick",
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "memory_gib": memory_gib,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "commit": commit or None,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def run_script(
    bench: Bench, args: tuple[str, ...]
) -> tuple[list[dict[str, Any]], float, str | None]:
    """The script's rows, its wall seconds, and why it failed (None when it did not).
    Its stderr (the script's own short table) goes straight to ours."""
    print(f"\n== {bench.name} {' '.join(args)}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(bench.script), *args],
        stdout=subprocess.PIPE,
        text=True,
        cwd=HERE,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        return [], seconds, f"exit {done.returncode}"
    found = None
    for line in reversed(done.stdout.splitlines()):
        try:
            found = json.loads(line)
        except ValueError:
            continue
        if isinstance(found, dict) and "benchmark" in found:
            break
    if not isinstance(found, dict):
        return [], seconds, "no JSON object on stdout"
    rows = found.get("rows")
    if rows is None and bench.adapter is not None:
        rows = bench.adapter(found)
    if not rows:
        return [], seconds, "no rows (neither `rows` in its JSON nor an adapter)"
    return [{**row, "bench": bench.name} for row in rows], seconds, None


def normalised(row: dict[str, Any], speed: float) -> float | None:
    """The row's value made comparable across runs: times divided by the run's
    calibration seconds, rates multiplied by them; ratios, memory and counts as they are."""
    value = row.get("value")
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    unit = str(row.get("unit", ""))
    if unit in ("s", "ms"):
        return value / speed
    if unit.endswith("/s"):
        return value * speed
    return float(value)


def worse_by(now: Any, then: Any, better: str) -> float | None:
    """How much worse ``now`` is than ``then`` (0.25: 25 % worse; negative: better)."""
    if not isinstance(now, int | float) or not isinstance(then, int | float) or then <= 0:
        return None
    return float(now / then - 1 if better == "lower" else 1 - now / then)


def regressions(rows: list[dict[str, Any]], baseline: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows more than WORSE worse than the baseline's row of the same name both as
    measured and once each is normalised by its own run's calibration, each with the
    baseline's value and how much worse (0.25: 25 %, the smaller of the two).

    Both, because the calibration follows the machine's load only roughly: on a shared
    machine a figure measured while it was busier is worse as measured but not once
    normalised, and one measured while the calibration happened to run quicker can be
    worse normalised only. A change of the code shows in both. Sets ``vs_baseline`` (the
    ratio as measured) and ``vs_baseline_normalised`` on every row compared."""
    before = {r["name"]: r for r in baseline.get("results", [])}
    flagged = []
    for row in rows:
        old = before.get(row["name"])
        better = row.get("better")
        if old is None or better not in ("higher", "lower"):
            continue
        measured = worse_by(row.get("value"), old.get("value"), better)
        normalised = worse_by(row.get("normalised"), old.get("normalised"), better)
        if measured is None or normalised is None:
            continue
        row["vs_baseline"] = round(row["value"] / old["value"], 3)
        row["vs_baseline_normalised"] = round(row["normalised"] / old["normalised"], 3)
        if min(measured, normalised) > WORSE:
            worse = round(min(measured, normalised), 3)
            flagged.append({**row, "baseline_value": old["value"], "worse_by": worse})
    return flagged


def merged(old: dict[str, Any], new: dict[str, Any], names: set[str]) -> dict[str, Any]:
    """``old`` with the rows of the benchmarks ``names`` replaced by ``new``'s."""
    kept = [row for row in old.get("results", []) if row.get("bench") not in names]
    return {**new, "results": kept + new["results"]}


def shown(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def table(rows: list[dict[str, Any]]) -> str:
    """Every figure, its target and verdict, and its ratio to the baseline's, as measured
    and normalised (1.10: 10 % more of it)."""
    heads = ("figure", "value", "target", "met", "vs baseline", "normalised")
    cells = [
        (
            row["name"],
            f"{shown(row['value'])} {row['unit']}",
            row["target"] or "-",
            {True: "yes", False: "NO", None: "-"}[row["met"]],
            shown(row.get("vs_baseline")),
            shown(row.get("vs_baseline_normalised")),
        )
        for row in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(heads)]
    line = "  ".join(f"{h:<{w}}" for h, w in zip(heads, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    for c in cells:
        out.append(
            "  ".join(
                f"{v:>{w}}" if i in (1, 4, 5) else f"{v:<{w}}"
                for i, (v, w) in enumerate(zip(c, widths, strict=True))
            )
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="the large sizes")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="only these benchmarks")
    parser.add_argument("--strict", action="store_true", help="exit 1 on a regression")
    parser.add_argument(
        "--write-baseline", action="store_true", help="also write the results as the baseline"
    )
    parser.add_argument(
        "--args",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "ARGS"),
        help='a benchmark\'s arguments instead of its own (--args editor "--records 50000")',
    )
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--baseline", type=Path, default=BASELINE)
    args = parser.parse_args(argv)

    known = {bench.name for bench in BENCHES}
    given = {name: tuple(shlex.split(text)) for name, text in args.args}
    unknown = (set(args.only or ()) | set(given)) - known
    if unknown:
        parser.error(f"no such benchmark: {', '.join(sorted(unknown))} (known: {sorted(known)})")
    for path in sorted(HERE.glob("*.py")):
        if path.stem not in known | HELPERS:
            print(f"note: bench/{path.name} is not in run.py's BENCHES: not run", file=sys.stderr)

    started_at = datetime.now(UTC)
    started = time.perf_counter()
    info = machine(args.full, started_at)
    speeds = [calibrate()]
    rows: list[dict[str, Any]] = []
    runs = []
    failed = []
    for bench in BENCHES:
        if args.only and bench.name not in args.only:
            continue
        if not bench.script.exists():
            print(f"note: {bench.script.name} is missing: skipped", file=sys.stderr)
            continue
        chosen = given.get(bench.name, bench.full if args.full else bench.quick)
        found, seconds, error = run_script(bench, chosen)
        runs.append(
            {
                "bench": bench.name,
                "args": list(chosen),
                "seconds": round(seconds, 1),
                "error": error,
            }
        )
        if error:
            failed.append(bench.name)
            found = [
                result(f"{bench.name}: the script ran", None, "", target="exit 0", met=False)
                | {"detail": error, "bench": bench.name}
            ]
        speeds.append(calibrate())
        # The machine's speed while this script ran: the calibrations either side of it.
        local = (speeds[-2] + speeds[-1]) / 2
        runs[-1]["calibration_s"] = round(local, 4)
        rows += [row | {"normalised": normalised(row, local)} for row in found]

    speed = statistics.median(speeds)
    info |= {
        "calibration_s": round(speed, 4),
        "calibration_samples_s": [round(s, 4) for s in speeds],
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "seconds": round(time.perf_counter() - started, 1),
        "runs": runs,
    }
    baseline: dict[str, Any] = {}
    if args.baseline.exists():
        baseline = json.loads(args.baseline.read_text())
    flagged = regressions(rows, baseline)

    print(f"\n{table(rows)}\n")
    targets = [r for r in rows if r["met"] is not None]
    print(
        f"{sum(bool(r['met']) for r in targets)} of {len(targets)} targets met; "
        f"{info['mode']} run, {info['seconds']:.0f} s, load average "
        f"{info['load_average_at_start']} -> {info['load_average_at_end']}, calibration "
        f"{speed:.3f} s"
    )
    if not baseline:
        print(f"no baseline at {args.baseline}: nothing compared")
    elif flagged:
        print(
            f"\nREGRESSIONS: {len(flagged)} figure(s) more than {WORSE:.0%} worse than "
            "the baseline:"
        )
        for row in flagged:
            print(
                f"  {row['name']}: {shown(row['value'])} {row['unit']} "
                f"(baseline {shown(row['baseline_value'])}), {row['worse_by']:.0%} worse, "
                "as measured and normalised"
            )
    else:
        print(f"no figure more than {WORSE:.0%} worse than the baseline")

    document = {"machine": info, "results": rows, "regressions": flagged}
    args.results.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.results}")
    if args.write_baseline:
        if args.only:  # the other benchmarks keep their baseline rows
            document = merged(baseline, document, set(args.only))
        args.baseline.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        print(f"wrote {args.baseline}")
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 1 if args.strict and flagged else 0


if __name__ == "__main__":
    sys.exit(main())
