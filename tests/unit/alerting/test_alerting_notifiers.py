"""Notifiers: console output, and the registry conformance suite on real local servers.

Every registered notifier must deliver a notification inside ``async with``,
count it as sent, and, when its transport is down, raise ``AlertingError``
without counting it as sent (the dispatcher then keeps it in the outbox).
"""

from __future__ import annotations

import asyncio
import io
import json
import threading
from collections.abc import Awaitable, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from htm_edge.alerting.context import AlertingContext
from htm_edge.alerting.errors import AlertingError
from htm_edge.alerting.notifiers import NOTIFIERS, ConsoleNotifier, Notifier
from htm_edge.alerting.notifiers.console import ConsoleNotifierConfig
from htm_edge.alerting.notifiers.mqtt import MqttNotifierConfig
from htm_edge.alerting.notifiers.smtp import SmtpNotifierConfig
from htm_edge.alerting.notifiers.webhook import WebhookNotifierConfig
from htm_edge.config.base import PluginConfig, SecretRef
from tests.servers import free_port
from tests.unit.alerting.alerting_fixtures import notification


def test_console_text() -> None:
    stream = io.StringIO()
    notifier = ConsoleNotifier(ConsoleNotifierConfig(format="text"), stream=stream)
    note = notification()
    asyncio.run(notifier.send(note))
    out = stream.getvalue()
    assert out.startswith("=== FIRING P2 MEDIUM VENT.O2_CELL.DEPLETION on vent-7 ===")
    assert note.text in out and f"Idempotency: {note.key}" in out
    assert notifier.sent == 1


def test_console_json_is_one_line_per_notification() -> None:
    stream = io.StringIO()
    notifier = ConsoleNotifier(ConsoleNotifierConfig(format="json"), stream=stream)
    note = notification()
    asyncio.run(notifier.send(note))
    asyncio.run(notifier.send(note))
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    record = json.loads(lines[0])
    assert record["kind"] == "firing" and record["idempotency_key"] == note.key
    assert record["work_order"]["device"]["asset_tag"] == "A-2002"
    assert record["work_order"]["priority"]["level"] == "P2"


def test_console_defaults_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    asyncio.run(ConsoleNotifier(ConsoleNotifierConfig()).send(notification()))
    assert "VENT.O2_CELL.DEPLETION" in capsys.readouterr().out


class _Hook(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, int]]:
    http = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    mailbox = Controller(_Mailbox(), hostname="127.0.0.1", port=free_port())
    mailbox.start()
    try:
        yield {"http": http.server_address[1], "smtp": mailbox.port}
    finally:
        http.shutdown()
        mailbox.stop()


def _closed_console() -> io.StringIO:
    stream = io.StringIO()
    stream.close()
    return stream


def _publish(ok: bool) -> Callable[[str, bytes, int], Awaitable[None]]:
    async def publish(topic: str, payload: bytes, qos: int) -> None:
        if not ok:
            raise ConnectionError("broker down")
        assert json.loads(payload)["idempotency_key"]

    return publish


def cases(ports: dict[str, int], working: bool) -> dict[str, tuple[PluginConfig, AlertingContext]]:
    """Per notifier type, a sample section and a context that works (or breaks every send)."""
    http = ports["http"] if working else free_port()
    smtp = ports["smtp"] if working else free_port()
    secret = SecretRef(env="HOME")
    return {
        "console": (
            ConsoleNotifierConfig(name="sample"),
            AlertingContext(console=io.StringIO() if working else _closed_console()),
        ),
        "mqtt": (MqttNotifierConfig(name="sample"), AlertingContext(publish=_publish(working))),
        "webhook": (
            WebhookNotifierConfig(
                name="sample", url=f"http://127.0.0.1:{http}/hook", secret=secret, retries=0
            ),
            AlertingContext(),
        ),
        "smtp": (
            SmtpNotifierConfig(
                name="sample",
                host="127.0.0.1",
                port=smtp,
                starttls=False,
                from_addr="htm@test.example",
                to=["biomed@test.example"],
                timeout_s=2,
            ),
            AlertingContext(),
        ),
    }


def test_every_registered_notifier_has_a_case(servers: dict[str, int]) -> None:
    assert set(NOTIFIERS) == set(cases(servers, True)) == set(cases(servers, False))


@pytest.mark.parametrize("type_name", sorted(NOTIFIERS))
def test_a_failed_delivery_is_raised_and_never_counted_as_sent(
    type_name: str, servers: dict[str, int]
) -> None:
    cfg, ctx = cases(servers, False)[type_name]

    async def scenario() -> Notifier:
        async with NOTIFIERS.build(cfg, ctx) as notifier:
            with pytest.raises(AlertingError):
                await notifier.send(notification())
        return notifier

    assert asyncio.run(scenario()).sent == 0


@pytest.mark.parametrize("type_name", sorted(NOTIFIERS))
def test_notifier_conformance(type_name: str, servers: dict[str, int]) -> None:
    """Registry key = config type = class attribute; send works inside ``async with``."""
    cfg, ctx = cases(servers, True)[type_name]

    async def scenario() -> Notifier:
        async with NOTIFIERS.build(cfg, ctx) as notifier:
            await notifier.send(notification())
        return notifier

    notifier = asyncio.run(scenario())
    assert type(notifier) is NOTIFIERS[type_name]
    assert notifier.type_name == type_name and notifier.name == "sample"
    assert notifier.sent == 1
