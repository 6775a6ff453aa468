"""The Watcher facade: the one object the CLI, the web app and the scheduler call.

``Watcher`` holds one part per concept and delegates to it, the way reader's ``Reader``
holds its storage, parser and updater: ``polling`` (feeds, backfill), ``checking``
(whether NASA's answers still have the shapes watcher expects), ``review`` (the editors'
desk: decisions, entries, audit), ``accounts`` (editors, sessions, tokens), ``publishing``
(editions and the site's files), ``delivery`` (subscribers, webhooks, the outbox),
``curation`` (pictures' fingerprints, measured in the background) and ``retention``
(pruning what is past use); beside them ``metrics``, what ``/metrics`` shows, which the
polling and publishing parts report to.
Each part gets what it depends on as constructor arguments, so each can be read and tested
alone; the Watcher wires them together. Nothing is global.

A part is built, and its module imported, the first time it is used: ``watcher queue``
imports the database and the desk, not the web stack, Argon2, Pillow or Apprise, and so
starts in a fraction of the time (``bench/startup.py``).
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast, overload

from watcher import leases
from watcher.config import Settings
from watcher.db import Store
from watcher.deliver.channels.channel import DeliveryReport
from watcher.exceptions import NotFound, StorageError
from watcher.publish.model import (
    Animation,
    AnimationState,
    AnimationStatus,
    PublishReport,
    WriteReport,
)
from watcher.types import StatusFigures

if TYPE_CHECKING:
    from watcher.accounts.editors import Accounts
    from watcher.changes import Changes
    from watcher.curate.curator import Curator
    from watcher.deliver.deliverer import Deliverer
    from watcher.fetch import Fetcher
    from watcher.metrics import Metrics
    from watcher.polling.checker import Checker
    from watcher.polling.poller import Poller
    from watcher.publish.publisher import Publisher
    from watcher.retention.pruner import Pruner
    from watcher.review.desk import Desk

log = logging.getLogger("watcher.core")

T = TypeVar("T")


def utcnow() -> datetime:
    return datetime.now(UTC)


class via(Generic[T]):  # a lower-case name: it reads as a word in the class body
    """One of a part's attributes (a bound method, mostly) offered on the Watcher itself.
    Reading it builds the part when it is not built yet; the value is then kept on the
    instance, so later reads are plain attribute reads (and a test may still replace it)."""

    def __init__(self, get: Callable[[Watcher], T]) -> None:
        self.get = get
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> via[T]: ...
    @overload
    def __get__(self, instance: Watcher, owner: type | None = None) -> T: ...
    def __get__(self, instance: Watcher | None, owner: type | None = None) -> T | via[T]:
        if instance is None:
            return self
        value = self.get(instance)
        instance.__dict__[self.name] = value
        return value


class Watcher:
    """Everything watcher does, as methods. Build it with ``make_watcher(settings)``.

    The public methods are the parts' own (offered here through ``via``, so their
    signatures and docstrings are the parts'); the few written out below span parts or the
    database's lifecycle. The parts are properties that build each on first use, once
    (a lock keeps two threads from building one twice).
    """

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        clock: Callable[[], datetime],
        rand: Callable[[], float],
        owner: str,
        transport: Any = None,
    ):
        self.settings, self.store = settings, store
        self.clock, self.rand, self.owner = clock, rand, owner
        self._transport = transport
        self._parts: dict[str, Any] = {}
        self._building = threading.RLock()

    # -- the parts, each built on first use -------------------------------------------

    def _part(self, name: str, build: Callable[[], T]) -> T:
        try:
            return cast(T, self._parts[name])
        except KeyError:
            with self._building:
                if name not in self._parts:
                    self._parts[name] = build()
                return cast(T, self._parts[name])

    @property
    def fetcher(self) -> Fetcher:
        from watcher.fetch import Fetcher

        return self._part(
            "fetcher", lambda: Fetcher(self.settings.fetch, transport=self._transport)
        )

    @property
    def changes(self) -> Changes:
        from watcher.changes import Changes

        return self._part("changes", Changes)

    @property
    def metrics(self) -> Metrics:
        from watcher.metrics import Metrics

        def build() -> Metrics:
            enabled = tuple(source.name for source in self.settings.sources if source.enabled)
            return Metrics(self.store.operations_figures, self.clock, sources=enabled)

        return self._part("metrics", build)

    @property
    def polling(self) -> Poller:
        from watcher.polling.poller import Poller

        return self._part(
            "polling",
            lambda: Poller(
                self.settings,
                self.store,
                self.fetcher,
                clock=self.clock,
                rand=self.rand,
                owner=self.owner,
                announce=lambda count: self.delivery.note_new_candidates(count),
                observe=lambda report, seconds: self.metrics.observe_poll(report, seconds),
            ),
        )

    @property
    def checking(self) -> Checker:
        from watcher.polling.checker import Checker

        return self._part("checking", lambda: Checker(self.settings, self.fetcher))

    @property
    def review(self) -> Desk:
        from watcher.review.desk import Desk

        return self._part(
            "review",
            lambda: Desk(self.settings, self.store, clock=self.clock, changes=self.changes),
        )

    @property
    def accounts(self) -> Accounts:
        from watcher.accounts.editors import Accounts

        return self._part("accounts", lambda: Accounts(self.settings, self.store, clock=self.clock))

    @property
    def publishing(self) -> Publisher:
        from watcher.publish.publisher import Publisher

        return self._part(
            "publishing",
            lambda: Publisher(
                self.settings,
                self.store,
                self.fetcher,
                clock=self.clock,
                owner=self.owner,
                changes=self.changes,
                audience=self.delivery,
                health=lambda: self.polling.sources_health(with_counts=False),
                observe=lambda report, seconds: self.metrics.observe_publish(report, seconds),
            ),
        )

    @property
    def delivery(self) -> Deliverer:
        from watcher.deliver.deliverer import Deliverer

        return self._part(
            "delivery",
            lambda: Deliverer(
                self.settings,
                self.store,
                self.fetcher,
                clock=self.clock,
                rand=self.rand,
                owner=self.owner,
            ),
        )

    @property
    def curation(self) -> Curator:
        from watcher.curate.curator import Curator

        return self._part(
            "curation",
            lambda: Curator(
                self.settings, self.store, self.fetcher, clock=self.clock, owner=self.owner
            ),
        )

    @property
    def retention(self) -> Pruner:
        from watcher.retention.pruner import Pruner

        return self._part(
            "retention",
            lambda: Pruner(self.settings, self.store, clock=self.clock, owner=self.owner),
        )

    # -- the parts' methods ------------------------------------------------------------

    poll_all = via(lambda w: w.polling.poll_all)
    poll_source = via(lambda w: w.polling.poll_source)
    backfill = via(lambda w: w.polling.backfill)
    request_stop = via(lambda w: w.polling.request_stop)
    get_source = via(lambda w: w.polling.get_source)
    sources_health = via(lambda w: w.polling.sources_health)
    check_sources = via(lambda w: w.checking.check_sources)
    check_source = via(lambda w: w.checking.check_source)
    list_candidates = via(lambda w: w.review.list_candidates)
    get_candidate = via(lambda w: w.review.get_candidate)
    search_candidates = via(lambda w: w.review.search_candidates)
    list_cards = via(lambda w: w.review.list_cards)
    group_members = via(lambda w: w.review.group_members)
    queue_counts = via(lambda w: w.review.queue_counts)
    count_cards = via(lambda w: w.review.count_cards)
    get_candidates = via(lambda w: w.review.get_candidates)
    neighbours = via(lambda w: w.review.neighbours)
    entry_of = via(lambda w: w.review.entry_of)
    facets = via(lambda w: w.review.facets)
    list_entries = via(lambda w: w.review.list_entries)
    get_entry = via(lambda w: w.review.get_entry)
    audit_events = via(lambda w: w.review.audit_events)
    approve = via(lambda w: w.review.approve)
    approve_each = via(lambda w: w.review.approve_each)
    reject = via(lambda w: w.review.reject)
    undo_last = via(lambda w: w.review.undo_last)
    edit_entry = via(lambda w: w.review.edit_entry)
    set_entry_status = via(lambda w: w.review.set_entry_status)
    delete_entry = via(lambda w: w.review.delete_entry)
    reorder_entries = via(lambda w: w.review.reorder_entries)
    add_editor = via(lambda w: w.accounts.add_editor)
    list_editors = via(lambda w: w.accounts.list_editors)
    get_editor = via(lambda w: w.accounts.get_editor)
    set_editor_disabled = via(lambda w: w.accounts.set_editor_disabled)
    reset_password = via(lambda w: w.accounts.reset_password)
    change_own_password = via(lambda w: w.accounts.change_own_password)
    sign_in = via(lambda w: w.accounts.sign_in)
    sign_out = via(lambda w: w.accounts.sign_out)
    session = via(lambda w: w.accounts.session)
    token_actor = via(lambda w: w.accounts.token_actor)
    setup_needed = via(lambda w: w.accounts.setup_needed)
    create_setup_link = via(lambda w: w.accounts.create_setup_link)
    setup_link_valid = via(lambda w: w.accounts.setup_link_valid)
    complete_setup = via(lambda w: w.accounts.complete_setup)
    create_api_token = via(lambda w: w.accounts.create_api_token)
    list_api_tokens = via(lambda w: w.accounts.list_api_tokens)
    revoke_api_token = via(lambda w: w.accounts.revoke_api_token)
    publish = via(lambda w: w.publishing.publish)
    sync_site = via(lambda w: w.publishing.sync_site)
    follow_site = via(lambda w: w.publishing.follow_site)
    export_site = via(lambda w: w.publishing.export_site)
    site_settings = via(lambda w: w.publishing.site_settings)
    update_site_settings = via(lambda w: w.publishing.update_site_settings)
    list_editions = via(lambda w: w.publishing.list_editions)
    get_edition = via(lambda w: w.publishing.get_edition)
    published_entries = via(lambda w: w.publishing.published_entries)
    change_mark = via(lambda w: w.publishing.change_mark)
    site_edition = via(lambda w: w.publishing.site_edition)
    animation_file = via(lambda w: w.publishing.animator.animation_file)
    deliver_pending = via(lambda w: w.delivery.deliver_pending)
    next_delivery_at = via(lambda w: w.delivery.next_delivery_at)
    list_deliveries = via(lambda w: w.delivery.list_deliveries)
    note_new_candidates = via(lambda w: w.delivery.note_new_candidates)
    subscribe = via(lambda w: w.delivery.subscribe)
    confirm_subscription = via(lambda w: w.delivery.confirm_subscription)
    unsubscribe = via(lambda w: w.delivery.unsubscribe)
    add_subscriber = via(lambda w: w.delivery.add_subscriber)
    list_subscribers = via(lambda w: w.delivery.list_subscribers)
    remove_subscriber = via(lambda w: w.delivery.remove_subscriber)
    add_webhook = via(lambda w: w.delivery.add_webhook)
    list_webhooks = via(lambda w: w.delivery.list_webhooks)
    remove_webhook = via(lambda w: w.delivery.remove_webhook)
    enable_webhook = via(lambda w: w.delivery.enable_webhook)
    secret_key = via(lambda w: w.delivery.secret_key)
    confirm_url = via(lambda w: w.delivery.confirm_url)
    unsubscribe_url = via(lambda w: w.delivery.unsubscribe_url)
    curate_once = via(lambda w: w.curation.run_once)
    fingerprints_for = via(lambda w: w.curation.fingerprints_for)
    prune = via(lambda w: w.retention.prune)
    prune_if_due = via(lambda w: w.retention.prune_if_due)
    next_prune_at = via(lambda w: w.retention.next_prune_at)
    metrics_exposition = via(lambda w: w.metrics.exposition)
    add_change_listener = via(lambda w: w.changes.add_listener)

    async def __aenter__(self) -> Watcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close what was opened: a part never built has nothing to close."""
        if "delivery" in self._parts:
            await self.delivery.aclose()
        if "fetcher" in self._parts:
            await self.fetcher.aclose()
        self.store.close()

    def prepare_database(self) -> None:
        """Create or migrate the schema when allowed, else insist it is current."""
        if self.settings.auto_upgrade:
            before, after = self.store.upgrade()
            if before != after:
                log.info("database migrated from %s to %s", before or "empty", after)
        else:
            self.store.check_schema()

    def upgrade_database(self) -> tuple[str | None, str | None]:
        return self.store.upgrade()

    def animation_states(self, entry_ids: Sequence[int]) -> dict[int, AnimationState]:
        """What became of those entries' animations (an entry of one frame has none): made,
        not made yet, or failed and why. Read from the publisher's cache: nothing is
        fetched or built here."""
        return self.publishing.animator.states(self.store.entries_with_frames(entry_ids))

    async def group_preview(self, group_id: int) -> Animation:
        """The live preview of a sequence group's frames in taken order (see
        ``Animator.preview``); NotFound for a group that is not a sequence."""
        members = self.store.group_members([group_id]).get(group_id, [])
        if not members or members[0].group_kind != "sequence":
            raise NotFound(f"group {group_id} is not a sequence")
        return await self.publishing.animator.preview(members)

    def status_figures(self, *, sols: int, polls: int, editions: int) -> StatusFigures:
        """What the admins' Status page charts: images per sol and camera over each
        mission's latest ``sols`` sols, each configured source's latest ``polls`` polls,
        the deliveries of the latest ``editions`` editions. Bounded reads at any size."""
        names = [source.name for source in self.settings.sources]
        return self.store.status_figures(names, sols=sols, polls=polls, editions=editions)

    def health(self) -> dict[str, Any]:
        """For ``/healthz``: is the database reachable, and how is each source doing."""
        try:
            self.store.ping()
            sources = self.polling.sources_health()
        except StorageError as exc:
            return {"status": "unavailable", "database": {"ok": False, "error": str(exc)}}
        from watcher.views import source_health_json

        failing = [s.name for s in sources if s.health.value == "failing"]
        return {
            "status": "degraded" if failing else "ok",
            "database": {"ok": True, "error": None},
            "sources": [source_health_json(s) for s in sources],
        }


def make_watcher(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    rand: Callable[[], float] = random.random,
    transport: Any = None,
) -> Watcher:
    """Build a Watcher (its parts follow on first use). Nothing is global: tests build
    their own."""
    return Watcher(
        settings,
        Store(settings.database_url),
        clock=clock,
        rand=rand,
        owner=leases.new_owner(),
        transport=transport,
    )


__all__ = [
    "AnimationState",
    "AnimationStatus",
    "DeliveryReport",
    "PublishReport",
    "Watcher",
    "WriteReport",
    "make_watcher",
    "utcnow",
]
