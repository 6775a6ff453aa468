"""Real loopback servers for the delivery tests: an SMTP server (aiosmtpd) that keeps or
counts what it receives, and an HTTP receiver for webhooks and WebSub pings.

Both bind 127.0.0.1, run in their own threads and are stopped by their context managers.
"""

from __future__ import annotations

import email
import email.policy
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from tests.conftest import free_port
from watcher.core import Watcher
from watcher.plans import EditionPlan
from watcher.types import Actor, CandidateData, EntryDraft, Role

ADMIN = Actor("root", Role.ADMIN)


# -- SMTP --------------------------------------------------------------------------------


class MailSink:
    """aiosmtpd handler: keeps each message (or only counts, for the benchmark); refuses
    recipients listed in ``refuse``."""

    def __init__(self, *, keep: bool = True):
        self.keep = keep
        self.count = 0
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []  # each kept message's envelope recipients
        self.refuse: set[str] = set()
        self.received = threading.Event()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        if self.keep:
            parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.messages.append(parsed)  # type: ignore[arg-type]
            self.recipients.append(list(envelope.rcpt_tos))
        self.received.set()
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        """The kept messages whose envelope went to ``address``."""
        return [m for m, r in zip(self.messages, self.recipients, strict=True) if address in r]

    def wait_for(self, count: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while self.count < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} mails, got {self.count}")
            time.sleep(0.01)


@contextmanager
def smtp_server(*, keep: bool = True) -> Iterator[tuple[MailSink, int]]:
    sink = MailSink(keep=keep)
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def link_in(message: EmailMessage, path: str) -> str:
    found = re.search(rf"https?://\S+/{path}\?token=[\w.%-]+", text_of(message))
    assert found, text_of(message)
    return found.group(0)


def token_of(link: str) -> str:
    return link.split("token=", 1)[1]


# -- HTTP --------------------------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Records POSTs; ``answers[path]`` is a list of statuses to give in turn (then 200);
    a path in ``hang`` waits until the server stops (or ``hang_for`` seconds)."""

    requests: list[Received] = field(default_factory=list)
    answers: dict[str, list[int]] = field(default_factory=dict)
    hang: set[str] = field(default_factory=set)
    hang_for: float = 30.0
    release: threading.Event = field(default_factory=threading.Event)
    port: int = 0

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def to(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            path = self.path
            receiver.requests.append(Received(path, dict(self.headers.items()), body))
            if path in receiver.hang:
                receiver.release.wait(receiver.hang_for)
            queue = receiver.answers.get(path) or []
            status = queue.pop(0) if queue else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@contextmanager
def http_receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


# -- editions ----------------------------------------------------------------------------


def approve_one(watcher: Watcher, n: int, heading: str = "Dust devil") -> int:
    """A candidate approved as an entry; the entry's id."""
    item = CandidateData(
        source="perseverance",
        external_id=f"NRF_{n:05d}",
        mission="perseverance",
        title=f"Sol {n}",
        credit="NASA/JPL-Caltech",
        camera="NAVCAM_LEFT",
        sol=1000 + n,
        taken_at=datetime(2026, 8, 1, tzinfo=UTC) + timedelta(minutes=n),
        medium_url=f"https://mars.nasa.gov/raw/NRF_{n:05d}_800.jpg",
        large_url=f"https://mars.nasa.gov/raw/NRF_{n:05d}_1200.jpg",
        full_url=f"https://mars.nasa.gov/raw/NRF_{n:05d}.png",
        width=800,
        height=600,
    )
    watcher.store.add_candidates([item], datetime(2026, 8, 2, tzinfo=UTC))
    candidate = next(c for c in watcher.list_candidates() if c.external_id == item.external_id)
    entry = watcher.approve(
        [candidate.id], EntryDraft(heading=f"{heading} {n}", body="A *whirl* of dust."), ADMIN
    )
    return entry.id


def publish_edition(
    watcher: Watcher,
    number: int,
    added: tuple[int, ...],
    changed: tuple[int, ...] = (),
    now: Callable[[], datetime] | None = None,
) -> int:
    """Write an edition and its outbox rows in one transaction, as the publisher's plan
    does (without touching the published list); returns how many deliveries were
    enqueued."""
    when = (now or watcher.clock)()
    plan = EditionPlan(
        number=number,
        published_at=when,
        added=added,
        changed=changed,
        removed=(),
        reordered=False,
        site_changed=False,
        current=(),
        stored={},
        site_digest="",
        audit_id=0,
        deliveries=tuple(watcher.delivery.edition_deliveries(number, bool(added), when)),
    )
    _, deliveries = watcher.store.commit_edition(plan)
    return deliveries


# -- watchers ----------------------------------------------------------------------------


def mail_watcher(watcher_for: Any, database_url: str, port: int, **email: Any) -> Any:
    return watcher_for(
        [],
        database_url=database_url,
        server={"public_url": "https://mars.example.org"},
        email={
            "enabled": True,
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "security": "none",
            "from_address": "list@mars.example.org",
            "timeout": "5s",
            **email,
        },
        delivery={"retry_base": "1s", "lease": "60s"},
    )
