"""Start-up: ``watcher --version``, ``watcher --help`` and ``watcher queue`` on a database of
N candidates (default 100,000; ``make bench-full``: 1,000,000), as an operator or cron
runs them: the installed ``watcher`` script, a new process each time.

The candidates are generated inside SQLite as ``bench/editor.py`` makes them and the
schema is current, so ``queue`` does what it does every day: check the schema, read the
newest 100 new candidates, print them. Each command runs R times (default 10) after one
warm-up run (the operating system's file cache, as on a machine where the command ran
before); the figures are the median wall time and the median peak RSS of the command's
own process (``os.wait4``'s accounting of that child, started from a small launcher).
``python -c pass`` is measured the same way beside them: the interpreter's own start,
which no change of watcher's can cut, and the floor of the peak RSS figures.
Targets: ``--version`` and ``--help`` <= 0.3 s, ``queue`` <= 0.6 s on 1,000,000
candidates (the quick run holds ``queue`` to it at 100,000: it reads an index's first
page, so the size hardly moves it).

    python bench/startup.py [--records N] [--runs R]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from common import report, result
from editor import generate

from watcher.config import settings_from_dict
from watcher.core import make_watcher

CONFIG = """
[database]
url = "sqlite:///{db}"

[[sources]]
name = "perseverance"
kind = "raw_images"
url = "https://mars.nasa.gov/rss/api/"
category = "mars2020"
"""
TARGETS = {"version": 0.3, "help": 0.3, "queue": 0.6}


def command() -> list[str]:
    """The console script beside this interpreter (what ``pip install`` made), else the
    module."""
    script = Path(os.path.abspath(sys.executable)).with_name("watcher")
    return [str(script)] if script.exists() else [sys.executable, "-m", "watcher.cli"]


# The runs are made by this small launcher (``python -S``, no watcher imported), not by
# the bench's own process: a child's peak RSS counts the process it was forked from, and
# this one holds a database generator and the watcher package.
LAUNCHER = """
import json, os, subprocess, sys, time
argv, runs = json.loads(sys.argv[1]), int(sys.argv[2])
walls, peaks = [], []
for n in range(runs + 1):
    started = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    errors = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"{argv} failed ({code}): {errors.decode()[-2000:]}")
    if n:  # the first run warms the file cache and is not counted
        walls.append(wall)
        peaks.append(usage.ru_maxrss / 1024)
print(json.dumps({"walls": walls, "peaks": peaks}))
"""


def measure(argv: list[str], runs: int, pycache: Path) -> dict[str, float]:
    """Median, min and max wall seconds and median peak RSS (MiB) of ``runs`` runs.

    The commands run with bytecode, as installed (pip compiles every module when it
    installs a wheel): this one's ``PYTHONDONTWRITEBYTECODE``, where set, would have
    watcher's own modules compiled from source at every start of an editable install.
    The warm-up run writes the bytecode, under ``pycache`` (the tree is left alone)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    done = subprocess.run(
        [sys.executable, "-S", "-c", LAUNCHER, json.dumps(argv), str(runs)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(done.stderr[-2000:])
    found = json.loads(done.stdout)
    walls, peaks = found["walls"], found["peaks"]
    return {
        "median_s": round(statistics.median(walls), 3),
        "min_s": round(min(walls), 3),
        "max_s": round(max(walls), 3),
        "peak_rss_mib": round(statistics.median(peaks), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    watcher_cmd = command()
    with tempfile.TemporaryDirectory(prefix="watcher-bench-startup-") as tmp:
        db = Path(tmp) / "watcher.db"
        config = Path(tmp) / "watcher.toml"
        config.write_text(CONFIG.format(db=db))
        prepared = make_watcher(settings_from_dict({"database": {"url": f"sqlite:///{db}"}}))
        prepared.prepare_database()
        prepared.store.close()
        generated = generate(db, args.records)
        pycache = Path(tmp) / "pycache"
        figures: dict[str, Any] = {
            "python": measure([sys.executable, "-c", "pass"], args.runs, pycache),
            "version": measure([*watcher_cmd, "--version"], args.runs, pycache),
            "help": measure([*watcher_cmd, "--help"], args.runs, pycache),
            "queue": measure([*watcher_cmd, "--config", str(config), "queue"], args.runs, pycache),
        }

    floor = figures["python"]["median_s"]
    rows = [
        result(
            f"start-up: watcher {'queue' if name == 'queue' else '--' + name}"
            + (f" ({args.records:,} candidates)" if name == "queue" else ""),
            figures[name]["median_s"],
            "s",
            target=f"<= {TARGETS[name]} s",
            met=figures[name]["median_s"] <= TARGETS[name],
            detail=f"median of {args.runs} (min {figures[name]['min_s']}, max "
            f"{figures[name]['max_s']}); peak RSS {figures[name]['peak_rss_mib']} MiB; "
            f"python -c pass {floor} s",
            better="lower",
        )
        for name in TARGETS
    ]
    rows += [
        result(
            f"start-up: peak RSS of watcher {'queue' if name == 'queue' else '--' + name}"
            + (f" ({args.records:,} candidates)" if name == "queue" else ""),
            figures[name]["peak_rss_mib"],
            "MiB",
            detail=f"median of {args.runs}",
            better="lower",
        )
        for name in TARGETS
    ]
    report(
        "startup",
        {
            "records": args.records,
            "runs": args.runs,
            "command": " ".join(watcher_cmd),
            "generate_seconds": round(generated, 1),
            **{f"{name} {key}": value for name, f in figures.items() for key, value in f.items()},
        },
        rows=rows,
    )


if __name__ == "__main__":
    main()
