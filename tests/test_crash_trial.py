"""The short crash trial (``tests/crash_trial.py``): three replicas on PostgreSQL, killed
with SIGKILL at seeded random moments, lose nothing and double nothing. ``make soak`` runs
the long one (20 kills or more, PostgreSQL restarted mid-run)."""

from __future__ import annotations

import os
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.crash_checks import ANY_REPLICA, TrialReport, check_resends, count_mails, whole_files
from tests.crash_trial import PostgresUnavailable, TrialPlan, run_trial


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.timeout(240)
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


def mail(to: str, edition: int, key: str) -> EmailMessage:
    message = EmailMessage()
    message["To"], message["Message-ID"] = to, f"<{key}@mars.example.org>"
    message.set_content(f"Edition {edition}, 1 December 2026: 1 new picture.")
    return message


def test_the_trial_tells_a_resend_from_a_duplicated_and_a_missing_delivery() -> None:
    report = TrialReport(seed=0)
    mails = [
        mail("a@example.org", 1, "e1-email-s1"),
        mail("a@example.org", 1, "e1-email-s1"),  # resent after a kill: same key
        mail("b@example.org", 1, "e1-email-s2"),
        mail("b@example.org", 1, "e1-email-s2-again"),  # a second key: a duplicate
        mail("a@example.org", 2, "e2-email-s1"),  # b never got edition 2
    ]
    count_mails(report, ["a@example.org", "b@example.org"], [1, 2], mails)
    assert (report.deliveries_expected, report.deliveries) == (4, 4)
    assert report.resends == 1
    assert report.duplicated_deliveries == 1
    assert report.missing_deliveries == 1
    assert report.losses == 1 and not report.ok


def test_the_trial_finds_a_file_cut_short(tmp_path: Path) -> None:
    (tmp_path / "entries").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><html><body>whole</body></html>\n")
    (tmp_path / "entries" / "1.html").write_text("<!doctype html><html><body>cut")
    (tmp_path / "feed.json").write_text('{"items": [')
    (tmp_path / "feed.atom").write_text("<feed><entry></entry></feed>")
    problems = whole_files(tmp_path)
    assert len(problems) == 2
    assert "1.html: HTML cut short" in problems[0] and "feed.json" in problems[1]


def test_a_resend_is_explained_only_by_a_crash_of_its_sender_between_the_copies() -> None:
    report = TrialReport(seed=0)
    arrivals = [
        (10.0, 0, "<e1-email-s1@x>"),
        (20.0, 1, "<e1-email-s1@x>"),  # replica 0 was killed at 10.2: explained
        (11.0, 1, "<e1-email-s2@x>"),
        (21.0, 0, "<e1-email-s2@x>"),  # replica 1 sent first and lived: two live senders
        (30.0, 2, "<e2-email-s1@x>"),
        (40.0, 2, "<e2-email-s1@x>"),  # PostgreSQL restarted in between: its mark failed
        (50.0, 0, "<e3-email-s1@x>"),
    ]
    crashes = [(10.2, 0), (35.0, ANY_REPLICA)]
    check_resends(report, arrivals, crashes)
    assert report.resends_unexplained == 1 and not report.ok
