"""Retention: ``watcher prune`` (and the service's daily prune) removes what is past use,
kind by kind, on SQLite and PostgreSQL, and never what is published or pending: entries,
their candidates and pictures, editions, new candidates' rows, queued deliveries. A pruned
candidate's row stays, so a poll that meets its record again stores nothing.
"""

from __future__ import annotations

import json
import os
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from watcher.cache_layout import picture_path
from watcher.cli import app as cli_app
from watcher.config import load_settings
from watcher.core import Watcher, make_watcher
from watcher.curate.curator import cache_path
from watcher.curate.score import ScoreContext, score_facts
from watcher.demo import NasaEmulator, SyntheticRawImages
from watcher.exceptions import ConfigError
from watcher.plans import NewDelivery
from watcher.publish import animate
from watcher.publish.model import AnimationFailure
from watcher.retention.pruner import LAST_RUN_KEY
from watcher.retention.rules import compact_record
from watcher.types import (
    PRUNED_MARK,
    Actor,
    Candidate,
    CandidateData,
    CandidateStatus,
    DeliveryChannel,
    DeliveryStatus,
    EntryDraft,
    EntryStatus,
    PruneKind,
    Role,
    SubscriberStatus,
)

from .conftest import (
    PASSWORD,
    Clock,
    ServiceThread,
    build_settings,
    eventually,
    free_port,
    raw_source,
    run,
    write_config,
)

pytestmark = pytest.mark.timeout(120)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # where the Clock fixture starts
DAY = timedelta(days=1)
EDITOR = Actor("alice", Role.EDITOR)
ADMIN = Actor("root", Role.ADMIN)
EXTENDED = {"subframeRect": "(1,1,824,600)", "scaleFactor": "2", "mastAz": "156.1"}
K = PruneKind


def record(external_id: str) -> dict[str, Any]:
    return {"imageid": external_id, "extended": dict(EXTENDED), "credit": "NASA/JPL-Caltech"}


def item(external_id: str) -> CandidateData:
    return CandidateData(
        source="perseverance",
        external_id=external_id,
        mission="perseverance",
        title=f"Mars Perseverance: {external_id}",
        camera="MCZ_LEFT",
        sol=1200,
        taken_at=datetime(2026, 8, 1, tzinfo=UTC),
        thumbnail_url=f"https://mars.nasa.gov/raw/{external_id}_320.jpg",
        medium_url=f"https://mars.nasa.gov/raw/{external_id}_800.jpg",
        large_url=f"https://mars.nasa.gov/raw/{external_id}_1200.jpg",
        full_url=f"https://mars.nasa.gov/raw/{external_id}.png",
        width=824,
        height=600,
        raw=record(external_id),
    )


def add(watcher: Watcher, names: list[str], seen_at: datetime) -> dict[str, int]:
    """Store candidates first seen at ``seen_at``; their ids by external id."""
    watcher.store.add_candidates([item(name) for name in names], seen_at)
    found = watcher.list_candidates(status=None, limit=None)
    return {c.external_id: c.id for c in found if c.external_id in names}


def by_id(watcher: Watcher) -> dict[int, Candidate]:
    return {c.id: c for c in watcher.list_candidates(status=None, limit=None)}


def counts(report: Any) -> dict[str, int | None]:
    return {kind.value: report.count(kind) for kind in PruneKind}


def age(path: Path, when: datetime) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_bytes(b"picture")
    os.utime(path, (when.timestamp(), when.timestamp()))
    return path


# -- candidates' records ---------------------------------------------------------------------


