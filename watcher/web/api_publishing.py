"""API for the running list's publication: editions (any caller), publishing now, the site's
title and intro, subscribers, webhooks and the delivery log (admins, as on their pages)."""

from __future__ import annotations

from typing import Annotated, Self

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from watcher.core import Watcher
from watcher.limits import MAX_WEBHOOK_URL
from watcher.types import DeliveryChannel, DeliveryStatus, SubscriberStatus
from watcher.views import (
    DeliveryOut,
    EditionOut,
    Moment,
    PublishOut,
    Shape,
    SubscriberOut,
    WebhookOut,
)
from watcher.web.api_auth import Admin, Caller, WatcherDep, next_page, problems
from watcher.web.numbers import EditionNumber, PathId, query_id, query_integer

router = APIRouter()
admin_router = APIRouter()


class EditionList(BaseModel):
    items: list[EditionOut]
    next: str | None


class SiteOut(Shape[Watcher]):
    title: str
    intro: str
    updated_by: str | None
    updated_at: Moment | None
    edition: int | None = Field(description="The edition the site's files show.")

    @classmethod
    def of(cls, watcher: Watcher) -> Self:
        """The site's text as stored, and the edition its files show."""
        return cls._of(watcher.site_settings(), edition=watcher.site_edition())


class SiteIn(BaseModel):
    title: str = Field(max_length=10_000)
    intro: str = Field("", max_length=100_000)


class SubscriberList(BaseModel):
    items: list[SubscriberOut]
    next: str | None


class SubscriberIn(BaseModel):
    email: str = Field(max_length=1000)
    confirmed: bool = Field(
        False, description="Skip the confirmation mail (only with the person's consent)."
    )


class WebhookList(BaseModel):
    items: list[WebhookOut]


class WebhookIn(BaseModel):
    url: str = Field(max_length=MAX_WEBHOOK_URL)


class NewWebhook(BaseModel):
    webhook: WebhookOut
    secret: str = Field(description="Signs every delivery; shown this once.")


class DeliveryList(BaseModel):
    items: list[DeliveryOut]


# -- editions and publishing ------------------------------------------------------------


@router.get(
    "/editions",
    response_model=EditionList,
    summary="Editions, newest first",
    responses=problems(422),
)
def editions(
    request: Request,
    watcher: WatcherDep,
    caller: Caller,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before: Annotated[int | None, query_integer(1, "Keyset: numbers below this.")] = None,
) -> EditionList:
    found = watcher.list_editions(limit=limit, before=before)
    return EditionList(
        items=[EditionOut.of(e) for e in found],
        next=next_page(request, [e.number for e in found], limit),
    )


@router.get(
    "/editions/{number}",
    response_model=EditionOut,
    summary="One edition",
    responses=problems(422, 404),
)
def edition(number: EditionNumber, watcher: WatcherDep, caller: Caller) -> EditionOut:
    return EditionOut.of(watcher.get_edition(number))


@router.post(
    "/publish",
    response_model=PublishOut,
    summary="Publish now (admins)",
    tags=["admin"],  # what the docs and the route sweeps read to know it is admins' only
)
async def publish(watcher: WatcherDep, admin: Admin) -> PublishOut:
    """Publishing follows every change by itself (after the configured debounce); this does
    it at once, as the Publish button of the admins' Site page does, and like it only for an
    admin. When nothing changed since the last edition, no edition is made and no file is
    touched (`changed` is false)."""
    return PublishOut.of(await watcher.publish())


# -- the site's text (admins) ------------------------------------------------------------


@admin_router.get(
    "/site",
    response_model=SiteOut,
    summary="The list's title and intro (admins)",
    responses=problems(422),
)
def site(watcher: WatcherDep, admin: Admin) -> SiteOut:
    return SiteOut.of(watcher)


@admin_router.put(
    "/site",
    response_model=SiteOut,
    summary="Change the list's title and intro (admins)",
    responses=problems(422),
)
def update_site(body: SiteIn, watcher: WatcherDep, admin: Admin) -> SiteOut:
    """The intro takes the same small Markdown subset as entries. Published with the next
    edition."""
    watcher.update_site_settings(admin, title=body.title, intro=body.intro)
    return SiteOut.of(watcher)


