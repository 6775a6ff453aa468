"""Admin pages for the publication: the list's title and intro, editions and "publish now",
subscribers, webhooks (their secret shown once), and the delivery log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from watcher.exceptions import InvalidInput
from watcher.limits import MAX_INTEGER
from watcher.types import (
    DeliveryChannel,
    DeliveryStatus,
    SubscriberStatus,
    Webhook,
)
from watcher.web.auth import (
    AdminSession,
    CheckedForm,
    actor_of,
    watcher_of,
)
from watcher.web.numbers import PathId
from watcher.web.pages_common import form_page, known, text, whole, with_notice
from watcher.web.templating import render, utc

router = APIRouter(include_in_schema=False)

EDITIONS_SHOWN = 30
SUBSCRIBERS_PAGE = 100
DELIVERIES_SHOWN = 200


def _go(path: str, done: str, **numbers: int) -> Response:
    return RedirectResponse(with_notice(path, done, **numbers), status_code=303)


# -- the site: title, intro, editions --------------------------------------------------


def site_page(
    request: Request,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    watcher = watcher_of(request)
    current = watcher.site_settings()
    editions = watcher.list_editions(limit=EDITIONS_SHOWN)
    context: dict[str, Any] = {
        "active": "site",
        "values": values or {"title": current.title, "intro": current.intro},
        "updated": (current.updated_by, utc(current.updated_at)) if current.updated_at else None,
        "site_edition": watcher.site_edition(),
        "editions": [(e, utc(e.published_at, with_seconds=True)) for e in editions],
    }
    return form_page(request, "editor/site.html", context, errors=errors, status=status)


@router.get("/editor/site")
def site(request: Request, session: AdminSession) -> Response:
    return site_page(request)


@router.post("/editor/site")
def save_site(request: Request, session: AdminSession, form: CheckedForm) -> Response:
    values = {"title": text(form, "title"), "intro": text(form, "intro")}
    try:
        watcher_of(request).update_site_settings(
            actor_of(session), title=values["title"], intro=values["intro"]
        )
    except InvalidInput as exc:
        return site_page(request, values=values, errors=exc.errors, status=422)
    return _go("/editor/site", "site_saved")


@router.post("/editor/site/publish")
async def publish_now(request: Request, session: AdminSession, form: CheckedForm) -> Response:
    report = await watcher_of(request).publish()
    if report.busy:
        return _go("/editor/site", "publish_busy")
    if report.edition is None:
        return _go("/editor/site", "nothing_changed")
    return _go("/editor/site", "edition_made", n=report.edition.number)


# -- subscribers ---------------------------------------------------------------------


def subscribers_page(
    request: Request,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    params = request.query_params
    wanted = params.get("status", "")
    chosen = known(SubscriberStatus, wanted)
    after = whole(params.get("after"))
    found = watcher_of(request).list_subscribers(
        status=chosen, limit=SUBSCRIBERS_PAGE + 1, after_id=after
    )
    shown = found[:SUBSCRIBERS_PAGE]
    more = None
    if len(found) > SUBSCRIBERS_PAGE:
        more = f"/editor/subscribers?after={shown[-1].id}" + (f"&status={wanted}" if chosen else "")
    context: dict[str, Any] = {
        "active": "subscribers",
        "statuses": [s.value for s in SubscriberStatus],
        "status": chosen.value if chosen else "",
        "rows": [
            (s, utc(s.created_at), utc(s.confirmed_at), utc(s.unsubscribed_at)) for s in shown
        ],
        "more_url": more,
        "values": values or {"email": ""},
    }
    return form_page(request, "editor/subscribers.html", context, errors=errors, status=status)


@router.get("/editor/subscribers")
def subscribers(request: Request, session: AdminSession) -> Response:
    return subscribers_page(request)


@router.post("/editor/subscribers")
def add_subscriber(request: Request, session: AdminSession, form: CheckedForm) -> Response:
    values = {"email": text(form, "email")}
    try:
        subscriber = watcher_of(request).add_subscriber(
            values["email"], actor_of(session), confirmed=text(form, "confirmed") == "yes"
        )
    except InvalidInput as exc:
        return subscribers_page(request, values=values, errors=exc.errors, status=422)
    return _go("/editor/subscribers", "subscriber_added", n=subscriber.id)


@router.post("/editor/subscribers/{subscriber_id}/remove")
def remove_subscriber(
    request: Request,
    subscriber_id: PathId,
    session: AdminSession,
    form: CheckedForm,
) -> Response:
    watcher_of(request).remove_subscriber(str(subscriber_id), actor_of(session))
    return _go("/editor/subscribers", "subscriber_removed", n=subscriber_id)


# -- webhooks ------------------------------------------------------------------------


def webhooks_page(
    request: Request,
    *,
    created: tuple[Webhook, str] | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    hooks = watcher_of(request).list_webhooks()
    context: dict[str, Any] = {
        "active": "webhooks",
        "rows": [
            (w, utc(w.created_at), utc(w.last_success_at), utc(w.last_error_at)) for w in hooks
        ],
        "created": created,
        "values": values or {"url": ""},
    }
    return form_page(request, "editor/webhooks.html", context, errors=errors, status=status)


@router.get("/editor/webhooks")
def webhooks(request: Request, session: AdminSession) -> Response:
    return webhooks_page(request)


@router.post("/editor/webhooks")
def add_webhook(request: Request, session: AdminSession, form: CheckedForm) -> Response:
    """The secret is shown on this response only."""
    values = {"url": text(form, "url")}
    try:
        created = watcher_of(request).add_webhook(values["url"], actor_of(session))
    except InvalidInput as exc:
        return webhooks_page(request, values=values, errors=exc.errors, status=422)
    return webhooks_page(request, created=created, status=201)


@router.post("/editor/webhooks/{webhook_id}/remove")
def remove_webhook(
    request: Request,
    webhook_id: PathId,
    session: AdminSession,
    form: CheckedForm,
) -> Response:
    watcher_of(request).remove_webhook(webhook_id, actor_of(session))
    return _go("/editor/webhooks", "webhook_removed", n=webhook_id)


@router.post("/editor/webhooks/{webhook_id}/enable")
def enable_webhook(
    request: Request,
    webhook_id: PathId,
    session: AdminSession,
    form: CheckedForm,
) -> Response:
    watcher_of(request).enable_webhook(webhook_id, actor_of(session))
    return _go("/editor/webhooks", "webhook_enabled", n=webhook_id)


# -- the delivery log ----------------------------------------------------------------


@router.get("/editor/deliveries")
def deliveries(request: Request, session: AdminSession) -> Response:
    params = request.query_params
    channel, state = params.get("channel", ""), params.get("status", "")
    edition = whole(params.get("edition"), MAX_INTEGER)
    found = watcher_of(request).list_deliveries(
        edition=edition,
        channel=known(DeliveryChannel, channel),
        status=known(DeliveryStatus, state),
        limit=DELIVERIES_SHOWN,
    )
    context: dict[str, Any] = {
        "active": "deliveries",
        "channels": [c.value for c in DeliveryChannel],
        "statuses": [s.value for s in DeliveryStatus],
        "filters": {
            "channel": channel if channel in set(DeliveryChannel) else "",
            "status": state if state in set(DeliveryStatus) else "",
            "edition": str(edition) if edition is not None else "",
        },
        "rows": [
            (d, utc(d.created_at, True), utc(d.next_attempt_at, True), utc(d.sent_at, True))
            for d in found
        ],
        "limit": DELIVERIES_SHOWN,
    }
    return render(request, "editor/deliveries.html", context)
