"""MQTT source: subscribe to telemetry topics on a broker, reconnecting forever.

Lessons from peer tools (domain.md §5) shape it:

* persistent session (clean_session off, QoS 1) *and* re-subscription on every
  connect, so the broker queues telemetry while the gateway is away and a
  changed topic list still takes effect; the client id carries a hash of the
  topic list, because a persistent session ignores topic changes (telegraf #14366);
* connection handling (fresh client per attempt, jittered backoff) is the
  shared :class:`htm_edge.collector.mqtt_client.MqttSessions`.

Availability: the source publishes ``online`` (retained) to its
``availability_topic`` (outside the ``htm/`` telemetry tree by default) when
subscribed, ``offline`` when it stops, and leaves ``offline`` as its last will
for a crash or a lost link. Its own status, if a wide subscription brings it
back, is not telemetry and is skipped.

Silent subscriptions: a broker or bridge can keep a connection up while a
subscription delivers nothing (Telegraf #16038, #6232). When a topic filter
has delivered nothing for ``silence_timeout_s`` while connected, the source
subscribes to it again (``source.<name>.resubscribed``) and logs it.

A topic template (default ``htm/{site}/{device_id}/telemetry``) says which
level names the device; a message whose topic does not fit it is counted
(``source.<name>.unmatched_topic``) and handed on without a device hint, so a
payload that names its device is still read and one that does not is
dead-lettered with its topic.

Acknowledge late: a QoS-1 message is acknowledged to the broker only after
``emit`` returned, which the daemon does once the frame is committed to the
durable spool. A crash or a stop before that leaves the message unacknowledged
and the broker redelivers it in the next session (a duplicate at worst, which
every consumer absorbs). At most ``max_inflight`` messages wait for their
commit; beyond that the source stops reading, the broker stops sending (its
in-flight window is full of unacknowledged messages) and holds the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from functools import partial
from typing import Any, ClassVar, Literal

import aiomqtt
from pydantic import Field, field_validator

from htm_edge.collector.context import IngestContext
from htm_edge.collector.mqtt_client import MqttSessions, ack
from htm_edge.collector.protocols import ProtocolConfig
from htm_edge.collector.protocols.base import Frame
from htm_edge.collector.protocols.json import JsonProtocolConfig
from htm_edge.collector.sources.base import EmitFrame, Source
from htm_edge.config.base import PluginConfig

__all__ = ["MqttSource", "MqttSourceConfig", "TopicTemplate"]

log = logging.getLogger(__name__)

_FIELDS = ("{site}", "{device_id}")


class TopicTemplate:
    """Match topics to a template of literal, ``+``, ``{site}`` and ``{device_id}`` levels.

    >>> t = TopicTemplate("htm/{site}/{device_id}/telemetry")
    >>> t.device_id("htm/st-mary/MR-01/telemetry")
    'MR-01'
    >>> t.matches("htm/st-mary/MR-01/status"), t.device_id("other/topic") is None
    (False, True)
    """

    def __init__(self, template: str) -> None:
        self.template = template
        self.levels = template.split("/")
        self._device_level = (
            self.levels.index("{device_id}") if "{device_id}" in self.levels else None
        )

    def matches(self, topic: str) -> bool:
        """True when ``topic`` has the template's levels (fields and ``+`` match any level)."""
        parts = topic.split("/")
        if len(parts) != len(self.levels):
            return False
        return all(
            lv in _FIELDS or lv == "+" or lv == p for lv, p in zip(self.levels, parts, strict=True)
        )

    def device_id(self, topic: str) -> str | None:
        """The device level of a matching topic (not yet validated), else None."""
        if self._device_level is None or not self.matches(topic):
            return None
        return topic.split("/")[self._device_level]


class MqttSourceConfig(PluginConfig):
    """Subscribe to telemetry topics and decode payloads with ``protocol``."""

    type: Literal["mqtt"] = "mqtt"
    role: ClassVar[str] = "source"
    name: str = "mqtt"
    topics: list[str] = Field(default_factory=lambda: ["htm/+/+/telemetry"], min_length=1)
    topic_template: str = Field(
        default="htm/{site}/{device_id}/telemetry",
        description="topic levels: literals, '+', {site} and {device_id}",
    )
    protocol: ProtocolConfig = Field(default_factory=JsonProtocolConfig)
    qos: Literal[0, 1, 2] = 1
    max_inflight: int = Field(
        default=1000, ge=1, le=65535, description="messages waiting for their spool commit"
    )
    availability_topic: str | None = Field(
        default="htm-edge/{site}/{client_id}/status",
        description="online/offline (retained, last will); {site} and {client_id} are filled in",
    )
    silence_timeout_s: float | None = Field(
        default=600.0, gt=0, description="resubscribe a topic filter silent this long"
    )

    @field_validator("protocol", mode="before")
    @classmethod
    def _protocol_shorthand(cls, value: Any) -> Any:
        """``protocol = "json"`` is short for ``protocol = { type = "json" }``."""
        return {"type": value} if isinstance(value, str) else value

    @field_validator("topic_template")
    @classmethod
    def _template_levels(cls, value: str) -> str:
        bad = [lv for lv in value.split("/") if ("{" in lv or "}" in lv) and lv not in _FIELDS]
        if bad or "#" in value or value.count("{device_id}") > 1:
            raise ValueError(
                "levels may be literals, '+', {site} or {device_id} (once), "
                f"without '#'; got {value!r}"
            )
        return value