def test_records_of_old_rejected_and_unreviewed_candidates_are_cut_and_nothing_else(
    watcher_for: Any, database_url: str, clock: Clock
) -> None:
    watcher = watcher_for([], database_url=database_url)
    names = ["REJECTED_LONG_AGO", "REJECTED_LATELY", "WAITING_LONG", "PUBLISHED", "SHELVED"]
    ids = add(watcher, names, NOW - 200 * DAY)
    ids |= add(watcher, ["WAITING_LATELY"], NOW - 10 * DAY)
    clock.now = NOW - 40 * DAY
    watcher.reject(ids["REJECTED_LONG_AGO"], EDITOR, reason="blurry")
    watcher.approve([ids["PUBLISHED"]], EntryDraft(heading="Kept", body="Published."), EDITOR)
    shelved = watcher.approve([ids["SHELVED"]], EntryDraft(heading="Kept", body="Off."), EDITOR)
    watcher.set_entry_status(shelved.id, shelved.version, EntryStatus.UNPUBLISHED, EDITOR)
    run(watcher.publish())
    clock.now = NOW - 10 * DAY
    watcher.reject(ids["REJECTED_LATELY"], EDITOR)  # first seen long ago: rejection counts
    clock.now = NOW
    before = by_id(watcher)
    editions, published = watcher.list_editions(), watcher.published_entries()

    dry = run(watcher.prune(dry_run=True))
    assert by_id(watcher) == before  # a dry run changes nothing
    report = run(watcher.prune())

    assert (report.count(K.REJECTED_RECORDS), report.count(K.UNREVIEWED_RECORDS)) == (1, 1)
    assert report.counts == dry.counts and report.dry_run is False and dry.dry_run is True
    after = by_id(watcher)
    assert set(after) == set(before)  # every row stays
    pruned = {ids["REJECTED_LONG_AGO"], ids["WAITING_LONG"]}
    for candidate_id, was in before.items():
        now = after[candidate_id]
        assert (now.status, now.external_id, now.title, now.medium_url, now.version) == (
            was.status,
            was.external_id,
            was.title,
            was.medium_url,
            was.version,
        )
        if candidate_id in pruned:
            assert now.raw == {
                "extended": {"subframeRect": "(1,1,824,600)", "scaleFactor": "2"},
                PRUNED_MARK: NOW.isoformat(),
            }
        else:
            assert now.raw == was.raw == record(was.external_id)
    assert after[ids["WAITING_LONG"]].status is CandidateStatus.NEW  # still in the queue
    assert watcher.list_editions() == editions and watcher.published_entries() == published
    assert run(watcher.prune()).count(K.REJECTED_RECORDS) == 0  # once is enough


@pytest.mark.parametrize(
    "extended",
    [{"subframeRect": "(1,1,1648,1200)", "mastAz": "1"}, {"scaleFactor": "2", "sclk": "7"}],
)
def test_a_pruned_record_scores_as_the_whole_one(extended: dict[str, str]) -> None:
    data = item("NRF_1")
    whole = Candidate(
        **{f.name: getattr(data, f.name) for f in fields(CandidateData)},
        id=1,
        status=CandidateStatus.NEW,
        first_seen_at=NOW,
    )
    whole = replace(whole, raw={"imageid": "NRF_1", "extended": extended})
    cut = replace(whole, raw=compact_record(whole.raw, NOW))
    bare = replace(whole, raw={})
    context = ScoreContext()
    assert score_facts(cut, None, context) == score_facts(whole, None, context)
    assert score_facts(bare, None, context) != score_facts(whole, None, context)  # it matters
    assert compact_record({"imageid": "x"}, NOW) == {PRUNED_MARK: NOW.isoformat()}


def test_a_poll_meeting_pruned_candidates_again_stores_and_queues_nothing(
    watcher_for: Any, database_url: str, clock: Clock
) -> None:
    data = SyntheticRawImages(40, per_sol=40, start_sol=5)
    with NasaEmulator(raw_images={"mars2020": data}) as nasa:
        watcher = watcher_for([raw_source(nasa.raw_images_url)], database_url=database_url)
        clock.now = NOW - 200 * DAY
        run(watcher.poll_source("perseverance"))
        before = by_id(watcher)
        assert len(before) == 40
        rejected = min(before)
        watcher.reject(rejected, EDITOR)
        clock.now = NOW
        report = run(watcher.prune())
        assert (report.count(K.REJECTED_RECORDS), report.count(K.UNREVIEWED_RECORDS)) == (1, 39)

        again = run(watcher.backfill("perseverance", from_sol=5, to_sol=5))  # every record again
        assert (again.fetched, again.inserted) == (40, 0)
        data.release(3)
        clock.advance(600)
        assert run(watcher.poll_source("perseverance")).inserted == 3
        after = by_id(watcher)
        assert len(after) == 43
        assert after[rejected].status is CandidateStatus.REJECTED
        for candidate_id, was in before.items():
            assert PRUNED_MARK in after[candidate_id].raw  # not overwritten by the record
            assert after[candidate_id].external_id == was.external_id
        queue = watcher.list_candidates(status=CandidateStatus.NEW, limit=None)
        assert len(queue) == 42 and len({c.external_id for c in queue}) == 42


