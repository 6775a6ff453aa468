"""The email channel: stdlib ``smtplib`` in worker threads, connections pooled and reused.

Why threads rather than an async SMTP client: smtplib is in the standard library and
well worn; a mail costs four round trips on an open connection, so a few threads each
holding one connection easily pass 300 messages/s. At most ``pool_size`` connections
are open; each is used by one thread at a time and goes back to the pool after a send.

Failures, as ``DeliveryError``:

- the recipient or the message refused with a 5xx: ``permanent`` (sending again gets the
  same answer); with a 4xx: retried later;
- the server unreachable, the connection dropped, TLS or login failing: ``broken``, so the
  worker fails the rest of the batch at once instead of each mail waiting for a timeout.

Payloads are ``OutgoingMail`` (envelope and finished bytes, stamped from an edition's
template: sent with ``sendmail`` as they are, no per-mail flattening) or, for the rare
mails built the general way (confirmations, non-ASCII addresses), ``EmailMessage``s
sent with ``send_message``, which flattens them and asks for SMTPUTF8 when needed.

Every socket operation is bounded by ``EmailConfig.timeout``. A connection idle for more
than ``IDLE_CHECK`` seconds is tested with NOOP before use (servers drop idle clients).
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage

from watcher.config import EmailConfig
from watcher.deliver.channels.email import OutgoingMail
from watcher.exceptions import DeliveryError

IDLE_CHECK = 5.0


def _smtp_error(exc: smtplib.SMTPResponseException, what: str) -> DeliveryError:
    text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else ""
    message = f"{what}: {exc.smtp_code} {' '.join(text.split())}".strip()
    return DeliveryError(message, permanent=500 <= exc.smtp_code < 600)


class SmtpChannel:
    """Sends ``OutgoingMail``s and ``EmailMessage``s (From/To already set) through one
    SMTP server."""

    def __init__(self, config: EmailConfig, *, password: str | None, pool_size: int = 8):
        self.config = config
        self._password = password
        self._pool_size = max(1, pool_size)
        self._idle: list[tuple[smtplib.SMTP, float]] = []
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self.connections_opened = 0

    async def send(self, key: str, payload: OutgoingMail | EmailMessage) -> None:
        """Send one message; ``key`` is already its Message-ID (see ``email``)."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self._pool_size, thread_name_prefix="smtp")
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._send, payload)

    async def aclose(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.get_running_loop().run_in_executor(None, executor.shutdown)
        with self._lock:
            idle, self._idle = self._idle, []
        for connection, _ in idle:
            _quit(connection)

    # -- in a worker thread --------------------------------------------------------------

    def _send(self, message: OutgoingMail | EmailMessage) -> None:
        connection = self._take()
        try:
            if isinstance(message, OutgoingMail):
                connection.sendmail(message.sender, [message.recipient], message.data)
            else:
                connection.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            self._give_back(connection)
            code, text = next(iter(exc.recipients.values()), (550, b"refused"))
            raise _smtp_error(
                smtplib.SMTPResponseException(code, text), "recipient refused"
            ) from exc
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            self._give_back(connection)
            raise _smtp_error(exc, "message refused") from exc
        except (smtplib.SMTPException, OSError) as exc:
            _quit(connection)
            raise DeliveryError(f"SMTP connection failed: {exc}", broken=True) from exc
        self._give_back(connection)

    def _take(self) -> smtplib.SMTP:
        while True:
            with self._lock:
                if not self._idle:
                    break
                connection, since = self._idle.pop()
            if time.monotonic() - since < IDLE_CHECK or _alive(connection):
                return connection
            _quit(connection)
        try:
            return self._connect()
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"SMTP login refused: {exc.smtp_code}", broken=True) from exc
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            where = f"{self.config.smtp_host}:{self.config.smtp_port}"
            raise DeliveryError(f"cannot reach SMTP server {where}: {exc}", broken=True) from exc

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        timeout = config.timeout
        connection: smtplib.SMTP
        if config.security == "tls":
            context = ssl.create_default_context()
            connection = smtplib.SMTP_SSL(
                config.smtp_host, config.smtp_port, timeout=timeout, context=context
            )
        else:
            connection = smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=timeout)
        try:
            connection.ehlo()
            if config.security == "starttls":
                connection.starttls(context=ssl.create_default_context())
                connection.ehlo()
            if config.username:
                connection.login(config.username, self._password or "")
        except BaseException:
            _quit(connection)
            raise
        self.connections_opened += 1
        return connection

    def _give_back(self, connection: smtplib.SMTP) -> None:
        with self._lock:
            if len(self._idle) < self._pool_size:
                self._idle.append((connection, time.monotonic()))
                return
        _quit(connection)


def _alive(connection: smtplib.SMTP) -> bool:
    try:
        return connection.noop()[0] == 250
    except (smtplib.SMTPException, OSError):
        return False


def _quit(connection: smtplib.SMTP) -> None:
    try:
        connection.quit()
    except (smtplib.SMTPException, OSError):
        connection.close()
