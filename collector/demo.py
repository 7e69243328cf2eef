"""``htm-edge demo``: embedded broker + simulated fleet + the daemon, in one process.

It runs on the embedded default config with a fresh data directory, so it is
repeatable and needs nothing installed beyond the package.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from collector.daemon import Daemon, RunSummary
from collector.embedded_broker import EmbeddedBroker
from config.schema import HtmConfig
from simulators.fleet import Fleet
from simulators.mqtt_publisher import publish_fleet

__all__ = ["run_demo"]

log = logging.getLogger(__name__)

_CONNECT_TIMEOUT_S = 30.0
_DRAIN_TIMEOUT_S = 30.0


async def run_demo(cfg: HtmConfig, duration_s: float, data_dir: Path | None = None) -> RunSummary:
    """Run the demo for ``duration_s`` real seconds and return the daemon's summary."""
    with tempfile.TemporaryDirectory(prefix="htm-edge-demo-") as tmp:
        gateway = cfg.gateway.model_copy(update={"data_dir": data_dir or Path(tmp)})
        async with EmbeddedBroker(cfg.broker.host, cfg.broker.port) as broker:
            broker_cfg = cfg.broker.model_copy(update={"port": broker.port})
            cfg = cfg.model_copy(update={"gateway": gateway, "broker": broker_cfg})
            daemon = Daemon(cfg)
            stop = asyncio.Event()
            run_task = asyncio.create_task(daemon.run(stop))
            try:
                await _wait_connected(daemon, run_task)
                fleet = Fleet.from_config(cfg, start_ts=time.time())
                stats = await publish_fleet(
                    fleet,
                    host=cfg.broker.host,
                    port=broker.port,
                    site=cfg.gateway.site,
                    speedup=cfg.simulation.speedup,
                    duration_s=duration_s,
                )
                await _wait_received(daemon, stats.messages)
            finally:
                stop.set()
            return await run_task


async def _wait_connected(daemon: Daemon, run_task: asyncio.Task[RunSummary]) -> None:
    """Wait until every MQTT source has subscribed (or the daemon died)."""
    from collector.sources.mqtt import MqttSource

    waits = [s.connected.wait() for s in daemon.sources if isinstance(s, MqttSource)]
    connected: asyncio.Future[list[bool]] = asyncio.ensure_future(asyncio.gather(*waits))
    either: list[asyncio.Future[Any]] = [run_task, connected]
    done, _ = await asyncio.wait(
        either,
        timeout=_CONNECT_TIMEOUT_S,
        return_when=asyncio.FIRST_COMPLETED,
    )
    if run_task in done:
        run_task.result()  # re-raise the daemon's error
    if not done:
        connected.cancel()
        raise TimeoutError("the daemon did not connect to the embedded broker in time")


async def _wait_received(daemon: Daemon, published: int) -> None:
    """Wait until the daemon has taken every published message off the broker."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _DRAIN_TIMEOUT_S
    received = _messages_in(daemon)
    while received < published and loop.time() < deadline:
        await asyncio.sleep(0.05)
        received = _messages_in(daemon)
    if received < published:
        log.warning("event=demo_messages_missing published=%d received=%d", published, received)


def _messages_in(daemon: Daemon) -> int:
    """Messages the daemon's sources have taken in so far."""
    return sum(daemon.health.get(f"source.{s.name}.messages") for s in daemon.cfg.sources)
