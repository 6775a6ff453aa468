"""What a crash trial (``tests/crash_trial.py``) checks once its replicas have settled, and
its report: figures read from the database with plain SQL, the mail sink and the replicas'
site directories, never through watcher's own code (which is what is on trial)."""

from __future__ import annotations

import itertools
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import psycopg

EDITION_LINE = re.compile(r"Edition (\d+),")
ANY_REPLICA = -1  # a crash of every replica at once: PostgreSQL restarted


@dataclass
class TrialReport:
    """The trial's figures. ``losses`` counts what should exist and does not: a released
    image not stored, an approved entry not in the latest edition, a subscriber missing an
    edition's mail; ``duplicated_deliveries`` a subscriber given one edition under two
    delivery keys; ``resends`` the same Message-ID received again (a kill between the
    server's accept and the mark: at-least-once, recognisable by its key)."""

    seed: int
    seconds: float = 0.0
    kills: int = 0
    postgres_restarts: int = 0
    released: int = 0
    candidates: int = 0
    duplicates: int = 0
    lost_images: int = 0
    approved: int = 0
    approvals: dict[str, int] = field(default_factory=dict)  # API answers by status
    unpublished: int = 0
    editions: int = 0
    edition_gaps: int = 0
    deliveries_expected: int = 0
    deliveries: int = 0
    missing_deliveries: int = 0
    duplicated_deliveries: int = 0
    resends: int = 0
    resends_unexplained: int = 0
    unsent: int = 0
    bad_files: list[str] = field(default_factory=list)
    stale_sites: list[str] = field(default_factory=list)
    settled: bool = False

    @property
    def losses(self) -> int:
        return self.lost_images + self.unpublished + self.missing_deliveries

    @property
    def ok(self) -> bool:
        return (
            self.settled
            and self.losses == 0
            and self.duplicates == 0
            and self.duplicated_deliveries == 0
            and self.edition_gaps == 0
            and self.resends_unexplained == 0
            and self.unsent == 0
            and not self.bad_files
            and not self.stale_sites
        )

    def json_line(self) -> str:
        return json.dumps({**asdict(self), "losses": self.losses, "ok": self.ok})

    def table(self) -> str:
        rows = [
            ("kills (SIGKILL)", self.kills),
            ("PostgreSQL restarts", self.postgres_restarts),
            ("images released / candidates stored", f"{self.released} / {self.candidates}"),
            ("duplicates", self.duplicates),
            ("losses (images, entries, mails)", self.losses),
            ("approved / not published", f"{self.approved} / {self.unpublished}"),
            ("approval answers", _answers(self.approvals)),
            ("editions", self.editions),
            (
                "deliveries (distinct keys) / expected",
                f"{self.deliveries} / {self.deliveries_expected}",
            ),
            ("duplicated deliveries", self.duplicated_deliveries),
            ("resends (same Message-ID again)", self.resends),
            ("resends no crash explains", self.resends_unexplained),
            ("half-written or stale files", len(self.bad_files) + len(self.stale_sites)),
            ("seconds", round(self.seconds, 1)),
        ]
        width = max(len(name) for name, _ in rows)
        lines = [f"{name:<{width}}  {value}" for name, value in rows]
        return "\n".join(["crash trial" + ("" if self.ok else ": FAILED"), *lines])


def _answers(answers: dict[str, int]) -> str:
    return ", ".join(f"{status}: {n}" for status, n in sorted(answers.items())) or "none"


# -- the database ---------------------------------------------------------------------


def check_images(db: psycopg.Connection[Any], report: TrialReport, released: set[str]) -> None:
    """Every released image stored exactly once."""
    counts = Counter(
        row[0] for row in db.execute("SELECT external_id FROM candidates WHERE source = 'rover'")
    )
    report.released = len(released)
    report.candidates = len(counts)
    report.duplicates = sum(n - 1 for n in counts.values())
    report.lost_images = len(released - set(counts))


def check_entries(db: psycopg.Connection[Any], report: TrialReport, approved: set[int]) -> None:
    """Every approved entry (the harness's own count, and whatever the database holds) in
    the latest edition's published state; editions numbered without a gap."""
    listed = {row[0] for row in db.execute("SELECT id FROM entries WHERE status = 'published'")}
    published = {row[0] for row in db.execute("SELECT entry_id FROM published_entries")}
    report.approved = len(approved | listed)
    report.unpublished = len((approved | listed) - published)
    numbers = [row[0] for row in db.execute("SELECT number FROM editions ORDER BY number")]
    report.editions = len(numbers)
    report.edition_gaps = sum(1 for i, n in enumerate(numbers, 1) if n != i)


