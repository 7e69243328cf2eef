"""The ``mqtt`` notifier: the notification as JSON on a broker topic (QoS 1).

Published through the gateway's MQTT client (``AlertingContext.publish``,
built on the one MQTT client module), on ``topic`` with ``{site}``,
``{kind}`` and ``{device_id}`` filled in; the payload is the notification's
JSON message with its ``idempotency_key``. A publish that the broker did not
acknowledge raises :class:`AlertingError` and the outbox retries it.

Examples
--------
>>> MqttNotifierConfig().topic
'htm/{site}/work_orders/{kind}'
"""

from __future__ import annotations

import json
import time
from typing import ClassVar, Literal, Self

from pydantic import Field

from htm_edge.alerting.context import AlertingContext, Publish
from htm_edge.alerting.errors import AlertingError
from htm_edge.alerting.notification import Notification
from htm_edge.alerting.notifiers.base import Notifier
from htm_edge.config.base import PluginConfig

__all__ = ["MqttNotifier", "MqttNotifierConfig"]


class MqttNotifierConfig(PluginConfig):
    """Publish each notification as JSON on the gateway's broker."""

    type: Literal["mqtt"] = "mqtt"
    role: ClassVar[str] = "notifier"
    name: str = "mqtt"
    topic: str = Field(default="htm/{site}/work_orders/{kind}", min_length=1)
    qos: Literal[0, 1, 2] = 1


class MqttNotifier(Notifier):
    """Deliver notifications to an MQTT topic through the gateway's publisher."""

    type_name: ClassVar[str] = "mqtt"
    config_model: ClassVar[type[PluginConfig]] = MqttNotifierConfig

    def __init__(self, cfg: MqttNotifierConfig, publish: Publish | None, site: str = "") -> None:
        super().__init__(cfg.name)
        self.cfg = cfg
        self.publish = publish
        self.site = site

    @classmethod
    def from_config(cls, cfg: MqttNotifierConfig, ctx: AlertingContext | None = None) -> Self:
        """Build the notifier on the context's publisher."""
        return cls(cfg, ctx.publish if ctx else None, ctx.site if ctx else "")

    def topic_for(self, note: Notification) -> str:
        """The topic ``note`` goes to."""
        device = note.document.get("device", {}).get("device_id", "")
        site = note.document.get("location", {}).get("site") or note.document.get("site")
        return self.cfg.topic.format(site=site or self.site, kind=note.kind, device_id=device)

    async def send(self, note: Notification) -> None:
        """Publish the notification; raise ``AlertingError`` when the broker did not take it."""
        if self.publish is None:
            raise AlertingError(f"notifier {self.name!r}: no MQTT connection was given")
        payload = json.dumps(note.message(round(time.time(), 3)), sort_keys=True).encode()
        try:
            await self.publish(self.topic_for(note), payload, self.cfg.qos)
        except Exception as exc:
            raise AlertingError(f"notifier {self.name!r}: publish failed: {exc}") from exc
        self.sent += 1
