"""The SMTP channel over TLS against a real aiosmtpd server: STARTTLS with a login,
implicit TLS, a refused login, and a certificate nobody trusts.

The server's certificate is self-signed (made with the ``openssl`` command); the channel
trusts it the way an operator trusts a private CA, through ``SSL_CERT_FILE``.
"""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from watcher.config import EmailConfig
from watcher.deliver.channels.smtp import SmtpChannel
from watcher.exceptions import DeliveryError

from .deliver_support import MailSink, free_port

pytestmark = pytest.mark.timeout(60)

USER, PASSWORD = "watcher", "s3cret-for-tests"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is missing: cannot make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


class Logins:
    """aiosmtpd authenticator: accepts USER/PASSWORD, remembers every attempt."""

    def __init__(self) -> None:
        self.attempts: list[tuple[str, bool]] = []

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        ok = data.login.decode() == USER and data.password.decode() == PASSWORD
        self.attempts.append((data.login.decode(), ok))
        return AuthResult(success=ok, handled=False)


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@pytest.fixture
def starttls_server(certificate: tuple[Path, Path]) -> Iterator[tuple[MailSink, Logins, int]]:
    sink, logins, port = MailSink(), Logins(), free_port()
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_context(*certificate),
        require_starttls=True,
        authenticator=logins,
        auth_required=True,
    )
    controller.start()
    yield sink, logins, port
    controller.stop()


def message(to: str = "reader@example.org") -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "list@example.org"
    mail["To"] = to
    mail["Subject"] = "Mars, lately: 1 new image"
    mail["Message-ID"] = "<e1-email-s1@example.org>"
    mail.set_content("A dust devil.")
    return mail


def send(config: EmailConfig, password: str | None) -> SmtpChannel:
    async def go() -> SmtpChannel:
        channel = SmtpChannel(config, password=password, pool_size=1)
        try:
            await channel.send("e1-email-s1", message())
        finally:
            await channel.aclose()
        return channel

    return asyncio.run(go())


def trusting(monkeypatch: pytest.MonkeyPatch, cert: Path) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))


def starttls(port: int) -> EmailConfig:
    return EmailConfig(
        enabled=True, smtp_host="127.0.0.1", smtp_port=port, security="starttls", username=USER
    )


def test_starttls_with_login_delivers(
    starttls_server: tuple[MailSink, Logins, int],
    certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sink, logins, port = starttls_server
    trusting(monkeypatch, certificate[0])
    channel = send(starttls(port), PASSWORD)
    assert [m["Message-ID"] for m in sink.messages] == ["<e1-email-s1@example.org>"]
    assert logins.attempts == [(USER, True)]
    assert channel.connections_opened == 1


def test_a_refused_login_breaks_the_channel(
    starttls_server: tuple[MailSink, Logins, int],
    certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sink, logins, port = starttls_server
    trusting(monkeypatch, certificate[0])
    with pytest.raises(DeliveryError) as failure:
        send(starttls(port), "wrong")
    assert failure.value.broken and "login refused" in str(failure.value)
    # smtplib tries each mechanism the server offers (PLAIN, LOGIN); none may succeed.
    assert logins.attempts and all(not ok for _, ok in logins.attempts)
    assert sink.messages == []


def test_an_untrusted_certificate_is_refused(
    starttls_server: tuple[MailSink, Logins, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    sink, logins, port = starttls_server
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with pytest.raises(DeliveryError) as failure:
        send(starttls(port), PASSWORD)
    assert failure.value.broken
    assert "certificate" in str(failure.value).lower()
    assert logins.attempts == [] and sink.messages == []


def test_implicit_tls_delivers(
    certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    trusting(monkeypatch, certificate[0])
    sink, port = MailSink(), free_port()
    controller = Controller(
        sink, hostname="127.0.0.1", port=port, ssl_context=server_context(*certificate)
    )
    controller.start()
    try:
        config = EmailConfig(enabled=True, smtp_host="127.0.0.1", smtp_port=port, security="tls")
        send(config, None)
    finally:
        controller.stop()
    assert [m["Subject"] for m in sink.messages] == ["Mars, lately: 1 new image"]