# -- the cache's files --------------------------------------------------------------------------


def test_old_cached_pictures_and_failure_records_go_but_not_an_entrys_pictures(
    watcher_for: Any, database_url: str, clock: Clock, tmp_path: Path
) -> None:
    watcher = watcher_for([], database_url=database_url)
    ids = add(watcher, ["SHOWN", "SHELVED", "GONE", "FRESH"], NOW - 100 * DAY)
    watcher.approve([ids["SHOWN"]], EntryDraft(heading="Shown", body="On the list."), EDITOR)
    shelved = watcher.approve([ids["SHELVED"]], EntryDraft(heading="Off", body="Off."), EDITOR)
    watcher.set_entry_status(shelved.id, shelved.version, EntryStatus.UNPUBLISHED, EDITOR)
    run(watcher.publish())
    cache = tmp_path / "cache"
    old, fresh = NOW - 40 * DAY, NOW - 5 * DAY
    kept = [
        age(cache_path(cache, item("SHOWN").thumbnail_url or ""), old),  # as the curator keeps it
        age(picture_path(cache, item("SHOWN").medium_url or ""), old),
        age(picture_path(cache, item("SHELVED").medium_url or ""), old),
        age(picture_path(cache, item("FRESH").medium_url or ""), fresh),
        age(cache / "pictures" / "ab" / "notes.txt", old),  # not a picture of ours
        age(cache / "animations" / f"{'c' * 32}.webp", old),  # an animation, not a failure
    ]
    gone = [age(picture_path(cache, item("GONE").medium_url or ""), old)]
    for key, when in (("a" * 32, old), ("b" * 32, fresh)):
        failure = AnimationFailure(reason="frame 2 is not a picture", frame=2, at=when,
                                   attempts=1, retry_at=when + timedelta(minutes=10))  # fmt: skip
        animate.record_failure(cache, key, failure)
        path = age(cache / "animations" / f"{key}.failed.json", when)
        (gone if when == old else kept).append(path)
    clock.now = NOW

    dry = run(watcher.prune(dry_run=True))
    assert all(path.exists() for path in kept + gone)
    report = run(watcher.prune())

    assert (report.count(K.PICTURE_CACHE), report.count(K.FAILED_ANIMATIONS)) == (1, 1)
    assert report.counts == dry.counts
    assert [p for p in kept if not p.exists()] == []
    assert [p for p in gone if p.exists()] == []
    assert animate.failure(cache, "b" * 32) is not None


# -- the outbox ----------------------------------------------------------------------------------


