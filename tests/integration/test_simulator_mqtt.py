"""The simulator publishes to a real mosquitto what the fleet produces, and survives a restart."""

from __future__ import annotations

import asyncio
import math

import aiomqtt

from htm_edge.collector.mqtt_client import BrokerConfig
from htm_edge.collector.protocols.base import Frame
from htm_edge.collector.protocols.json import JsonProtocol
from htm_edge.collector.reading import Reading
from htm_edge.config.inventory import Device, Modality
from htm_edge.gateway.publisher import publish_fleet
from htm_edge.simulators.config import FaultConfig
from htm_edge.simulators.fleet import Fleet
from htm_edge.simulators.ground_truth import parse_ground_truth
from tests.servers import Mosquitto

START = 1_767_225_600.0
SITE = "test-site"


def make_fleet() -> Fleet:
    devices: list[tuple[Device, FaultConfig | None]] = [
        (
            Device(device_id="MR-01", modality=Modality.MRI),
            FaultConfig(failure_mode="MR.COLDHEAD.DEGRADATION", start_s=3600, duration_s=7200),
        ),
        (Device(device_id="CT-01", modality=Modality.CT), None),
        (Device(device_id="PUMP-01", modality=Modality.INFUSION_PUMP), None),
        (Device(device_id="VENT-01", modality=Modality.VENTILATOR), None),
    ]
    return Fleet(devices, seed=5, sample_period_s=60.0, start_ts=START)


def expected(rounds: int) -> dict[tuple[str, float], list[Reading]]:
    fleet = make_fleet()
    out = {}
    for _ in range(rounds):
        for readings in fleet.step():
            if readings:
                out[(readings[0].device_id, readings[0].ts)] = readings
    return out


def same(a: list[Reading], b: list[Reading]) -> bool:
    def key(r: Reading) -> tuple[object, ...]:
        v = None if math.isnan(r.value) else r.value
        return (r.device_id, r.signal, r.ts, r.unit, r.quality, v)

    return [key(r) for r in a] == [key(r) for r in b]


async def collect(port: int, want: int, ready: asyncio.Event, into: list[aiomqtt.Message]) -> None:
    async with aiomqtt.Client("127.0.0.1", port) as client:
        await client.subscribe(f"htm/{SITE}/+/telemetry", qos=1)
        ready.set()
        async for message in client.messages:
            into.append(message)
            if len(into) >= want:
                return


def decode(messages: list[aiomqtt.Message]) -> dict[tuple[str, float], list[Reading]]:
    codec = JsonProtocol()
    got = {}
    for m in messages:
        parts = m.topic.value.split("/")
        assert parts[0] == "htm" and parts[1] == SITE and parts[3] == "telemetry"
        assert isinstance(m.payload, bytes)
        readings = codec.parse(Frame(m.payload, f"mqtt:{m.topic.value}", 0.0, parts[2]))
        got[(readings[0].device_id, readings[0].ts)] = readings
    return got


async def retained_truth(port: int) -> aiomqtt.Message:
    async with aiomqtt.Client("127.0.0.1", port) as client:
        await client.subscribe(f"htm/{SITE}/_sim/ground_truth", qos=1)
        async for message in client.messages:
            return message
    raise AssertionError("no ground truth received")


def test_published_messages_match_the_fleet(mosquitto: Mosquitto) -> None:
    speedup, duration = 60_000.0, 0.2  # 200 rounds of 60 simulated seconds
    rounds = int(duration * speedup / 60.0)
    want = expected(rounds)

    async def scenario() -> None:
        received: list[aiomqtt.Message] = []
        ready = asyncio.Event()
        sub = asyncio.create_task(collect(mosquitto.port, len(want), ready, received))
        await asyncio.wait_for(ready.wait(), 10)
        fleet = make_fleet()
        stats = await asyncio.wait_for(
            publish_fleet(
                fleet,
                BrokerConfig(port=mosquitto.port),
                site=SITE,
                speedup=speedup,
                duration_s=duration,
            ),
            30,
        )
        assert stats.samples == rounds
        assert stats.messages == len(want)
        assert stats.gaps == rounds * 4 - len(want)
        assert stats.readings == sum(len(v) for v in want.values())
        assert stats.reconnects == 0
        await asyncio.wait_for(sub, 20)
        got = decode(received)
        assert len(received) == len(want) == len(got)
        assert got.keys() == want.keys()
        assert all(same(got[k], want[k]) for k in want)

        truth = await asyncio.wait_for(retained_truth(mosquitto.port), 10)
        assert truth.retain
        assert isinstance(truth.payload, bytes)
        faults, _ = parse_ground_truth(truth.payload)
        assert faults == fleet.ground_truth()

    asyncio.run(scenario())


def test_publisher_survives_a_broker_restart(mosquitto: Mosquitto) -> None:
    speedup, duration = 600.0, 1.5  # 15 rounds, one per 0.1 s
    rounds = int(duration * speedup / 60.0)
    want = expected(rounds)

    async def scenario() -> None:
        task = asyncio.create_task(
            publish_fleet(
                make_fleet(),
                BrokerConfig(port=mosquitto.port, reconnect_min_s=0.05, reconnect_max_s=0.2),
                site=SITE,
                speedup=speedup,
                duration_s=duration,
                publish_timeout_s=1.0,
            )
        )
        await asyncio.sleep(0.5)
        await asyncio.to_thread(mosquitto.stop)
        await asyncio.sleep(0.5)
        await asyncio.to_thread(mosquitto.start)
        stats = await asyncio.wait_for(task, 30)
        assert stats.reconnects >= 1
        assert stats.samples == rounds
        assert stats.messages == len(want)

    asyncio.run(scenario())
