"""Crash trial: three ``watcher run`` replicas on one PostgreSQL database, killed with
SIGKILL at seeded random moments and started again, while a loopback NASA stand-in keeps
releasing images, approvals arrive through the replicas' API and editions are mailed to a
local SMTP sink. Afterwards: every released image stored once, every approved entry
published, no served file half-written, each subscriber given each edition once per
delivery key (resends of one key counted apart). See ``crash_checks`` for the figures.

Used by ``tests/test_crash_trial.py`` (a short run in ``make test``) and by ``make soak``::

    python -m tests.crash_trial --kills 20 --seconds 240 --restart-postgres --seed 7

The long run may restart PostgreSQL itself (``--restart-postgres``); never do that where
other tests share the cluster. Exit status 0 when every check holds, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx
import psycopg
from aiosmtpd.controller import Controller

from tests.crash_checks import (
    ANY_REPLICA,
    TrialReport,
    check_deliveries,
    check_entries,
    check_images,
    check_resends,
    check_sites,
    site_marker,
)
from tests.deliver_support import MailSink
from watcher.config import load_settings
from watcher.core import make_watcher
from watcher.demo import NasaEmulator, SyntheticRawImages
from watcher.types import Actor, Role, TokenScope

POSTGRES_URL = os.environ.get("WATCHER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
ADMIN = Actor("trial", Role.ADMIN)
RUNNING = re.compile(rb"^watcher \S+ running", re.MULTILINE)
PER_SOL = 5000  # every release stays within one sol: each poll sees it as new


MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)


class Sink(MailSink):
    """The SMTP sink, which also notes when each mail was accepted and on which replica's
    port (``arrivals``: unix time, replica index, Message-ID), so a resend can be matched
    with the kill that explains it."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[tuple[float, int, str]] = []


class _Port:
    """One replica's port on the sink (aiosmtpd handler)."""

    def __init__(self, sink: Sink, replica: int):
        self.sink, self.replica = sink, replica

    async def handle_RCPT(self, *args: Any) -> str:
        return await self.sink.handle_RCPT(*args)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = await self.sink.handle_DATA(server, session, envelope)
        found = MESSAGE_ID.search(envelope.content)
        key = found.group(1).decode() if found else ""
        self.sink.arrivals.append((time.time(), self.replica, key))  # before the 250 goes out
        return answer


@contextmanager
def mail_sink(replicas: int) -> Iterator[tuple[Sink, list[int]]]:
    """One sink with a port for each replica."""
    sink = Sink()
    controllers = [
        Controller(_Port(sink, index), hostname="127.0.0.1", port=_free_port())
        for index in range(replicas)
    ]
    for controller in controllers:
        controller.start()
    try:
        yield sink, [int(controller.port) for controller in controllers]
    finally:
        for controller in controllers:
            controller.stop()


class PostgresUnavailable(Exception):
    """The local PostgreSQL server cannot be reached: the trial cannot run."""


@dataclass(frozen=True)
class TrialPlan:
    """What one trial does. Kills come every ``kill_gap`` seconds (uniform), a killed
    replica is down for ``down`` seconds; the run lasts at least ``seconds`` and until
    ``kills`` kills, then everything settles (at most ``settle`` seconds)."""

    workdir: Path
    seed: int = 1
    kills: int = 3
    seconds: float = 30.0
    roles: tuple[str, ...] = ("all", "web", "worker")
    subscribers: int = 5
    release_every: float = 1.0
    release_batch: int = 2
    approve_every: tuple[float, float] = (1.5, 4.0)
    kill_gap: tuple[float, float] = (3.0, 7.0)
    down: tuple[float, float] = (0.2, 2.0)
    restart_postgres: bool = False
    settle: float = 60.0
    postgres_url: str = POSTGRES_URL
    cluster: str = "main"  # the pg_ctlcluster name of postgres_url's server