# -- subscribers (admins) ----------------------------------------------------------------


@admin_router.get(
    "/subscribers",
    response_model=SubscriberList,
    summary="Subscribers (admins)",
    responses=problems(422),
)
def subscribers(
    request: Request,
    watcher: WatcherDep,
    admin: Admin,
    status: Annotated[SubscriberStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after: Annotated[int | None, query_id("Keyset: ids above this.", low=0)] = None,
) -> SubscriberList:
    found = watcher.list_subscribers(status=status, limit=limit, after_id=after)
    return SubscriberList(
        items=[SubscriberOut.of(s) for s in found],
        next=next_page(request, [s.id for s in found], limit, key="after"),
    )


@admin_router.post(
    "/subscribers",
    response_model=SubscriberOut,
    status_code=201,
    summary="Add a subscriber (admins)",
    responses=problems(422),
)
def add_subscriber(body: SubscriberIn, watcher: WatcherDep, admin: Admin) -> SubscriberOut:
    """Unless `confirmed`, the address gets a confirmation mail first (double opt-in)."""
    added = watcher.add_subscriber(body.email, admin, confirmed=body.confirmed)
    return SubscriberOut.of(added)


@admin_router.delete(
    "/subscribers/{subscriber_id}",
    response_model=SubscriberOut,
    summary="Unsubscribe someone (admins)",
    responses=problems(422, 404),
)
def remove_subscriber(subscriber_id: PathId, watcher: WatcherDep, admin: Admin) -> SubscriberOut:
    return SubscriberOut.of(watcher.remove_subscriber(str(subscriber_id), admin))


# -- webhooks (admins) -------------------------------------------------------------------


@admin_router.get("/webhooks", response_model=WebhookList, summary="Webhooks (admins)")
def webhooks(watcher: WatcherDep, admin: Admin) -> WebhookList:
    return WebhookList(items=[WebhookOut.of(w) for w in watcher.list_webhooks()])


@admin_router.post(
    "/webhooks",
    response_model=NewWebhook,
    status_code=201,
    summary="Register a webhook (admins)",
    responses=problems(422),
)
def add_webhook(body: WebhookIn, watcher: WatcherDep, admin: Admin) -> NewWebhook:
    """Each edition is POSTed to `url` as JSON, signed: `X-Watcher-Signature: t=<unix
    time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. URLs reaching private or loopback
    addresses are refused unless the config allows them."""
    webhook, secret = watcher.add_webhook(body.url, admin)
    return NewWebhook(webhook=WebhookOut.of(webhook), secret=secret)


@admin_router.delete(
    "/webhooks/{webhook_id}",
    response_model=WebhookOut,
    summary="Remove a webhook (admins)",
    responses=problems(422, 404),
)
def remove_webhook(webhook_id: PathId, watcher: WatcherDep, admin: Admin) -> WebhookOut:
    return WebhookOut.of(watcher.remove_webhook(webhook_id, admin))


@admin_router.post(
    "/webhooks/{webhook_id}/enable",
    response_model=WebhookOut,
    summary="Re-enable a webhook disabled after failures (admins)",
    responses=problems(422, 404),
)
def enable_webhook(webhook_id: PathId, watcher: WatcherDep, admin: Admin) -> WebhookOut:
    return WebhookOut.of(watcher.enable_webhook(webhook_id, admin))


# -- the delivery log (admins) -----------------------------------------------------------


@admin_router.get(
    "/deliveries",
    response_model=DeliveryList,
    summary="The delivery log (admins)",
    responses=problems(422),
)
def deliveries(
    watcher: WatcherDep,
    admin: Admin,
    edition: Annotated[int | None, query_integer(1)] = None,
    channel: Annotated[DeliveryChannel | None, Query()] = None,
    status: Annotated[DeliveryStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> DeliveryList:
    found = watcher.list_deliveries(edition=edition, channel=channel, status=status, limit=limit)
    return DeliveryList(items=[DeliveryOut.of(d) for d in found])
