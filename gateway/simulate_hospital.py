"""``htm-edge simulate --devices N ...``: the generated hospital fleet, live or to files.

Three uses, each deterministic from ``--seed``:

* ``--inventory FILE``: write the inventory CSV of the fleet (the daemon's
  ``[inventory] csv`` loads it), then stop;
* ``--days D --out DIR``: simulate ``D`` days as fast as possible and write
  telemetry, ground truth and inventory (see :func:`write_fleet_files`);
* otherwise publish the fleet to ``--broker mqtt://host:port`` at ``--speed``
  simulated seconds per real second (1 = real time) until ``--duration`` real
  seconds pass or SIGINT/SIGTERM; ``--truth FILE`` writes the ground truth
  planned by then as JSONL at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from htm_edge.collector.errors import CollectorError
from htm_edge.collector.mqtt_client import BrokerConfig
from htm_edge.config.inventory_csv import inventory_csv_text
from htm_edge.gateway.hospital_fleet import HospitalSource, build_engine, write_fleet_files
from htm_edge.gateway.publisher import publish_fleet
from htm_edge.gateway.settings import HtmConfig
from htm_edge.simulators.clock import seeded_start, simulation_start
from htm_edge.simulators.errors import SimulatorError
from htm_edge.simulators.hospital.inventory import generate_inventory
from htm_edge.simulators.hospital.records import jsonl_lines

__all__ = ["parse_broker_url", "run_hospital"]

_CONNECT_ATTEMPTS = 10


def parse_broker_url(url: str, base: BrokerConfig) -> BrokerConfig:
    """``mqtt://[user@]host[:port]`` as broker settings over ``base``.

    >>> parse_broker_url("mqtt://broker.lan:1884", BrokerConfig()).port
    1884
    """
    parts = urlsplit(url if "://" in url else f"mqtt://{url}")
    if parts.scheme != "mqtt" or not parts.hostname:
        raise ValueError(f"--broker {url!r}: expected mqtt://host[:port] (TLS is not supported)")
    update: dict[str, object] = {"host": parts.hostname, "port": parts.port or 1883}
    if parts.username:
        update["username"] = parts.username
    return base.model_copy(update=update)


def _progress(day: int, days: int, elapsed: float) -> None:
    eta = elapsed / day * (days - day)
    print(f"simulate: day {day}/{days}, {elapsed:.0f} s, about {eta:.0f} s left", file=sys.stderr)


async def run_hospital(args: argparse.Namespace, cfg: HtmConfig) -> int:
    """Run one of the three uses above; return an exit code."""
    n: int = args.devices
    seed: int = args.seed if args.seed is not None else cfg.simulation.seed
    live = args.inventory is None and args.out is None
    default_period = 1.0 if live else cfg.simulation.sample_period_s  # live: 1 message/device/s
    period: float = args.period if args.period is not None else default_period
    try:
        if args.inventory is not None:
            devices, _ = generate_inventory(n, seed)
            Path(args.inventory).write_text(inventory_csv_text(devices), encoding="utf-8")
            print(f"simulate: wrote {len(devices)} devices to {args.inventory} (seed {seed})")
            return 0
        if args.out is not None:
            if args.days is None:
                print("htm-edge simulate: --out needs --days", file=sys.stderr)
                return 2
            days = int(args.days)
            start = seeded_start(seed, time.time(), days * 86_400.0)
            engine = build_engine(n, seed, period, start)
            files = write_fleet_files(
                engine, days, Path(args.out), fmt=args.format, progress=_progress
            )
            print(
                f"simulate: {n} devices x {days} days = {files.device_days:g} device-days, "
                f"{files.values} values, {files.records} ground-truth records in "
                f"{files.elapsed_s:.1f} s -> {args.out}"
            )
            return 0
        speed: float = args.speedup if args.speedup is not None else 1.0
        base = cfg.broker
        if args.host is not None or args.port is not None:
            base = base.model_copy(
                update={"host": args.host or base.host, "port": args.port or base.port}
            )
        broker = parse_broker_url(args.broker, base) if args.broker else base
        duration: float | None = args.duration
        now = time.time()
        if speed <= 1.0:
            start = float(now // period * period)
        else:
            start = simulation_start(now, duration_s=duration, speedup=speed, period_s=period)
        engine = build_engine(n, seed, period, start)
        engine.plan_days(2)
        password = None if cfg.broker.password is None else cfg.broker.password.resolve()
    except (SimulatorError, ValueError, LookupError, OSError) as exc:
        print(f"htm-edge simulate: {exc}", file=sys.stderr)
        return 2
    source = HospitalSource(engine)
    # a round of N publishes is in flight at once; aiomqtt warns about each one pending
    logging.getLogger("mqtt").setLevel(logging.ERROR)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
    began = time.perf_counter()
    try:
        stats = await publish_fleet(
            source,
            broker,
            site=cfg.gateway.site,
            speedup=speed,
            duration_s=duration,
            stop=stop,
            password=password,
            client_id=f"{cfg.broker.client_id}-fleet",
            max_attempts=_CONNECT_ATTEMPTS,
            ground_truth=source.ground_truth_payload(cfg.gateway.site),
        )
    except (CollectorError, ValueError) as exc:
        print(f"htm-edge simulate: {exc}", file=sys.stderr)
        return 1
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
    took = time.perf_counter() - began
    if args.truth is not None:
        lines = jsonl_lines(engine.ground_truth(until_ts=source.next_ts))
        Path(args.truth).write_text("".join(x + "\n" for x in lines), encoding="utf-8")
    print(
        f"simulate: {n} devices, {stats.samples} rounds in {took:.1f} s, "
        f"{stats.messages} messages ({stats.messages / max(took, 1e-9):.0f}/s), "
        f"{stats.readings} readings, {stats.gaps} silent, {stats.reconnects} reconnects "
        f"-> {broker.host}:{broker.port} site={cfg.gateway.site}"
    )
    return 0
