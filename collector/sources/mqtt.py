"""MQTT source: subscribe to telemetry topics on a broker, reconnecting forever.

Lessons from peer tools (domain.md §5) shape it:

* a fresh ``aiomqtt.Client`` per connection attempt (clients are reusable but not
  reentrant, aiomqtt #288/#269), with exponential backoff and full jitter;
* persistent session (clean_session off, QoS 1) *and* re-subscription on every
  connect, so the broker queues telemetry while the gateway is away and a
  changed topic list still takes effect; the client id carries a hash of the
  topic list, because a persistent session ignores topic changes (telegraf #14366).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
from typing import ClassVar

import aiomqtt

from htm_edge.collector.health import Health
from htm_edge.collector.protocols.base import Frame
from htm_edge.collector.sources.base import EmitFrame, Source
from htm_edge.config.schema import BrokerConfig, MqttSourceConfig

__all__ = ["MqttSource", "device_from_topic"]

log = logging.getLogger(__name__)


def device_from_topic(topic: str) -> str | None:
    """Return the device id of ``htm/<site>/<device_id>/telemetry``-shaped topics.

    >>> device_from_topic("htm/st-mary/MR-01/telemetry")
    'MR-01'
    >>> device_from_topic("other/topic") is None
    True
    """
    parts = topic.split("/")
    if len(parts) >= 3 and parts[-1] == "telemetry" and parts[-2]:
        return parts[-2]
    return None


class MqttSource(Source):
    """Receive telemetry frames from ``cfg.topics`` on the broker of ``broker``."""

    name: ClassVar[str] = "mqtt"

    def __init__(self, cfg: MqttSourceConfig, broker: BrokerConfig, health: Health) -> None:
        self.cfg = cfg
        self.broker = broker
        self.health = health
        topics_hash = hashlib.sha1("\n".join(sorted(cfg.topics)).encode()).hexdigest()[:8]
        self.client_id = f"{broker.client_id}-{cfg.name}-{topics_hash}"
        self.connected = asyncio.Event()

    def _client(self) -> aiomqtt.Client:
        password = self.broker.password.resolve() if self.broker.password else None
        return aiomqtt.Client(
            self.broker.host,
            self.broker.port,
            username=self.broker.username,
            password=password,
            identifier=self.client_id,
            clean_session=False,
            keepalive=self.broker.keepalive_s,
        )

    async def run(self, emit: EmitFrame) -> None:
        """Connect, subscribe and forward every message as a :class:`Frame`; never returns."""
        delay = self.broker.reconnect_min_s
        while True:
            try:
                async with self._client() as client:
                    for topic in self.cfg.topics:
                        await client.subscribe(topic, qos=self.cfg.qos)
                    self.health.inc(f"source.{self.cfg.name}.connects")
                    log.info(
                        "event=mqtt_connected source=%s broker=%s:%d topics=%s",
                        self.cfg.name,
                        self.broker.host,
                        self.broker.port,
                        ",".join(self.cfg.topics),
                    )
                    self.connected.set()
                    delay = self.broker.reconnect_min_s
                    async for message in client.messages:
                        await emit(self._frame(message))
            except aiomqtt.MqttError as exc:
                self.connected.clear()
                self.health.inc(f"source.{self.cfg.name}.disconnects")
                wait = random.uniform(0, delay)
                log.warning(
                    "event=mqtt_disconnected source=%s error=%r retry_in_s=%.2f",
                    self.cfg.name,
                    str(exc),
                    wait,
                )
                await asyncio.sleep(wait)
                delay = min(delay * 2, self.broker.reconnect_max_s)

    def _frame(self, message: aiomqtt.Message) -> Frame:
        topic = message.topic.value
        payload = message.payload
        if isinstance(payload, str):
            data = payload.encode()
        elif isinstance(payload, bytes | bytearray):
            data = bytes(payload)
        elif payload is None:
            data = b""
        else:
            data = str(payload).encode()
        self.health.inc(f"source.{self.cfg.name}.messages")
        return Frame(data, f"mqtt:{topic}", time.time(), device_from_topic(topic))
