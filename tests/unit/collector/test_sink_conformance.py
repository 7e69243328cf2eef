"""Conformance suite of the ``Sink`` role, run on every registered sink and on the test fake.

The InfluxDB sinks run against real servers (Debian's ``influxd`` and
``victoria-metrics``, one per session, spawned on loopback ports); each test
keeps apart by database name or ``site`` tag.

* registry key = module name = config ``type``;
* a write is stored; replaying it stores nothing twice (idempotent);
* a failure is raised to the caller, never swallowed (write before open,
  write after close, a store that cannot be opened);
* ``close`` waits for a write in flight instead of pulling the connection
  from under it (that crashed the interpreter under load).

The in-memory fake that daemon tests use passes the same suite (its twin).
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from htm_edge.collector.context import IngestContext
from htm_edge.collector.reading import Quality, Reading
from htm_edge.collector.sinks import SINKS, Sink
from htm_edge.collector.sinks.influxdb_v1 import InfluxDbV1SinkConfig
from htm_edge.collector.sinks.influxdb_v2 import InfluxDbV2SinkConfig
from htm_edge.collector.sinks.sqlite import SqliteSink, SqliteSinkConfig, count_readings
from tests.fakes.plugins import MemorySink
from tests.servers import Influxd, VictoriaMetrics

NOW = 1_767_225_600.0
TAGS = {"time", "device_id", "modality", "site"}


@dataclass
class Built:
    """A sink under test, how to count the readings it stored, and what it stores."""

    sink: Sink
    count: Callable[[], int]
    #: True when a NaN reading is stored (SQLite: as NULL); line protocol omits it
    stores_invalid: bool = True


def _sqlite(tmp: Path, request: pytest.FixtureRequest) -> Built:
    sink = SINKS.build(SqliteSinkConfig(name="conf"), IngestContext(data_dir=tmp))
    return Built(sink, lambda: count_readings(tmp / "readings.sqlite"))


def _memory(tmp: Path, request: pytest.FixtureRequest) -> Built:
    sink = MemorySink(SqliteSinkConfig(name="conf"), IngestContext(data_dir=tmp))
    return Built(sink, lambda: len(sink.rows))


def _influxdb_v1(tmp: Path, request: pytest.FixtureRequest) -> Built:
    server: Influxd = request.getfixturevalue("influxd_shared")
    db = f"conf_{uuid.uuid4().hex[:8]}"
    cfg = InfluxDbV1SinkConfig(name="conf", url=server.url, database=db, create_database=True)
    sink = SINKS.build(cfg, IngestContext(data_dir=tmp, site="conformance"))

    def count() -> int:
        return sum(len(set(row) - TAGS) for row in server.rows(db))

    return Built(sink, count, stores_invalid=False)


def _influxdb_v2(tmp: Path, request: pytest.FixtureRequest) -> Built:
    server: VictoriaMetrics = request.getfixturevalue("victoria_shared")
    site = f"conf-{uuid.uuid4().hex[:8]}"
    cfg = InfluxDbV2SinkConfig(name="conf", url=server.url, org="o", bucket="b")
    sink = SINKS.build(cfg, IngestContext(data_dir=tmp, site=site))

    def count() -> int:
        return sum(len(s["values"]) for s in server.export(f'{{site="{site}"}}'))

    return Built(sink, count, stores_invalid=False)


#: how to build each sink under test and count what it stored
HARNESSES: dict[str, Callable[[Path, pytest.FixtureRequest], Built]] = {
    "sqlite": _sqlite,
    "memory (test fake)": _memory,
    "influxdb_v1": _influxdb_v1,
    "influxdb_v2": _influxdb_v2,
}
REGISTERED = {"sqlite", "influxdb_v1", "influxdb_v2"}


def batch(n: int = 50) -> list[Reading]:
    out = [Reading("MR-01", f"s{i % 5}", float(i), NOW + i // 5, "u") for i in range(n)]
    out.append(Reading("MR-01", "gap", math.nan, NOW, "u", Quality.INVALID))
    return out


PARAMS = pytest.mark.parametrize("name", sorted(HARNESSES))


def test_every_registered_sink_has_a_harness() -> None:
    assert set(SINKS) == REGISTERED <= set(HARNESSES)
    for type_name in SINKS:
        cls = SINKS[type_name]
        assert cls.type_name == type_name == cls.__module__.rsplit(".", 1)[1]
        assert cls.config_model().type == type_name


@pytest.fixture
def built(name: str, tmp_path: Path, request: pytest.FixtureRequest) -> Built:
    return HARNESSES[name](tmp_path, request)


@PARAMS
def test_writes_are_stored_and_replays_are_idempotent(built: Built) -> None:
    sink = built.sink

    async def go() -> None:
        await sink.open()
        await sink.write(batch())
        await sink.write(batch())  # a retry after a timeout or a crash
        await sink.write(batch()[:10])
        await sink.close()

    asyncio.run(go())
    assert built.count() == (51 if built.stores_invalid else 50)


@PARAMS
def test_writing_before_open_or_after_close_raises(built: Built) -> None:
    sink = built.sink

    async def go() -> None:
        with pytest.raises(RuntimeError):
            await sink.write(batch(1))
        await sink.open()
        await sink.close()
        with pytest.raises(RuntimeError):
            await sink.write(batch(1))

    asyncio.run(go())


def test_sqlite_open_failure_is_raised(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    sink = SqliteSink(SqliteSinkConfig(path=blocker / "readings.sqlite"), IngestContext(tmp_path))
    with pytest.raises(OSError):
        asyncio.run(sink.open())


@PARAMS
def test_close_waits_for_writes_in_flight(built: Built) -> None:
    """Many concurrent writes and a close: no crash, every started write completes or raises."""
    sink = built.sink

    async def go() -> list[BaseException | None]:
        await sink.open()
        writes = [asyncio.ensure_future(sink.write(batch(500))) for _ in range(20)]
        await asyncio.sleep(0)
        await sink.close()
        return await asyncio.gather(*writes, return_exceptions=True)

    results = asyncio.run(go())
    for result in results:
        assert result is None or isinstance(result, RuntimeError), result
    assert built.count() in (0, 501 if built.stores_invalid else 500)
    assert any(r is None for r in results) or all(isinstance(r, RuntimeError) for r in results)


def test_store_files_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    sink = SqliteSink(SqliteSinkConfig(), IngestContext(data_dir=data))

    async def go() -> None:
        await sink.open()
        await sink.write(batch())
        await sink.close()

    asyncio.run(go())
    assert data.stat().st_mode & 0o777 == 0o700
    assert (data / "readings.sqlite").stat().st_mode & 0o777 == 0o600


def test_an_existing_store_with_a_loose_mode_is_tightened(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    for name in ("readings.sqlite", "readings.sqlite-wal"):
        (data / name).touch(mode=0o644)
    (data / "readings.sqlite").chmod(0o644)
    (data / "readings.sqlite-wal").chmod(0o644)
    sink = SqliteSink(SqliteSinkConfig(), IngestContext(data_dir=data))
    asyncio.run(sink.open())
    asyncio.run(sink.close())
    assert data.stat().st_mode & 0o777 == 0o700
    assert (data / "readings.sqlite").stat().st_mode & 0o777 == 0o600
