"""Readings a server refuses for their content are set aside, and every other reading is written.

InfluxDB answers a batch with points older than its retention policy, or
with a field whose type conflicts with what the measurement holds, with
HTTP 400 "partial write ... dropped=N". Retried as a whole, such a batch
would block its sink for good (every later reading waits behind it): this is
what a long outage followed by a replay of the spool looks like on a
database with a short retention policy. The fake scripts the answers; the
real ``influxd`` (Debian's 1.6) gives them for real.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import aiomqtt
import pytest

from htm_edge.collector.deadletter import DeadLetterStore
from htm_edge.collector.health import Health
from htm_edge.collector.reading import Reading
from htm_edge.collector.sinks import Sink, SinkError
from htm_edge.collector.sinks.http_errors import error_for_status
from htm_edge.gateway.daemon import Daemon
from htm_edge.gateway.settings import parse_config
from htm_edge.gateway.sink_writer import SinkWriter, dead_letter_readings
from tests.fakes.influx_http import Answer, FakeInflux
from tests.integration.test_influx_errors import KINDS, make, write
from tests.servers import Influxd, Mosquitto, http


@pytest.fixture
def fake() -> Iterator[FakeInflux]:
    with FakeInflux() as server:
        yield server


def _err(status: int, body: str) -> Exception:
    return error_for_status(status, body, None, sink="s", credentials="c", target="t")


def test_content_answers_are_rejections_and_say_how_many() -> None:
    old = _err(400, '{"error":"partial write: points beyond retention policy dropped=3"}')
    assert isinstance(old, SinkError) and old.rejected and old.rejected_count == 3
    assert not old.configuration
    conflict = _err(422, 'partial write: field type conflict: input field "s" ... dropped=1')
    assert isinstance(conflict, SinkError) and conflict.rejected and conflict.rejected_count == 1
    unparsable = _err(400, '{"error":"unable to parse \'x y\': invalid field format"}')
    assert isinstance(unparsable, SinkError) and unparsable.rejected
    assert unparsable.rejected_count is None
    request = _err(400, '{"error":"database name required"}')
    assert isinstance(request, SinkError) and request.configuration and not request.rejected


@pytest.mark.parametrize("kind", KINDS)
def test_both_sinks_report_a_partial_write_as_a_rejection(
    kind: str, fake: FakeInflux, tmp_path: Path
) -> None:
    body = b'{"error":"partial write: points beyond retention policy dropped=10"}'
    fake.answer(Answer(400, body=body))
    exc = write(make(kind, fake.url, tmp_path))
    assert isinstance(exc, SinkError) and exc.rejected and exc.rejected_count == 10


def _write_with_dead_letters(
    sink: Sink, readings: list[Reading], tmp: Path
) -> tuple[int, list[tuple[str, str, dict[str, object]]], Health]:
    """Write through the daemon's writer, dead letters into a real store: written, dead, health."""
    store = DeadLetterStore(tmp / "dead.sqlite")
    health = Health()
    writer = SinkWriter(
        sink, health, dead_letter=partial(dead_letter_readings, store), backoff_max_s=0.01
    )

    async def go() -> int:
        await sink.open()
        try:
            return await asyncio.wait_for(writer.write(readings), timeout=60)
        finally:
            await sink.close()

    try:
        written = asyncio.run(go())
    finally:
        store.close()
    with sqlite3.connect(tmp / "dead.sqlite") as db:
        rows = db.execute("SELECT source, error, payload FROM dead_letters ORDER BY id").fetchall()
    return written, [(src, err, json.loads(p)) for src, err, p in rows], health


