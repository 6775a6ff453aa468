"""The short crash trial (``tests/crash_trial.py``): three replicas on PostgreSQL, killed
with SIGKILL at seeded random moments, lose nothing and double nothing. ``make soak`` runs
the long one (20 kills or more, PostgreSQL restarted mid-run)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.crash_trial import PostgresUnavailable, TrialPlan, run_trial

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(240)]


def test_three_replicas_killed_at_random_lose_nothing_and_double_nothing(tmp_path: Path) -> None:
    plan = TrialPlan(workdir=tmp_path, seed=13, kills=3, seconds=25.0, settle=60.0)
    try:
        report = run_trial(plan)
    except PostgresUnavailable as exc:
        if os.environ.get("WATCHER_REQUIRE_POSTGRES"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    print(report.json_line())
    print(report.table())
    assert report.kills >= 3
    assert report.settled, f"did not settle in {plan.settle}s; logs in {tmp_path}"
    assert report.released > 20 and report.candidates == report.released
    assert report.duplicates == 0 and report.lost_images == 0
    assert report.approved > 0 and report.unpublished == 0
    assert report.editions >= 2 and report.edition_gaps == 0
    assert report.deliveries > 0 and report.missing_deliveries == 0
    assert report.duplicated_deliveries == 0 and report.unsent == 0
    assert report.bad_files == [] and report.stale_sites == []
    assert report.ok
