"""Alerting on the broker: the ``mqtt`` notifier's publisher and the command topic.

One MQTT session of its own (client id ``<broker.client_id>-alerts``, through
:class:`htm_edge.collector.mqtt_client.MqttSessions`, reconnecting with
backoff) that

* publishes notifications for the ``mqtt`` notifier (:meth:`MqttLink.publish`
  raises while the broker is away, so the outbox keeps them), and
* when ``alerting.commands.enabled``, subscribes to the command topic and
  applies each JSON command to the alert store, recorded ``via = "mqtt"``::

      {"action": "ack", "work_order": "WO-MR-01-1796110560", "by": "Dana Okafor"}
      {"action": "resolve", "work_order": "WO-...", "by": "Dana Okafor",
       "outcome": "confirmed", "part": "cold head", "note": ""}
      {"action": "silence", "by": "Dana Okafor", "duration_s": 14400,
       "device_id": "MR-02", "comment": "maintenance"}

  Each gets an answer on the result topic: ``{"request_id", "ok", "error",
  "work_order"}`` (``request_id`` echoed when the command had one).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

import aiomqtt

from htm_edge.alerting.actions import acknowledge, resolve, silence
from htm_edge.alerting.config import AlertingConfig
from htm_edge.alerting.errors import AlertingError
from htm_edge.alerting.lifecycle import AlertLifecycle
from htm_edge.collector.health import Health
from htm_edge.collector.mqtt_client import BrokerConfig, MqttSessions

__all__ = ["MqttLink", "apply_command"]

log = logging.getLogger(__name__)


def apply_command(life: AlertLifecycle, command: dict[str, Any]) -> dict[str, Any]:
    """Apply one command (see the module docstring); return the answer."""
    answer: dict[str, Any] = {"request_id": command.get("request_id"), "ok": False}
    try:
        action, by = command.get("action"), command.get("by")
        if not isinstance(by, str) or not by:
            raise AlertingError("a command needs 'by': who gives it")
        if action == "ack":
            doc = acknowledge(
                life, str(command["work_order"]), by, via="mqtt", note=str(command.get("note", ""))
            )
            answer["work_order"] = doc["id"]
        elif action == "resolve":
            doc = resolve(
                life,
                str(command["work_order"]),
                str(command.get("outcome")),
                by,
                part=str(command.get("part", "")),
                note=str(command.get("note", "")),
                via="mqtt",
            )
            answer["work_order"] = doc["id"]
        elif action == "silence":
            answer["silence"] = silence(
                life,
                author=by,
                duration_s=float(command.get("duration_s", 0)),
                device_id=command.get("device_id"),
                site=command.get("site"),
                modality=command.get("modality"),
                failure_mode=command.get("failure_mode"),
                rule=command.get("rule"),
                comment=str(command.get("comment", "")),
                via="mqtt",
            )
        else:
            raise AlertingError(f"unknown action {action!r}; use ack, resolve or silence")
        answer["ok"] = True
    except (AlertingError, KeyError, TypeError, ValueError) as exc:
        answer["error"] = str(exc)
    return answer


class MqttLink:
    """The alerting MQTT session: publishing and, optionally, the command topic.

    Parameters
    ----------
    broker, password:
        The gateway's broker settings and resolved password.
    cfg:
        The ``[alerting]`` section (command topics).
    site:
        Fills ``{site}`` in the topics.
    lifecycle:
        Returns the open lifecycle (the daemon opens the store at start).
    """

    def __init__(
        self,
        broker: BrokerConfig,
        password: str | None,
        cfg: AlertingConfig,
        site: str,
        health: Health,
        lifecycle: Callable[[], AlertLifecycle | None] = lambda: None,
    ) -> None:
        self.cfg = cfg
        self.site = site
        self.health = health
        self.lifecycle = lifecycle
        self.sessions = MqttSessions(
            broker,
            client_id=f"{broker.client_id}-alerts"[:64],
            password=password,
            clean_session=True,
            label="link=alerts",
        )
        self._client: aiomqtt.Client | None = None
        self.ready = asyncio.Event()

    async def publish(self, topic: str, payload: bytes, qos: int) -> None:
        """Publish on the current session; raise ``ConnectionError`` when there is none."""
        client = self._client
        if client is None:
            raise ConnectionError("not connected to the MQTT broker")
        await client.publish(topic, payload, qos=qos)

    async def run(self) -> None:
        """Hold the session (reconnecting) until cancelled."""
        commands = self.cfg.commands

        async def session(client: aiomqtt.Client) -> None:
            self._client = client
            self.ready.set()
            try:
                if not commands.enabled:
                    await asyncio.Event().wait()
                await client.subscribe(commands.topic.format(site=self.site), qos=1)
                async for message in client.messages:
                    await self._command(client, message)
            finally:
                self._client = None
                self.ready.clear()

        await self.sessions.run(session)

    async def _command(self, client: aiomqtt.Client, message: aiomqtt.Message) -> None:
        self.health.inc("alerts.commands")
        life = self.lifecycle()
        try:
            command = json.loads(bytes(message.payload))
            if not isinstance(command, dict):
                raise ValueError("a command is a JSON object")
        except (ValueError, TypeError) as exc:
            answer: dict[str, Any] = {"ok": False, "error": f"not a JSON command: {exc}"}
        else:
            if life is None:
                answer = {"ok": False, "error": "the alert store is not open yet"}
            else:
                answer = await asyncio.to_thread(apply_command, life, command)
        if not answer["ok"]:
            self.health.inc("alerts.commands_refused")
            log.warning("event=alert_command_refused error=%r", answer.get("error"))
        topic = self.cfg.commands.result_topic.format(site=self.site)
        await client.publish(topic, json.dumps(answer).encode(), qos=1)