def test_sent_outbox_rows_go_when_old_and_no_edition_is_delivered_again(
    watcher_for: Any, database_url: str, clock: Clock
) -> None:
    watcher = watcher_for([], database_url=database_url, apprise={"urls": ["json://127.0.0.1:9/"]})
    store = watcher.store
    ids = add(watcher, ["FIRST", "SECOND"], NOW - 200 * DAY)
    clock.now = NOW - 100 * DAY
    watcher.approve([ids["FIRST"]], EntryDraft(heading="First", body="One."), EDITOR)
    assert run(watcher.publish()).deliveries == 1  # the team's notice of edition 1
    extra = [
        NewDelivery(None, DeliveryChannel.APPRISE, "team", f"old-{n}", clock.now) for n in (1, 2)
    ]
    store.enqueue(extra, clock.now)
    claimed = {d.key: d.id for d in store.claim_deliveries("w", clock.now, clock.now + DAY, 10)}
    dead = (claimed["old-1"], DeliveryStatus.DEAD, clock.now, "gave up")
    retrying = (claimed["old-2"], DeliveryStatus.PENDING, NOW + DAY, "503, tried again later")
    store.finish_deliveries(
        "w", clock.now, sent=[claimed["e1-apprise-team"]], outcomes=[dead, retrying]
    )
    clock.now = NOW - 5 * DAY
    recent = NewDelivery(None, DeliveryChannel.APPRISE, "team", "recent", clock.now)
    store.enqueue([recent], clock.now)
    [row] = store.claim_deliveries("w", clock.now, clock.now + DAY, 10)
    store.finish_deliveries("w", clock.now, sent=[row.id])
    clock.now = NOW

    report = run(watcher.prune())

    assert report.count(K.SENT_DELIVERIES) == 1
    left = {d.key: d.status for d in watcher.list_deliveries(limit=100)}
    assert left == {
        "old-1": DeliveryStatus.DEAD,  # kept: the delivery log shows what failed
        "old-2": DeliveryStatus.PENDING,  # kept: still to be delivered
        "recent": DeliveryStatus.SENT,
    }
    watcher.approve([ids["SECOND"]], EntryDraft(heading="Second", body="Two."), EDITOR)
    assert run(watcher.publish()).deliveries == 1
    keys = {d.key for d in watcher.list_deliveries(limit=100)}
    assert "e2-apprise-team" in keys and "e1-apprise-team" not in keys


def test_rows_are_deleted_a_batch_at_a_time_until_none_is_left(
    watcher_for: Any, database_url: str, clock: Clock
) -> None:
    watcher = watcher_for([], database_url=database_url, retention={"batch": 10})
    add(watcher, [f"NRF_{n:02d}" for n in range(25)], NOW - 200 * DAY)
    clock.now = NOW - 100 * DAY
    rows = [
        NewDelivery(None, DeliveryChannel.APPRISE, "team", f"k{n}", clock.now) for n in range(25)
    ]
    watcher.store.enqueue(rows, clock.now)
    claimed = watcher.store.claim_deliveries("w", clock.now, clock.now + DAY, 100)
    watcher.store.finish_deliveries("w", clock.now, sent=[d.id for d in claimed])
    clock.now = NOW
    report = run(watcher.prune())
    assert (report.count(K.UNREVIEWED_RECORDS), report.count(K.SENT_DELIVERIES)) == (25, 25)
    assert watcher.list_deliveries(limit=100) == []
    assert all(PRUNED_MARK in c.raw for c in by_id(watcher).values())


# -- the audit log, sessions, subscribers --------------------------------------------------------


def test_old_audit_rows_go_but_the_newest_stay_and_the_publisher_still_sees_changes(
    watcher_for: Any, database_url: str, clock: Clock
) -> None:
    watcher = watcher_for([], database_url=database_url)
    ids = add(watcher, ["A", "B", "C", "D", "E"], NOW - 500 * DAY)
    clock.now = NOW - 400 * DAY
    watcher.reject(ids["D"], EDITOR)
    watcher.approve([ids["A"]], EntryDraft(heading="A", body="First."), EDITOR)
    watcher.reject(ids["E"], EDITOR)
    run(watcher.publish())
    watcher.reject(ids["B"], EDITOR)
    events = watcher.store.audit_events(limit=500)
    newest = max(e.id for e in events)
    watched = max(e.id for e in events if e.subject_type in ("entry", "list", "site"))
    assert len(events) > 2 and newest != watched
    clock.now = NOW

    report = run(watcher.prune())

    assert report.count(K.AUDIT_LOG) == len(events) - 2
    assert {e.id for e in watcher.store.audit_events(limit=500)} == {newest, watched}
    assert not watcher.change_mark().due
    watcher.approve([ids["C"]], EntryDraft(heading="C", body="Later."), EDITOR)
    assert watcher.change_mark().due  # new ids stay above what the publisher examined
    edition = run(watcher.publish()).edition
    assert edition is not None and edition.number == 2 and len(edition.added) == 1
    # The two old rows kept go now that newer ones stand for them; this year's stay.
    assert run(watcher.prune()).count(K.AUDIT_LOG) == 2
    left = watcher.store.audit_events(limit=500)
    assert left and {e.at for e in left} == {NOW}


