"""A seeded hospital fleet through the real pipeline and the work-order lifecycle: the work
orders it raises (device, failure mode, priority, state, assignee, routing) equal a golden file.

Regenerate after an intended change with ``HTM_EDGE_UPDATE_GOLDEN=1 pytest tests/e2e`` and
review the diff: a change of the default detector changes these work orders too.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from htm_edge.config.inventory import InventoryConfig
from htm_edge.gateway.compose import DeviceDirectory, build_pipeline
from htm_edge.gateway.evaluate_cmd import open_lifecycle_in_memory
from htm_edge.gateway.hospital_fleet import build_engine
from htm_edge.gateway.settings import load_config
from htm_edge.simulators.hospital.transport import InProcessTransport, VirtualClock

GOLDEN = Path(__file__).parent / "golden" / "work_orders_seed11.json"
START = 1_767_571_200.0  # Monday 2026-01-05 00:00 UTC, pinned
DEVICES, DAYS, SEED = 24, 4, 11


def work_orders() -> list[dict[str, Any]]:
    cfg = load_config()
    roster = {
        "engineers": [
            {"name": "Imaging Ian", "modalities": ["mri", "ct"]},
            {"name": "Bedside Bea"},
            {"name": "Manager Mo", "role": "manager"},
        ]
    }
    alerting = cfg.alerting.model_copy(
        update=type(cfg.alerting).model_validate(roster).__dict__ | {"clock": "data"}
    )
    engine = build_engine(DEVICES, SEED, 60.0, START)
    devices = list(engine.devices)
    pipeline = build_pipeline(
        cfg.model_copy(update={"inventory": InventoryConfig(devices=devices)})
    )
    life = open_lifecycle_in_memory(alerting, DeviceDirectory(devices))

    def deliver(batch: list[Any]) -> None:
        for event, order in pipeline.process(batch):
            life.ingest(event, order, event.ts)
        if batch:
            life.tick(max(r.ts for r in batch))

    InProcessTransport(engine, VirtualClock(START), rounds_per_batch=10).run_until(
        START + DAYS * 86_400.0, deliver
    )
    rows = life.store.query(
        "SELECT id, device_id, site, modality, failure_mode, priority, state, condition, "
        "assignee, level, incident_id, outcome FROM work_orders ORDER BY id"
    )
    kinds = life.store.query("SELECT key, kind, recipient FROM outbox GROUP BY key ORDER BY key")
    return rows + [{"notification": k} for k in kinds]


def test_seeded_fleet_work_orders_match_the_golden_file() -> None:
    got = work_orders()
    if os.environ.get("HTM_EDGE_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    want = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert got == want
    assert any("id" in w for w in got), "the seeded fleet should raise work orders"
