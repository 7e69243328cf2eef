"""The daemon restarted in each work-order state: nothing re-opens, nothing is forgotten,
nothing is sent twice. The second run gets the same telemetry again (as a broker redelivers
it) on a warm scorer and a cold alert engine, over the same data directory."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from htm_edge.alerting.actions import acknowledge, resolve
from htm_edge.alerting.config import AlertingConfig
from htm_edge.alerting.rules.threshold import ThresholdRuleConfig
from htm_edge.collector.context import IngestContext
from htm_edge.collector.health import Health
from htm_edge.collector.protocols.base import Frame
from htm_edge.collector.protocols.json import JsonProtocolConfig
from htm_edge.collector.sinks.sqlite import SqliteSinkConfig
from htm_edge.config.inventory import Device, InventoryConfig, Modality
from htm_edge.gateway.compose import Components, build_dispatcher, build_pipeline, build_protocol
from htm_edge.gateway.daemon import Daemon
from htm_edge.gateway.dispatcher import open_lifecycle
from htm_edge.gateway.settings import GatewayConfig, HtmConfig
from tests.fakes.plugins import ListSource, MemorySink, RecordingNotifier

NOW = time.time()
DEVICE = Device(device_id="VT-1", modality=Modality.VENTILATOR, em_number=20, site="s")


def frames() -> list[Frame]:
    out = []
    for i in range(3):
        body = {"device_id": "VT-1", "ts": NOW - 600 + i * 60, "signals": {"o2_cell_mv": 10.0}}
        out.append(Frame(json.dumps(body).encode(), f"test:{i}", NOW, "VT-1"))
    return out


def config(data_dir: Path, group_wait_s: float) -> HtmConfig:
    return HtmConfig(
        gateway=GatewayConfig(data_dir=data_dir, shutdown_timeout_s=2.0),
        inventory=InventoryConfig(devices=[DEVICE]),
        alerting=AlertingConfig.model_validate(
            {
                "rules": [ThresholdRuleConfig(name="o2", signal="o2_cell_mv", below=20.0)],
                "notifiers": [],
                "engineers": [{"name": "Ana"}],
                "grouping": {"group_wait_s": group_wait_s},
            }
        ),
    )


async def run_once(cfg: HtmConfig, notifier: RecordingNotifier) -> Health:
    health = Health()
    ctx = IngestContext(data_dir=cfg.gateway.data_dir, health=health)
    source = ListSource(frames(), ctx)
    pipeline = build_pipeline(cfg)
    parts = Components(
        sources=[source],
        protocols={source.name: build_protocol(JsonProtocolConfig(), health)},
        sinks=[MemorySink(SqliteSinkConfig(name="store", flush_interval_s=0.01), ctx)],  # type: ignore[arg-type]
        pipeline=pipeline,
        notifiers=[notifier],
        dispatcher=build_dispatcher(cfg, health, [notifier], pipeline),
    )
    daemon = Daemon(cfg, components=parts, health=health)
    stop = asyncio.Event()
    task = asyncio.create_task(daemon.run(stop))
    await daemon.wait_connected(task, 5)
    deadline = time.monotonic() + 10
    while health.get("readings.scored") < 3 and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    await asyncio.sleep(1.0)  # a few dispatcher ticks
    stop.set()
    await task
    return health


def snapshot(cfg: HtmConfig) -> list[tuple[str, str]]:
    life = open_lifecycle(cfg.gateway.data_dir, cfg.alerting, lambda d: DEVICE, [])
    try:
        return [(r["state"], r["condition"]) for r in life.store.query("SELECT * FROM work_orders")]
    finally:
        life.store.close()


@pytest.mark.parametrize("state", ["pending", "firing", "acknowledged", "resolved"])
def test_restart_in_each_state(tmp_path: Path, state: str) -> None:
    cfg = config(tmp_path / "data", 3600.0 if state == "pending" else 0.0)
    first = RecordingNotifier("pager")
    asyncio.run(run_once(cfg, first))
    assert [n.kind for n in first.events] == ([] if state == "pending" else ["firing"])
    life = open_lifecycle(cfg.gateway.data_dir, cfg.alerting, lambda d: DEVICE, ["pager"])
    (wo,) = life.store.query("SELECT id FROM work_orders")
    if state == "acknowledged":
        acknowledge(life, wo["id"], "Ana")
    if state == "resolved":
        resolve(life, wo["id"], "confirmed", "Ana", part="O2 cell")
    life.store.close()
    before = snapshot(cfg)
    assert before[0][0] == state

    second = RecordingNotifier("pager")
    health = asyncio.run(run_once(cfg, second))
    # the cold engine of the second run did open the alert again from the redelivered data ...
    assert health.get("readings.scored") == 3 and health.get("alerts.opened") == 1
    # ... and the store absorbed it
    assert snapshot(cfg) == before  # one work order, in the same state
    assert second.events == []  # nothing re-sent, nothing re-opened