@dataclass
class Replica:
    index: int
    role: str
    config: Path
    port: int
    site: Path
    log: TextIO
    process: subprocess.Popen[bytes] | None = None
    down_until: float = 0.0
    since: int = 0  # where this run's lines begin in the log
    was_ready: bool = False

    @property
    def serves(self) -> bool:
        return self.role != "worker"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def ready(self) -> bool:
        """Alive and past start-up (it printed its "running" line since it started)."""
        if not self.alive:
            return False
        if not self.was_ready:
            with open(self.log.name, "rb") as log:
                log.seek(self.since)
                self.was_ready = RUNNING.search(log.read()) is not None
        return self.was_ready

    def start(self) -> None:
        self.log.write(f"--- start at {time.time():.3f}\n")
        self.log.flush()
        self.since, self.was_ready = self.log.tell(), False
        command = [sys.executable, "-m", "watcher.cli", "--config", str(self.config), "run"]
        self.process = subprocess.Popen(
            [*command, "--role", self.role], stdout=self.log, stderr=self.log
        )

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.log.write(f"--- SIGKILL at {time.time():.3f}\n")
        self.log.flush()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


@dataclass
class Trial:
    plan: TrialPlan
    database: str
    data: SyntheticRawImages
    replicas: list[Replica] = field(default_factory=list)
    releasing: bool = True
    approved: set[int] = field(default_factory=set)
    unknown: set[int] = field(default_factory=set)
    answers: Counter[str] = field(default_factory=Counter)
    crashes: list[tuple[float, int]] = field(default_factory=list)  # kills, restarts
    token: str = ""

    def release(self) -> None:
        if self.releasing:
            self.data.release(self.plan.release_batch)


# -- the database -------------------------------------------------------------------------


@contextmanager
def fresh_database(url: str) -> Iterator[str]:
    """A new database on the server of ``url`` (dropped after, connections and all)."""
    try:
        admin = psycopg.connect(url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise PostgresUnavailable(f"PostgreSQL unreachable at {url}: {exc}") from exc
    name = f"watcher_trial_{os.getpid()}_{secrets.token_hex(3)}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{url.rpartition('/')[0]}/{name}"
    finally:  # a new connection: the server may have restarted since
        with connect(url) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def restart_postgres(cluster: str) -> None:
    """Restart the local cluster (the soak only: other tests may share it)."""
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, cluster, "restart"],
        check=True,
        timeout=120,
    )


def connect(url: str, deadline: float = 60.0) -> psycopg.Connection[Any]:
    """A connection, retried while PostgreSQL comes back (after a restart)."""
    until = time.monotonic() + deadline
    while True:
        try:
            return psycopg.connect(url, autocommit=True, connect_timeout=5)
        except psycopg.OperationalError:
            if time.monotonic() > until:
                raise
            time.sleep(0.5)


# -- setting up ---------------------------------------------------------------------------


def write_config(home: Path, database: str, nasa: str, smtp_port: int, port: int) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / "watcher.toml"
    path.write_text(
        f"""
[database]
url = "{database}"

[server]
host = "127.0.0.1"
port = {port}
public_url = "https://mars.example.org"

[publish]
site_dir = "{home / "site"}"
cache_dir = "{home / "cache"}"
debounce = "1s"
require_words = false

[email]
enabled = true
smtp_host = "127.0.0.1"
smtp_port = {smtp_port}
security = "none"
from_address = "list@mars.example.org"
timeout = "5s"

[delivery]
retry_base = "1s"
retry_max = "4s"
lease = "8s"

[fetch]
connect_timeout = "2s"
read_timeout = "5s"
request_deadline = "10s"
backoff_base = "1s"
backoff_max = "4s"

[curate]
enabled = false

[[sources]]
name = "rover"
kind = "raw_images"
url = "{nasa}"
category = "mars2020"
interval = "2s"
jitter = 0
"""
    )
    return path