def test_real_influxd_points_beyond_retention_are_dead_lettered_the_rest_written(
    influxd_shared: Influxd, tmp_path: Path
) -> None:
    influxd_shared.query("CREATE DATABASE short_rp WITH DURATION 1h")
    now = time.time()
    # a replay after an outage: every third reading is older than the 1 h retention policy
    readings = [
        Reading(f"D-{i % 4}", "s", float(i), now - (7200.0 + i if i % 3 == 0 else 600.0 - i))
        for i in range(60)
    ]
    sink = make("influxdb_v1", influxd_shared.url, tmp_path, database="short_rp")
    written, dead, health = _write_with_dead_letters(sink, readings, tmp_path)
    assert written == 40 and len(influxd_shared.rows("short_rp")) == 40
    assert sorted(d[2]["value"] for d in dead) == [float(i) for i in range(0, 60, 3)]
    assert all(src == f"sink:{sink.name}" and "retention" in err for src, err, _ in dead)
    assert health.get(f"sink.{sink.name}.rejected") == 20
    assert health.get(f"sink.{sink.name}.write_errors") == 0  # set aside, never retried


def test_real_influxd_field_type_conflict_sets_the_whole_chunk_aside_at_once(
    influxd_shared: Influxd, tmp_path: Path
) -> None:
    influxd_shared.query("CREATE DATABASE typed")
    now = time.time()
    line = f'telemetry,device_id=OTHER,modality=other s="text" {int((now - 60) * 1e9)}'
    assert http("POST", f"{influxd_shared.url}/write?db=typed", line.encode())[0] == 204
    conflicting = [Reading(f"D-{i}", "s", float(i), now - 30.0) for i in range(8)]
    sink = make("influxdb_v1", influxd_shared.url, tmp_path, database="typed")
    written, dead, health = _write_with_dead_letters(sink, conflicting, tmp_path)
    assert written == 0 and len(dead) == 8 and "field type conflict" in dead[0][1]
    assert health.get(f"sink.{sink.name}.splits") == 0  # dropped=8 of 8: no halving needed


def test_the_daemon_dead_letters_what_influxd_refuses_and_writes_the_rest(
    tmp_path: Path, mosquitto: Mosquitto, influxd_shared: Influxd
) -> None:
    """End to end: readings from before the retention policy do not stop the newer ones."""
    influxd_shared.query("CREATE DATABASE daemon_rp WITH DURATION 1h")
    cfg = parse_config(
        f"""
[gateway]
data_dir = "{tmp_path}"
[broker]
host = "{mosquitto.host}"
port = {mosquitto.port}
client_id = "rp-gateway"
[[sources]]
type = "mqtt"
topics = ["htm/rp/+/telemetry"]
[[sinks]]
type = "influxdb_v1"
name = "influx1"
url = "{influxd_shared.url}"
database = "daemon_rp"
flush_interval_s = 0.1
[[inventory.devices]]
device_id = "MR-01"
modality = "mri"
"""
    )
    now = time.time()
    stamps = [now - 3 * 3600.0 + i for i in range(10)] + [now - 120.0 + i for i in range(10)]

    async def publish() -> None:
        async with aiomqtt.Client(mosquitto.host, mosquitto.port, identifier="rp-dev") as client:
            for ts in stamps:
                doc = {"device_id": "MR-01", "ts": ts, "signals": {"helium_level_pct": 80.0}}
                await client.publish("htm/rp/MR-01/telemetry", json.dumps(doc), qos=1)

    async def go() -> dict[str, float]:
        daemon = Daemon(cfg)
        stop = asyncio.Event()
        run_task = asyncio.create_task(daemon.run(stop))
        try:
            await daemon.wait_connected(run_task, 30)
            await publish()
            assert await daemon.wait_received(len(stamps), 30) == len(stamps)
        finally:
            stop.set()
        return dict((await run_task).counters)

    counters = asyncio.run(go())
    assert counters["sink.influx1.written"] == 10 and counters["sink.influx1.rejected"] == 10
    assert len(influxd_shared.rows("daemon_rp")) == 10
    with sqlite3.connect(tmp_path / "dead_letters.sqlite") as db:
        rows = db.execute("SELECT source, payload FROM dead_letters").fetchall()
    assert sorted(json.loads(p)["ts"] for _, p in rows) == stamps[:10]
    assert {s for s, _ in rows} == {"sink:influx1"}
