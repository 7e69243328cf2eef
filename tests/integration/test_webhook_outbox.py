"""A real local HTTP server receives signed webhooks; a notifier down for a while, then back,
delivers each work order exactly once across a restart of the dispatcher (the same store)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from htm_edge.alerting.config import AlertingConfig
from htm_edge.alerting.notifiers.webhook import WebhookNotifier, WebhookNotifierConfig
from htm_edge.collector.health import Health
from htm_edge.config.base import SecretRef
from htm_edge.gateway.compose import DeviceDirectory
from htm_edge.gateway.dispatcher import Dispatcher
from htm_edge.models.types import Score
from tests.unit.alerting.alerting_fixtures import INVENTORY, engine, scores

SECRET = "s3cret-for-tests"


class Receiver(BaseHTTPRequestHandler):
    """Verifies every signature; answers 503 while ``down``."""

    down: ClassVar[bool] = True
    received: ClassVar[list[dict[str, Any]]] = []
    bad_signatures: ClassVar[int] = 0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if type(self).down:
            self.send_response(503)
            self.end_headers()
            return
        want = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, self.headers["X-HTM-Signature"]):
            type(self).bad_signatures += 1
            self.send_response(401)
            self.end_headers()
            return
        message = json.loads(body)
        assert self.headers["Idempotency-Key"] == message["idempotency_key"]
        assert abs(float(self.headers["X-HTM-Timestamp"]) - message["sent_at"]) < 1.0
        type(self).received.append(message)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Receiver.down, Receiver.received, Receiver.bad_signatures = True, [], 0
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()


def dispatcher(url: str, data_dir: Path, health: Health) -> Dispatcher:
    cfg = AlertingConfig.model_validate(
        {"grouping": {"group_wait_s": 0}, "outbox": {"retry_min_s": 0.01, "retry_max_s": 0.02}}
    )
    hook = WebhookNotifier(
        WebhookNotifierConfig(
            name="cmms", url=url, secret=SecretRef(env="HTM_TEST_SECRET"), retries=0
        ),
        SECRET,
    )
    d = Dispatcher(cfg, [hook], health, DeviceDirectory(list(INVENTORY.values())))
    d.open(data_dir)
    return d


def test_down_then_back_delivers_each_work_order_once_across_a_restart(
    receiver: str, tmp_path: Path
) -> None:
    health = Health()
    first = dispatcher(receiver, tmp_path, health)
    assert first.lifecycle is not None
    eng = engine()
    items = scores("vent-7", "o2_cell_mv", [0.999] * 3, value=30.0)
    items += scores("mr-1", "helium_level_pct", [0.999] * 3, value=60.0, start=10.0)
    for s in items:
        for event in eng.process(s):
            first.lifecycle.ingest(event, eng.work_order(event), s.ts)

    async def rounds(d: Dispatcher, n: int) -> int:
        sent = 0
        for _ in range(n):
            sent += await d.deliver_once()
            await asyncio.sleep(0.03)
        return sent

    assert asyncio.run(rounds(first, 5)) == 0  # the endpoint is down: delayed, not lost
    assert health.get("notifier.cmms.failed") >= 5 and health.get("notifier.cmms.sent") == 0
    first.close()  # the daemon stops while the endpoint is still down

    Receiver.down = False
    second = dispatcher(receiver, tmp_path, health)
    assert asyncio.run(rounds(second, 3)) == 2
    second.close()
    third = dispatcher(receiver, tmp_path, health)  # and another restart: nothing again
    assert asyncio.run(rounds(third, 2)) == 0
    third.close()

    keys = [m["idempotency_key"] for m in Receiver.received]
    assert sorted(keys) == sorted(set(keys)) and len(keys) == 2
    assert {m["work_order"]["device"]["device_id"] for m in Receiver.received} == {"vent-7", "mr-1"}
    assert Receiver.bad_signatures == 0


def test_a_wrong_secret_is_refused_by_the_receiver(receiver: str, tmp_path: Path) -> None:
    Receiver.down = False
    health = Health()
    d = dispatcher(receiver, tmp_path, health)
    hook = d.notifiers["cmms"]
    assert isinstance(hook, WebhookNotifier)
    hook._secret = b"not-the-secret"
    assert d.lifecycle is not None
    eng = engine()
    for s in [Score("vent-7", "o2_cell_mv", i * 60.0, 0.999, 30.0) for i in range(3)]:
        for event in eng.process(s):
            d.lifecycle.ingest(event, eng.work_order(event), s.ts)
    assert asyncio.run(d.deliver_once()) == 0
    assert Receiver.bad_signatures == 1 and Receiver.received == []
    d.close()