def prepare(trial: Trial, smtp_ports: list[int], nasa: NasaEmulator) -> None:
    """Configs, the schema, subscribers and an API token; then the replicas start."""
    plan = trial.plan
    for index, role in enumerate(plan.roles):
        home = plan.workdir / f"replica-{index}"
        port = _free_port()
        smtp = smtp_ports[index]
        config = write_config(home, trial.database, nasa.raw_images_url, smtp, port)
        log = (home / "replica.log").open("a")
        trial.replicas.append(Replica(index, role, config, port, home / "site", log))
    watcher = make_watcher(load_settings(trial.replicas[0].config))
    try:
        watcher.prepare_database()
        for n in range(plan.subscribers):
            watcher.add_subscriber(f"reader{n}@example.org", ADMIN, confirmed=True)
        _, trial.token = watcher.create_api_token("trial", TokenScope.WRITE, ADMIN)
    finally:
        asyncio.run(watcher.aclose())
    for replica in trial.replicas:
        replica.start()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- the run ------------------------------------------------------------------------------


def approve_one(trial: Trial, rng: random.Random) -> None:
    """Approve a random new candidate through a live web replica's API. A replica killed
    mid-request leaves the outcome unknown: the checks then read it from the database."""
    serving = [r for r in trial.replicas if r.serves and r.ready]
    if not serving:
        return
    try:
        with connect(trial.database, deadline=5) as db:
            ids = [
                row[0]
                for row in db.execute(
                    "SELECT id FROM candidates WHERE status = 'new' ORDER BY id DESC LIMIT 30"
                )
            ]
    except psycopg.OperationalError:
        return
    if not ids:
        return
    candidate = rng.choice(ids)
    replica = rng.choice(serving)
    try:
        answer = httpx.post(
            f"http://127.0.0.1:{replica.port}/api/v1/candidates/{candidate}/approve",
            json={"heading": f"Trial pick {candidate}", "body": "Seen in the crash trial."},
            headers={"Authorization": f"Bearer {trial.token}"},
            timeout=10,
        )
    except httpx.HTTPError:
        trial.unknown.add(candidate)
        trial.answers["no answer"] += 1
        return
    trial.answers[str(answer.status_code)] += 1
    if answer.status_code == 201:
        trial.approved.add(int(answer.json()["id"]))


def chaos(trial: Trial, report: TrialReport) -> None:
    """Kill, restart and approve until the plan's kills and seconds are both reached."""
    plan = trial.plan
    kills, approvals = random.Random(plan.seed), random.Random(plan.seed + 1)
    started = time.monotonic()
    next_kill = started + kills.uniform(*plan.kill_gap)
    next_approval = started + approvals.uniform(*plan.approve_every)
    restart_at = started + plan.seconds * kills.uniform(0.3, 0.6) if plan.restart_postgres else None
    while True:
        now = time.monotonic()
        for replica in trial.replicas:
            if not replica.alive and now >= replica.down_until:
                replica.start()
        if report.kills >= plan.kills and now - started >= plan.seconds:
            return
        ready = [r for r in trial.replicas if r.ready]
        if now >= next_kill and ready:
            victim = ready[kills.randrange(len(ready))]
            trial.crashes.append((time.time(), victim.index))
            victim.kill()
            victim.down_until = time.monotonic() + kills.uniform(*plan.down)
            report.kills += 1
            next_kill = time.monotonic() + kills.uniform(*plan.kill_gap)
        if restart_at is not None and now >= restart_at:
            trial.crashes.append((time.time(), ANY_REPLICA))
            restart_postgres(plan.cluster)
            report.postgres_restarts += 1
            restart_at = None
        if now >= next_approval:
            approve_one(trial, approvals)
            next_approval = time.monotonic() + approvals.uniform(*plan.approve_every)
        time.sleep(0.05)


