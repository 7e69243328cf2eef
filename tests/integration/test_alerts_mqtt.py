"""On a real mosquitto: the daemon publishes its work order with the ``mqtt`` notifier, and an
acknowledgement on the command topic reaches the store (recorded via mqtt) and is answered."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiomqtt

from htm_edge.gateway.daemon import Daemon
from htm_edge.gateway.settings import parse_config
from tests.servers import Mosquitto


def config(broker: Mosquitto, data_dir: Path) -> str:
    return f"""
[gateway]
site = "mq"
data_dir = "{data_dir}"
[broker]
host = "{broker.host}"
port = {broker.port}
client_id = "mq-gateway"
[[sources]]
type = "mqtt"
topics = ["htm/mq/+/telemetry"]
[[sinks]]
type = "sqlite"
[[alerting.rules]]
type = "threshold"
name = "o2-low"
signal = "o2_cell_mv"
below = 20.0
enter_count = 1
[[alerting.notifiers]]
type = "mqtt"
name = "mqtt"
[alerting.grouping]
group_wait_s = 0
[alerting.commands]
enabled = true
[[alerting.engineers]]
name = "Ana"
[[inventory.devices]]
device_id = "VT-9"
modality = "ventilator"
em_number = 20
"""


async def scenario(broker: Mosquitto, data_dir: Path) -> tuple[dict, dict, list[dict]]:  # type: ignore[type-arg]
    daemon = Daemon(parse_config(config(broker, data_dir)))
    stop = asyncio.Event()
    task = asyncio.create_task(daemon.run(stop))
    try:
        await daemon.wait_connected(task, 20)
        assert daemon.mqtt_link is not None
        await asyncio.wait_for(daemon.mqtt_link.ready.wait(), 20)
        async with aiomqtt.Client(broker.host, broker.port, identifier="engineer") as me:
            await me.subscribe("htm/mq/work_orders/#", qos=1)
            await me.subscribe("htm/mq/alerts/command_results", qos=1)
            now = time.time()
            for i in range(3):
                body = {"device_id": "VT-9", "ts": now - 60 + i, "signals": {"o2_cell_mv": 12.0}}
                await me.publish("htm/mq/VT-9/telemetry", json.dumps(body), qos=1)
            async with asyncio.timeout(30):
                async for message in me.messages:
                    if str(message.topic) == "htm/mq/work_orders/firing":
                        firing = json.loads(bytes(message.payload))  # type: ignore[arg-type]
                        break
            wo_id = firing["work_order"]["id"]
            command = {"action": "ack", "work_order": wo_id, "by": "Ana", "request_id": "r1"}
            await me.publish("htm/mq/alerts/commands", json.dumps(command), qos=1)
            async with asyncio.timeout(30):
                async for message in me.messages:
                    if str(message.topic) == "htm/mq/alerts/command_results":
                        answer = json.loads(bytes(message.payload))  # type: ignore[arg-type]
                        break
        life = daemon.dispatcher.lifecycle
        assert life is not None
        actions = life.store.query(
            "SELECT action, actor, via FROM actions WHERE work_order_id = ?", (wo_id,)
        )
    finally:
        stop.set()
    await task
    return firing, answer, actions


def test_work_order_on_mqtt_and_ack_on_the_command_topic(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    firing, answer, actions = asyncio.run(scenario(mosquitto, tmp_path))
    assert firing["kind"] == "firing" and firing["idempotency_key"].endswith("/firing")
    assert firing["work_order"]["device"]["device_id"] == "VT-9"
    assert firing["work_order"]["assignment"]["engineer"]["name"] == "Ana"
    assert answer == {"request_id": "r1", "ok": True, "work_order": firing["work_order"]["id"]}
    assert {"action": "acknowledged", "actor": "Ana", "via": "mqtt"} in actions