def check_deliveries(
    db: psycopg.Connection[Any], report: TrialReport, mails: Sequence[EmailMessage]
) -> None:
    """Each subscriber has each edition that added entries, once per delivery key."""
    subscribers = [row[0] for row in db.execute("SELECT email FROM subscribers")]
    adding = [row[0] for row in db.execute("SELECT number, added FROM editions") if row[1]]
    unsent = db.execute("SELECT count(*) FROM deliveries WHERE status <> 'sent'").fetchone()
    report.unsent = int(unsent[0]) if unsent else 0
    count_mails(report, subscribers, adding, mails)


def count_mails(
    report: TrialReport,
    subscribers: Iterable[str],
    editions: Iterable[int],
    mails: Sequence[EmailMessage],
) -> None:
    """Counted from the mails received alone (recipient, the edition its text names,
    Message-ID): each subscriber owed each of ``editions`` has it under one key; another
    key for the same is a duplicated delivery, the same key again a resend."""
    keys: dict[tuple[str, int], set[str]] = defaultdict(set)
    copies: Counter[str] = Counter()
    for mail in mails:
        edition = _edition_of(mail)
        if edition is None:
            continue
        message_id = str(mail["Message-ID"])
        copies[message_id] += 1
        keys[(str(mail["To"]), edition)].add(message_id)
    expected = {(address, number) for address in subscribers for number in editions}
    report.deliveries_expected = len(expected)
    report.deliveries = len(copies)
    report.missing_deliveries = len(expected - set(keys))
    report.duplicated_deliveries = sum(len(ids) - 1 for ids in keys.values())
    report.resends = sum(n - 1 for n in copies.values())


def check_resends(
    report: TrialReport,
    arrivals: Sequence[tuple[float, int, str]],
    crashes: Sequence[tuple[float, int]],
) -> None:
    """A mail accepted again is explained only by a crash of the replica that sent it
    before (or a PostgreSQL restart) between the two copies: the sender died, or could not
    write its mark, after the server's accept. A resend no crash explains would be two
    live workers sending one row."""
    copies: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for at, replica, key in arrivals:
        copies[key].append((at, replica))
    for sent in copies.values():
        sent.sort()
        for (first, sender), (again, _) in itertools.pairwise(sent):
            if not any(
                first <= at <= again and who in (sender, ANY_REPLICA) for at, who in crashes
            ):
                report.resends_unexplained += 1


def _edition_of(mail: EmailMessage) -> int | None:
    part = mail.get_body(preferencelist=("plain",))
    if part is None:
        return None
    found = EDITION_LINE.search(str(part.get_content()))
    return int(found.group(1)) if found else None


# -- the sites --------------------------------------------------------------------------


def check_sites(
    db: psycopg.Connection[Any], report: TrialReport, sites: Iterable[tuple[Path, bool]]
) -> None:
    """Every file of every replica's served version whole (HTML ends with ``</html>``, the
    feeds and JSON parse); a replica serving the site (``True``) shows the latest edition
    and every entry of it."""
    row = db.execute("SELECT max(number) FROM editions").fetchone()
    latest = row[0] if row else None
    entries = sorted(row[0] for row in db.execute("SELECT entry_id FROM published_entries"))
    for site, serves in sites:
        report.bad_files += whole_files(site)
        if not serves or latest is None:
            continue
        shown = site_marker(site)
        if shown != latest:
            report.stale_sites.append(f"{site}: shows edition {shown}, latest is {latest}")
            continue
        index = (site / "feed.json").read_text(encoding="utf-8")
        missing = [e for e in entries if f"entry/{e}" not in index]
        if missing and len(entries) <= 50:  # the feed carries the newest 50 only
            report.stale_sites.append(f"{site}: feed.json lacks entries {missing}")


def whole_files(site: Path) -> list[str]:
    """The problems of the version ``site`` serves: a file cut short or unreadable."""
    problems = []
    if not site.exists():
        return [f"{site}: missing"]
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        name = str(path)
        try:
            data = path.read_bytes()
            if path.suffix == ".html" and not data.rstrip().endswith(b"</html>"):
                problems.append(f"{name}: HTML cut short")
            elif path.suffix == ".json":
                json.loads(data)
            elif path.suffix in (".atom", ".xml"):
                ET.fromstring(data)
        except (OSError, ValueError, ET.ParseError) as exc:
            problems.append(f"{name}: {exc}")
    if not (site / "index.html").is_file():
        problems.append(f"{site}: no index.html")
    return problems


def site_marker(site: Path) -> int | None:
    try:
        return int(json.loads((site / "edition.json").read_text())["edition"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
