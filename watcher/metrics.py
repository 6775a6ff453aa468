"""What ``/metrics`` tells Prometheus: one ``Metrics`` per Watcher, with its own registry.

Two kinds of figures, each where it is true:

- what this process did (polls and their outcomes and latency, publishes and their
  duration): counters and histograms the services update through the observer callbacks
  ``make_watcher`` hands them (``observe_poll``, ``observe_publish``). Prometheus sums
  them over replicas and copes with a restart's reset;
- what the database holds (candidates per status, the age of the queue, editions,
  deliveries per channel and state): read at scrape time by ``DatabaseCollector``, so
  every replica reports the same backlog and nothing is lost when one restarts.

The registry is the Watcher's own, never prometheus_client's global one: several watchers
live in one test process, and a collector that reads a database must read its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from watcher.exceptions import StorageError
from watcher.publish.model import PublishReport
from watcher.types import (
    CandidateStatus,
    DeliveryChannel,
    DeliveryStatus,
    OperationsFigures,
    PollReport,
)

log = logging.getLogger("watcher.metrics")

# A poll is one request when nothing changed and minutes when a sweep walks many pages or
# NASA drips; a publish is milliseconds when nothing changed and a minute for a first
# edition with animations to build.
POLL_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
PUBLISH_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
POLL_OUTCOMES = ("ok", "not_modified", "failed", "deferred", "busy")
PUBLISH_OUTCOMES = ("edition", "unchanged", "busy", "failed")


def poll_outcome(report: PollReport) -> str:
    """``failed`` (NASA or the database failed it), ``deferred`` (backing off: nothing was
    fetched), ``busy`` (another poll of it ran), ``not_modified`` or ``ok``."""
    if report.error is not None:
        return "failed"
    if report.busy:
        return "busy"
    if report.requests == 0 and report.deferred_until is not None:
        return "deferred"
    return "not_modified" if report.not_modified else "ok"


def publish_outcome(report: PublishReport) -> str:
    """``edition`` (one was made), ``busy`` (another publisher had it) or ``unchanged``."""
    if report.changed:
        return "edition"
    return "busy" if report.busy else "unchanged"


class Metrics:
    """The counters and histograms the services update, and the exposition of them all."""

    def __init__(
        self,
        figures: Callable[[], OperationsFigures],
        clock: Callable[[], datetime],
        sources: tuple[str, ...] = (),
    ):
        self.registry = CollectorRegistry(auto_describe=True)
        self.polls = Counter(
            "watcher_polls",
            "Polls of a source, by outcome: ok, not_modified, failed, deferred (backing "
            "off, nothing fetched), busy (another poll of it was running).",
            ["source", "outcome"],
            registry=self.registry,
        )
        self.poll_failures = Counter(
            "watcher_poll_failures",
            "Polls that failed (upstream or database); the error is in /healthz.",
            ["source"],
            registry=self.registry,
        )
        self.poll_duration = Histogram(
            "watcher_poll_duration_seconds",
            "How long a poll that went upstream took, first request to last page stored.",
            ["source"],
            buckets=POLL_BUCKETS,
            registry=self.registry,
        )
        self.publish_duration = Histogram(
            "watcher_publish_duration_seconds",
            "How long a publish took, by outcome: edition, unchanged, busy, failed.",
            ["outcome"],
            buckets=PUBLISH_BUCKETS,
            registry=self.registry,
        )
        # Every configured source's series exist from the start at 0, so a rate over the
        # first failure is a rate, not a series appearing out of nowhere.
        for source in sources:
            for outcome in POLL_OUTCOMES:
                self.polls.labels(source, outcome)
            self.poll_failures.labels(source)
        self.registry.register(DatabaseCollector(figures, clock))

    def observe_poll(self, report: PollReport, seconds: float) -> None:
        outcome = poll_outcome(report)
        self.polls.labels(report.source, outcome).inc()
        if outcome == "failed":
            self.poll_failures.labels(report.source).inc()
        if outcome in ("ok", "not_modified", "failed"):
            self.poll_duration.labels(report.source).observe(seconds)

    def observe_publish(self, report: PublishReport | None, seconds: float) -> None:
        """``report`` None: the publish raised."""
        outcome = "failed" if report is None else publish_outcome(report)
        self.publish_duration.labels(outcome).observe(seconds)

    def exposition(self, accept: str | None = None) -> tuple[bytes, str]:
        """The page and its content type, in the format the scraper's Accept header asks
        for (Prometheus's text format unless it asks for OpenMetrics). Reads the database:
        call it in a worker thread."""
        encode, content_type = choose_encoder(accept or "")
        return encode(self.registry), content_type


class DatabaseCollector(Collector):
    """The database's figures as gauges, read at each scrape.

    An unreachable database makes ``watcher_database_up`` 0 and leaves the other gauges
    out (Prometheus then marks them stale) rather than failing the whole scrape, whose
    counters are still worth having."""

    def __init__(self, figures: Callable[[], OperationsFigures], clock: Callable[[], datetime]):
        self.figures = figures
        self.clock = clock

    def describe(self) -> Iterator[Metric]:
        """Nothing up front: describing must not read the database."""
        return iter(())

    def collect(self) -> Iterator[Metric]:
        try:
            figures = self.figures()
        except StorageError as exc:
            log.warning("metrics: cannot read the database: %s", exc)
            yield GaugeMetricFamily(
                "watcher_database_up", "1 when the database answered this scrape.", value=0
            )
            return
        yield GaugeMetricFamily(
            "watcher_database_up", "1 when the database answered this scrape.", value=1
        )
        yield from database_gauges(figures, self.clock())


def database_gauges(figures: OperationsFigures, now: datetime) -> Iterator[Metric]:
    """The gauges of one reading: every known status and channel has its series (0 when
    none), plus any other value the database holds."""
    candidates = GaugeMetricFamily(
        "watcher_candidates", "Candidates stored, by status.", labels=["status"]
    )
    counts = {status.value: 0 for status in CandidateStatus} | dict(figures.candidates)
    for status, count in sorted(counts.items()):
        candidates.add_metric([status], count)
    yield candidates
    waited = 0.0
    if figures.oldest_new_at is not None:
        waited = max(0.0, (now - figures.oldest_new_at).total_seconds())
    yield GaugeMetricFamily(
        "watcher_queue_age_seconds",
        "How long the oldest new candidate has waited for an editor (0: the queue is empty).",
        value=waited,
    )
    yield GaugeMetricFamily("watcher_editions", "Editions published.", value=figures.editions)
    yield GaugeMetricFamily(
        "watcher_edition_latest",
        "The newest edition's number (0 before the first).",
        value=figures.latest_edition or 0,
    )
    if figures.latest_published_at is not None:
        yield GaugeMetricFamily(
            "watcher_edition_latest_timestamp_seconds",
            "When the newest edition was published (Unix time).",
            value=figures.latest_published_at.timestamp(),
        )
    deliveries = GaugeMetricFamily(
        "watcher_deliveries",
        "Outbox rows, by channel and state: pending (to send or retry), sent, dead (given up).",
        labels=["channel", "state"],
    )
    every = {(c.value, s.value): 0 for c in DeliveryChannel for s in DeliveryStatus}
    for (channel, state), count in sorted((every | dict(figures.deliveries)).items()):
        deliveries.add_metric([channel, state], count)
    yield deliveries
