"""Publisher argument checks and failure path, and the ``simulate`` CLI glue (no broker needed)."""

from __future__ import annotations

import argparse
import asyncio
import socket

import pytest

from htm_edge.collector.errors import CollectorError
from htm_edge.collector.mqtt_client import BrokerConfig
from htm_edge.config.inventory import Device, InventoryConfig, Modality
from htm_edge.gateway.publisher import ground_truth_topic, publish_fleet, telemetry_topic
from htm_edge.gateway.settings import HtmConfig
from htm_edge.gateway.simulate import add_simulate_arguments, run_simulate
from htm_edge.simulators.config import SimulatedDeviceConfig, SimulationConfig
from htm_edge.simulators.fleet import Fleet

START = 1_767_225_600.0


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def small_fleet() -> Fleet:
    return Fleet(
        [(Device(device_id="CT-1", modality=Modality.CT), None)],
        seed=1,
        sample_period_s=60.0,
        start_ts=START,
    )


def test_topics() -> None:
    assert telemetry_topic("site-a", "MR-01") == "htm/site-a/MR-01/telemetry"
    assert ground_truth_topic("site-a") == "htm/site-a/_sim/ground_truth"
    for bad in ("", "a/b", "a+", "#"):
        with pytest.raises(ValueError, match="site"):
            telemetry_topic(bad, "MR-01")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"speedup": 0.0}, "speedup"), ({"qos": 3}, "qos"), ({"duration_s": -1.0}, "duration_s")],
)
def test_publish_rejects_bad_arguments(kwargs: dict[str, float], match: str) -> None:
    args: dict[str, object] = {"site": "s", "speedup": 60.0, "duration_s": 1.0}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        asyncio.run(publish_fleet(small_fleet(), BrokerConfig(port=1), **args))  # type: ignore[arg-type]


def test_publish_gives_up_after_max_attempts() -> None:
    port = closed_port()
    broker = BrokerConfig(port=port, reconnect_min_s=0.01, reconnect_max_s=0.02)
    with pytest.raises(CollectorError, match=rf"127.0.0.1:{port} after 2 attempts"):
        asyncio.run(
            publish_fleet(
                small_fleet(), broker, site="s", speedup=60.0, duration_s=1.0, max_attempts=2
            )
        )


def test_publish_stops_while_waiting_to_reconnect() -> None:
    async def go() -> int:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.3, stop.set)
        stats = await publish_fleet(
            small_fleet(),
            BrokerConfig(port=closed_port(), reconnect_min_s=0.05, reconnect_max_s=0.1),
            site="s",
            speedup=60.0,
            duration_s=None,
            stop=stop,
        )
        assert stats.messages == 0
        return stats.reconnects

    assert asyncio.run(asyncio.wait_for(go(), 10)) >= 1


def cfg(port: int) -> HtmConfig:
    return HtmConfig(
        broker=BrokerConfig(port=port, reconnect_min_s=0.01, reconnect_max_s=0.02),
        inventory=InventoryConfig(devices=[Device(device_id="CT-1", modality=Modality.CT)]),
        simulation=SimulationConfig(devices=[SimulatedDeviceConfig(device_id="CT-1")]),
    )


def test_cli_arguments_default_to_none() -> None:
    parser = argparse.ArgumentParser()
    add_simulate_arguments(parser)
    args = parser.parse_args([])
    assert (args.host, args.port, args.duration, args.speedup, args.seed) == (None,) * 5
    args = parser.parse_args(
        ["--host", "h", "--port", "1884", "--duration", "5", "--speedup", "60", "--seed", "3"]
    )
    assert (args.host, args.port, args.duration, args.speedup, args.seed) == (
        "h",
        1884,
        5.0,
        60.0,
        3,
    )


def test_cli_reports_an_unreachable_broker(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    add_simulate_arguments(parser)
    port = closed_port()
    args = parser.parse_args(["--duration", "1"])
    assert asyncio.run(run_simulate(args, cfg(port))) == 1
    assert f"127.0.0.1:{port}" in capsys.readouterr().err


def test_cli_reports_an_empty_fleet(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    add_simulate_arguments(parser)
    empty = HtmConfig()
    assert asyncio.run(run_simulate(parser.parse_args([]), empty)) == 2
    assert "simulation.devices is empty" in capsys.readouterr().err
