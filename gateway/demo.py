"""``htm-edge demo``: embedded broker + simulated fleet + the daemon, in one process.

It runs on the embedded default config with a fresh data directory, so it is
repeatable and needs nothing installed beyond the package.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from htm_edge.gateway.daemon import Daemon, RunSummary
from htm_edge.gateway.embedded_broker import EmbeddedBroker
from htm_edge.gateway.evaluation import FaultOutcome, grade_fault
from htm_edge.gateway.publisher import publish_fleet
from htm_edge.gateway.settings import HtmConfig
from htm_edge.simulators.clock import simulation_start
from htm_edge.simulators.fleet import Fleet

__all__ = ["DemoResult", "run_demo"]

log = logging.getLogger(__name__)

_CONNECT_TIMEOUT_S = 30.0
_DRAIN_TIMEOUT_S = 30.0


@dataclass
class DemoResult:
    """The daemon's summary and how it did on each injected fault (ground truth)."""

    summary: RunSummary
    faults: list[FaultOutcome]
    #: the work orders acknowledged from the CLI during the run: (id, engineer, CLI output)
    acknowledged: list[tuple[str, str, str]] = field(default_factory=list)


async def acknowledge_from_cli(
    daemon: Daemon, data_dir: Path, config: Path | None, done: list[tuple[str, str, str]]
) -> None:
    """Wait for the first firing work order and acknowledge it with ``htm-edge alerts ack``.

    The command runs as its own process against the daemon's store, as an
    engineer would run it, as the engineer the work order was routed to.
    """
    while True:
        await asyncio.sleep(0.5)
        life = daemon.dispatcher.lifecycle
        if life is None:
            continue
        row = await asyncio.to_thread(
            life.store.one,
            "SELECT id, assignee FROM work_orders WHERE state = 'firing' AND assignee IS NOT NULL "
            "ORDER BY created_at LIMIT 1",
        )
        if row is None:
            continue
        argv = [sys.executable, "-m", "htm_edge.gateway.cli", "alerts"]
        argv += ["--config", str(config)] if config is not None else []
        argv += ["--data-dir", str(data_dir), "ack", row["id"], "--by", row["assignee"]]
        print(
            f"\n$ htm-edge alerts ack {row['id']} --by {row['assignee']!r}   "
            "(the engineer acknowledges from the CLI)",
            flush=True,
        )
        proc = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        out, _ = await proc.communicate()
        text = out.decode(errors="replace").strip()
        print(text + "\n", flush=True)
        if proc.returncode == 0:
            done.append((row["id"], row["assignee"], text))
        return


async def run_demo(
    cfg: HtmConfig,
    duration_s: float,
    data_dir: Path | None = None,
    config_path: Path | None = None,
) -> DemoResult:
    """Run the demo for ``duration_s`` real seconds; grade the alerts against the faults."""
    acked: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="htm-edge-demo-") as tmp:
        gateway = cfg.gateway.model_copy(update={"data_dir": data_dir or Path(tmp)})
        async with EmbeddedBroker(cfg.broker.host, cfg.broker.port) as broker:
            broker_cfg = cfg.broker.model_copy(update={"port": broker.port})
            cfg = cfg.model_copy(update={"gateway": gateway, "broker": broker_cfg})
            daemon = Daemon(cfg)
            stop = asyncio.Event()
            run_task = asyncio.create_task(daemon.run(stop))
            ack_task = asyncio.create_task(
                acknowledge_from_cli(daemon, gateway.data_dir, config_path, acked)
            )
            try:
                await daemon.wait_connected(run_task, _CONNECT_TIMEOUT_S)
                start = simulation_start(
                    time.time(),
                    duration_s=duration_s,
                    speedup=cfg.simulation.speedup,
                    period_s=cfg.simulation.sample_period_s,
                )
                fleet = Fleet.from_config(cfg.simulation, cfg.inventory, start_ts=start)
                stats = await publish_fleet(
                    fleet,
                    cfg.broker,
                    site=cfg.gateway.site,
                    speedup=cfg.simulation.speedup,
                    duration_s=duration_s,
                )
                received = await daemon.wait_received(stats.messages, _DRAIN_TIMEOUT_S)
                if received < stats.messages:
                    log.warning(
                        "event=demo_messages_missing published=%d received=%d",
                        stats.messages,
                        received,
                    )
            finally:
                if not ack_task.done():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(asyncio.shield(ack_task), 5.0)
                ack_task.cancel()
                stop.set()
            summary = await run_task
    opened: dict[str, list[tuple[float, str, tuple[str, ...]]]] = {}
    for alert in summary.alerts:
        if alert["kind"] == "opened":
            entry = (alert["opened_at"], alert["failure_mode"], tuple(alert["signals"]))
            opened.setdefault(alert["device_id"], []).append(entry)
    faults = [grade_fault(f, opened.get(f.device_id, [])) for f in fleet.ground_truth()]
    return DemoResult(summary, faults, acked)