def settled(trial: Trial) -> bool:
    """Everything released is stored, every listed entry is in an edition, every delivery
    is sent, and every serving replica shows the latest edition."""
    expected = trial.data.visible_count
    with connect(trial.database, deadline=10) as db:
        stored = _one(db, "SELECT count(DISTINCT external_id) FROM candidates")
        waiting = _one(
            db,
            "SELECT count(*) FROM entries WHERE status = 'published' "
            "AND id NOT IN (SELECT entry_id FROM published_entries)",
        )
        unsent = _one(db, "SELECT count(*) FROM deliveries WHERE status = 'pending'")
        latest = _one(db, "SELECT coalesce(max(number), 0) FROM editions")
    sites = [site_marker(r.site) or 0 for r in trial.replicas if r.serves]
    return stored >= expected and waiting == 0 and unsent == 0 and set(sites) == {latest}


def _one(db: psycopg.Connection[Any], sql: str) -> int:
    row = db.execute(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def run_trial(plan: TrialPlan) -> TrialReport:
    """Run one trial (see the module's doc) and return its report."""
    report = TrialReport(seed=plan.seed)
    began = time.monotonic()
    data = SyntheticRawImages(20, per_sol=PER_SOL, seed=plan.seed)
    with (
        fresh_database(plan.postgres_url) as database,
        mail_sink(len(plan.roles)) as (sink, smtp_ports),
        NasaEmulator(raw_images={"mars2020": data}) as nasa,
    ):
        trial = Trial(plan, database, data)
        nasa.every(plan.release_every, trial.release)
        try:
            prepare(trial, smtp_ports, nasa)
            chaos(trial, report)
            trial.releasing = False
            deadline = time.monotonic() + plan.settle
            while time.monotonic() < deadline:
                for replica in trial.replicas:
                    if not replica.alive:
                        replica.start()
                if settled(trial):
                    report.settled = True
                    break
                time.sleep(0.5)
        finally:
            for replica in trial.replicas:
                replica.stop()
                replica.log.close()
        released = {str(data.record(i)["imageid"]) for i in range(data.visible_count)}
        with connect(database) as db:
            if trial.unknown:
                found = db.execute(
                    "SELECT entry_id FROM entry_candidates WHERE candidate_id = ANY(%s)",
                    (sorted(trial.unknown),),
                )
                trial.approved |= {row[0] for row in found}
            report.approvals = dict(trial.answers)
            check_images(db, report, released)
            check_entries(db, report, trial.approved)
            check_deliveries(db, report, list(sink.messages))
            check_resends(report, sink.arrivals, trial.crashes)
            check_sites(db, report, [(r.site, r.serves) for r in trial.replicas])
    report.seconds = time.monotonic() - began
    return report


def _pair(text: str) -> tuple[float, float]:
    low, _, high = text.partition(",")
    return float(low), float(high or low)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100_000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=240.0)
    parser.add_argument("--settle", type=float, default=120.0)
    parser.add_argument("--subscribers", type=int, default=20)
    parser.add_argument(
        "--roles", default="all,web,worker", help="one replica each (all/web/worker)"
    )
    parser.add_argument("--kill-gap", default="3,7", help="seconds between kills: MIN,MAX")
    parser.add_argument("--restart-postgres", action="store_true")
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--cluster", default="main", help="pg_ctlcluster name of its server")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(f"var/crash-trial-{args.seed}")
    plan = TrialPlan(
        workdir=workdir.resolve(),
        seed=args.seed,
        kills=args.kills,
        seconds=args.seconds,
        subscribers=args.subscribers,
        roles=tuple(args.roles.split(",")),
        kill_gap=_pair(args.kill_gap),
        restart_postgres=args.restart_postgres,
        settle=args.settle,
        postgres_url=args.postgres_url,
        cluster=args.cluster,
    )
    report = run_trial(plan)
    print(report.json_line())
    print(report.table())
    print(f"replica logs: {plan.workdir}/replica-*/replica.log")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
