"""Commands for the publication: publish, export, editions, subscribers, webhooks, deliver."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from watcher.cli.app import app, call_watcher, err, id_argument, out, with_watcher
from watcher.cli.output import (
    JsonArray,
    JsonOutcome,
    held_by,
    print_json,
    print_listing,
    print_secret,
)
from watcher.cli.review import cli_actor
from watcher.limits import MAX_ID, MAX_INTEGER
from watcher.types import Delivery, Edition, Subscriber, SubscriberStatus, Webhook

if TYPE_CHECKING:
    from watcher.core import DeliveryReport, PublishReport, Watcher, WriteReport


subscribers_app = typer.Typer(help="Email subscribers.", no_args_is_help=True)
webhooks_app = typer.Typer(help="Webhook receivers of each edition.", no_args_is_help=True)
app.add_typer(subscribers_app, name="subscribers")
app.add_typer(webhooks_app, name="webhooks")

WebhookId = Annotated[int, id_argument("The webhook's id.")]


def _ids(values: tuple[int, ...]) -> str:
    return ", ".join(f"#{v}" for v in values) or "-"


@app.command()
def publish(
    ctx: typer.Context,
    force: Annotated[
        bool, typer.Option("--force", help="Make an edition even when nothing changed.")
    ] = False,
    as_json: JsonOutcome = False,
) -> None:
    """Publish the running list now: site_dir gets index.html, feed.atom, feed.json.

    When nothing changed since the last edition, no edition is made and no file is touched.
    """
    from watcher.views import PublishOut

    async def body(watcher: Watcher) -> PublishReport:
        return await watcher.publish(force=force)

    report = with_watcher(ctx, body)
    if as_json:
        shown = PublishOut.of(report).model_dump(mode="json")
        print_json({**shown, "timings": dict(report.timings)})
        return
    if report.busy:
        err.print(f"another publisher{held_by(report.held_by)} holds the lease; nothing done")
        raise typer.Exit(1)
    if report.edition is None:
        out.print(f"nothing changed: no new edition ({report.entries} entries published)")
        return
    edition = report.edition
    out.print(
        f"edition {edition.number}: {report.entries} entries; added {_ids(edition.added)}, "
        f"changed {_ids(edition.changed)}, removed {_ids(edition.removed)}"
        f"{', reordered' if edition.reordered else ''}"
        f"{', new title/intro' if edition.site_changed else ''}; "
        f"{report.deliveries} deliveries queued"
    )


@app.command()
def export(
    ctx: typer.Context,
    directory: Annotated[
        Path, typer.Argument(metavar="DIR", help="Where to write the static copy.")
    ],
) -> None:
    """Write a static copy of the published site into DIR, for any web host."""

    async def body(watcher: Watcher) -> WriteReport:
        return await watcher.export_site(directory)

    report = with_watcher(ctx, body)
    out.print(f"exported edition {report.edition} to {directory} ({report.written} files)")


@app.command()
def editions(
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=MAX_ID, metavar="N", help="How many, newest first.")
    ] = 20,
    as_json: JsonArray = False,
) -> None:
    """The latest editions: what each added, changed and removed."""
    from watcher.views import EditionOut

    print_listing(
        call_watcher(ctx, lambda watcher: watcher.list_editions(limit=limit)),
        as_json=as_json,
        shape=EditionOut.of,
        columns=("edition", "published", "entries", "added", "changed", "removed"),
        row=_edition_row,
        no_wrap=False,
    )


def _edition_row(e: Edition) -> tuple[str, ...]:
    return (
        str(e.number),
        f"{e.published_at:%Y-%m-%d %H:%M:%S}",
        str(e.entries),
        _ids(e.added),
        _ids(e.changed),
        _ids(e.removed),
    )


@app.command()
def deliver(ctx: typer.Context, as_json: JsonOutcome = False) -> None:
    """Send every delivery that is due now, once (the service does this continuously)."""

    async def body(watcher: Watcher) -> DeliveryReport:
        return await watcher.deliver_pending()

    report = with_watcher(ctx, body)
    figures = {
        "claimed": report.claimed,
        "sent": report.sent,
        "failed": report.failed,
        "dead": report.dead,
        "skipped": report.skipped,
    }
    if as_json:
        print_json(figures)
        return
    out.print(", ".join(f"{value} {name}" for name, value in figures.items()))


# -- subscribers -------------------------------------------------------------------------


@subscribers_app.command("add")
def subscribers_add(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The address.")],
    confirmed: Annotated[
        bool,
        typer.Option("--confirmed", help="Skip the confirmation mail (the person agreed)."),
    ] = False,
) -> None:
    """Subscribe an address; it gets a confirmation mail first unless --confirmed."""
    subscriber = call_watcher(
        ctx, lambda watcher: watcher.add_subscriber(email, cli_actor(), confirmed=confirmed)
    )
    what = "confirmed" if subscriber.status is SubscriberStatus.CONFIRMED else "confirmation sent"
    out.print(f"subscriber #{subscriber.id} {subscriber.email}: {what}")


@subscribers_app.command("list")
def subscribers_list(
    ctx: typer.Context,
    status: Annotated[
        SubscriberStatus | None,
        typer.Option("--status", help="Only this status: pending, confirmed or unsubscribed."),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=MAX_ID, metavar="N", help="At most N.")
    ] = 1000,
    as_json: JsonArray = False,
) -> None:
    """Subscribers, oldest first."""
    from watcher.views import SubscriberOut

    print_listing(
        call_watcher(ctx, lambda watcher: watcher.list_subscribers(status=status, limit=limit)),
        as_json=as_json,
        shape=SubscriberOut.of,
        columns=("id", "email", "status", "since"),
        row=_subscriber_row,
        no_wrap=False,
    )


def _subscriber_row(s: Subscriber) -> tuple[str, ...]:
    since = s.unsubscribed_at or s.confirmed_at or s.created_at
    return (str(s.id), s.email, s.status.value, f"{since:%Y-%m-%d %H:%M}")


@subscribers_app.command("remove")
def subscribers_remove(
    ctx: typer.Context,
    who: Annotated[str, typer.Argument(metavar="ID|EMAIL", help="The subscriber's id or address.")],
) -> None:
    """Unsubscribe someone: no more mail goes to them."""
    subscriber = call_watcher(ctx, lambda watcher: watcher.remove_subscriber(who, cli_actor()))
    out.print(f"unsubscribed #{subscriber.id} {subscriber.email}")


# -- webhooks ----------------------------------------------------------------------------


@webhooks_app.command("add")
def webhooks_add(
    ctx: typer.Context, url: Annotated[str, typer.Argument(help="The receiver's URL.")]
) -> None:
    """Register a webhook; prints its signing secret, this once."""
    webhook, secret = call_watcher(ctx, lambda watcher: watcher.add_webhook(url, cli_actor()))
    print_secret(
        f"webhook #{webhook.id} {webhook.url}; its signing secret (shown only now):", secret
    )


@webhooks_app.command("list")
def webhooks_list(ctx: typer.Context, as_json: JsonArray = False) -> None:
    """Registered webhooks, with their health."""
    from watcher.views import WebhookOut

    print_listing(
        call_watcher(ctx, lambda watcher: watcher.list_webhooks()),
        as_json=as_json,
        shape=WebhookOut.of,
        columns=("id", "url", "state", "last success", "last error"),
        row=_webhook_row,
        no_wrap=False,
    )


def _webhook_row(w: Webhook) -> tuple[str, ...]:
    from watcher.views import iso

    state = "enabled" if w.enabled else f"disabled: {w.disabled_reason or ''}"
    success = iso(w.last_success_at) if w.last_success_at else "-"
    return (str(w.id), w.url, state, success, w.last_error or "-")


@webhooks_app.command("remove")
def webhooks_remove(ctx: typer.Context, webhook_id: WebhookId) -> None:
    """Stop sending editions to a webhook."""
    webhook = call_watcher(ctx, lambda watcher: watcher.remove_webhook(webhook_id, cli_actor()))
    out.print(f"removed webhook #{webhook.id} {webhook.url}")


@webhooks_app.command("enable")
def webhooks_enable(ctx: typer.Context, webhook_id: WebhookId) -> None:
    """Enable a webhook again after it was disabled for failing."""
    webhook = call_watcher(ctx, lambda watcher: watcher.enable_webhook(webhook_id, cli_actor()))
    out.print(f"webhook #{webhook.id} is enabled again")


@app.command()
def deliveries(
    ctx: typer.Context,
    edition: Annotated[
        int | None,
        typer.Option("--edition", min=1, max=MAX_INTEGER, metavar="N", help="Only this edition."),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=MAX_ID, metavar="N", help="At most N.")
    ] = 100,
    as_json: JsonArray = False,
) -> None:
    """The delivery log, newest first."""
    from watcher.views import DeliveryOut

    print_listing(
        call_watcher(ctx, lambda watcher: watcher.list_deliveries(edition=edition, limit=limit)),
        as_json=as_json,
        shape=DeliveryOut.of,
        columns=("id", "edition", "channel", "to", "status", "attempts", "last error"),
        row=_delivery_row,
        no_wrap=False,
    )


def _delivery_row(d: Delivery) -> tuple[str, ...]:
    return (
        str(d.id),
        str(d.edition or "-"),
        d.channel.value,
        d.target,
        d.status.value,
        str(d.attempts),
        d.last_error or "",
    )
