"""The upstream fault matrix (issue 13, item 3): every way NASA's side fails, end to end.

Each fault meets a Watcher polling the NASA emulator on loopback, on a real database, with
a clock the test moves. For each one: the failure is recorded, never raised;
``/healthz`` and ``watcher sources --json`` show the source failing with the error and
when it is tried next; it is not tried before then (a server's Retry-After included);
the wait grows with each failure in a row and starts over after a success; and once the
fault clears, every image the emulator offered is stored, none twice. A fault that is
not a failure (a NUL inside one record) leaves the source healthy and the record stored,
cleaned; a record with a sol no INTEGER column holds is skipped and counted, its page
stored.

The faults strike in the middle of a sweep when they can (the summary and the first page
answered, the second page broken), so the resumed sweep is what must lose nothing.
``test_the_running_service_rides_out_the_faults`` runs the real service (scheduler, web
server, real clock) through them one after another.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from watcher.cli import app as cli
from watcher.core import Watcher, make_watcher
from watcher.demo import Fault, NasaEmulator, SyntheticRawImages
from watcher.web import create_app

from .conftest import Clock, ServiceThread, build_settings, free_port, raw_source, run
from .fault_support import BlackHole

pytestmark = pytest.mark.timeout(60)

SOURCE = "perseverance"
INTERVAL = 600.0
BASE, CAP = 10.0, 60.0  # backoff_base, backoff_max: with no jitter, 5 s, 10 s, 20 s, ...
FETCH = {
    "connect_timeout": "1s",
    "read_timeout": "1s",
    "request_deadline": "1200ms",
    "max_body_bytes": 1_000_000,
    "max_redirects": 3,
    "backoff_base": f"{BASE:g}s",
    "backoff_max": f"{CAP:g}s",
}
FIRST, RELEASED = 30, 250  # records served at the first poll, and released after it
FAILURES = 3  # failures in a row before the fault clears
# The records a fault spoils: a NUL in its text, a sol no INTEGER column holds.
NUL_ID = "ZLF_0001_0667000000_000ECM_N0010003ZCAM00001_01_615J"
FAR_ID = "ZLF_0001_0667000001_000ECM_N0010003ZCAM00001_01_615J"
UNRESOLVABLE = "nasa-emulator.invalid"  # RFC 6761: never resolves, anywhere
REFUSED = "All connection attempts failed (Connection refused)"


def backoff(failures: int) -> float:
    """The wait after ``failures`` in a row, as README's failure section says (no jitter)."""
    return min(BASE * 2.0 ** (failures - 1), CAP) * 0.5


# -- the upstream and the rig ------------------------------------------------------------


@dataclass
class Upstream:
    """The emulator and what stands in for NASA's network when it is not answering."""

    nasa: NasaEmulator
    data: SyntheticRawImages
    host: str = "127.0.0.1"  # the source URL's host (a name that cannot resolve, or not)
    black_hole: BlackHole | None = None
    added: set[str] = field(default_factory=set)  # ids of the records added by hand
    refused: set[str] = field(default_factory=set)  # those watcher must refuse (no image)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.nasa.port}/rss/api/"

    def offered(self) -> set[str]:
        """Every image id the emulator serves now (no thumbnails in this data set), but the
        records that are no image."""
        ids = {str(self.data.record(i)["imageid"]) for i in range(self.data.visible_count)}
        return (ids | self.added) - self.refused

    def close(self) -> None:
        if self.black_hole is not None:
            self.black_hole.close()
            self.black_hole = None


