"""The daemon, configured from TOML, writes MQTT telemetry into InfluxDB 1.x and the v2 API.

The whole path: mosquitto -> MQTT source -> JSON protocol -> one sink writer
per sink -> ``influxdb_v1`` on a real ``influxd`` and ``influxdb_v2`` on a real
``victoria-metrics``, with ``gateway.site`` and the inventory's modality as tags.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiomqtt
import pytest

from htm_edge.gateway.daemon import Daemon
from htm_edge.gateway.settings import parse_config
from tests.servers import Influxd, Mosquitto, VictoriaMetrics

START = 1_767_225_600.0
N = 40


async def publish(broker: Mosquitto) -> None:
    async with aiomqtt.Client(broker.host, broker.port, identifier="influx-device") as client:
        for i in range(N):
            doc = {
                "device_id": "MR-01",
                "ts": START + i * 0.25,
                "signals": {"helium_level_pct": 80 - i / 10, "cold_head_k": 4.0 + i / 100},
            }
            await client.publish("htm/west/MR-01/telemetry", json.dumps(doc), qos=1)


def test_daemon_writes_to_both_influx_sinks(
    tmp_path: Path,
    mosquitto: Mosquitto,
    influxd_shared: Influxd,
    victoria_shared: VictoriaMetrics,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTM_TEST_TOKEN", "unused-by-victoria-metrics")
    cfg = parse_config(
        f"""
[gateway]
site = "West Wing"
data_dir = "{tmp_path}"
[broker]
host = "{mosquitto.host}"
port = {mosquitto.port}
client_id = "influx-gateway"
[[sources]]
type = "mqtt"
topics = ["htm/west/+/telemetry"]
[[sinks]]
type = "influxdb_v1"
name = "influx1"
url = "{influxd_shared.url}"
database = "daemon"
create_database = true
flush_interval_s = 0.1
[[sinks]]
type = "influxdb_v2"
name = "influx2"
url = "{victoria_shared.url}"
org = "hospital"
bucket = "htm_edge"
token = {{ env = "HTM_TEST_TOKEN" }}
flush_interval_s = 0.1
[[inventory.devices]]
device_id = "MR-01"
modality = "mri"
"""
    )

    async def go() -> None:
        daemon = Daemon(cfg)
        stop = asyncio.Event()
        run_task = asyncio.create_task(daemon.run(stop))
        try:
            await daemon.wait_connected(run_task, 30)
            await publish(mosquitto)
            assert await daemon.wait_received(N, 30) == N
        finally:
            stop.set()
        summary = await run_task
        assert summary.counters["sink.influx1.written"] == 2 * N
        assert summary.counters["sink.influx2.written"] == 2 * N

    asyncio.run(go())
    rows = influxd_shared.rows("daemon")
    assert len(rows) == N
    assert {(r["site"], r["device_id"], r["modality"]) for r in rows} == {
        ("West Wing", "MR-01", "mri")
    }
    assert rows[3]["time"] == 1_767_225_600_750_000_000 and rows[3]["cold_head_k"] == 4.03
    series = victoria_shared.export('{site="West Wing"}')
    assert {s["metric"]["__name__"] for s in series} == {
        "telemetry_helium_level_pct",
        "telemetry_cold_head_k",
    }
    assert all(len(s["values"]) == N and s["metric"]["modality"] == "mri" for s in series)
