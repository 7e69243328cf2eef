"""Points read back exactly from the real servers: values, tags, timestamps, names.

InfluxDB 1.6 (``influxd``) is read through ``/query`` with nanosecond epochs;
VictoriaMetrics, which stores milliseconds and names a series
``<measurement>_<field>``, through ``/api/v1/export``.
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

from htm_edge.collector.context import IngestContext
from htm_edge.collector.health import Health
from htm_edge.collector.line_protocol import to_ns
from htm_edge.collector.reading import Quality, Reading
from htm_edge.collector.sinks import InfluxDbV1Sink, InfluxDbV2Sink, Sink
from htm_edge.collector.sinks.influxdb_v1 import InfluxDbV1SinkConfig
from htm_edge.collector.sinks.influxdb_v2 import InfluxDbV2SinkConfig
from htm_edge.config.inventory import Device, Modality
from tests.servers import Influxd, VictoriaMetrics

NOW = 1_767_225_600.0
DEVICES = {"MR-01": Device(device_id="MR-01", modality=Modality.MRI)}
#: what a 1.x name may hold: everything but a backslash before , = space or at the end
SITE_V1 = 'St Mary\'s, Süd=1 "A" 😀 C:\\x'
SITE_V2 = 'St Mary\'s, Süd=1 "A" 😀 C:\\x \\, \\= end\\'
#: InfluxDB stores float64 bits: extremes, subnormals, -0.0 and 17-digit values survive
VALUES = [71.5, -0.0, 1e-300, 5e-324, 1.7976931348623157e308, 0.1 + 0.2, 123456.789, -4.25e7]
#: VictoriaMetrics stores decimals (about 15 significant digits, one exponent per block,
#: so 1e308 beside 71.5 turns 71.5 into 0): telemetry-sized values
VALUES_VM = [71.5, 4.2, -12.75, 123456.789, 0.001, 1013.25, 37.0, -4.25e7]


def readings(step_s: float, values: list[float] = VALUES) -> list[Reading]:
    out = []
    for i, value in enumerate(values):
        ts = NOW + i * step_s
        out.append(Reading("MR-01", "helium_level_pct", value, ts, "%"))
        out.append(Reading("MR-01", "cold_head:temp.k-1", float(i), ts, "K"))
        out.append(Reading("X-9", "tube_temp_c", value, ts))
    out.append(Reading("MR-01", "gap", math.nan, NOW, quality=Quality.INVALID))
    return out


def write_twice(sink: Sink, batch: list[Reading]) -> None:
    async def go() -> None:
        await sink.open()
        await sink.write(batch)
        await sink.write(batch)  # a replay stores nothing twice
        await sink.close()

    asyncio.run(go())


def test_influxdb_v1_reads_back_exactly(influxd_shared: Influxd, tmp_path: Path) -> None:
    batch = readings(step_s=0.000_001)  # microsecond resolution
    health = Health()
    ctx = IngestContext(data_dir=tmp_path, health=health, site=SITE_V1, devices=DEVICES)
    cfg = InfluxDbV1SinkConfig(
        url=influxd_shared.url,
        database="readback",
        create_database=True,
        measurement="tele metry,1",
    )
    write_twice(InfluxDbV1Sink(cfg, ctx), batch)
    rows = influxd_shared.rows("readback", "tele metry,1")
    assert len(rows) == 2 * len(VALUES)
    got: dict[tuple[str, str, int], Any] = {}
    for row in rows:
        assert row["site"] == SITE_V1
        assert row["modality"] == ("mri" if row["device_id"] == "MR-01" else "other")
        for key, value in row.items():
            if key not in {"time", "site", "device_id", "modality"}:
                got[(row["device_id"], key, row["time"])] = value
    expected = {(r.device_id, r.signal, to_ns(r.ts)): r.value for r in batch if r.signal != "gap"}
    assert got == expected
    for r in batch[:-1]:  # the float read back from the integer is the float written
        assert to_ns(r.ts) / 10**9 == r.ts
    assert math.copysign(1, got[("MR-01", "helium_level_pct", to_ns(NOW + 0.000_001))]) == -1
    assert health.get("sink.influxdb.fields_omitted") == 2  # the NaN, once per write


def test_influxdb_v1_precision_ms(influxd_shared: Influxd, tmp_path: Path) -> None:
    batch = [Reading("MR-01", "s", float(i), NOW + i * 0.001) for i in range(5)]
    cfg = InfluxDbV1SinkConfig(
        url=influxd_shared.url, database="ms", create_database=True, precision="ms"
    )
    write_twice(InfluxDbV1Sink(cfg, IngestContext(data_dir=tmp_path)), batch)
    times = [row["time"] for row in influxd_shared.rows("ms")]
    assert times == [round(r.ts * 1000) * 1_000_000 for r in batch]


def test_influxdb_v2_reads_back_exactly_on_victoria_metrics(
    victoria_shared: VictoriaMetrics, tmp_path: Path
) -> None:
    batch = readings(step_s=0.001, values=VALUES_VM)  # VictoriaMetrics keeps milliseconds
    health = Health()
    ctx = IngestContext(data_dir=tmp_path, health=health, site=SITE_V2, devices=DEVICES)
    cfg = InfluxDbV2SinkConfig(url=victoria_shared.url, org="o", bucket="b", measurement="rb")
    write_twice(InfluxDbV2Sink(cfg, ctx), batch)
    series = victoria_shared.export('{__name__=~"rb_.+"}')
    got = {}
    for s in series:
        labels = s["metric"]
        assert labels["site"] == SITE_V2
        assert labels["modality"] == ("mri" if labels["device_id"] == "MR-01" else "other")
        signal = labels["__name__"].removeprefix("rb_")
        assert len(s["timestamps"]) == len(set(s["timestamps"])), "a replay was stored twice"
        for ts, value in zip(s["timestamps"], s["values"], strict=True):
            got[(labels["device_id"], signal, ts)] = value
    expected = {
        (r.device_id, r.signal, round(r.ts * 1000)): r.value for r in batch if r.signal != "gap"
    }
    assert got == expected
    assert health.get("sink.influxdb.fields_omitted") == 2
