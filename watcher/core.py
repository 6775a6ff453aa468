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
alone; ``make_watcher(settings)`` builds them and wires them together. Nothing is global.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from watcher import leases
from watcher.accounts.editors import Accounts
from watcher.changes import Changes
from watcher.config import Settings
from watcher.curate.curator import Curator
from watcher.db import Store
from watcher.deliver.channels.channel import DeliveryReport
from watcher.deliver.deliverer import Deliverer
from watcher.exceptions import NotFound, StorageError
from watcher.fetch import Fetcher
from watcher.metrics import Metrics
from watcher.polling.checker import Checker
from watcher.polling.poller import Poller
from watcher.publish.model import (
    Animation,
    AnimationState,
    AnimationStatus,
    PublishReport,
    WriteReport,
)
from watcher.publish.publisher import Publisher
from watcher.retention.pruner import Pruner
from watcher.review.desk import Desk
from watcher.types import StatusFigures
from watcher.views import source_health_json

log = logging.getLogger("watcher.core")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Watcher:
    """Everything watcher does, as methods. Build it with ``make_watcher(settings)``.

    The public methods are the parts' own (bound here, so their signatures and docstrings
    are the parts'); the few written out below span parts or the database's lifecycle.
    """

    def __init__(
        self,
        settings: Settings,
        store: Store,
        fetcher: Fetcher,
        *,
        polling: Poller,
        checking: Checker,
        review: Desk,
        accounts: Accounts,
        publishing: Publisher,
        delivery: Deliverer,
        curation: Curator,
        retention: Pruner,
        changes: Changes,
        metrics: Metrics,
        clock: Callable[[], datetime],
        owner: str,
    ):
        self.settings, self.store, self.fetcher = settings, store, fetcher
        self.clock, self.owner = clock, owner
        self.polling, self.checking, self.review = polling, checking, review
        self.accounts, self.publishing, self.delivery = accounts, publishing, delivery
        self.curation, self.retention = curation, retention
        self.metrics = metrics
        self.metrics_exposition = metrics.exposition
        self.add_change_listener = changes.add_listener
        self._bind_polling(polling)
        self._bind_checking(checking)
        self._bind_review(review)
        self._bind_accounts(accounts)
        self._bind_publishing(publishing)
        self._bind_delivery(delivery)
        self._bind_curation(curation)
        self.prune = retention.prune
        self.prune_if_due = retention.prune_if_due
        self.next_prune_at = retention.next_prune_at

    def _bind_polling(self, polling: Poller) -> None:
        self.poll_all = polling.poll_all
        self.poll_source = polling.poll_source
        self.backfill = polling.backfill
        self.request_stop = polling.request_stop
        self.get_source = polling.get_source
        self.sources_health = polling.sources_health

    def _bind_checking(self, checking: Checker) -> None:
        self.check_sources = checking.check_sources
        self.check_source = checking.check_source

    def _bind_review(self, review: Desk) -> None:
        self.list_candidates = review.list_candidates
        self.get_candidate = review.get_candidate
        self.search_candidates = review.search_candidates
        self.list_cards = review.list_cards
        self.group_members = review.group_members
        self.queue_counts = review.queue_counts
        self.count_cards = review.count_cards
        self.get_candidates = review.get_candidates
        self.neighbours = review.neighbours
        self.entry_of = review.entry_of
        self.facets = review.facets
        self.list_entries = review.list_entries
        self.get_entry = review.get_entry
        self.audit_events = review.audit_events
        self.approve = review.approve
        self.approve_each = review.approve_each
        self.reject = review.reject
        self.undo_last = review.undo_last
        self.edit_entry = review.edit_entry
        self.set_entry_status = review.set_entry_status
        self.delete_entry = review.delete_entry
        self.reorder_entries = review.reorder_entries

    def _bind_accounts(self, accounts: Accounts) -> None:
        self.add_editor = accounts.add_editor
        self.list_editors = accounts.list_editors
        self.get_editor = accounts.get_editor
        self.set_editor_disabled = accounts.set_editor_disabled
        self.reset_password = accounts.reset_password
        self.change_own_password = accounts.change_own_password
        self.sign_in = accounts.sign_in
        self.sign_out = accounts.sign_out
        self.session = accounts.session
        self.token_actor = accounts.token_actor
        self.setup_needed = accounts.setup_needed
        self.create_setup_link = accounts.create_setup_link
        self.setup_link_valid = accounts.setup_link_valid
        self.complete_setup = accounts.complete_setup
        self.create_api_token = accounts.create_api_token
        self.list_api_tokens = accounts.list_api_tokens
        self.revoke_api_token = accounts.revoke_api_token

    def _bind_publishing(self, publishing: Publisher) -> None:
        self.publish = publishing.publish
        self.sync_site = publishing.sync_site
        self.follow_site = publishing.follow_site
        self.export_site = publishing.export_site
        self.site_settings = publishing.site_settings
        self.update_site_settings = publishing.update_site_settings
        self.list_editions = publishing.list_editions
        self.get_edition = publishing.get_edition
        self.published_entries = publishing.published_entries
        self.change_mark = publishing.change_mark
        self.site_edition = publishing.site_edition
        self.animation_file = publishing.animator.animation_file

    def _bind_delivery(self, delivery: Deliverer) -> None:
        self.deliver_pending = delivery.deliver_pending
        self.next_delivery_at = delivery.next_delivery_at
        self.list_deliveries = delivery.list_deliveries
        self.note_new_candidates = delivery.note_new_candidates
        self.subscribe = delivery.subscribe
        self.confirm_subscription = delivery.confirm_subscription
        self.unsubscribe = delivery.unsubscribe
        self.add_subscriber = delivery.add_subscriber
        self.list_subscribers = delivery.list_subscribers
        self.remove_subscriber = delivery.remove_subscriber
        self.add_webhook = delivery.add_webhook
        self.list_webhooks = delivery.list_webhooks
        self.remove_webhook = delivery.remove_webhook
        self.enable_webhook = delivery.enable_webhook
        self.secret_key = delivery.secret_key
        self.confirm_url = delivery.confirm_url
        self.unsubscribe_url = delivery.unsubscribe_url

    def _bind_curation(self, curation: Curator) -> None:
        self.curate_once = curation.run_once
        self.fingerprints_for = curation.fingerprints_for

    async def __aenter__(self) -> Watcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.delivery.aclose()
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
    """Build a Watcher and everything it owns. Nothing is global: tests build their own."""
    store = Store(settings.database_url)
    fetcher = Fetcher(settings.fetch, transport=transport)
    owner = leases.new_owner()
    changes = Changes()
    metrics = Metrics(
        store.operations_figures,
        clock,
        sources=tuple(source.name for source in settings.sources if source.enabled),
    )
    delivery = Deliverer(settings, store, fetcher, clock=clock, rand=rand, owner=owner)
    polling = Poller(
        settings,
        store,
        fetcher,
        clock=clock,
        rand=rand,
        owner=owner,
        announce=delivery.note_new_candidates,
        observe=metrics.observe_poll,
    )
    return Watcher(
        settings,
        store,
        fetcher,
        polling=polling,
        checking=Checker(settings, fetcher),
        review=Desk(settings, store, clock=clock, changes=changes),
        accounts=Accounts(settings, store, clock=clock),
        publishing=Publisher(
            settings,
            store,
            fetcher,
            clock=clock,
            owner=owner,
            changes=changes,
            audience=delivery,
            health=lambda: polling.sources_health(with_counts=False),
            observe=metrics.observe_publish,
        ),
        delivery=delivery,
        curation=Curator(settings, store, fetcher, clock=clock, owner=owner),
        retention=Pruner(settings, store, clock=clock, owner=owner),
        changes=changes,
        metrics=metrics,
        clock=clock,
        owner=owner,
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