@dataclass
class Rig:
    """An upstream, a database and the Watcher polling it with the test's clock. When the
    upstream's host changes (a name stops resolving), the Watcher is made again on the same
    database with the new URL, as a restart with an edited config would."""

    tmp_path: Path
    database_url: str
    clock: Clock
    up: Upstream
    made: list[Watcher] = field(default_factory=list)

    @property
    def watcher(self) -> Watcher:
        if not self.made or self.made[-1].settings.source(SOURCE).url != self.up.url:
            sources = [raw_source(self.up.url)]
            settings = build_settings(self.tmp_path, self.database_url, sources, fetch=FETCH)
            watcher = make_watcher(settings, clock=self.clock, rand=lambda: 0.0)
            watcher.prepare_database()
            self.made.append(watcher)
        return self.made[-1]

    def poll(self) -> Any:
        return run(self.watcher.poll_source(SOURCE))

    def state(self) -> Any:
        return self.watcher.store.get_poll_state(SOURCE)

    def healthz(self) -> dict[str, Any]:
        with TestClient(create_app(self.watcher)) as client:
            response = client.get("/healthz")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def sources_json(self) -> dict[str, Any]:
        """``watcher sources --json`` with a config file naming the same database and source."""
        config = self.tmp_path / "cli.toml"
        config.write_text(
            f'[database]\nurl = "{self.database_url}"\n\n'
            f'[[sources]]\nname = "{SOURCE}"\nkind = "raw_images"\n'
            f'url = "{self.up.url}"\ncategory = "mars2020"\ninterval = "10m"\n'
        )
        root = logging.getLogger()
        handlers, level = list(root.handlers), root.level
        try:
            result = CliRunner().invoke(cli, ["--config", str(config), "sources", "--json"])
        finally:  # the CLI set up logging on the runner's stream, closed once it returns
            root.handlers[:], root.level = handlers, level
        assert result.exit_code == 0, result.output
        rows: list[dict[str, Any]] = orjson.loads(result.stdout)
        assert [row["name"] for row in rows] == [SOURCE]
        return rows[0]

    def check_nothing_lost(self) -> None:
        """Every image offered is stored, each once."""
        stored = self.watcher.store.external_ids(SOURCE)
        offered = self.up.offered()
        assert stored == offered, (len(stored), len(offered), sorted(stored ^ offered)[:5])
        assert self.watcher.store.count_candidates() == len(stored)


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    """The emulator serving FIRST records, stopped (and any black hole closed) at the end."""
    data = SyntheticRawImages(FIRST, per_sol=100)
    with NasaEmulator(raw_images={"mars2020": data}) as nasa:
        up = Upstream(nasa, data)
        yield up
        up.close()


@pytest.fixture
def rig_on(tmp_path: Path, clock: Clock, upstream: Upstream) -> Iterator[Callable[[str], Rig]]:
    """``rig_on(database_url)``: a Watcher that has polled the upstream's FIRST records
    (all stored, healthy); closed at the end."""
    rigs: list[Rig] = []

    def build(database_url: str) -> Rig:
        rig = Rig(tmp_path, database_url, clock, upstream)
        rigs.append(rig)
        first = rig.poll()
        assert first.ok and first.inserted == FIRST, first
        return rig

    yield build
    for rig in rigs:
        for watcher in rig.made:
            run(watcher.aclose())


# -- the faults ------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One row of the matrix: how the fault starts and clears, and what is recorded."""

    name: str
    start: Callable[[Upstream], None]
    error: str  # the start of the error watcher records ("" when nothing fails)
    retry_after: float | None = None  # what the server asks for, in seconds
    # An HTTP-date has whole seconds and is read a moment after it is written: the wait
    # measured from then may be up to this much shorter than the seconds it was made from.
    slack: float = 0.0
    clear: Callable[[Upstream], None] = field(default=lambda up: up.nasa.clear_faults())
    check: Callable[[Rig], None] | None = None  # what else must hold once it has cleared
    skipped: int = 0  # records the poll skips and counts (no image)

    @property
    def fails(self) -> bool:
        return bool(self.error)


def injected(fault: Fault) -> Callable[[Upstream], None]:
    """Start ``fault`` on the raw-images API after the summary and the sweep's first page,
    until cleared."""

    def start(up: Upstream) -> None:
        up.nasa.inject(fault, path_prefix="/rss/api/", times=None, after=2)

    return start


def refuse(up: Upstream) -> None:
    up.nasa.stop()  # its port stays in up.nasa.port, and nobody listens there


def black_hole(up: Upstream) -> None:
    up.nasa.stop()
    up.black_hole = BlackHole(up.nasa.port).__enter__()


def restart_emulator(up: Upstream) -> None:
    up.close()
    up.nasa.start()  # on the same port: the source's URL answers again


def unresolvable(up: Upstream) -> None:
    up.host = UNRESOLVABLE