def test_expired_sessions_old_sign_up_attempts_and_unconfirmed_subscribers_go(
    watcher_for: Any, database_url: str, clock: Clock
) -> None:
    watcher = watcher_for([], database_url=database_url, email={"enabled": True})
    watcher.add_editor("root", PASSWORD, Role.ADMIN)

    def confirmations_sent(address: str) -> None:
        rows = watcher.store.claim_deliveries("w", clock.now, clock.now + DAY, 100)
        sent = [d.id for d in rows if d.target == address]
        others = [d.id for d in rows if d.id not in sent]
        watcher.store.finish_deliveries("w", clock.now, sent=sent, released=others)

    clock.now = NOW - 40 * DAY
    watcher.sign_in("root", PASSWORD, client="127.0.0.1")
    gone = watcher.subscribe("gone@example.org", client="203.0.113.9")
    queued = watcher.subscribe("queued@example.org", client="203.0.113.9")
    confirmations_sent("gone@example.org")
    confirmed = watcher.add_subscriber("confirmed@example.org", ADMIN, confirmed=True)
    clock.now = NOW - 5 * DAY
    recent = watcher.add_subscriber("recent@example.org", ADMIN)
    confirmations_sent("recent@example.org")
    clock.now = NOW - timedelta(hours=1)
    token, _ = watcher.sign_in("root", PASSWORD, client="127.0.0.1")
    clock.now = NOW

    report = run(watcher.prune())

    shown = counts(report)
    assert [shown[k] for k in ("expired_sessions", "subscribe_attempts")] == [1, 2]
    assert shown["unconfirmed_subscribers"] == 1
    assert watcher.session(token) is not None
    left = {s.email: s.status for s in watcher.list_subscribers()}
    assert left == {
        "queued@example.org": SubscriberStatus.PENDING,  # its confirmation mail still waits
        "confirmed@example.org": SubscriberStatus.CONFIRMED,
        "recent@example.org": SubscriberStatus.PENDING,
    }
    assert gone.email not in left
    assert {s.id for s in watcher.list_subscribers()} == {queued.id, confirmed.id, recent.id}

    clock.now = NOW - timedelta(minutes=30)
    watcher.subscribe("again@example.org", client="203.0.113.9")
    clock.now = NOW
    assert run(watcher.prune()).count(K.SUBSCRIBE_ATTEMPTS) == 0  # the last hour's stay


# -- the rules: never, due, the lease --------------------------------------------------------------


def test_a_kind_kept_for_ever_is_not_touched(watcher_for: Any, clock: Clock) -> None:
    watcher = watcher_for([], retention={"unreviewed_records": "never", "audit_log": "never"})
    ids = add(watcher, ["OLD"], NOW - 1000 * DAY)
    report = run(watcher.prune())
    assert report.count(K.UNREVIEWED_RECORDS) is None and report.count(K.AUDIT_LOG) is None
    assert report.count(K.REJECTED_RECORDS) == 0
    assert watcher.get_candidate(ids["OLD"]).raw == record("OLD")


def test_the_service_prunes_once_an_interval_across_replicas_one_at_a_time(
    watcher_for: Any, clock: Clock
) -> None:
    one, other = watcher_for([]), watcher_for([])  # two replicas of one database
    assert run(one.prune_if_due()) is not None  # never pruned: due
    assert one.store.get_settings(LAST_RUN_KEY) == {LAST_RUN_KEY: NOW.isoformat()}
    clock.advance(3600)
    assert run(other.prune_if_due()) is None and run(one.prune_if_due()) is None
    assert other.next_prune_at() == NOW + DAY
    clock.now = NOW + DAY
    assert run(other.prune_if_due()) is not None
    assert run(one.prune_if_due()) is None

    clock.now = NOW + 3 * DAY
    assert other.store.take_lease("prune", "someone", clock.now, clock.now + timedelta(minutes=1))
    busy = run(one.prune())
    assert busy.busy and busy.counts == () and busy.held_by is not None
    assert busy.held_by.owner == "someone"
    assert run(one.prune_if_due()) == busy  # busy, so not recorded as done
    assert one.store.get_settings(LAST_RUN_KEY) == {LAST_RUN_KEY: (NOW + DAY).isoformat()}


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        (
            '[retention]\nsubscribe_attempts = "30m"\n',
            "retention.subscribe_attempts",
            "at least 1h",
        ),
        (
            '[retention]\nunconfirmed_subscribers = "1d"\n',
            "retention.unconfirmed_subscribers",
            "email.confirm_ttl",
        ),
        ('[retention]\naudit_log = "soon"\n', "retention.audit_log", '"never" to keep for ever'),
        ("[retention]\nbatch = 0\n", "retention.batch", "outside"),
        ('[retention]\npictures = "30d"\n', "retention.pictures", "did you mean 'picture_cache'"),
    ],
)
def test_retention_config_errors_name_the_file_and_the_key(
    tmp_path: Path, text: str, key: str, fragment: str
) -> None:
    path = tmp_path / "watcher.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    message = str(info.value)
    assert str(path) in message and f": {key}: " in message and fragment in message


