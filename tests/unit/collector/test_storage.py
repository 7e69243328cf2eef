"""SQLite store and dead-letter store: durable, idempotent, nothing lost."""

from __future__ import annotations

import asyncio
import math
import sqlite3
from pathlib import Path

from htm_edge.collector.context import IngestContext
from htm_edge.collector.deadletter import DeadLetterStore
from htm_edge.collector.protocols.base import Frame
from htm_edge.collector.reading import Quality, Reading
from htm_edge.collector.sinks.sqlite import SqliteSink, SqliteSinkConfig, count_readings
from htm_edge.collector.sources.mqtt import TopicTemplate


def test_sqlite_sink_writes_and_replay_is_idempotent(tmp_path: Path) -> None:
    sink = SqliteSink(SqliteSinkConfig(), IngestContext(data_dir=tmp_path))
    batch = [
        Reading("MR-01", "helium_level_pct", 81.5, 1000.0, "%"),
        Reading("MR-01", "coldhead_2nd_stage_k", math.nan, 1000.0, "K", Quality.INVALID),
    ]

    async def go() -> None:
        await sink.open()
        await sink.write(batch)
        await sink.write(batch)  # replay after a reconnect
        await sink.close()

    asyncio.run(go())
    path = tmp_path / "readings.sqlite"
    assert count_readings(path) == 2
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT signal, value, unit, quality FROM readings ORDER BY signal"
        ).fetchall()
    assert rows == [
        ("coldhead_2nd_stage_k", None, "K", "invalid"),
        ("helium_level_pct", 81.5, "%", "good"),
    ]


def test_dead_letters_keep_payload_source_and_reason(tmp_path: Path) -> None:
    store = DeadLetterStore(tmp_path / "dl.sqlite")
    store.put(Frame(b"\xff garbage", "mqtt:htm/x/y/telemetry", 12.5), "not valid JSON")
    assert store.count() == 1
    store.close()
    with sqlite3.connect(tmp_path / "dl.sqlite") as db:
        row = db.execute("SELECT received_at, source, error, payload FROM dead_letters").fetchone()
    assert row == (12.5, "mqtt:htm/x/y/telemetry", "not valid JSON", b"\xff garbage")


def test_topic_template_finds_the_device_level() -> None:
    template = TopicTemplate("htm/{site}/{device_id}/telemetry")
    assert template.device_id("htm/site/IP-0101/telemetry") == "IP-0101"
    assert template.device_id("htm/site/_sim/ground_truth") is None
    assert template.device_id("telemetry") is None
    assert template.device_id("htm/site/IP-0101/telemetry/extra") is None
    flat = TopicTemplate("plant/+/{device_id}")
    assert flat.device_id("plant/a/PUMP-7") == "PUMP-7"
    assert not flat.matches("other/a/PUMP-7")
