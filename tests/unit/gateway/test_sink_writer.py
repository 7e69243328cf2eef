"""The sink writer acts on what a sink raises: split, Retry-After, configuration, backoff.

A scripted fake sink stands in for a server (its twin: the InfluxDB sinks
raise these errors for real answers, tests/integration/test_influx_errors.py);
``sleep`` is recorded instead of waited, so the tests take no time.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from htm_edge.collector.context import IngestContext
from htm_edge.collector.health import Health
from htm_edge.collector.protocols.base import Frame
from htm_edge.collector.protocols.json import JsonProtocol
from htm_edge.collector.reading import Reading
from htm_edge.collector.sinks import SinkError
from htm_edge.collector.sinks.sqlite import SqliteSinkConfig
from htm_edge.collector.spool import Spool, SpoolConfig
from htm_edge.gateway.consumers import Decoder, SpoolFollower
from htm_edge.gateway.sink_writer import SinkWriter
from tests.fakes.plugins import MemorySink

BASE_TS = time.time() - 3600.0  # recent, so the protocol accepts it

Script = Callable[[Sequence[Reading], int], Exception | None]


class ScriptedSink(MemorySink):
    """Stores like MemorySink, but asks ``script(batch, attempt)`` first what to raise."""

    def __init__(self, script: Script) -> None:
        super().__init__(SqliteSinkConfig(name="fake"), IngestContext(data_dir=Path(".")))
        self.script = script
        self.sizes: list[int] = []
        self.is_open = True

    async def write(self, batch: Sequence[Reading]) -> None:
        self.sizes.append(len(batch))
        problem = self.script(batch, len(self.sizes))
        if problem is not None:
            raise problem
        await super().write(batch)


def readings(n: int) -> list[Reading]:
    return [Reading("MR-01", "s", float(i), BASE_TS + i) for i in range(n)]


def run(sink: ScriptedSink, batch: list[Reading], **kw: Any) -> tuple[SinkWriter, list[float]]:
    waits: list[float] = []

    async def sleep(s: float) -> None:
        waits.append(s)

    writer = SinkWriter(sink, Health(), sleep=sleep, rng=random.Random(1), **kw)
    written = asyncio.run(writer.write(batch))
    assert written == len(sink.rows) and writer.unwritten == 0
    return writer, waits


def test_a_too_large_batch_is_written_in_halves_down_to_what_fits() -> None:
    sink = ScriptedSink(lambda b, _: SinkError("413", too_large=True) if len(b) > 3 else None)
    writer, waits = run(sink, readings(20))
    assert len(sink.rows) == 20 and waits == []
    assert sink.sizes == [20, 10, 5, 2, 3, 5, 2, 3, 10, 5, 2, 3, 5, 2, 3]
    assert writer.health.get("sink.fake.splits") == 7  # 20, 10, 5, 5, 10, 5, 5
    assert writer.health.get("sink.fake.write_errors") == 0


def test_order_is_kept_across_splits() -> None:
    sink = ScriptedSink(lambda b, _: SinkError("413", too_large=True) if len(b) > 1 else None)
    stored: list[float] = []
    original = sink.write

    async def record(batch: Sequence[Reading]) -> None:
        await original(batch)
        stored.extend(r.value for r in batch)

    sink.write = record  # type: ignore[method-assign]
    run(sink, readings(9))
    assert stored == [float(i) for i in range(9)]


def test_a_single_reading_the_server_refuses_is_dropped_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    poison = 7.0
    sink = ScriptedSink(
        lambda b, _: SinkError("413", too_large=True) if any(r.value == poison for r in b) else None
    )
    writer, _ = run(sink, readings(16))
    assert len(sink.rows) == 15 and all(r.value != poison for r in sink.rows.values())
    assert writer.health.get("sink.fake.dropped_too_large") == 1
    assert "event=sink_reading_set_aside sink=fake reason=too_large" in caplog.text


def test_retry_after_is_honoured_and_capped() -> None:
    answers = [SinkError("429", retry_after_s=12.5), SinkError("503", retry_after_s=1e9), None]
    sink = ScriptedSink(lambda _, attempt: answers[attempt - 1])
    writer, waits = run(sink, readings(5), retry_after_max_s=300.0)
    assert waits == [12.5, 300.0]
    assert len(sink.rows) == 5 and writer.health.get("sink.fake.write_errors") == 2


def test_plain_failures_back_off_exponentially_with_full_jitter() -> None:
    sink = ScriptedSink(lambda _, attempt: OSError("down") if attempt <= 12 else None)
    _, waits = run(sink, readings(3), backoff_max_s=30.0)
    ceilings = [min(30.0, 0.1 * 2**i) for i in range(12)]
    assert len(waits) == 12 and all(0 <= w <= c for w, c in zip(waits, ceilings, strict=True))
    assert max(waits[8:]) > 3.0  # it does grow


def test_a_configuration_error_is_logged_once_per_episode_and_retried_slowly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    bad = SinkError("HTTP 401: fix sinks[fake].token", configuration=True)
    answers = [bad] * 4 + [None, None] + [bad] * 4 + [None]
    sink = ScriptedSink(lambda _, attempt: answers[attempt - 1])
    waits: list[float] = []

    async def sleep(s: float) -> None:
        waits.append(s)

    writer = SinkWriter(sink, Health(), sleep=sleep, backoff_max_s=30.0)

    async def go() -> None:
        await writer.write(readings(4))  # 4 refusals, then fixed
        await writer.write(readings(2))  # fine
        await writer.write(readings(6))  # broken again: a second episode

    asyncio.run(go())
    assert len(sink.rows) == 6  # keyed by ts: the third batch includes the first two
    assert waits == [30.0] * 8
    assert writer.health.get("sink.fake.config_errors") == 2
    assert writer.health.get("sink.fake.write_errors") == 8
    assert caplog.text.count("event=sink_config_error ") == 2
    assert caplog.text.count("event=sink_config_error_cleared") == 2
    assert "fix sinks[fake].token" in caplog.text


def test_run_follows_the_spool_counts_what_was_written_and_moves_its_cursor(
    tmp_path: Path,
) -> None:
    sink = ScriptedSink(lambda b, _: SinkError("413", too_large=True) if len(b) > 4 else None)
    codec = JsonProtocol()

    async def go() -> tuple[SinkWriter, int]:
        spool = Spool(SpoolConfig(), tmp_path, ["sink:fake"])
        await spool.open()
        for r in readings(10):
            await spool.append("src", Frame(codec.encode([r]), "test", time.time()))
        await spool.append("src", Frame(b"not json", "test", time.time()))  # skipped
        health = Health()
        follower = SpoolFollower(spool, spool.cursor("sink:fake"))
        follower.final = spool.head
        writer = SinkWriter(
            sink, health, follower=follower, decoder=Decoder({"src": codec}, health)
        )
        await writer.run()
        await spool.close()
        again = Spool(SpoolConfig(), tmp_path, ["sink:fake"])
        await again.open()
        cursor = again.cursor("sink:fake")
        await again.close()
        return writer, cursor

    writer, cursor = asyncio.run(go())
    assert writer.health.get("sink.fake.written") == 10 and writer.unwritten == 0
    assert len(sink.rows) == 10 and cursor == 11  # past the malformed frame too


def test_stop_cancels_the_wait_between_retries() -> None:
    sink = ScriptedSink(lambda _, __: SinkError("401", configuration=True))
    writer = SinkWriter(sink, Health(), backoff_max_s=3600.0)

    async def go() -> int:
        task = asyncio.create_task(writer.write(readings(3)))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return writer.unwritten

    assert asyncio.run(go()) == 3  # still reported as unwritten at the stop


def test_rejected_readings_are_isolated_dead_lettered_and_the_rest_written() -> None:
    poison = {3.0, 4.0, 17.0}
    sink = ScriptedSink(
        lambda b, _: (
            SinkError("400 partial write", rejected=True) if poison & {r.value for r in b} else None
        )
    )
    kept: list[tuple[str, list[float], str]] = []

    async def dead_letter(name: str, chunk: Sequence[Reading], reason: str) -> None:
        kept.append((name, [r.value for r in chunk], reason))

    writer, waits = run(sink, readings(24), dead_letter=dead_letter)
    assert sorted(r.value for r in sink.rows.values()) == [
        float(i) for i in range(24) if i not in poison
    ]
    assert sorted(v for _, vs, _ in kept for v in vs) == sorted(poison)
    assert all(name == "fake" and "partial write" in why for name, _, why in kept)
    assert writer.health.get("sink.fake.rejected") == 3 and waits == []  # no backoff


def test_a_chunk_the_server_refused_whole_is_set_aside_without_halving() -> None:
    sink = ScriptedSink(lambda b, _: SinkError("400", rejected=True, rejected_count=len(b)))
    kept: list[int] = []

    async def dead_letter(name: str, chunk: Sequence[Reading], reason: str) -> None:
        kept.append(len(chunk))

    writer, _ = run(sink, readings(50), dead_letter=dead_letter)
    assert sink.sizes == [50] and kept == [50] and writer.health.get("sink.fake.splits") == 0


def test_a_dead_letter_payload_is_the_reading_as_json() -> None:
    import json

    from htm_edge.collector.reading import Quality
    from htm_edge.gateway.sink_writer import reading_json

    doc = json.loads(reading_json(Reading("MR-01", "s", float("nan"), 5.0, "K", Quality.INVALID)))
    assert doc == {
        "device_id": "MR-01", "signal": "s", "value": None, "ts": 5.0, "unit": "K",
        "quality": "invalid",
    }  # fmt: skip
