"""``htm-edge demo``: embedded broker + simulated fleet + the daemon, in one process.

It runs on the embedded default config with a fresh data directory, so it is
repeatable and needs nothing installed beyond the package. Beside the MQTT
fleet it runs a MEDIBUS ventilator on a pseudo-terminal and an HL7 device
gateway over MLLP (:mod:`htm_edge.gateway.demo_links`), so one run shows
the three ways devices reach the gateway.
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
from htm_edge.gateway.demo_links import DemoLinks
from htm_edge.gateway.embedded_broker import EmbeddedBroker, free_port
from htm_edge.gateway.evaluation import FaultOutcome, grade_fault
from htm_edge.gateway.publisher import publish_fleet
from htm_edge.gateway.settings import HtmConfig
from htm_edge.simulators.clock import AcceleratedClock, simulation_start
from htm_edge.simulators.fleet import Fleet

__all__ = ["DemoResult", "run_demo"]

log = logging.getLogger(__name__)

_CONNECT_TIMEOUT_S = 30.0
_DRAIN_TIMEOUT_S = 30.0
_ACK_ATTEMPTS = 5  # work orders tried, when one resolves before the command runs


@dataclass
class DemoResult:
    """The daemon's summary and how it did on each injected fault (ground truth)."""

    summary: RunSummary
    faults: list[FaultOutcome]
    #: the work orders acknowledged from the CLI during the run: (id, engineer, CLI output)
    acknowledged: list[tuple[str, str, str]] = field(default_factory=list)
    #: messages each source took in, by source name (MQTT, serial, MLLP)
    sources: dict[str, int] = field(default_factory=dict)


async def acknowledge_from_cli(
    daemon: Daemon, data_dir: Path, config: Path | None, done: list[tuple[str, str, str]]
) -> None:
    """Wait for the first firing work order and acknowledge it with ``htm-edge alerts ack``.

    The command runs as its own process against the daemon's store, as an
    engineer would run it, as the engineer the work order was routed to. At
    the demo's speed a work order can resolve before the command runs (an
    hour of normal readings is half a second): then the next firing one is
    acknowledged instead, up to :data:`_ACK_ATTEMPTS` tries.
    """
    tried: set[str] = set()
    while len(tried) < _ACK_ATTEMPTS:
        await asyncio.sleep(0.5)
        life = daemon.dispatcher.lifecycle
        if life is None:
            continue
        row = await asyncio.to_thread(
            life.store.one,
            "SELECT id, assignee FROM work_orders WHERE state = 'firing' AND assignee IS NOT NULL "
            "ORDER BY created_at LIMIT 1",
        )
        if row is None or row["id"] in tried:
            continue
        tried.add(row["id"])
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
    mqtt_sources = [s.name for s in cfg.sources]
    with tempfile.TemporaryDirectory(prefix="htm-edge-demo-") as tmp:
        gateway = cfg.gateway.model_copy(update={"data_dir": data_dir or Path(tmp)})
        start = simulation_start(
            time.time(),
            duration_s=duration_s,
            speedup=cfg.simulation.speedup,
            period_s=cfg.simulation.sample_period_s,
        )
        clock = AcceleratedClock(start, cfg.simulation.speedup)
        links = DemoLinks(Path(tmp), free_port(), clock)
        async with EmbeddedBroker(cfg.broker.host, cfg.broker.port) as broker:
            broker_cfg = cfg.broker.model_copy(update={"port": broker.port})
            cfg = _with_links(
                cfg.model_copy(update={"gateway": gateway, "broker": broker_cfg}), links
            )
            links_stop = asyncio.Event()
            with links.plugged():
                daemon = Daemon(cfg)
                for source in daemon.sources:
                    if source.name in links.source_names:
                        source.clock = clock
                stop = asyncio.Event()
                run_task = asyncio.create_task(daemon.run(stop))
                links_task = asyncio.create_task(links.run(links_stop))
                ack_task = asyncio.create_task(
                    acknowledge_from_cli(daemon, gateway.data_dir, config_path, acked)
                )
                try:
                    await daemon.wait_connected(run_task, _CONNECT_TIMEOUT_S)
                    fleet = Fleet.from_config(cfg.simulation, cfg.inventory, start_ts=start)
                    clock.anchor()
                    stats = await publish_fleet(
                        fleet,
                        cfg.broker,
                        site=cfg.gateway.site,
                        speedup=cfg.simulation.speedup,
                        duration_s=duration_s,
                    )
                    received = await daemon.wait_received(
                        stats.messages, _DRAIN_TIMEOUT_S, sources=mqtt_sources
                    )
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
                    links_stop.set()
                    await links_task
                    stop.set()
                summary = await run_task
    opened: dict[str, list[tuple[float, str, tuple[str, ...]]]] = {}
    for alert in summary.alerts:
        if alert["kind"] == "opened":
            entry = (alert["opened_at"], alert["failure_mode"], tuple(alert["signals"]))
            opened.setdefault(alert["device_id"], []).append(entry)
    faults = [
        grade_fault(f, opened.get(f.device_id, [])).with_prediction(summary.alerts)
        for f in fleet.ground_truth()
    ]
    sources = {
        k.split(".")[1]: v
        for k, v in summary.counters.items()
        if k.startswith("source.") and k.endswith(".messages")
    }
    return DemoResult(summary, faults, acked, sources)


def _with_links(cfg: HtmConfig, links: DemoLinks) -> HtmConfig:
    """``cfg`` with the serial and HL7 sources and their devices added (validated again)."""
    doc = cfg.model_dump(mode="json")
    doc["sources"] = [*doc["sources"], *links.sources()]
    doc["inventory"]["devices"] = [*doc["inventory"]["devices"], *links.devices()]
    return HtmConfig.model_validate(doc)
