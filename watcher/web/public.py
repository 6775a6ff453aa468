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

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from watcher.exceptions import InvalidInput, UsageError
from watcher.limits import MAX_LINK_TOKEN
from watcher.types import Subscriber
from watcher.web.auth import client_address, watcher_of
from watcher.web.templating import render

router = APIRouter(include_in_schema=False)

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
    return token.strip()[:MAX_LINK_TOKEN]


@router.get("/subscribe")
def subscribe_form(request: Request) -> Response:
    if not watcher_of(request).settings.email.enabled:
        return _not_offered(request)
    return _page(request, "subscribe.html", {"email": "", "errors": {}})


def _not_offered(request: Request) -> Response:
    return _message(
        request,
        "Email is not offered here",
        "This list does not send mail. Follow it with a feed reader: feed.atom or feed.json.",
        status=404,
    )


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
    except UsageError:
        return _not_offered(request)
    return _checking_inbox(request)


def _checking_inbox(request: Request) -> Response:
    return _message(
        request,
        "Check your inbox",
        "If the address can receive mail, a message with a confirmation link is on its way. "
        "Nothing is sent until you follow it.",
    )


@dataclass(frozen=True, slots=True)
class LinkAction:
    """A mailed link's page: a button (GET), then what it did (POST)."""

    path: str
    heading: str
    text: str
    button: str
    done: str
    done_lines: tuple[str, ...]  # "{email}" is filled in

    async def form(self, request: Request) -> Response:
        context = {
            "heading": self.heading,
            "text": self.text,
            "action": self.path,
            "token": await _token(request),
            "button": self.button,
        }
        return _page(request, "action.html", context)

    async def act(self, request: Request, do: Callable[[str], Subscriber]) -> Response:
        try:
            subscriber = await run_in_threadpool(do, await _token(request))
        except UsageError as exc:
            return _broken_link(request, exc)
        lines = [line.format(email=subscriber.email) for line in self.done_lines]
        return _message(request, self.done, *lines)


CONFIRM = LinkAction(
    "/confirm",
    "Confirm your subscription",
    "One more click and each new edition comes to you by email.",
    "Confirm",
    "You are subscribed",
    ("Each new edition will be mailed to {email}.", "Every mail has a link to unsubscribe."),
)
UNSUBSCRIBE = LinkAction(
    "/unsubscribe",
    "Unsubscribe",
    "Stop receiving the list's editions by email.",
    "Unsubscribe",
    "You are unsubscribed",
    ("No more mail goes to {email}.", "Changed your mind? Subscribe again from the list's page."),
)


@router.get("/confirm")
async def confirm_form(request: Request) -> Response:
    return await CONFIRM.form(request)


@router.post("/confirm")
async def confirm(request: Request) -> Response:
    return await CONFIRM.act(request, watcher_of(request).confirm_subscription)


@router.get("/unsubscribe")
async def unsubscribe_form(request: Request) -> Response:
    return await UNSUBSCRIBE.form(request)


@router.post("/unsubscribe")
async def unsubscribe(request: Request) -> Response:
    """The button on the page above, and RFC 8058 one-click (token in the query string)."""
    return await UNSUBSCRIBE.act(request, watcher_of(request).unsubscribe)
