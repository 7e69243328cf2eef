"""The smtp notifier against a real local SMTP server (aiosmtpd) that requires STARTTLS and
AUTH: the e-mail arrives once, with plain-text and HTML parts and the idempotency key."""

from __future__ import annotations

import asyncio
import email
import email.policy
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from htm_edge.alerting.errors import AlertingError
from htm_edge.alerting.notifiers.smtp import SmtpNotifier, SmtpNotifierConfig, message_id
from tests.servers import find_binary, free_port
from tests.unit.alerting.alerting_fixtures import notification


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"htm", b"pw-1")
    return AuthResult(success=ok)


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[tuple[Mailbox, int, Path]]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            find_binary("openssl", "openssl"),
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(str(cert), str(key))
    box = Mailbox()
    ctl = Controller(
        box,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=tls,
        require_starttls=True,
        authenticator=authenticate,
        auth_require_tls=True,
    )
    ctl.start()
    try:
        yield box, ctl.port, cert
    finally:
        ctl.stop()


def notifier(port: int, cert: Path, password: str) -> SmtpNotifier:
    cfg = SmtpNotifierConfig(
        host="127.0.0.1",
        port=port,
        starttls=True,
        username="htm",
        from_addr="htm-edge@test.example",
        to=["dispatch@test.example"],
        ca_file=cert,
        timeout_s=5,
    )
    return SmtpNotifier(cfg, password)


def test_starttls_auth_plain_and_html(smtp_server: tuple[Mailbox, int, Path]) -> None:
    box, port, cert = smtp_server
    note = notification()
    sender = notifier(port, cert, "pw-1")
    asyncio.run(sender.send(note))
    assert sender.sent == 1
    (envelope,) = box.messages
    assert set(envelope.rcpt_tos) == {"dispatch@test.example"}
    msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert msg["Message-ID"] == message_id(note.key)
    assert msg["X-HTM-Idempotency-Key"] == note.key
    assert msg["Subject"] == note.subject
    plain = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "VENT.O2_CELL.DEPLETION" in plain and "<pre>" in html


def test_wrong_password_raises_and_is_not_counted(smtp_server: tuple[Mailbox, int, Path]) -> None:
    box, port, cert = smtp_server
    sender = notifier(port, cert, "wrong")
    with pytest.raises(AlertingError, match="SMTP"):
        asyncio.run(sender.send(notification()))
    assert sender.sent == 0 and box.messages == []
