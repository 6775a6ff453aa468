"""The public pages around the published list: subscribe, confirm, unsubscribe.

Nobody signs in here, so there is no session and no CSRF token: a forged request can at
worst ask for a confirmation mail (rate limited) or unsubscribe someone whose link the
forger already holds. Confirming and unsubscribing are POSTs behind a button, because mail
scanners open every link in a message (a GET must change nothing); the one exception is
RFC 8058's one-click unsubscribe, a POST of ``List-Unsubscribe=One-Click`` that mail
clients send to the ``List-Unsubscribe`` URL, which holds the token.

Answers never reveal whether an address is subscribed: asking to subscribe a confirmed
address looks exactly like asking for a new one.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from watcher.exceptions import InvalidInput, UsageError
from watcher.web.auth import client_address, watcher_of
from watcher.web.render import render

router = APIRouter(include_in_schema=False)

MAX_TOKEN = 200
NO_STORE = {"Cache-Control": "no-store"}


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    title = watcher_of(request).site_settings().title
    response = render(request, f"public/{name}", {"site_title": title, **context}, status)
    response.headers.update(NO_STORE)
    return response


def _message(request: Request, heading: str, *paragraphs: str, status: int = 200) -> Response:
    return _page(request, "message.html", {"heading": heading, "paragraphs": paragraphs}, status)


def _broken_link(request: Request, exc: UsageError) -> Response:
    return _message(
        request,
        "This link does not work",
        str(exc),
        "Links in our mails may have been cut by a mail program: copy the whole link, or "
        "subscribe again from the list's page.",
        status=400,
    )


async def _token(request: Request) -> str:
    token = request.query_params.get("token", "")
    if not token and request.method == "POST":
        form = await request.form()
        value = form.get("token")
        token = value if isinstance(value, str) else ""
    return token.strip()[:MAX_TOKEN]


@router.get("/subscribe")
def subscribe_form(request: Request) -> Response:
    return _page(request, "subscribe.html", {"email": "", "errors": {}})


@router.post("/subscribe")
async def subscribe(request: Request) -> Response:
    form = await request.form()
    email = form.get("email")
    email = email.strip()[:1000] if isinstance(email, str) else ""
    trap = form.get("website")
    if isinstance(trap, str) and trap.strip():
        # A bot filled the hidden field: answer as if it worked, do nothing.
        return _checking_inbox(request)
    watcher = watcher_of(request)
    try:
        await run_in_threadpool(
            watcher.subscribe, email, client=client_address(request) or "unknown"
        )
    except InvalidInput as exc:
        retry_after = getattr(exc, "retry_after", None)
        response = _page(
            request,
            "subscribe.html",
            {"email": email, "errors": exc.errors},
            429 if retry_after is not None else 422,
        )
        if retry_after is not None:
            response.headers["Retry-After"] = str(max(1, int(retry_after)))
        return response
    except UsageError as exc:
        return _message(request, "Email is not offered here", str(exc), status=404)
    return _checking_inbox(request)


def _checking_inbox(request: Request) -> Response:
    return _message(
        request,
        "Check your inbox",
        "If the address can receive mail, a message with a confirmation link is on its way. "
        "Nothing is sent until you follow it.",
    )


@router.get("/confirm")
async def confirm_form(request: Request) -> Response:
    return _page(
        request,
        "action.html",
        {
            "heading": "Confirm your subscription",
            "text": "One more click and each new edition comes to you by email.",
            "action": "/confirm",
            "token": await _token(request),
            "button": "Confirm",
        },
    )


@router.post("/confirm")
async def confirm(request: Request) -> Response:
    try:
        token = await _token(request)
        subscriber = await run_in_threadpool(watcher_of(request).confirm_subscription, token)
    except UsageError as exc:
        return _broken_link(request, exc)
    return _message(
        request,
        "You are subscribed",
        f"Each new edition will be mailed to {subscriber.email}.",
        "Every mail has a link to unsubscribe.",
    )


@router.get("/unsubscribe")
async def unsubscribe_form(request: Request) -> Response:
    return _page(
        request,
        "action.html",
        {
            "heading": "Unsubscribe",
            "text": "Stop receiving the list's editions by email.",
            "action": "/unsubscribe",
            "token": await _token(request),
            "button": "Unsubscribe",
        },
    )


@router.post("/unsubscribe")
async def unsubscribe(request: Request) -> Response:
    """The button on the page above, and RFC 8058 one-click (token in the query string)."""
    try:
        token = await _token(request)
        subscriber = await run_in_threadpool(watcher_of(request).unsubscribe, token)
    except UsageError as exc:
        return _broken_link(request, exc)
    return _message(
        request,
        "You are unsubscribed",
        f"No more mail goes to {subscriber.email}.",
        "Changed your mind? Subscribe again from the list's page.",
    )
