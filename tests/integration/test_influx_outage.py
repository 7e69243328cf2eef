"""Each real server stopped for 30 s under load, then restarted: nothing lost, nothing twice.

A producer appends a steady stream (1,000 readings/s) to a spool for the
whole run, which the sink writer follows, as in the daemon; the server
(``influxd`` 1.6 for the v1 sink, ``victoria-metrics`` for the v2 sink) is
stopped with SIGTERM 3 s in, stays down 30 s and is restarted on the same port
and data directory. The writer retries with its
normal jittered backoff (capped at 2 s here instead of 30 s, to keep the test
short). Afterwards the server holds every reading exactly once, with its
value, and the writer has nothing left.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from htm_edge.collector.context import IngestContext
from htm_edge.collector.health import Health
from htm_edge.collector.protocols.base import Frame
from htm_edge.collector.protocols.json import JsonProtocol
from htm_edge.collector.reading import Reading
from htm_edge.collector.sinks import InfluxDbV1Sink, InfluxDbV2Sink, Sink
from htm_edge.collector.sinks.influxdb_v1 import InfluxDbV1SinkConfig
from htm_edge.collector.sinks.influxdb_v2 import InfluxDbV2SinkConfig
from htm_edge.collector.spool import Spool, SpoolConfig
from htm_edge.gateway.consumers import Decoder, SpoolFollower
from htm_edge.gateway.sink_writer import SinkWriter
from tests.servers import Influxd, ServerProcess, VictoriaMetrics

pytestmark = pytest.mark.slow

START = 1_767_225_600.0
DEVICES = [f"MR-{i:02d}" for i in range(5)]
SIGNALS = ["helium_level_pct", "cold_head_k", "compressor_a", "water_flow_lpm"]
TICK_S = 0.02  # 5 devices x 4 signals every 20 ms: 1,000 readings/s
OUTAGE_AT_S = 3.0
OUTAGE_S = 30.0
RUN_S = OUTAGE_AT_S + OUTAGE_S + 4.0

Key = tuple[str, str, int]  # device, signal, timestamp in ms


def tick(n: int) -> list[Reading]:
    ts = START + n * 0.01  # distinct milliseconds
    return [
        Reading(d, s, float(n * 100 + i * 10 + j), ts)
        for i, d in enumerate(DEVICES)
        for j, s in enumerate(SIGNALS)
    ]


async def run_outage(
    server: ServerProcess, sink: Sink, health: Health, workdir: Path
) -> dict[Key, float]:
    """Feed the writer through an outage; return what was fed."""
    codec = JsonProtocol()
    spool = Spool(SpoolConfig(), workdir / "spool", [SinkWriter.consumer_name(sink)], health)
    await spool.open()
    follower = SpoolFollower(spool, spool.cursor(SinkWriter.consumer_name(sink)))
    writer = SinkWriter(
        sink,
        health,
        follower=follower,
        decoder=Decoder({"feed": codec}, health),
        backoff_max_s=2.0,
    )
    await sink.open()
    fed: dict[Key, float] = {}
    task = asyncio.create_task(writer.run())
    loop = asyncio.get_running_loop()
    began = loop.time()
    stopped = restarted = False
    n = 0
    while (now := loop.time() - began) < RUN_S:
        if not stopped and now >= OUTAGE_AT_S:
            await asyncio.to_thread(server.stop)
            stopped, down_since = True, loop.time()
        if stopped and not restarted and loop.time() - down_since >= OUTAGE_S:
            await asyncio.to_thread(server.start)
            restarted = True
        batch = tick(n)
        n += 1
        fed.update({(r.device_id, r.signal, round(r.ts * 1000)): r.value for r in batch})
        for device in DEVICES:
            frame = codec.encode([r for r in batch if r.device_id == device])
            await spool.append("feed", Frame(frame, "test", time.time(), device))
        await asyncio.sleep(TICK_S)
    assert restarted
    follower.final = spool.head
    await asyncio.wait_for(task, timeout=60)
    await sink.close()
    await spool.close()
    assert writer.unwritten == 0 and writer.behind == 0
    return fed


def check(fed: dict[Key, float], stored: list[Key], values: Callable[[Key], float]) -> None:
    assert len(stored) == len(set(stored)), "a reading was stored twice"
    missing = fed.keys() - set(stored)
    assert not missing, f"{len(missing)} of {len(fed)} readings lost"
    assert set(stored) == fed.keys()
    assert all(values(k) == v for k, v in fed.items())


def test_influxd_outage_under_load(tmp_path: Path) -> None:
    server = Influxd(tmp_path / "influxd")
    server.start()
    try:
        health = Health()
        cfg = InfluxDbV1SinkConfig(
            name="v1", url=server.url, database="outage", create_database=True, timeout_s=5.0
        )
        sink = InfluxDbV1Sink(cfg, IngestContext(data_dir=tmp_path, health=health, site="east"))
        began = time.monotonic()
        fed = asyncio.run(run_outage(server, sink, health, tmp_path))
        assert time.monotonic() - began < RUN_S + 30
        rows = server.rows("outage")
        stored: dict[Key, float] = {}
        keys: list[Key] = []
        for row in rows:
            for signal in SIGNALS:
                if signal in row:
                    key = (row["device_id"], signal, row["time"] // 1_000_000)
                    keys.append(key)
                    stored[key] = row[signal]
        check(fed, keys, stored.__getitem__)
        assert health.get("sink.v1.write_errors") >= 3  # it did see the outage
        assert health.get("sink.v1.written") == len(fed) == health.get("sink.v1.points") * 4
    finally:
        server.stop()


def test_victoria_metrics_outage_under_load(tmp_path: Path) -> None:
    server = VictoriaMetrics(tmp_path / "vm")
    server.start()
    try:
        health = Health()
        cfg = InfluxDbV2SinkConfig(name="v2", url=server.url, org="o", bucket="b", timeout_s=5.0)
        sink = InfluxDbV2Sink(cfg, IngestContext(data_dir=tmp_path, health=health, site="east"))
        fed = asyncio.run(run_outage(server, sink, health, tmp_path))
        stored: dict[Key, float] = {}
        keys: list[Key] = []
        for series in server.export('{site="east"}'):
            labels = series["metric"]
            signal = labels["__name__"].removeprefix("telemetry_")
            for ts, value in zip(series["timestamps"], series["values"], strict=True):
                key = (labels["device_id"], signal, ts)
                keys.append(key)
                stored[key] = value
        check(fed, keys, stored.__getitem__)
        assert health.get("sink.v2.write_errors") >= 3
        assert health.get("sink.v2.written") == len(fed)
    finally:
        server.stop()