def resolvable(up: Upstream) -> None:
    up.host = "127.0.0.1"


def spoiled_record(
    imageid: str, *, refused: bool = False, **fields: Any
) -> Callable[[Upstream], None]:
    """Add record ``imageid`` with ``fields`` changed, received within the batch just
    released (on the sweep's second page); ``refused``: it is no image to store."""

    def start(up: Upstream) -> None:
        record = up.data.record(up.data.visible_count - 100)
        up.data.add({**record, "imageid": imageid, **fields})
        up.added.add(imageid)
        if refused:
            up.refused.add(imageid)

    return start


NUL_TITLE = "Mars Perseverance Sol 1:\x00 Left Mastcam-Z Camera"
nul_in_a_record = spoiled_record(
    NUL_ID, title=NUL_TITLE, caption="NASA's\x00 Mars Perseverance rover", credit="NASA/JPL\x00"
)
# A plain INTEGER column ends at 2**31 - 1 (PostgreSQL would refuse it; SQLite would not).
sol_past_its_column = spoiled_record(FAR_ID, refused=True, sol=3_000_000_000)
nothing_to_clear: Callable[[Upstream], None] = lambda up: None  # noqa: E731


def stored_clean(rig: Rig) -> None:
    """The spoiled record is stored, its NULs gone from every field."""
    (stored,) = [c for c in rig.watcher.list_candidates(status=None, limit=None)
                 if c.external_id == NUL_ID]  # fmt: skip
    assert (stored.title, stored.credit) == (NUL_TITLE.replace("\x00", ""), "NASA/JPL")
    assert "\x00" not in (stored.caption or "") and "\x00" not in orjson.dumps(stored.raw).decode()


def not_stored(rig: Rig) -> None:
    """The sources refuse the record up front: no page fails for it, on any database."""
    assert FAR_ID not in rig.watcher.store.external_ids(SOURCE)


CASES = [
    Case("refused", refuse, f"FetchConnectError: ConnectError: {REFUSED}", clear=restart_emulator),
    Case("connect-timeout", black_hole, "FetchTimeout: connect timed out after 1s",
         clear=restart_emulator),
    Case("slow-body", injected(Fault.drip(0.1)), "FetchTimeout: no complete response within 1.2s"),
    Case("500", injected(Fault.error_page(500)), "HTTPStatusError: HTTP 500 Internal Server Error"),
    Case("503-retry-after-seconds", injected(Fault.unavailable(retry_after=15)),
         "HTTPStatusError: HTTP 503 Service Unavailable", retry_after=15),
    Case("429-retry-after-seconds", injected(Fault.rate_limited(120)),
         "HTTPStatusError: HTTP 429 Too Many Requests", retry_after=120),
    Case("429-retry-after-http-date", injected(Fault.rate_limited(timedelta(seconds=90))),
         "HTTPStatusError: HTTP 429 Too Many Requests", retry_after=90, slack=2.0),
    Case("html-with-200", injected(Fault.html_page()),
         "ParseError: raw images: expected JSON, got '<!DOCTYPE html>"),
    Case("truncated-json", injected(Fault.truncated(0.5)),
         "ParseError: raw images: expected JSON, got JSON cut short after "),
    Case("oversize-body", injected(Fault.oversized(5_000_000, content_length=False)),
         "ResponseTooLarge: body exceeds the 1,000,000-byte cap"),
    Case("gzip-bomb", injected(Fault.gzip_bomb(50_000_000)),
         "ResponseTooLarge: body exceeds the 1,000,000-byte cap"),
    Case("redirect-loop", injected(Fault.redirect_loop()),
         "TooManyRedirects: more than 3 redirects"),
    Case("unresolvable-host", unresolvable, "FetchConnectError: ConnectError: [Errno ",
         clear=resolvable),
    Case("nul-in-a-record", nul_in_a_record, "", clear=nothing_to_clear, check=stored_clean),
    Case("sol-past-its-column", sol_past_its_column, "", clear=nothing_to_clear,
         check=not_stored, skipped=1),
]  # fmt: skip


def expected_wait(case: Case, failures: int) -> float:
    """The backoff, or the server's Retry-After when that is longer; backoff_max caps the
    backoff only: a server asking for two minutes gets two minutes."""
    return max(backoff(failures), case.retry_after or 0.0)


