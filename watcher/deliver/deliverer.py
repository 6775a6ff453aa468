"""The facade's delivery part: subscribers, webhooks, and the outbox worker.

What a crash between sending and marking means is stated in ``watcher.deliver``'s docstring.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from watcher.config import DEFAULT_TITLE, Settings
from watcher.deliver import dispatch, links, outbox, signing, worker
from watcher.deliver.channels import email as mail
from watcher.deliver.channels.channel import DeliveryReport
from watcher.deliver.channels.webhook import url_problem, vet_blocking
from watcher.deliver.store import DeliveryStore
from watcher.exceptions import (
    AddressProblem,
    BadLink,
    InvalidInput,
    NotFound,
    RateLimited,
    Refused,
    UsageError,
)
from watcher.fetch import Fetcher
from watcher.limits import MAX_CLIENT, is_id
from watcher.permissions import require_admin
from watcher.plans import NewDelivery
from watcher.text import clean_text, safe_entry
from watcher.types import (
    Actor,
    Delivery,
    DeliveryChannel,
    DeliveryStatus,
    Edition,
    Subscriber,
    SubscriberStatus,
    Webhook,
)

log = logging.getLogger("watcher.deliver.deliverer")

SECRET_ENV = "WATCHER_SECRET_KEY"  # noqa: S105 (the variable's name)
SECRET_SETTING = "secret_key"  # noqa: S105 (the setting's name)
MARK_EVERY = 0.25
LEASE_SAFETY = 0.8


@dataclass(eq=False, repr=False)
class Deliverer:
    """Subscribe and unsubscribe, register webhooks, deliver what editions owe."""

    settings: Settings
    store: DeliveryStore
    fetcher: Fetcher
    _: KW_ONLY
    clock: Callable[[], datetime]
    rand: Callable[[], float]
    owner: str
    _secret_key: str | None = field(default=None, init=False)
    _channels: dict[DeliveryChannel, Any] | None = field(default=None, init=False)
    _mail_render_cache: dispatch.Cache = field(init=False)

    def __post_init__(self) -> None:
        self._mail_render_cache = dispatch.new_cache()

    # -- the outbox ----------------------------------------------------------------------

    def edition_deliveries(self, number: int, adds: bool, now: datetime) -> list[NewDelivery]:
        """The outbox rows edition ``number`` owes its receivers as they are now, for the
        publisher's plan (``adds``: the edition adds entries, so subscribers get mail).
        A receiver that leaves before its row is sent is skipped then."""
        subscribers, webhooks = self.store.receivers(email=self.settings.email.enabled)
        return outbox.plan_edition(
            number,
            adds,
            now,
            subscribers=subscribers,
            webhooks=webhooks,
            hubs=self.settings.publish.websub_hubs,
            team=bool(self.settings.apprise.urls),
        )

    def note_new_candidates(self, count: int) -> None:
        """Queue the team's "new candidates are waiting" notice (one per window)."""
        apprise = self.settings.apprise
        if count > 0 and apprise.urls and apprise.notify_candidates:
            now = self.clock()
            self.store.enqueue([outbox.candidate_notice(now)], now)

    def next_delivery_at(self) -> datetime | None:
        return self.store.next_delivery_at()

    def list_deliveries(
        self,
        *,
        edition: int | None = None,
        channel: DeliveryChannel | None = None,
        status: DeliveryStatus | None = None,
        limit: int = 100,
    ) -> list[Delivery]:
        return self.store.list_deliveries(
            edition=edition, channel=channel, status=status, limit=max(1, min(limit, 1000))
        )

    # -- links ---------------------------------------------------------------------------

    def secret_key(self) -> str:
        """``WATCHER_SECRET_KEY``, else a random key stored once in the database (so every
        replica signs and checks links with the same key)."""
        if self._secret_key is None:
            self._secret_key = os.environ.get(SECRET_ENV) or self.store.get_or_create_setting(
                SECRET_SETTING, secrets.token_urlsafe(32)
            )
        return self._secret_key

    def unsubscribe_url(self, subscriber: Subscriber) -> str:
        return links.unsubscribe_url(self.settings.base_url, self.secret_key(), subscriber)

    def confirm_url(self, subscriber: Subscriber) -> str:
        return links.confirm_url(
            self.settings.base_url, self.secret_key(), subscriber, self.clock()
        )

    # -- subscribers ---------------------------------------------------------------------

    def subscribe(self, email: str, *, client: str) -> Subscriber:
        """A public sign-up: a confirmation mail is enqueued unless already confirmed (the
        caller shows the same answer either way, so addresses cannot be probed)."""
        if not self.settings.email.enabled:
            raise UsageError("email subscriptions are not enabled")
        address = _address(email)
        now = self.clock()
        subscriber, _, until, by = self.store.request_subscription(
            address,
            client[:MAX_CLIENT] or "unknown",
            now,
            self.settings.delivery.subscribe_per_hour,
            outbox.confirmation(now),
        )
        if subscriber is None:
            wait = max(1.0, ((until or now) - now).total_seconds())
            who = "from your network" if by == "client" else "for this address"
            raise RateLimited(
                "email",
                f"too many sign-ups {who}; try again in {max(1, round(wait / 60))} minutes",
                retry_after=wait,
            )
        return subscriber

    def confirm_subscription(self, token: str) -> Subscriber:
        parsed, subscriber = self._token(token, "confirm")
        if subscriber.status is SubscriberStatus.CONFIRMED:
            return subscriber
        if signing.token_expired(parsed, self.clock(), self.settings.email.confirm_ttl):
            raise BadLink("this confirmation link has expired; subscribe again", expired=True)
        issued = signing.issued_at(parsed)
        left = subscriber.unsubscribed_at
        if subscriber.status is SubscriberStatus.UNSUBSCRIBED and (
            issued is None or left is None or issued <= left
        ):
            raise BadLink("you unsubscribed after this link was sent; subscribe again")
        after, _ = self.store.set_subscriber_status(
            subscriber.id, SubscriberStatus.CONFIRMED, self.clock()
        )
        return after

    def unsubscribe(self, token: str) -> Subscriber:
        """Idempotent; mail already queued for the address is skipped when its turn comes."""
        _, subscriber = self._token(token, "unsubscribe")
        after, _ = self.store.set_subscriber_status(
            subscriber.id, SubscriberStatus.UNSUBSCRIBED, self.clock()
        )
        return after

    def _token(self, token: str, kind: str) -> tuple[signing.LinkToken, Subscriber]:
        parsed = signing.parse_token(token or "")
        if parsed is None or parsed.kind != kind:
            raise BadLink(f"this {kind} link is not valid (copy the whole link from the mail)")
        try:
            subscriber = self.store.get_subscriber(parsed.subscriber_id)
        except NotFound:
            raise BadLink(f"this {kind} link is not valid") from None
        if not signing.token_matches(self.secret_key(), parsed, subscriber.email):
            raise BadLink(f"this {kind} link is not valid")
        return parsed, subscriber

    def add_subscriber(self, email: str, actor: Actor, *, confirmed: bool = False) -> Subscriber:
        """An admin adds an address; unless ``confirmed`` it gets the double opt-in mail."""
        require_admin(actor)
        address = _address(email)
        if not confirmed and not self.settings.email.enabled:
            raise UsageError("email is not enabled in config, so no confirmation can be sent")
        status = SubscriberStatus.CONFIRMED if confirmed else SubscriberStatus.PENDING
        now = self.clock()
        return self.store.add_subscriber(
            address, status, now, actor.label, outbox.confirmation(now)
        )

    def list_subscribers(
        self,
        *,
        status: SubscriberStatus | None = None,
        limit: int = 100,
        after_id: int | None = None,
    ) -> list[Subscriber]:
        return self.store.list_subscribers(
            status=status, limit=max(1, min(limit, 1000)), after_id=after_id
        )

    def remove_subscriber(self, ident: str, actor: Actor) -> Subscriber:
        """Unsubscribe by id or address (kept as unsubscribed, so the history stays). A
        number no id can be names nobody, and never reaches the database."""
        require_admin(actor)
        text = ident.strip()
        if text.isascii() and text.isdigit():
            subscriber_id = int(text)
            if not is_id(subscriber_id):
                raise NotFound(f"no subscriber {text}")
        else:
            found = self.store.find_subscriber(_address(text))
            if found is None:
                raise NotFound(f"no subscriber {text}")
            subscriber_id = found.id
        return self.store.remove_subscriber(subscriber_id, self.clock(), actor.label)

    # -- webhooks ------------------------------------------------------------------------

    def add_webhook(self, url: str, actor: Actor) -> tuple[Webhook, str]:
        """Register a receiver; returns it with its signing secret (shown only now)."""
        require_admin(actor)
        url = url.strip()
        problem = url_problem(url)
        if problem is None:
            try:
                vet_blocking(url, allow_private=self.settings.webhooks.allow_private)
            except Refused as exc:
                problem = str(exc)
            except OSError:
                problem = "the host does not resolve"
        if problem:
            raise InvalidInput({"url": problem})
        secret = signing.new_webhook_secret()
        return self.store.add_webhook(url, secret, actor.label, self.clock()), secret

    def list_webhooks(self) -> list[Webhook]:
        return self.store.list_webhooks()  # secrets are never listed

    def remove_webhook(self, webhook_id: int, actor: Actor) -> Webhook:
        require_admin(actor)
        return self.store.remove_webhook(webhook_id, actor.label, self.clock())

    def enable_webhook(self, webhook_id: int, actor: Actor) -> Webhook:
        """Re-enable after an auto-disable; the failure count starts again from zero."""
        require_admin(actor)
        return self.store.enable_webhook(webhook_id, actor.label, self.clock())

    # -- the worker ----------------------------------------------------------------------

    async def deliver_pending(self, *, limit: int = 500) -> DeliveryReport:
        """Claim due rows, send them concurrently, record each outcome (see the module
        docstring for what a crash in between means)."""
        config = self.settings.delivery
        now = self.clock()
        lease = timedelta(seconds=config.lease)
        rows = await asyncio.to_thread(
            self.store.claim_deliveries, self.owner, now, now + lease, limit
        )
        if not rows:
            return DeliveryReport()
        jobs = await asyncio.to_thread(self._plan_jobs, rows, now)
        skipped = [job for job in jobs if job.skip is not None]
        await asyncio.to_thread(self._record_skips, skipped)
        counts = {"sent": 0, "failed": 0, "dead": 0}

        async def record(batch: list[worker.Outcome]) -> None:
            await asyncio.to_thread(self._record, batch, counts)

        released = await worker.send_all(
            [job for job in jobs if job.skip is None],
            self._delivery_channels(),
            concurrency=config.concurrency,
            deadline=time.monotonic() + config.lease * LEASE_SAFETY,
            time_limit=lambda channel: worker.time_limit(self.settings, channel),
            record=record,
            mark_every=MARK_EVERY,
        )
        if released:
            await asyncio.to_thread(
                self.store.finish_deliveries, self.owner, now, released=released
            )
        return DeliveryReport(
            claimed=len(rows),
            sent=counts["sent"],
            failed=counts["failed"],
            dead=counts["dead"],
            skipped=len(skipped),
            released=len(released),
        )

    def _edition_or_none(self, number: int) -> Edition | None:
        try:
            return self.store.get_edition(number)
        except NotFound:
            return None

    def _plan_jobs(self, rows: Sequence[Delivery], now: datetime) -> list[dispatch.Job]:
        store = self.store
        numbers = {r.edition for r in rows if r.edition is not None}
        editions = {n: e for n in numbers if (e := self._edition_or_none(n)) is not None}
        # Cleaned as the site's render cleans them: rows stored before the text rule may
        # hold a control character no mail or webhook body should carry.
        entries = {
            n: [
                safe_entry(entry)
                for entry in store.entries_for_delivery(list(dict.fromkeys(e.added + e.changed)))
            ]
            for n, e in editions.items()
        }
        mail_channels = (DeliveryChannel.EMAIL, DeliveryChannel.CONFIRM)
        wanted = {int(r.target) for r in rows if r.channel is DeliveryChannel.WEBHOOK}
        hooks = store.webhooks_with_secrets(wanted) if wanted else {}
        context = dispatch.Context(
            now=now,
            base_url=self.settings.base_url,
            title=self._site_title(),
            sender=self.settings.email.from_address,
            secret=self.secret_key(),
            confirm_ttl=self.settings.email.confirm_ttl,
            email_enabled=self.settings.email.enabled,
            team_enabled=bool(self.settings.apprise.urls),
            subscribers=store.subscribers_by_email(
                [r.target for r in rows if r.channel in mail_channels]
            ),
            webhooks=hooks,
            editions=editions,
            entries=entries,
            templates_dir=self.settings.publish.templates_dir,
        )
        return dispatch.plan(rows, context, self._mail_render_cache)

    def _site_title(self) -> str:
        stored = self.store.get_settings("site.title").get("site.title")  # admins' edit
        return clean_text(stored or self.settings.publish.title or DEFAULT_TITLE)

    def _record_skips(self, jobs: Sequence[dispatch.Job]) -> None:
        if jobs:
            now = self.clock()
            outcomes = [
                (j.delivery.id, DeliveryStatus.DEAD, now, f"skipped: {j.skip}") for j in jobs
            ]
            self.store.finish_deliveries(self.owner, now, outcomes=outcomes)

    def _record(self, batch: Sequence[worker.Outcome], counts: dict[str, int]) -> None:
        now = self.clock()
        results = worker.judge(batch, now, self.settings.delivery, self.rand)
        for name in counts:
            counts[name] += getattr(results, name)
        self.store.finish_deliveries(
            self.owner, now, sent=results.sent_ids, outcomes=results.outcomes
        )
        for webhook_id, error in results.webhooks:
            limit = self.settings.webhooks.max_failures
            if self.store.record_webhook_result(webhook_id, now, error, limit):
                log.warning("webhook %s disabled after %d failures in a row", webhook_id, limit)

    def _delivery_channels(self) -> dict[DeliveryChannel, Any]:
        """Made once and kept: SMTP connections and HTTP keep-alive are reused across
        cycles. ``close_delivery_channels`` (called by ``aclose``) ends them."""
        if self._channels is None:
            self._channels = worker.make_channels(self.settings, self.fetcher, self.clock)
        return self._channels

    async def close_delivery_channels(self) -> None:
        channels, self._channels = self._channels, None
        for channel in dict.fromkeys((channels or {}).values()):
            await channel.aclose()

    async def aclose(self) -> None:
        await self.close_delivery_channels()


def _address(text: str) -> str:
    try:
        return mail.normalise_address(text)
    except AddressProblem as exc:
        raise InvalidInput({"email": str(exc)}) from None
