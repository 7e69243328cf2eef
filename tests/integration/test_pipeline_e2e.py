"""Simulated device -> real mosquitto -> daemon -> SQLite + model -> alert -> notifier.

The thin end-to-end slice of the product: readings published by the simulator
are all stored, and the injected fault produces exactly one alert (one alert
per device and failure mode, not one per anomalous sample).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from htm_edge.alerting.notification import Notification
from htm_edge.alerting.notifiers import Notifier
from htm_edge.collector.sinks.sqlite import count_readings
from htm_edge.gateway.daemon import Daemon, RunSummary
from htm_edge.gateway.publisher import publish_fleet
from htm_edge.gateway.settings import parse_config
from htm_edge.simulators.fleet import Fleet
from tests.servers import Mosquitto

START_TS = 1_767_254_400.0  # 2026-01-01 08:00 UTC, pinned: the fleet's day cycle depends on it
SAMPLES = 3600  # 60 simulated hours at one sample a minute: a fault after a day, failing after two
SPEEDUP = 21600.0  # 360 samples per real second


class CapturingNotifier(Notifier):
    """Keeps every dispatched event and work order for assertions."""

    type_name = "capture"

    def __init__(self) -> None:
        super().__init__("capture")
        self.events: list[Notification] = []

    @classmethod
    def from_config(cls, cfg: object, ctx: object) -> CapturingNotifier:
        return cls()

    async def send(self, note: Notification) -> None:
        self.events.append(note)
        self.sent += 1


def config(broker: Mosquitto, data_dir: Path) -> str:
    return f"""
[gateway]
site = "e2e"
data_dir = "{data_dir}"
[broker]
host = "{broker.host}"
port = {broker.port}
client_id = "e2e-gateway"
[[sources]]
type = "mqtt"
topics = ["htm/e2e/+/telemetry"]
[[sinks]]
type = "sqlite"
[[alerting.rules]]
type = "anomaly"
name = "signal-anomaly"
enter_score = 0.99
exit_score = 0.9
enter_count = 3
enter_window = 5
exit_count = 20
min_open_s = 3600
[alerting.grouping]
group_wait_s = 0
[[inventory.devices]]
device_id = "MR-07"
modality = "mri"
location = "MR room 7"
em_number = 15
[[inventory.devices]]
device_id = "MR-08"
modality = "mri"
[simulation]
seed = 7
sample_period_s = 60.0
speedup = {SPEEDUP}
[[simulation.devices]]
device_id = "MR-07"
fault = {{ failure_mode = "MR.COLDHEAD.DEGRADATION", start_s = 86400, duration_s = 86400 }}
[[simulation.devices]]
device_id = "MR-08"
"""


async def run(broker: Mosquitto, data_dir: Path) -> tuple[RunSummary, CapturingNotifier, int]:
    cfg = parse_config(config(broker, data_dir))
    notifier = CapturingNotifier()
    daemon = Daemon(cfg, notifiers=[notifier])
    stop = asyncio.Event()
    run_task = asyncio.create_task(daemon.run(stop))
    try:
        await daemon.wait_connected(run_task, 30)
        fleet = Fleet.from_config(cfg.simulation, cfg.inventory, start_ts=START_TS)
        stats = await publish_fleet(
            fleet,
            cfg.broker,
            site="e2e",
            speedup=SPEEDUP,
            duration_s=SAMPLES * 60.0 / SPEEDUP,
        )
        assert await daemon.wait_received(stats.messages, 60) == stats.messages
    finally:
        stop.set()
    return await run_task, notifier, stats.readings


def test_simulated_fault_flows_to_exactly_one_alert(tmp_path: Path, mosquitto: Mosquitto) -> None:
    summary, notifier, published = asyncio.run(run(mosquitto, tmp_path))

    # every published reading is received and stored
    assert summary.readings_received == published
    assert summary.readings_stored == published
    assert count_readings(tmp_path / "readings.sqlite") == published
    assert summary.frames_malformed == 0
    assert summary.devices == 2

    opened = [e for e in summary.alerts if e["kind"] == "opened"]
    faulty = [e for e in opened if e["device_id"] == "MR-07"]
    assert len(faulty) == 1, opened
    assert faulty[0]["failure_mode"] == "MR.COLDHEAD.DEGRADATION"
    # between the fault's onset and the failure (a day, then a day)
    assert START_TS + 86400 <= faulty[0]["opened_at"] <= START_TS + 86400 + 86400
    assert [e for e in opened if e["device_id"] == "MR-08"] == []  # the healthy twin
    # one work order reached the notifier, with the device's place in it
    firing = [n for n in notifier.events if n.kind == "firing"]
    assert [n.document["device"]["device_id"] for n in firing] == ["MR-07"]
    assert "MR-07" in firing[0].text and "MR room 7" in firing[0].text