def check_failing(rig: Rig, case: Case, failures: int, *, shown: bool) -> None:
    """The state says: failing ``failures`` times in a row, with this error, next attempt
    at the recorded time; and, when ``shown``, /healthz and ``watcher sources --json`` say
    the same."""
    state = rig.state()
    assert state.consecutive_failures == failures
    assert state.last_error is not None and state.last_error.startswith(case.error)
    assert state.next_poll_at is not None and state.last_error_at == rig.clock.now
    if not shown:
        return
    health = rig.healthz()
    assert health["status"] == "degraded"
    (row,) = health["sources"]
    for view in (row, rig.sources_json()):
        assert view["health"] == "failing" and view["consecutive_failures"] == failures
        assert view["last_error"] == state.last_error
        assert datetime.fromisoformat(view["next_poll_at"]) == state.next_poll_at


def check_healthy(rig: Rig) -> None:
    state = rig.state()
    assert state.consecutive_failures == 0 and state.sweep is None
    assert state.next_poll_at == rig.clock.now + timedelta(seconds=INTERVAL)
    health = rig.healthz()
    (row,) = health["sources"]
    assert (health["status"], row["health"]) == ("ok", "ok")
    assert row["candidates"] == rig.watcher.store.count_candidates()


def fail_and_recover(rig: Rig, case: Case) -> None:
    """The fault for FAILURES polls, each waited out to the second, then cleared."""
    rig.up.data.release(RELEASED)  # three pages after the summary
    case.start(rig.up)
    if not case.fails:
        report = rig.poll()
        assert report.ok and report.error is None, report
        assert report.skipped == case.skipped, report
    waits = []
    for failures in range(1, FAILURES + 1 if case.fails else 1):
        report = rig.poll()
        assert report.error is not None and report.error.startswith(case.error), report.error
        check_failing(rig, case, failures, shown=failures == FAILURES)
        wait = (rig.state().next_poll_at - rig.clock.now).total_seconds()
        expected = expected_wait(case, failures)
        assert expected - case.slack <= wait <= expected, (wait, expected)
        waits.append(wait)
        rig.clock.advance(wait - 1)
        early = rig.poll()
        assert (early.requests, early.error) == (0, None), "tried before its next attempt"
        rig.clock.advance(1)
    if case.fails and case.retry_after is None:
        assert waits == sorted(waits) and waits[-1] > waits[0], waits  # the backoff grows
    case.clear(rig.up)
    recovered = rig.poll()
    assert recovered.ok and recovered.error is None, recovered


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_fault_is_recorded_waited_out_and_recovered_with_nothing_lost(
    rig_on: Callable[[str], Rig], tmp_path: Path, case: Case
) -> None:
    rig = rig_on(f"sqlite:///{tmp_path / 'watcher.db'}")
    fail_and_recover(rig, case)
    check_healthy(rig)
    rig.check_nothing_lost()
    if case.check is not None:
        case.check(rig)

    # A success starts the backoff over: the next failure waits the first step again.
    rig.up.data.release(5)
    rig.up.nasa.inject(Fault.error_page(500), path_prefix="/rss/api/", times=1)
    rig.clock.advance(INTERVAL)
    assert rig.poll().error is not None and rig.state().consecutive_failures == 1
    assert rig.state().next_poll_at == rig.clock.now + timedelta(seconds=backoff(1))
    rig.clock.advance(backoff(1))
    assert rig.poll().ok
    rig.check_nothing_lost()


DATA_CASES = [case for case in CASES if not case.fails]


@pytest.mark.postgres
@pytest.mark.parametrize("case", DATA_CASES, ids=[case.name for case in DATA_CASES])
def test_a_spoiled_record_on_postgresql_costs_at_most_that_record(
    rig_on: Callable[[str], Rig], postgres_database: str, case: Case
) -> None:
    """PostgreSQL refuses a NUL in a text and a number past an INTEGER column (SQLite keeps
    both): once such a record failed its page at every poll while the source looked
    healthy and ``/healthz`` said ok. Now the NUL is cleaned and the record stored, the
    impossible sol refused up front and counted, and the page's other records stored."""
    from .conftest import reset_postgres

    reset_postgres(postgres_database)
    rig = rig_on(postgres_database)
    fail_and_recover(rig, case)
    check_healthy(rig)
    rig.check_nothing_lost()
    assert case.check is not None
    case.check(rig)


