"""The hospital fleet against a real mosquitto: what it publishes decodes with the collector."""

from __future__ import annotations

import asyncio
import json

import aiomqtt

from htm_edge.collector.mqtt_client import BrokerConfig
from htm_edge.collector.protocols.base import Frame
from htm_edge.collector.protocols.json import JsonProtocol
from htm_edge.gateway.hospital_fleet import HospitalSource, build_engine
from htm_edge.gateway.publisher import ground_truth_topic, publish_fleet
from tests.servers import Mosquitto

START = 1_736_121_600.0


def test_fleet_publishes_decodable_telemetry_and_ground_truth(mosquitto: Mosquitto) -> None:
    async def run() -> tuple[list[tuple[str, bytes]], int, bytes]:
        broker = BrokerConfig(host=mosquitto.host, port=mosquitto.port)
        source = HospitalSource(build_engine(30, 2, 60.0, START))
        received: list[tuple[str, bytes]] = []
        async with aiomqtt.Client(mosquitto.host, mosquitto.port) as sub:
            await sub.subscribe("htm/#", qos=1)
            stats = await publish_fleet(
                source,
                broker,
                site="st-marys",
                speedup=600.0,
                duration_s=2.0,
                ground_truth=source.ground_truth_payload("st-marys"),
            )
            try:
                async with asyncio.timeout(5):
                    async for msg in sub.messages:
                        received.append((str(msg.topic), bytes(msg.payload)))  # type: ignore[arg-type]
                        if len(received) >= stats.messages + 1:
                            break
            except TimeoutError:
                pass
        truth = next(p for t, p in received if t == ground_truth_topic("st-marys"))
        return received, stats.messages, truth

    received, published, truth = asyncio.run(run())
    telemetry = [(t, p) for t, p in received if t.endswith("/telemetry")]
    assert published >= 20 * 30 * 0.95 and len(telemetry) == published
    codec = JsonProtocol()
    signals = set()
    for topic, payload in telemetry:
        device = topic.split("/")[2]
        readings = codec.parse(Frame(payload, f"mqtt:{topic}", 0.0, device))
        assert readings and all(r.device_id == device for r in readings)
        signals.update(r.signal for r in readings)
    assert {"in_use", "battery_voltage_v"} <= signals
    doc = json.loads(truth)
    assert doc["site"] == "st-marys" and isinstance(doc["records"], list)