class MqttSource(Source):
    """Receive telemetry frames from ``cfg.topics`` on the broker of the context."""

    type_name: ClassVar[str] = "mqtt"
    config_model: ClassVar[type[PluginConfig]] = MqttSourceConfig

    def __init__(self, cfg: MqttSourceConfig, ctx: IngestContext) -> None:
        super().__init__(cfg, ctx)
        self.cfg: MqttSourceConfig = cfg
        topics_hash = hashlib.sha1("\n".join(sorted(cfg.topics)).encode()).hexdigest()[:8]
        self.client_id = f"{ctx.broker.client_id}-{cfg.name}-{topics_hash}"
        self.template = TopicTemplate(cfg.topic_template)
        self._unmatched_logged: set[str] = set()
        self.availability = (
            cfg.availability_topic.format(site=ctx.site or "site", client_id=self.client_id)
            if cfg.availability_topic
            else None
        )
        will = (
            aiomqtt.Will(self.availability, b"offline", qos=1, retain=True)
            if self.availability
            else None
        )
        self.sessions = MqttSessions(
            ctx.broker,
            client_id=self.client_id,
            password=ctx.broker_password,
            clean_session=False,
            label=f"source={cfg.name}",
            manual_ack=True,
            will=will,
        )
        #: monotonic time of the last message per topic filter
        self._last_by_filter: dict[str, float] = {}

    async def run(self, emit: EmitFrame) -> None:
        """Connect, subscribe and forward every message as a :class:`Frame`; never returns."""

        async def session(client: aiomqtt.Client) -> None:
            for topic in self.cfg.topics:
                await client.subscribe(topic, qos=self.cfg.qos)
            self.count("connects")
            log.info(
                "event=mqtt_connected source=%s broker=%s:%d topics=%s",
                self.name,
                self.ctx.broker.host,
                self.ctx.broker.port,
                ",".join(self.cfg.topics),
            )
            if self.availability:
                await client.publish(self.availability, b"online", qos=1, retain=True)
            self.ready.set()
            window = asyncio.Semaphore(self.cfg.max_inflight)
            pending: set[asyncio.Future[None]] = set()
            now = time.monotonic()
            self._last_by_filter = dict.fromkeys(self.cfg.topics, now)
            watchdog = asyncio.create_task(self._watch_silence(client))
            try:
                async for message in client.messages:
                    if message.topic.value == self.availability:
                        ack(client, message)  # our own status, seen through a wide filter
                        continue
                    self._heard(message)
                    frame = self._frame(message)
                    await window.acquire()
                    committed = asyncio.ensure_future(emit(frame))
                    pending.add(committed)
                    committed.add_done_callback(
                        partial(self._committed, client, message, window, pending)
                    )
            except aiomqtt.MqttError:
                self.count("disconnects")
                raise
            except asyncio.CancelledError:
                await self._say_offline(client)
                raise
            finally:
                watchdog.cancel()
                self.ready.clear()
                if pending:  # let frames already handed over reach the spool and be acked
                    await asyncio.wait(pending, timeout=2.0)

        await self.sessions.run(session)

    def _heard(self, message: aiomqtt.Message) -> None:
        now = time.monotonic()
        for pattern in self._last_by_filter:
            if message.topic.matches(pattern):
                self._last_by_filter[pattern] = now

    async def _watch_silence(self, client: aiomqtt.Client) -> None:
        """Resubscribe every topic filter that stayed silent for ``silence_timeout_s``."""
        timeout = self.cfg.silence_timeout_s
        if timeout is None:
            return
        while True:
            await asyncio.sleep(min(timeout / 4, 30.0))
            now = time.monotonic()
            for pattern, last in list(self._last_by_filter.items()):
                if now - last < timeout:
                    continue
                log.warning(
                    "event=mqtt_topic_silent source=%s topic=%r silent_s=%.0f action=resubscribe",
                    self.name,
                    pattern,
                    now - last,
                )
                await client.unsubscribe(pattern)
                await client.subscribe(pattern, qos=self.cfg.qos)
                self.count("resubscribed")
                self._last_by_filter[pattern] = now

    async def _say_offline(self, client: aiomqtt.Client) -> None:
        """A clean stop sends no last will: publish ``offline`` ourselves (best effort)."""
        if not self.availability:
            return
        with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
            async with asyncio.timeout(1.0):
                await client.publish(self.availability, b"offline", qos=1, retain=True)

    def _committed(
        self,
        client: aiomqtt.Client,
        message: aiomqtt.Message,
        window: asyncio.Semaphore,
        pending: set[asyncio.Future[None]],
        done: asyncio.Future[None],
    ) -> None:
        """Acknowledge a message once its frame is committed; never before, never on failure."""
        window.release()
        pending.discard(done)
        if done.cancelled() or done.exception() is not None:
            self.count("not_committed")  # unacknowledged: the broker will redeliver it
            return
        if ack(client, message):
            self.count("acked")
        else:
            self.count("ack_failed")

    def _frame(self, message: aiomqtt.Message) -> Frame:
        topic = message.topic.value
        payload = message.payload
        if isinstance(payload, bytes | bytearray):
            data = bytes(payload)
        elif isinstance(payload, str):
            data = payload.encode()
        elif payload is None:
            data = b""
        else:
            data = str(payload).encode()
        self.count("messages")
        hint = self.template.device_id(topic)
        if hint is None:
            self.count("unmatched_topic")
            if topic not in self._unmatched_logged and len(self._unmatched_logged) < 100:
                self._unmatched_logged.add(topic)
                log.warning(
                    "event=unmatched_topic source=%s topic=%r template=%r",
                    self.name,
                    topic,
                    self.template.template,
                )
        return Frame(data, f"mqtt:{topic}", self.clock(), hint)