# -- the running service ---------------------------------------------------------------

SERVICE_FETCH = {**FETCH, "backoff_base": "300ms", "backoff_max": "600ms"}
# The faults the service meets one after another: one of each kind in the matrix (an
# unresolvable host is a second source, failing all along beside the first), and a 429
# asking for 3 s.
SERVICE_CASES = [
    *(c for c in CASES if c.name not in ("unresolvable-host", "html-with-200", "oversize-body")
      and c.retry_after is None),
    Case("429-retry-after-http-date", injected(Fault.rate_limited(timedelta(seconds=3))),
         "HTTPStatusError: HTTP 429 Too Many Requests", retry_after=3),
]  # fmt: skip


def source_row(health: dict[str, Any], name: str) -> dict[str, Any]:
    row: dict[str, Any] = next(s for s in health["sources"] if s["name"] == name)
    return row


def test_the_running_service_rides_out_the_faults(tmp_path: Path, upstream: Upstream) -> None:
    """``watcher run``'s loop with the real clock: each fault in turn shows on ``/healthz``
    (failing, the error, the next attempt), the source comes back by itself once it
    clears, a Retry-After is waited out, and in the end every image offered is stored."""
    port = free_port()
    nowhere = f"http://{UNRESOLVABLE}/rss/api/"
    sources = [
        raw_source(upstream.url, interval="1s", jitter=0),
        raw_source(nowhere, name="nowhere", interval="1s", jitter=0),
    ]
    settings = build_settings(
        tmp_path,
        f"sqlite:///{tmp_path / 'watcher.db'}",
        sources,
        fetch=SERVICE_FETCH,
        server={"host": "127.0.0.1", "port": port},
    )
    watcher = make_watcher(settings)
    watcher.prepare_database()
    running = ServiceThread(watcher)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)

    def until(check: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        deadline = time.monotonic() + 15
        health: dict[str, Any] = {}
        while time.monotonic() < deadline:
            answer = client.get("/healthz")
            assert answer.status_code == 200  # the service answers throughout
            health = answer.json()
            if check(health):
                return health
            time.sleep(0.1)
        raise AssertionError(f"never: {what}; last /healthz: {health}")

    def failing_with(error: str) -> Callable[[dict[str, Any]], bool]:
        def check(health: dict[str, Any]) -> bool:
            row = source_row(health, SOURCE)
            last_error = str(row["last_error"] or "")
            return bool(row["health"] == "failing" and last_error.startswith(error))

        return check

    def all_stored(health: dict[str, Any]) -> bool:
        row = source_row(health, SOURCE)
        return bool(row["health"] == "ok" and row["candidates"] == len(upstream.offered()))

    try:
        until(all_stored, "the first poll")
        refused_at = 0.0
        for case in SERVICE_CASES:
            upstream.data.release(120)
            case.start(upstream)
            if case.fails:
                health = until(failing_with(case.error), f"{case.name} shown")
                row = source_row(health, SOURCE)
                assert row["next_poll_at"] is not None
                assert row["next_poll_at"] > row["last_error_at"]
            if case.retry_after is not None:
                refused_at = upstream.nasa.requests[-1].at
            case.clear(upstream)
            until(all_stored, f"recovered from {case.name}")
        # The 429 asked for 3 s from its own second (an HTTP-date): nothing came sooner.
        retried = [r.at for r in upstream.nasa.requests if r.at > refused_at]
        assert refused_at and retried and min(retried) - refused_at >= 2.0
        health = until(lambda h: source_row(h, "nowhere")["consecutive_failures"] >= 3, "DNS")
        nowhere_row = source_row(health, "nowhere")
        assert nowhere_row["last_error"].startswith("FetchConnectError: ConnectError: [Errno ")
        assert health["status"] == "degraded"
    finally:
        client.close()
        running.stop()
    stored = watcher.store.external_ids(SOURCE)
    assert stored == upstream.offered() and watcher.store.count_candidates() == len(stored)
