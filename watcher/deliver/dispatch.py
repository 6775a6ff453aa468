"""What each claimed outbox row becomes at send time: a message for its channel, or a
reason to skip it. Pure: the facade loads what the rows refer to and passes it in.

Decided here, at send time rather than when the edition was written, because things
change in between: a subscriber who unsubscribed gets nothing (the row ends dead,
"skipped"), a disabled or removed webhook likewise, and a confirmation link is signed with
the time it is sent, so a retried mail still carries a link valid for the full period.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from watcher.deliver import links
from watcher.deliver.channels import email, team, webhook
from watcher.deliver.outbox import CANDIDATES_TARGET
from watcher.types import (
    Delivery,
    DeliveryChannel,
    Edition,
    PublishedEntry,
    Subscriber,
    SubscriberStatus,
    Webhook,
)


@dataclass(frozen=True, slots=True)
class Job:
    """One row ready to send (``payload``) or to skip (``skip`` says why)."""

    delivery: Delivery
    payload: object = None
    skip: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """What the rows of one cycle refer to, loaded by the facade."""

    now: datetime
    base_url: str
    title: str
    sender: str
    secret: str
    confirm_ttl: float
    email_enabled: bool
    team_enabled: bool
    subscribers: Mapping[str, Subscriber]
    webhooks: Mapping[int, tuple[Webhook, str]]
    editions: Mapping[int, Edition]
    entries: Mapping[int, Sequence[PublishedEntry]]
    templates_dir: Path | None = None  # the operator's templates, looked in first


@dataclass(slots=True)
class Cache:
    """Per-edition renderings, kept across cycles (an edition never changes): the mail,
    its flattened template per (sender, base URL) (None: cannot be stamped), and the
    webhook body."""

    mails: MutableMapping[int, email.EditionMail]
    bodies: MutableMapping[int, bytes]
    templates: MutableMapping[tuple[int, str, str], email.MailTemplate | None]


def new_cache() -> Cache:
    return Cache({}, {}, {})


def _remember(cache: MutableMapping[Any, Any], key: object, value: object) -> None:
    if len(cache) >= 16:
        cache.pop(next(iter(cache)))
    cache[key] = value


def plan(rows: Sequence[Delivery], ctx: Context, cache: Cache) -> list[Job]:
    return [_job(row, ctx, cache) for row in rows]


def _job(row: Delivery, ctx: Context, cache: Cache) -> Job:
    edition = ctx.editions.get(row.edition) if row.edition is not None else None
    if row.edition is not None and edition is None:
        return Job(row, skip=f"edition {row.edition} not found")
    channel = row.channel
    if channel in (DeliveryChannel.EMAIL, DeliveryChannel.CONFIRM):
        return _mail(row, edition, ctx, cache)
    if channel is DeliveryChannel.WEBHOOK:
        found = ctx.webhooks.get(int(row.target)) if row.target.isdigit() else None
        if found is None:
            return Job(row, skip="webhook removed")
        hook, secret = found
        if not hook.enabled:
            return Job(row, skip="webhook disabled")
        if edition is None:
            return Job(row, skip="no edition")
        body = cache.bodies.get(edition.number)
        if body is None:
            body = webhook.payload(edition, ctx.entries.get(edition.number, ()), ctx.base_url)
            _remember(cache.bodies, edition.number, body)
        return Job(row, webhook.WebhookRequest(hook.url, secret, body))
    if channel is DeliveryChannel.WEBSUB:
        return Job(row, row.target)
    if not ctx.team_enabled:
        return Job(row, skip="no team channel configured")
    if row.target == CANDIDATES_TARGET:
        return Job(row, team.candidates_notice(ctx.title, f"{ctx.base_url}/editor"))
    if edition is None:
        return Job(row, skip="no edition")
    notice = team.edition_notice(
        ctx.title, edition.number, len(edition.added), len(edition.changed), ctx.base_url + "/"
    )
    return Job(row, notice)


def _mail(row: Delivery, edition: Edition | None, ctx: Context, cache: Cache) -> Job:
    """A confirmation or an edition's mail, for a subscriber who still wants it."""
    if not ctx.email_enabled:
        return Job(row, skip="email is not enabled in config")
    subscriber = ctx.subscribers.get(row.target)
    if subscriber is None:
        return Job(row, skip="subscriber removed")
    if row.channel is DeliveryChannel.CONFIRM:
        return _confirmation(row, subscriber, ctx)
    if subscriber.status is not SubscriberStatus.CONFIRMED:
        return Job(row, skip=f"subscriber {subscriber.status.value}")
    if edition is None:
        return Job(row, skip="no edition")
    return _edition_mail(row, subscriber, edition, ctx, cache)


def _confirmation(row: Delivery, subscriber: Subscriber, ctx: Context) -> Job:
    """Only while the subscription is pending: once confirmed or unsubscribed, a retried
    confirmation would be noise."""
    if subscriber.status is not SubscriberStatus.PENDING:
        return Job(row, skip=f"subscriber {subscriber.status.value}")
    message = email.confirmation_message(
        key=row.key,
        sender=ctx.sender,
        recipient=subscriber.email,
        title=ctx.title,
        base_url=ctx.base_url,
        confirm=links.confirm_url(ctx.base_url, ctx.secret, subscriber, ctx.now),
        ttl=ctx.confirm_ttl,
        now=ctx.now,
        templates_dir=ctx.templates_dir,
    )
    return Job(row, message)


def _edition_mail(
    row: Delivery, subscriber: Subscriber, edition: Edition, ctx: Context, cache: Cache
) -> Job:
    """The edition's mail for one subscriber: their values stamped into the flattened
    template (the cheap path), else the whole message built when the mail or their values
    cannot be written verbatim."""
    mail = _rendered_mail(edition, ctx, cache)
    template = _mail_template(mail, edition, ctx, cache)
    unsubscribe = links.unsubscribe_url(ctx.base_url, ctx.secret, subscriber)
    stamped = (
        template.stamp(
            key=row.key, recipient=subscriber.email, unsubscribe=unsubscribe, now=ctx.now
        )
        if template is not None
        else None
    )
    if stamped is not None:
        return Job(row, stamped)
    message = mail.message(
        key=row.key,
        sender=ctx.sender,
        recipient=subscriber.email,
        base_url=ctx.base_url,
        unsubscribe=unsubscribe,
        now=ctx.now,
    )
    return Job(row, message)


def _rendered_mail(edition: Edition, ctx: Context, cache: Cache) -> email.EditionMail:
    """The edition's mail, rendered once for all its subscribers."""
    mail = cache.mails.get(edition.number)
    if mail is None:
        entries = ctx.entries.get(edition.number, ())
        mail = email.render_edition(
            edition,
            entries,
            title=ctx.title,
            base_url=ctx.base_url,
            templates_dir=ctx.templates_dir,
        )
        _remember(cache.mails, edition.number, mail)
    return mail


def _mail_template(
    mail: email.EditionMail, edition: Edition, ctx: Context, cache: Cache
) -> email.MailTemplate | None:
    """The mail flattened for stamping, once per edition, sender and base URL; None (also
    remembered) when it cannot be stamped."""
    which = (edition.number, ctx.sender, ctx.base_url)
    if which in cache.templates:
        return cache.templates[which]
    template = email.MailTemplate.build(mail, sender=ctx.sender, base_url=ctx.base_url)
    _remember(cache.templates, which, template)
    return template