def test_retention_defaults_and_never(tmp_path: Path) -> None:
    path = tmp_path / "watcher.toml"
    path.write_text('[retention]\nrejected_records = "never"\ninterval = "12h"\n')
    retention = load_settings(path, env={}).retention
    assert retention.rejected_records is None and retention.interval == 43200
    assert (retention.unreviewed_records, retention.audit_log) == (180 * 86400, 365 * 86400)
    shipped = load_settings(Path(__file__).parent.parent / "config" / "watcher.toml", env={})
    assert shipped.retention == type(retention)()  # the file says the defaults


# -- the command and the service -----------------------------------------------------------------


def test_prune_command_prints_counts_per_kind_and_exits_1_when_busy(tmp_path: Path) -> None:
    config = write_config(tmp_path, "")
    settings = load_settings(config, env={})
    now = datetime.now(UTC)
    then = make_watcher(settings, clock=lambda: now - 40 * DAY)
    then.prepare_database()
    ids = add(then, ["OLD"], now - 40 * DAY)
    then.reject(ids["OLD"], EDITOR)
    run(then.aclose())
    runner = CliRunner()

    def prune(*args: str) -> Any:
        return runner.invoke(cli_app, ["--config", str(config), "prune", *args])

    dry = prune("--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    shown = json.loads(dry.stdout)
    assert shown["dry_run"] is True and shown["busy"] is False and shown["held_by"] is None
    assert shown["counts"] == {kind.value: 0 for kind in PruneKind} | {"rejected_records": 1}
    assert shown["total"] == 1
    done = prune("--json")
    assert done.exit_code == 0 and json.loads(done.stdout)["counts"]["rejected_records"] == 1
    table = prune()
    assert table.exit_code == 0
    assert "rejected_records" in table.stdout and "30d" in table.stdout and "365d" in table.stdout

    watcher = make_watcher(settings)
    try:
        assert watcher.store.take_lease("prune", "someone", now, now + timedelta(minutes=5))
        busy = prune("--json")
        assert busy.exit_code == 1
        answer = json.loads(busy.stdout)
        assert answer["busy"] is True and answer["held_by"]["owner"] == "someone"
        assert prune().exit_code == 1
    finally:
        run(watcher.aclose())


def test_the_running_service_prunes_by_itself(tmp_path: Path) -> None:
    settings = build_settings(
        tmp_path,
        f"sqlite:///{tmp_path / 'watcher.db'}",
        server={"host": "127.0.0.1", "port": free_port()},
        retention={"interval": "1s"},
    )
    now = datetime.now(UTC)
    then = make_watcher(settings, clock=lambda: now - 40 * DAY)
    then.prepare_database()
    ids = add(then, ["OLD"], now - 40 * DAY)
    then.reject(ids["OLD"], EDITOR)
    run(then.aclose())
    watcher = make_watcher(settings)
    running = ServiceThread(watcher)
    try:
        eventually(
            lambda: PRUNED_MARK in watcher.get_candidate(ids["OLD"]).raw,
            "the service pruned the old rejected record",
            timeout=30,
        )
        eventually(lambda: running.service.pruning.runs, "the prune finished", timeout=30)
        assert running.service.pruning.errors == 0
        assert LAST_RUN_KEY in watcher.store.get_settings(LAST_RUN_KEY)
    finally:
        running.stop()
