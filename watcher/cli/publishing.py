"""Commands for the publication: publish, export, editions, subscribers, webhooks, deliver."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from watcher.cli.app import app, err, out, with_watcher
from watcher.cli.review import cli_actor
from watcher.core import DeliveryReport, PublishReport, Watcher, WriteReport
from watcher.types import Delivery, Edition, Subscriber, SubscriberStatus, Webhook
from watcher.views import (
    DeliveryOut,
    EditionOut,
    PublishOut,
    SubscriberOut,
    WebhookOut,
    iso,
)

subscribers_app = typer.Typer(help="Email subscribers.", no_args_is_help=True)
webhooks_app = typer.Typer(help="Webhook receivers of each edition.", no_args_is_help=True)
app.add_typer(subscribers_app, name="subscribers")
app.add_typer(webhooks_app, name="webhooks")


def _ids(values: tuple[int, ...]) -> str:
    return ", ".join(f"#{v}" for v in values) or "-"


@app.command()
def publish(
    ctx: typer.Context,
    force: Annotated[
        bool, typer.Option("--force", help="Make an edition even when nothing changed.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")] = False,
) -> None:
    """Publish the running list now: site_dir gets index.html, feed.atom, feed.json.

    When nothing changed since the last edition, no edition is made and no file is touched.
    """

    async def body(watcher: Watcher) -> PublishReport:
        return await watcher.publish(force=force)

    report = with_watcher(ctx, body)
    if as_json:
        shown = PublishOut.of(report).model_dump(mode="json")
        print(json.dumps({**shown, "timings": dict(report.timings)}))
        return
    if report.busy:
        err.print("another publisher (a replica) holds the lease; nothing done")
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
    directory: Annotated[Path, typer.Argument(help="Where to write the static copy.")],
) -> None:
    """Write a static copy of the published site into DIRECTORY, for any web host."""

    async def body(watcher: Watcher) -> WriteReport:
        return await watcher.export_site(directory)

    report = with_watcher(ctx, body)
    out.print(f"exported edition {report.edition} to {directory} ({report.written} files)")


@app.command()
def editions(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many, newest first.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON array.")] = False,
) -> None:
    """The latest editions: what each added, changed and removed."""

    async def body(watcher: Watcher) -> list[Edition]:
        return await asyncio.to_thread(watcher.list_editions, limit=limit)

    found = with_watcher(ctx, body)
    if as_json:
        print(json.dumps([EditionOut.of(e).model_dump(mode="json") for e in found]))
        return
    table = Table(box=box.SIMPLE_HEAD)
    for column in ("edition", "published", "entries", "added", "changed", "removed"):
        table.add_column(column)
    for e in found:
        table.add_row(
            str(e.number),
            f"{e.published_at:%Y-%m-%d %H:%M:%S}",
            str(e.entries),
            _ids(e.added),
            _ids(e.changed),
            _ids(e.removed),
        )
    out.print(table)


@app.command()
def deliver(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")] = False,
) -> None:
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
        print(json.dumps(figures))
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

    async def body(watcher: Watcher) -> Subscriber:
        return await asyncio.to_thread(
            watcher.add_subscriber, email, cli_actor(), confirmed=confirmed
        )

    subscriber = with_watcher(ctx, body)
    what = "confirmed" if subscriber.status is SubscriberStatus.CONFIRMED else "confirmation sent"
    out.print(f"subscriber #{subscriber.id} {subscriber.email}: {what}")


@subscribers_app.command("list")
def subscribers_list(
    ctx: typer.Context,
    status: Annotated[
        SubscriberStatus | None, typer.Option("--status", help="Only this status.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 1000,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON array.")] = False,
) -> None:
    """Subscribers, oldest first."""

    async def body(watcher: Watcher) -> list[Subscriber]:
        return await asyncio.to_thread(watcher.list_subscribers, status=status, limit=limit)

    found = with_watcher(ctx, body)
    if as_json:
        print(json.dumps([SubscriberOut.of(s).model_dump(mode="json") for s in found]))
        return
    table = Table(box=box.SIMPLE_HEAD)
    for column in ("id", "email", "status", "since"):
        table.add_column(column)
    for s in found:
        since = s.unsubscribed_at or s.confirmed_at or s.created_at
        table.add_row(str(s.id), s.email, s.status.value, f"{since:%Y-%m-%d %H:%M}")
    out.print(table)


@subscribers_app.command("remove")
def subscribers_remove(
    ctx: typer.Context,
    who: Annotated[str, typer.Argument(help="The subscriber's id or address.")],
) -> None:
    """Unsubscribe someone: no more mail goes to them."""

    async def body(watcher: Watcher) -> Subscriber:
        return await asyncio.to_thread(watcher.remove_subscriber, who, cli_actor())

    subscriber = with_watcher(ctx, body)
    out.print(f"unsubscribed #{subscriber.id} {subscriber.email}")


# -- webhooks ----------------------------------------------------------------------------


@webhooks_app.command("add")
def webhooks_add(
    ctx: typer.Context, url: Annotated[str, typer.Argument(help="The receiver's URL.")]
) -> None:
    """Register a webhook; prints its signing secret, this once."""

    async def body(watcher: Watcher) -> tuple[Webhook, str]:
        return await asyncio.to_thread(watcher.add_webhook, url, cli_actor())

    webhook, secret = with_watcher(ctx, body)
    err.print(f"webhook #{webhook.id} {webhook.url}; its signing secret (shown only now):")
    print(secret)


@webhooks_app.command("list")
def webhooks_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON array.")] = False,
) -> None:
    """Registered webhooks, with their health."""

    async def body(watcher: Watcher) -> list[Webhook]:
        return await asyncio.to_thread(watcher.list_webhooks)

    found = with_watcher(ctx, body)
    if as_json:
        print(json.dumps([WebhookOut.of(w).model_dump(mode="json") for w in found]))
        return
    table = Table(box=box.SIMPLE_HEAD)
    for column in ("id", "url", "state", "last success", "last error"):
        table.add_column(column)
    for w in found:
        state = "enabled" if w.enabled else f"disabled: {w.disabled_reason or ''}"
        success = iso(w.last_success_at) if w.last_success_at else "-"
        table.add_row(str(w.id), w.url, state, success, w.last_error or "-")
    out.print(table)


@webhooks_app.command("remove")
def webhooks_remove(ctx: typer.Context, webhook_id: Annotated[int, typer.Argument()]) -> None:
    """Stop sending editions to a webhook."""

    async def body(watcher: Watcher) -> Webhook:
        return await asyncio.to_thread(watcher.remove_webhook, webhook_id, cli_actor())

    webhook = with_watcher(ctx, body)
    out.print(f"removed webhook #{webhook.id} {webhook.url}")


@webhooks_app.command("enable")
def webhooks_enable(ctx: typer.Context, webhook_id: Annotated[int, typer.Argument()]) -> None:
    """Enable a webhook again after it was disabled for failing."""

    async def body(watcher: Watcher) -> Webhook:
        return await asyncio.to_thread(watcher.enable_webhook, webhook_id, cli_actor())

    webhook = with_watcher(ctx, body)
    out.print(f"webhook #{webhook.id} is enabled again")


@app.command()
def deliveries(
    ctx: typer.Context,
    edition: Annotated[int | None, typer.Option("--edition", help="Only this edition.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON array.")] = False,
) -> None:
    """The delivery log, newest first."""

    async def body(watcher: Watcher) -> list[Delivery]:
        return await asyncio.to_thread(watcher.list_deliveries, edition=edition, limit=limit)

    found = with_watcher(ctx, body)
    if as_json:
        print(json.dumps([DeliveryOut.of(d).model_dump(mode="json") for d in found]))
        return
    table = Table(box=box.SIMPLE_HEAD)
    for column in ("id", "edition", "channel", "to", "status", "attempts", "last error"):
        table.add_column(column)
    for d in found:
        table.add_row(
            str(d.id),
            str(d.edition or "-"),
            d.channel.value,
            d.target,
            d.status.value,
            str(d.attempts),
            d.last_error or "",
        )
    out.print(table)
